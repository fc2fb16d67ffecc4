//! The tantivy index: one index per UTC day of `requestReceivedTimestamp`
//! (`<data-dir>/index/YYYY-MM-DD/`), so a search opens only the days its
//! time range overlaps and retention deletes whole directories.
//!
//! Documents carry keyword fields for every query field (raw, case-sensitive,
//! most of them fast for `stats`), the response code and time as numbers, a
//! full-text field, and the original event bytes in the (LZ4-compressed)
//! doc store. `sortkey` orders events newest first and is the search cursor.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use audit_api::api::{FieldCount, HistogramBucket, StatsResponse};
use audit_api::fields::{EventFields, FIELDS, Field};
use audit_api::{Event, Query as AuditQuery};
use sha2::{Digest, Sha256};
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::schema::{
    BytesOptions, FAST, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use crate::query::to_tantivy;

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;
const EPOCH_2000_MICROS: i64 = 946_684_800_000_000;
const SORT_TIE_BITS: u32 = 13;

/// Index errors.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// File system failure.
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    /// Bad request parameter (e.g. a field that cannot be grouped).
    #[error("{0}")]
    BadRequest(String),
}

/// Handles of every schema field.
#[derive(Clone)]
pub struct IndexFields {
    /// `requestReceivedTimestamp`, microseconds since the Unix epoch.
    pub time: tantivy::schema::Field,
    /// Newest-first order and cursor: time since 2000 << 13 | key bits.
    pub sortkey: tantivy::schema::Field,
    /// Hash of (auditID, stage, stageTimestamp).
    pub key: tantivy::schema::Field,
    /// `responseStatus.code`.
    pub code: tantivy::schema::Field,
    /// The original event bytes.
    pub raw: tantivy::schema::Field,
    /// Full text.
    pub text: tantivy::schema::Field,
    /// `key=value` per annotation.
    pub annotation: tantivy::schema::Field,
    /// Annotation keys.
    pub annotation_key: tantivy::schema::Field,
    keywords: HashMap<Field, tantivy::schema::Field>,
    schema: Schema,
}

impl IndexFields {
    /// Builds the schema.
    pub fn new() -> IndexFields {
        let mut b = Schema::builder();
        let time = b.add_i64_field("time", INDEXED | FAST);
        let sortkey = b.add_u64_field("sortkey", INDEXED | FAST);
        let key = b.add_u64_field("key", FAST);
        let code = b.add_u64_field("code", INDEXED | FAST);
        let raw = b.add_bytes_field("raw", BytesOptions::default() | STORED);
        let text = b.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("audit_text")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        let annotation = b.add_text_field("annotation", STRING);
        let annotation_key = b.add_text_field("annotation_key", STRING);
        let mut keywords = HashMap::new();
        for spec in FIELDS {
            match spec.field {
                Field::Code | Field::Annotation => {}
                f => {
                    let opts = if spec.groupable {
                        STRING | FAST
                    } else {
                        STRING
                    };
                    keywords.insert(f, b.add_text_field(spec.name, opts));
                }
            }
        }
        IndexFields {
            time,
            sortkey,
            key,
            code,
            raw,
            text,
            annotation,
            annotation_key,
            keywords,
            schema: b.build(),
        }
    }

    /// The tantivy field of a keyword query field.
    pub fn keyword(&self, f: Field) -> Option<tantivy::schema::Field> {
        self.keywords.get(&f).copied()
    }
}

impl Default for IndexFields {
    fn default() -> Self {
        IndexFields::new()
    }
}

/// An event ready to be added.
pub struct Prepared {
    /// UTC day number (days since the Unix epoch) of `requestReceivedTimestamp`.
    pub day: i64,
    /// Dedup key hash.
    pub key: u64,
    /// The document.
    pub doc: TantivyDocument,
}

/// Hash of the idempotency key (auditID, stage, stageTimestamp).
pub fn key_hash(event: &Event) -> u64 {
    let digest = Sha256::digest(event.dedup_key().as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// The sort key: newer events have larger keys.
pub fn sort_key(time_micros: i64, key: u64) -> u64 {
    let since_2000 = (time_micros - EPOCH_2000_MICROS).clamp(0, (1i64 << (64 - SORT_TIE_BITS)) - 1);
    ((since_2000 as u64) << SORT_TIE_BITS) | (key & ((1 << SORT_TIE_BITS) - 1))
}

/// Builds the document of a validated event.
pub fn prepare(
    event: &Event,
    raw: &[u8],
    f: &IndexFields,
) -> Result<Prepared, audit_api::EventError> {
    prepare_with_fields(event, raw, f).map(|(p, _)| p)
}

/// Like [`prepare`], also returning the event's query fields.
pub fn prepare_with_fields(
    event: &Event,
    raw: &[u8],
    f: &IndexFields,
) -> Result<(Prepared, EventFields), audit_api::EventError> {
    let time = event.received_at()?.as_microsecond();
    let key = key_hash(event);
    let mut doc = TantivyDocument::default();
    doc.add_i64(f.time, time);
    doc.add_u64(f.sortkey, sort_key(time, key));
    doc.add_u64(f.key, key);
    let fields = EventFields::from_event(event);
    for (field, value) in &fields.keywords {
        if let Some(tf) = f.keyword(*field) {
            doc.add_text(tf, value);
        }
    }
    if let Some(code) = fields.code
        && code >= 0
    {
        doc.add_u64(f.code, code as u64);
    }
    for (k, v) in &fields.annotations {
        doc.add_text(f.annotation, format!("{k}={v}"));
        doc.add_text(f.annotation_key, k);
    }
    doc.add_text(f.text, &fields.text);
    doc.add_bytes(f.raw, raw);
    Ok((
        Prepared {
            day: time.div_euclid(DAY_MICROS),
            key,
            doc,
        },
        fields,
    ))
}

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
    index.tokenizers().register(
        "audit_text",
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
    Ok(index)
}

/// All day partitions, shared by the indexer and the searchers.
pub struct Partitions {
    root: PathBuf,
    /// Schema field handles.
    pub fields: IndexFields,
    map: RwLock<BTreeMap<i64, Arc<Partition>>>,
}

/// A parsed search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query.
    pub query: AuditQuery,
    /// Inclusive lower bound, microseconds.
    pub since: Option<i64>,
    /// Exclusive upper bound, microseconds.
    pub until: Option<i64>,
    /// Page size.
    pub limit: usize,
    /// Only events with a smaller sort key (the previous page's last).
    pub cursor: Option<u64>,
}

impl Partitions {
    /// Opens every partition under `root` (creating `root`).
    pub fn open(root: &Path) -> Result<Partitions, IndexError> {
        std::fs::create_dir_all(root)?;
        let fields = IndexFields::new();
        let mut map = BTreeMap::new();
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(day) = parse_day_name(&name) else {
                continue;
            };
            let index = open_index(&entry.path(), &fields)?;
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
        let index = open_index(&self.root.join(day_name(day)), &self.fields)?;
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

    fn filtered(
        &self,
        req_query: &AuditQuery,
        since: Option<i64>,
        until: Option<i64>,
        cursor: Option<u64>,
    ) -> Result<Box<dyn Query>, IndexError> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, to_tantivy(req_query, f)?)];
        if since.is_some() || until.is_some() {
            let lo = since.map_or(Bound::Unbounded, |s| {
                Bound::Included(Term::from_field_i64(f.time, s))
            });
            let hi = until.map_or(Bound::Unbounded, |u| {
                Bound::Excluded(Term::from_field_i64(f.time, u))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        if let Some(c) = cursor {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(Term::from_field_u64(f.sortkey, c)),
                )),
            ));
        }
        Ok(if clauses.len() == 1 {
            clauses.pop().expect("one").1
        } else {
            Box::new(BooleanQuery::new(clauses))
        })
    }

    /// Original events matching `req`, newest first, and the next cursor.
    pub fn search(&self, req: &SearchRequest) -> Result<(Vec<Vec<u8>>, Option<u64>), IndexError> {
        let query = self.filtered(&req.query, req.since, req.until, req.cursor)?;
        let want = req.limit + 1;
        let mut hits: Vec<(u64, Arc<Partition>, DocAddress)> = Vec::new();
        for p in self.overlapping(req.since, req.until) {
            if hits.len() >= want {
                break;
            }
            let searcher = p.reader.searcher();
            let top: Vec<(Option<u64>, DocAddress)> = searcher.search(
                &query,
                &TopDocs::with_limit(want - hits.len())
                    .order_by_fast_field::<u64>("sortkey", Order::Desc),
            )?;
            for (sk, addr) in top {
                hits.push((sk.unwrap_or(0), p.clone(), addr));
            }
        }
        let next = if hits.len() > req.limit {
            hits.truncate(req.limit);
            hits.last().map(|h| h.0)
        } else {
            None
        };
        let mut out = Vec::with_capacity(hits.len());
        let mut searchers = HashMap::new();
        for (_, p, addr) in hits {
            let searcher = searchers
                .entry(p.day)
                .or_insert_with(|| p.reader.searcher());
            let doc: TantivyDocument = searcher.doc(addr)?;
            let raw = doc
                .get_first(self.fields.raw)
                .and_then(|v| v.as_bytes())
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            out.push(raw);
        }
        Ok((out, next))
    }

    /// Counts by field and a histogram over time.
    pub fn stats(
        &self,
        query: &AuditQuery,
        since: Option<i64>,
        until: Option<i64>,
        by: Option<Field>,
        top: usize,
        interval_micros: Option<i64>,
    ) -> Result<StatsResponse, IndexError> {
        let by_name = match by {
            None => None,
            Some(Field::Code) => Some("code"),
            Some(f) if f.spec().groupable && self.fields.keyword(f).is_some() => Some(f.name()),
            Some(f) => {
                return Err(IndexError::BadRequest(format!(
                    "cannot group by `{}`; groupable fields: {}",
                    f.name(),
                    FIELDS
                        .iter()
                        .filter(|s| s.groupable)
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let q = self.filtered(query, since, until, None)?;
        let mut aggs = serde_json::Map::new();
        if let Some(name) = by_name {
            aggs.insert(
                "by".into(),
                serde_json::json!({"terms": {"field": name, "size": 65_000}}),
            );
        }
        if let Some(iv) = interval_micros {
            aggs.insert(
                "hist".into(),
                serde_json::json!({"histogram": {"field": "time", "interval": iv as f64, "min_doc_count": 1}}),
            );
        }
        let aggs: Aggregations = serde_json::from_value(serde_json::Value::Object(aggs))
            .map_err(|e| IndexError::BadRequest(format!("aggregation: {e}")))?;
        let mut total = 0u64;
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut hist: BTreeMap<i64, u64> = BTreeMap::new();
        for p in self.overlapping(since, until) {
            let searcher = p.reader.searcher();
            let collector = AggregationCollector::from_aggs(aggs.clone(), Default::default());
            let (n, res) = searcher.search(&q, &(Count, collector))?;
            total += n as u64;
            let v =
                serde_json::to_value(&res).map_err(|e| IndexError::BadRequest(e.to_string()))?;
            for b in v
                .pointer("/by/buckets")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
            {
                let key = match &b["key"] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n
                        .as_f64()
                        .map_or_else(|| n.to_string(), |f| format!("{}", f as i64)),
                    other => other.to_string(),
                };
                *counts.entry(key).or_default() += b["doc_count"].as_u64().unwrap_or(0);
            }
            for b in v
                .pointer("/hist/buckets")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
            {
                let key = b["key"].as_f64().unwrap_or(0.0) as i64;
                *hist.entry(key).or_default() += b["doc_count"].as_u64().unwrap_or(0);
            }
        }
        let mut counts: Vec<FieldCount> = counts
            .into_iter()
            .map(|(value, count)| FieldCount { value, count })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        counts.truncate(top);
        let histogram = hist
            .into_iter()
            .map(|(k, count)| HistogramBucket {
                start: jiff::Timestamp::from_microsecond(k)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                count,
            })
            .collect();
        Ok(StatsResponse {
            total,
            by: by_name.map(str::to_string),
            counts,
            histogram,
        })
    }
}

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
    keys: HashSet<u64>,
    dirty: bool,
    last_used: u64,
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
            let writer = p.index.writer_with_num_threads(
                self.threads,
                self.memory_bytes.max(15_000_000 * self.threads),
            )?;
            let mut keys = HashSet::new();
            let searcher = p.reader.searcher();
            for seg in searcher.segment_readers() {
                let col = seg.fast_fields().u64("key")?;
                for doc in 0..seg.max_doc() {
                    if let Some(k) = col.first(doc) {
                        keys.insert(k);
                    }
                }
            }
            self.open.insert(
                day,
                OpenWriter {
                    writer,
                    keys,
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
        let w = self.writer_for(p.day)?;
        if !w.keys.insert(p.key) {
            return Ok(false);
        }
        w.writer.add_document(p.doc)?;
        w.dirty = true;
        Ok(true)
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

    #[test]
    fn day_names_round_trip_and_sort_keys_order() {
        let day = 17_830;
        assert_eq!(parse_day_name(&day_name(day)), Some(day));
        assert_eq!(day_name(0), "1970-01-01");
        assert!(sort_key(2_000_000_000_000_000, 0) > sort_key(1_999_999_999_999_999, u64::MAX));
    }
}
