//! The read side's storage: one tantivy index per UTC day of
//! `requestReceivedTimestamp` under the data directory, opened (and rebuilt
//! when written with an older schema), created on demand and dropped by
//! retention.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

use super::document::prepare_json;
use super::error::IndexError;
use super::schema::{DAY_MICROS, IndexFields, register_tokenizers};

fn day_name(day: i64) -> String {
    jiff::Timestamp::from_second(day * 86_400)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| format!("day{day}"))
}

fn parse_day_name(name: &str) -> Option<i64> {
    let t: jiff::Timestamp = format!("{name}T00:00:00Z").parse().ok()?;
    Some(t.as_second().div_euclid(86_400))
}

/// One day's index, readable.
pub struct Partition {
    /// UTC day number.
    pub day: i64,
    /// The tantivy index.
    pub index: Index,
    /// Its reader (reloaded after each commit).
    pub reader: IndexReader,
}

fn open_index(path: &Path, fields: &IndexFields) -> Result<Index, IndexError> {
    std::fs::create_dir_all(path)?;
    let dir = tantivy::directory::MmapDirectory::open(path)
        .map_err(|e| IndexError::Tantivy(tantivy::TantivyError::from(e)))?;
    let index = Index::open_or_create(dir, fields.schema.clone())?;
    register_tokenizers(&index);
    Ok(index)
}

/// Opens a day partition; one written with an older schema (before a field
/// such as `cluster` existed) is rebuilt from the original events it stores.
fn open_partition(path: &Path, fields: &IndexFields) -> Result<Index, IndexError> {
    let rebuilding = path.with_extension("rebuild");
    let old = path.with_extension("old");
    // What an interrupted rebuild left: the old copy is still whole.
    if rebuilding.exists() {
        std::fs::remove_dir_all(&rebuilding)?;
    }
    if old.exists() {
        if path.exists() {
            std::fs::remove_dir_all(&old)?;
        } else {
            std::fs::rename(&old, path)?;
        }
    }
    if path.join("meta.json").exists() {
        let existing = Index::open_in_dir(path)?;
        if existing.schema() != fields.schema {
            rebuild_partition(&existing, path, &rebuilding, &old, fields)?;
        }
    }
    open_index(path, fields)
}

fn rebuild_partition(
    existing: &Index,
    path: &Path,
    rebuilding: &Path,
    old: &Path,
    fields: &IndexFields,
) -> Result<(), IndexError> {
    let started = std::time::Instant::now();
    let raw_field = existing.schema().get_field("raw")?;
    let reader = existing.reader()?;
    let searcher = reader.searcher();
    let fresh = open_index(rebuilding, fields)?;
    let mut writer: IndexWriter = fresh.writer_with_num_threads(1, 64 * 1024 * 1024)?;
    let (mut n, mut skipped) = (0u64, 0u64);
    for segment in searcher.segment_readers() {
        let store = segment.get_store_reader(64)?;
        for doc_id in segment.doc_ids_alive() {
            let doc: TantivyDocument = store.get(doc_id)?;
            let prepared = doc
                .get_first(raw_field)
                .and_then(|v| v.as_bytes())
                .map(|raw| prepare_json(raw, fields));
            match prepared {
                Some(Ok(p)) => {
                    writer.add_document(p.doc)?;
                    n += 1;
                }
                _ => skipped += 1,
            }
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    drop(fresh);
    std::fs::rename(path, old)?;
    std::fs::rename(rebuilding, path)?;
    std::fs::remove_dir_all(old)?;
    tracing::info!(
        partition = %path.display(),
        events = n,
        skipped,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rebuilt an index partition written with an older schema"
    );
    Ok(())
}

/// All day partitions, shared by the indexer and the searchers.
pub struct Partitions {
    root: PathBuf,
    /// Schema field handles.
    pub fields: IndexFields,
    map: RwLock<BTreeMap<i64, Arc<Partition>>>,
}
impl Partitions {
    /// Opens every partition under `root` (creating `root`).
    pub fn open(root: &Path) -> Result<Partitions, IndexError> {
        std::fs::create_dir_all(root)?;
        let fields = IndexFields::new();
        let mut map = BTreeMap::new();
        // A partition whose rebuild stopped after moving it aside.
        for entry in std::fs::read_dir(root)? {
            let name = entry?.file_name().to_string_lossy().to_string();
            if let Some(day) = name.strip_suffix(".old")
                && parse_day_name(day).is_some()
                && !root.join(day).exists()
            {
                std::fs::rename(root.join(&name), root.join(day))?;
            }
        }
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(day) = parse_day_name(&name) else {
                continue;
            };
            let index = open_partition(&entry.path(), &fields)?;
            let reader = index
                .reader_builder()
                .reload_policy(ReloadPolicy::Manual)
                .try_into()?;
            map.insert(day, Arc::new(Partition { day, index, reader }));
        }
        Ok(Partitions {
            root: root.to_path_buf(),
            fields,
            map: RwLock::new(map),
        })
    }

    /// The partition of `day`, created if missing.
    pub fn get_or_create(&self, day: i64) -> Result<Arc<Partition>, IndexError> {
        if let Some(p) = self.map.read().expect("lock").get(&day) {
            return Ok(p.clone());
        }
        let index = open_partition(&self.root.join(day_name(day)), &self.fields)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let p = Arc::new(Partition { day, index, reader });
        self.map.write().expect("lock").insert(day, p.clone());
        Ok(p)
    }

    /// Partitions overlapping `[since, until)`, newest first.
    pub fn overlapping(&self, since: Option<i64>, until: Option<i64>) -> Vec<Arc<Partition>> {
        let lo = since.map_or(i64::MIN, |s| s.div_euclid(DAY_MICROS));
        let hi = until.map_or(i64::MAX, |u| (u - 1).div_euclid(DAY_MICROS));
        let map = self.map.read().expect("lock");
        map.range(lo..=hi).rev().map(|(_, p)| p.clone()).collect()
    }

    /// Removes partitions of days strictly before `day` from disk.
    pub fn drop_before(&self, day: i64) -> Result<Vec<i64>, IndexError> {
        let old: Vec<i64> = {
            let mut map = self.map.write().expect("lock");
            let keep = map.split_off(&day);
            let old = map.keys().copied().collect();
            *map = keep;
            old
        };
        for d in &old {
            std::fs::remove_dir_all(self.root.join(day_name(*d)))?;
        }
        Ok(old)
    }

    /// Number of committed documents in all partitions.
    pub fn num_docs(&self) -> u64 {
        let map = self.map.read().expect("lock");
        map.values().map(|p| p.reader.searcher().num_docs()).sum()
    }
}

#[cfg(test)]
mod tests {
    use audit_api::fields::Field;
    use tantivy::Term;
    use tantivy::collector::Count;
    use tantivy::query::TermQuery;
    use tantivy::schema::{IndexRecordOption, Schema};

    use super::*;
    use crate::index::document::sort_key;

    #[test]
    fn day_names_round_trip_and_sort_keys_order() {
        let day = 17_830;
        assert_eq!(parse_day_name(&day_name(day)), Some(day));
        assert_eq!(day_name(0), "1970-01-01");
        assert!(sort_key(2_000_000_000_000_000, 0) > sort_key(1_999_999_999_999_999, u64::MAX));
    }
    #[test]
    fn a_partition_written_before_the_cluster_field_is_rebuilt_from_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let fields = IndexFields::new();
        // The schema as it was: every field but `cluster`.
        let mut b = Schema::builder();
        for (_, entry) in fields.schema.fields() {
            if entry.name() != "cluster" {
                b.add_field(entry.clone());
            }
        }
        let old_schema = b.build();
        assert_ne!(old_schema, fields.schema);
        let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
        let events = crate::testgen::events(9, 50, crate::testgen::Level::Metadata, start, 1_000);
        let day = prepare_json(events[0].as_bytes(), &fields).unwrap().day;
        {
            let path = dir.path().join(day_name(day));
            std::fs::create_dir_all(&path).unwrap();
            let index = Index::create_in_dir(&path, old_schema.clone()).unwrap();
            register_tokenizers(&index);
            let raw = old_schema.get_field("raw").unwrap();
            let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for e in &events {
                let mut doc = TantivyDocument::default();
                doc.add_bytes(raw, e.as_bytes());
                w.add_document(doc).unwrap();
            }
            w.commit().unwrap();
        }
        let parts = Partitions::open(dir.path()).unwrap();
        assert_eq!(parts.num_docs(), 50);
        // The rebuilt partition has the new field, filled from the events.
        let cluster = parts.fields.keyword(Field::Cluster).unwrap();
        let count = |value: &str| {
            let q = TermQuery::new(
                Term::from_field_text(cluster, value),
                IndexRecordOption::Basic,
            );
            let p = parts.get_or_create(day).unwrap();
            p.reader.searcher().search(&q, &Count).unwrap()
        };
        assert_eq!(count("default"), 50);
        assert_eq!(count("prod"), 0);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, [day_name(day)]);
    }
}
