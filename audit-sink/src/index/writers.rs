//! The write side: one tantivy writer per open day, deduplication on
//! (auditID, stage, stageTimestamp) with the newest minutes' keys in memory
//! and older ones looked up in the index, commits, and the merge policy.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use tantivy::schema::IndexRecordOption;
use tantivy::{IndexWriter, Term};

use super::document::{Prepared, sort_key};
use super::error::IndexError;
use super::partitions::{Partition, Partitions};
use super::schema::IndexFields;

/// Minutes of event time (behind the newest event of a day) whose keys are
/// kept in memory for deduplication. Older events (late retries, imports of
/// old files) are checked against the committed index instead, so memory
/// stays bounded by the ingest rate times this window, not by the day's size.
pub const DEDUP_WINDOW_MINUTES: i64 = 5;
const MINUTE_MICROS: i64 = 60_000_000;

/// The merge policy of every day's writer: tantivy's log-structured policy,
/// merging 16 segments of a level at a time instead of 8. A commit every
/// 500 ms leaves two small segments each time; merging wider levels rewrites
/// each document fewer times (about log16 instead of log8 of the day's
/// size in segments) for at most twice as many segments to search.
pub fn merge_policy() -> tantivy::indexer::LogMergePolicy {
    let mut policy = tantivy::indexer::LogMergePolicy::default();
    policy.set_min_num_segments(16);
    policy
}

/// Hasher for the dedup keys, which are already uniform (SHA-256 bits).
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type KeySet = HashSet<u64, std::hash::BuildHasherDefault<KeyHasher>>;

/// The write side: open writers per day, dedup key sets, commits.
pub struct Writers {
    parts: Arc<Partitions>,
    open: HashMap<i64, OpenWriter>,
    memory_bytes: usize,
    threads: usize,
    max_open: usize,
    tick: u64,
}

struct OpenWriter {
    writer: IndexWriter,
    /// Keys by minute of event time, for minutes `>= floor`: every key of
    /// the day in those minutes, committed or not.
    recent: BTreeMap<i64, KeySet>,
    /// First minute `recent` is complete for; older events are looked up in
    /// the committed index.
    floor: i64,
    /// Newest event minute seen (capped near the wall clock).
    newest: i64,
    /// Keys of events older than `floor` added since the last commit
    /// (not yet visible in the index).
    uncommitted_old: KeySet,
    dirty: bool,
    last_used: u64,
}

impl OpenWriter {
    /// Drops in-memory keys older than the window (all committed by now).
    fn trim(&mut self) {
        if self.newest == i64::MIN {
            return;
        }
        let floor = self.newest - DEDUP_WINDOW_MINUTES;
        if floor > self.floor {
            self.recent = self.recent.split_off(&floor);
            self.floor = floor;
        }
        self.uncommitted_old.clear();
    }

    /// Number of keys held in memory.
    fn keys_in_memory(&self) -> usize {
        self.recent.values().map(HashSet::len).sum::<usize>() + self.uncommitted_old.len()
    }
}

/// Whether the committed index of `p` holds an event with this time and key.
pub(crate) fn committed_contains(
    p: &Partition,
    fields: &IndexFields,
    time: i64,
    key: u64,
) -> Result<bool, IndexError> {
    use tantivy::DocSet as _;
    let term = Term::from_field_u64(fields.sortkey, sort_key(time, key));
    let searcher = p.reader.searcher();
    for seg in searcher.segment_readers() {
        let inverted = seg.inverted_index(fields.sortkey)?;
        let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)? else {
            continue;
        };
        let keys = seg.fast_fields().u64("key")?;
        let mut doc = postings.doc();
        while doc != tantivy::TERMINATED {
            if keys.first(doc) == Some(key) {
                return Ok(true);
            }
            doc = postings.advance();
        }
    }
    Ok(false)
}

impl Writers {
    /// A writer set over `parts`; each open day gets `memory_bytes` and
    /// `threads` indexing threads; at most `max_open` days are open.
    pub fn new(
        parts: Arc<Partitions>,
        memory_bytes: usize,
        threads: usize,
        max_open: usize,
    ) -> Writers {
        Writers {
            parts,
            open: HashMap::new(),
            memory_bytes,
            threads: threads.max(1),
            max_open: max_open.max(1),
            tick: 0,
        }
    }

    fn writer_for(&mut self, day: i64) -> Result<&mut OpenWriter, IndexError> {
        self.tick += 1;
        if !self.open.contains_key(&day) {
            if self.open.len() >= self.max_open {
                let oldest = self
                    .open
                    .iter()
                    .min_by_key(|(_, w)| w.last_used)
                    .map(|(d, _)| *d)
                    .expect("non-empty");
                let mut w = self.open.remove(&oldest).expect("present");
                if w.dirty {
                    w.writer.commit()?;
                    self.parts.get_or_create(oldest)?.reader.reload()?;
                }
                w.writer.wait_merging_threads()?;
            }
            let p = self.parts.get_or_create(day)?;
            let writer: IndexWriter = p.index.writer_with_num_threads(
                self.threads,
                self.memory_bytes.max(15_000_000 * self.threads),
            )?;
            writer.set_merge_policy(Box::new(merge_policy()));
            // Load the keys of the newest minutes already committed.
            let searcher = p.reader.searcher();
            let mut newest = i64::MIN;
            for seg in searcher.segment_readers() {
                let times = seg.fast_fields().i64("time")?;
                if let Some(max) = (0..seg.max_doc()).filter_map(|d| times.first(d)).max() {
                    newest = newest.max(max.div_euclid(MINUTE_MICROS));
                }
            }
            let floor = if newest == i64::MIN {
                i64::MIN
            } else {
                newest - DEDUP_WINDOW_MINUTES
            };
            let mut recent: BTreeMap<i64, KeySet> = BTreeMap::new();
            if newest != i64::MIN {
                for seg in searcher.segment_readers() {
                    let times = seg.fast_fields().i64("time")?;
                    let keys = seg.fast_fields().u64("key")?;
                    for doc in 0..seg.max_doc() {
                        if let (Some(t), Some(k)) = (times.first(doc), keys.first(doc)) {
                            let m = t.div_euclid(MINUTE_MICROS);
                            if m >= floor {
                                recent.entry(m).or_default().insert(k);
                            }
                        }
                    }
                }
            }
            self.open.insert(
                day,
                OpenWriter {
                    writer,
                    recent,
                    floor,
                    newest,
                    uncommitted_old: KeySet::default(),
                    dirty: false,
                    last_used: 0,
                },
            );
        }
        let w = self.open.get_mut(&day).expect("just inserted");
        w.last_used = self.tick;
        Ok(w)
    }

    /// Adds the event unless its key is already stored; returns whether it was new.
    pub fn add(&mut self, p: Prepared) -> Result<bool, IndexError> {
        let parts = self.parts.clone();
        let now_minute = jiff::Timestamp::now()
            .as_microsecond()
            .div_euclid(MINUTE_MICROS);
        let w = self.writer_for(p.day)?;
        let minute = p.time.div_euclid(MINUTE_MICROS);
        if minute >= w.floor {
            if !w.recent.entry(minute).or_default().insert(p.key) {
                return Ok(false);
            }
        } else {
            if w.uncommitted_old.contains(&p.key)
                || committed_contains(&*parts.get_or_create(p.day)?, &parts.fields, p.time, p.key)?
            {
                return Ok(false);
            }
            w.uncommitted_old.insert(p.key);
        }
        // A clock far ahead must not push every later event out of the window.
        w.newest = w.newest.max(minute.min(now_minute + DEDUP_WINDOW_MINUTES));
        w.writer.add_document(p.doc)?;
        w.dirty = true;
        Ok(true)
    }

    /// Dedup keys held in memory over all open days.
    pub fn keys_in_memory(&self) -> usize {
        self.open.values().map(OpenWriter::keys_in_memory).sum()
    }

    /// Whether anything is waiting for a commit.
    pub fn dirty(&self) -> bool {
        self.open.values().any(|w| w.dirty)
    }

    /// Commits every dirty day and makes it visible to searches.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        for (day, w) in self.open.iter_mut() {
            if w.dirty {
                w.writer.commit()?;
                w.dirty = false;
                self.parts.get_or_create(*day)?.reader.reload()?;
                w.trim();
            }
        }
        Ok(())
    }

    /// Drops days before `day` (retention); open writers of those days are discarded.
    pub fn drop_before(&mut self, day: i64) -> Result<Vec<i64>, IndexError> {
        let old: Vec<i64> = self.open.keys().copied().filter(|d| *d < day).collect();
        for d in old {
            if let Some(w) = self.open.remove(&d) {
                drop(w.writer);
            }
        }
        self.parts.drop_before(day)
    }

    /// Commits and waits for merges (shutdown).
    pub fn close(mut self) -> Result<(), IndexError> {
        self.commit()?;
        for (_, w) in self.open.drain() {
            w.writer.wait_merging_threads()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::document::prepare_json;

    #[test]
    fn dedup_outside_the_memory_window_uses_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let parts = Arc::new(Partitions::open(dir.path()).unwrap());
        let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
        // 30 minutes of events, one every 3 s, committed every 100 events.
        let events =
            crate::testgen::events(3, 600, crate::testgen::Level::Metadata, start, 3_000_000);
        let mut w = Writers::new(parts.clone(), 20_000_000, 1, 2);
        for (i, e) in events.iter().enumerate() {
            assert!(
                w.add(prepare_json(e.as_bytes(), &parts.fields).unwrap())
                    .unwrap()
            );
            if i % 100 == 99 {
                w.commit().unwrap();
            }
        }
        w.commit().unwrap();
        // Only the newest minutes are held in memory.
        assert!(
            w.keys_in_memory() <= 20 * (DEDUP_WINDOW_MINUTES as usize + 1),
            "{}",
            w.keys_in_memory()
        );
        // Old and new events again: all duplicates, also before a commit.
        for e in events.iter().step_by(7) {
            assert!(
                !w.add(prepare_json(e.as_bytes(), &parts.fields).unwrap())
                    .unwrap(),
                "{e}"
            );
        }
        // An old event not seen before is new, and a duplicate once added (uncommitted).
        let late =
            crate::testgen::events(4, 1, crate::testgen::Level::Metadata, start, 1).remove(0);
        assert!(
            w.add(prepare_json(late.as_bytes(), &parts.fields).unwrap())
                .unwrap()
        );
        assert!(
            !w.add(prepare_json(late.as_bytes(), &parts.fields).unwrap())
                .unwrap()
        );
        w.close().unwrap();
        assert_eq!(parts.num_docs(), 601);
        // A fresh writer set (restart) loads only the window and still dedups everything.
        let parts = Arc::new(Partitions::open(dir.path()).unwrap());
        let mut w = Writers::new(parts.clone(), 20_000_000, 1, 2);
        for e in events.iter().chain([&late]) {
            assert!(
                !w.add(prepare_json(e.as_bytes(), &parts.fields).unwrap())
                    .unwrap()
            );
        }
        assert!(w.keys_in_memory() <= 20 * (DEDUP_WINDOW_MINUTES as usize + 1));
    }
}
