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
use audit_api::fields::{EventFields, FIELDS, Field, VALUE_BREAK};
use audit_api::{Event, Query as AuditQuery};
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
    /// Keyword fields, indexed by `Field as usize` (the document builder's hot path).
    keyword_slots: Vec<Option<tantivy::schema::Field>>,
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
        let mut keyword_slots = Vec::new();
        for (f, tf) in &keywords {
            let i = *f as usize;
            if keyword_slots.len() <= i {
                keyword_slots.resize(i + 1, None);
            }
            keyword_slots[i] = Some(*tf);
        }
        IndexFields {
            keyword_slots,
            time,
            sortkey,
            key,
            code,
            raw,
            text,
            annotation,
            annotation_key,
            schema: b.build(),
        }
    }

    /// The tantivy field of a keyword query field.
    pub fn keyword(&self, f: Field) -> Option<tantivy::schema::Field> {
        self.keyword_slots.get(f as usize).copied().flatten()
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
    /// `requestReceivedTimestamp`, microseconds since the Unix epoch.
    pub time: i64,
    /// Dedup key hash.
    pub key: u64,
    /// The document.
    pub doc: TantivyDocument,
}

/// Hash of the idempotency key (auditID, stage, stageTimestamp).
pub fn key_hash(event: &Event) -> u64 {
    audit_api::order::key_hash(&event.dedup_key())
}

/// The sort key: newer events have larger keys.
/// Defined in [`audit_api::order`], shared with clients that merge the
/// answers of several sinks.
pub fn sort_key(time_micros: i64, key: u64) -> u64 {
    audit_api::order::sort_key(time_micros, key)
}

/// Adds each value of an event's free text (see [`VALUE_BREAK`]) as its own
/// value of the text field: tantivy leaves a position gap between values, so
/// a phrase never spans two of them.
fn add_text_values(doc: &mut TantivyDocument, field: tantivy::schema::Field, text: &str) {
    for value in text.split(VALUE_BREAK).filter(|v| !v.is_empty()) {
        doc.add_text(field, value);
    }
}

/// Builds the document of a validated event.
pub fn prepare(
    event: &Event,
    raw: &[u8],
    f: &IndexFields,
) -> Result<Prepared, audit_api::EventError> {
    prepare_with_fields(event, raw, f).map(|(p, _)| p)
}

/// Parses, validates and builds the document of one event's JSON bytes in
/// one pass over borrowed strings (no `serde_json::Value` trees): the fast
/// path of ingest, replay and import. Accepts and rejects exactly what
/// [`Event::from_json`] does, with the same errors, and indexes the same
/// values as [`EventFields::from_event`].
pub fn prepare_json(raw: &[u8], f: &IndexFields) -> Result<Prepared, audit_api::EventError> {
    let text = std::str::from_utf8(raw)
        .map_err(|e| audit_api::EventError::Malformed(format!("not UTF-8: {e}")))?;
    let view: view::EventView<'_> =
        serde_json::from_str(text).map_err(|e| audit_api::EventError::Malformed(e.to_string()))?;
    audit_api::event::require_object(raw, "an audit Event")?;
    view.prepare(raw, f)
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
    add_text_values(&mut doc, f.text, &fields.text);
    doc.add_bytes(f.raw, raw);
    Ok((
        Prepared {
            day: time.div_euclid(DAY_MICROS),
            time,
            key,
            doc,
        },
        fields,
    ))
}

/// A borrowed view of an audit event for [`prepare_json`]: the same shape
/// and types as [`audit_api::Event`], strings borrowed from the input where
/// they have no escapes, request/response objects reduced to their text
/// while parsing.
mod view {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::fmt;
    use std::marker::PhantomData;

    use audit_api::EventError;
    use audit_api::event::{AUDIT_V1, AUDIT_V1BETA1};
    use audit_api::fields::{CLUSTER_ANNOTATION, DEFAULT_CLUSTER, Field, VALUE_BREAK};
    use serde::Deserialize;
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use sha2::{Digest, Sha256};
    use tantivy::TantivyDocument;

    use super::{DAY_MICROS, IndexFields, Prepared, sort_key};

    /// A string, borrowed when it has no escapes.
    #[derive(Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Str<'a>(pub Cow<'a, str>);

    impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<'a>(PhantomData<&'a ()>);
            impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                type Value = Str<'a>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'a>, E> {
                    Ok(Str(Cow::Borrowed(v)))
                }
                fn visit_str<E>(self, v: &str) -> Result<Str<'a>, E> {
                    Ok(Str(Cow::Owned(v.to_owned())))
                }
                fn visit_string<E>(self, v: String) -> Result<Str<'a>, E> {
                    Ok(Str(Cow::Owned(v)))
                }
            }
            d.deserialize_string(V(PhantomData))
        }
    }

    impl Str<'_> {
        fn as_str(&self) -> &str {
            &self.0
        }
    }

    /// The free text of a JSON value, as `EventFields` builds it from a
    /// `serde_json::Value` (object keys in sorted order, last duplicate wins).
    #[derive(Debug, Default)]
    pub struct ObjText(pub String);

    impl<'de> Deserialize<'de> for ObjText {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let mut out = String::new();
            TextSeed(&mut out).deserialize(d)?;
            Ok(ObjText(out))
        }
    }

    struct TextSeed<'s>(&'s mut String);

    impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for TextSeed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_str<E>(self, v: &str) -> Result<(), E> {
            self.0.push_str(v);
            self.0.push(' ');
            Ok(())
        }
        fn visit_u64<E>(self, v: u64) -> Result<(), E> {
            use std::fmt::Write as _;
            let _ = write!(self.0, "{v} ");
            Ok(())
        }
        fn visit_i64<E>(self, v: i64) -> Result<(), E> {
            use std::fmt::Write as _;
            let _ = write!(self.0, "{v} ");
            Ok(())
        }
        fn visit_f64<E>(self, v: f64) -> Result<(), E> {
            if let Some(n) = serde_json::Number::from_f64(v) {
                use std::fmt::Write as _;
                let _ = write!(self.0, "{n} ");
            }
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_none<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(TextSeed(self.0))?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            // Each entry is written as "key value-text" straight into the
            // output; entries are put in key order afterwards if needed
            // (a `serde_json::Map` iterates sorted, the last duplicate wins).
            let out = self.0;
            let start = out.len();
            let mut entries: Vec<(Str<'de>, usize, usize)> = Vec::new();
            while let Some(k) = map.next_key::<Str<'de>>()? {
                let from = out.len();
                out.push_str(k.as_str());
                out.push(' ');
                map.next_value_seed(TextSeed(out))?;
                entries.push((k, from, out.len()));
            }
            let sorted_unique = entries.windows(2).all(|w| w[0].0 < w[1].0);
            if !sorted_unique {
                let written = out[start..].to_string();
                out.truncate(start);
                // Stable sort keeps equal keys in input order; keep the last.
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                for (i, (k, from, to)) in entries.iter().enumerate() {
                    if entries.get(i + 1).is_some_and(|n| n.0 == *k) {
                        continue;
                    }
                    out.push_str(&written[from - start..to - start]);
                }
            }
            Ok(())
        }
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct UserView<'a> {
        #[serde(default, borrow)]
        username: Str<'a>,
        #[serde(default, borrow)]
        #[allow(dead_code)]
        uid: Option<Str<'a>>,
        #[serde(default, borrow)]
        groups: Vec<Str<'a>>,
        #[serde(default)]
        #[allow(dead_code)]
        extra: Option<IgnoredValue>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct ObjectRefView<'a> {
        #[serde(default, borrow)]
        resource: Option<Str<'a>>,
        #[serde(default, borrow)]
        namespace: Option<Str<'a>>,
        #[serde(default, borrow)]
        name: Option<Str<'a>>,
        #[serde(default, borrow)]
        #[allow(dead_code)]
        uid: Option<Str<'a>>,
        #[serde(default, borrow)]
        api_group: Option<Str<'a>>,
        #[serde(default, borrow)]
        api_version: Option<Str<'a>>,
        #[serde(default, borrow)]
        #[allow(dead_code)]
        resource_version: Option<Str<'a>>,
        #[serde(default, borrow)]
        subresource: Option<Str<'a>>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct StatusView<'a> {
        #[serde(default)]
        code: Option<i64>,
        #[serde(default, borrow)]
        #[allow(dead_code)]
        status: Option<Str<'a>>,
        #[serde(default, borrow)]
        #[allow(dead_code)]
        reason: Option<Str<'a>>,
        #[serde(default, borrow)]
        #[allow(dead_code)]
        message: Option<Str<'a>>,
    }

    /// Any JSON value, checked for syntax and skipped (a `Value` field of `Event`).
    pub struct IgnoredValue;

    impl<'de> Deserialize<'de> for IgnoredValue {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            IgnoredAny::deserialize(d).map(|_| IgnoredValue)
        }
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EventView<'a> {
        #[serde(default, borrow)]
        kind: Option<Str<'a>>,
        #[serde(default, borrow)]
        api_version: Option<Str<'a>>,
        #[serde(default, borrow)]
        level: Str<'a>,
        #[serde(default, borrow, rename = "auditID")]
        audit_id: Str<'a>,
        #[serde(default, borrow)]
        stage: Str<'a>,
        #[serde(default, borrow, rename = "requestURI")]
        request_uri: Str<'a>,
        #[serde(default, borrow)]
        verb: Str<'a>,
        #[serde(default, borrow)]
        user: UserView<'a>,
        #[serde(default, borrow)]
        impersonated_user: Option<UserView<'a>>,
        #[serde(default, borrow, rename = "sourceIPs")]
        source_ips: Vec<Str<'a>>,
        #[serde(default, borrow)]
        user_agent: Option<Str<'a>>,
        #[serde(default, borrow)]
        object_ref: Option<ObjectRefView<'a>>,
        #[serde(default, borrow)]
        response_status: Option<StatusView<'a>>,
        #[serde(default)]
        request_object: Option<ObjText>,
        #[serde(default)]
        response_object: Option<ObjText>,
        #[serde(default, borrow)]
        request_received_timestamp: Option<Str<'a>>,
        #[serde(default, borrow)]
        stage_timestamp: Option<Str<'a>>,
        #[serde(default, borrow)]
        annotations: BTreeMap<Str<'a>, Str<'a>>,
        #[serde(default)]
        #[allow(dead_code)]
        metadata: Option<IgnoredValue>,
        #[serde(default, borrow)]
        timestamp: Option<Str<'a>>,
    }

    fn parse_ts(field: &'static str, value: &str) -> Result<i64, EventError> {
        value
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_microsecond())
            .map_err(|_| EventError::BadTimestamp {
                field,
                value: value.to_string(),
            })
    }

    impl EventView<'_> {
        /// `Event::validate`, then the document.
        pub fn prepare(self, raw: &[u8], f: &IndexFields) -> Result<Prepared, EventError> {
            if let Some(kind) = &self.kind
                && kind.as_str() != "Event"
            {
                return Err(EventError::WrongType {
                    field: "kind",
                    value: kind.as_str().to_string(),
                });
            }
            if let Some(v) = &self.api_version
                && v.as_str() != AUDIT_V1
                && v.as_str() != AUDIT_V1BETA1
            {
                return Err(EventError::WrongType {
                    field: "apiVersion",
                    value: v.as_str().to_string(),
                });
            }
            if self.audit_id.as_str().is_empty() {
                return Err(EventError::Missing("auditID"));
            }
            if self.stage.as_str().is_empty() {
                return Err(EventError::Missing("stage"));
            }
            if self.verb.as_str().is_empty() {
                return Err(EventError::Missing("verb"));
            }
            let time = match (&self.request_received_timestamp, &self.timestamp) {
                (Some(t), _) => parse_ts("requestReceivedTimestamp", t.as_str())?,
                (None, Some(t)) => parse_ts("timestamp", t.as_str())?,
                (None, None) => return Err(EventError::Missing("requestReceivedTimestamp")),
            };
            if let Some(t) = &self.stage_timestamp {
                parse_ts("stageTimestamp", t.as_str())?;
            }
            // Event::dedup_key, hashed as index::key_hash does.
            let mut h = Sha256::new();
            h.update(self.audit_id.as_str());
            h.update("\u{0}");
            h.update(self.stage.as_str());
            h.update("\u{0}");
            h.update(
                self.stage_timestamp
                    .as_ref()
                    .or(self.request_received_timestamp.as_ref())
                    .map_or("", |s| s.as_str()),
            );
            let digest = h.finalize();
            let key = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));

            let mut doc = TantivyDocument::default();
            doc.add_i64(f.time, time);
            doc.add_u64(f.sortkey, sort_key(time, key));
            doc.add_u64(f.key, key);
            // Keywords and the start of the free text, in EventFields::from_event's order.
            let mut text = String::with_capacity(
                256 + self.request_object.as_ref().map_or(0, |o| o.0.len())
                    + self.response_object.as_ref().map_or(0, |o| o.0.len()),
            );
            let mut push = |field: Field, v: Option<&str>| {
                if let Some(v) = v
                    && !v.is_empty()
                {
                    if let Some(tf) = f.keyword(field) {
                        doc.add_text(tf, v);
                    }
                    if !matches!(field, Field::Stage | Field::Level | Field::Cluster) {
                        text.push_str(v);
                        text.push(VALUE_BREAK);
                    }
                }
            };
            push(Field::User, Some(self.user.username.as_str()));
            for g in &self.user.groups {
                push(Field::Group, Some(g.as_str()));
            }
            if let Some(imp) = &self.impersonated_user {
                push(Field::Impersonated, Some(imp.username.as_str()));
            }
            push(Field::Verb, Some(self.verb.as_str()));
            if let Some(o) = &self.object_ref {
                push(Field::Resource, o.resource.as_ref().map(Str::as_str));
                push(Field::Subresource, o.subresource.as_ref().map(Str::as_str));
                push(Field::Namespace, o.namespace.as_ref().map(Str::as_str));
                push(Field::Name, o.name.as_ref().map(Str::as_str));
                if o.resource.is_some() {
                    let group = match o.api_group.as_ref().map(Str::as_str) {
                        None | Some("") => "core",
                        Some(g) => g,
                    };
                    push(Field::ApiGroup, Some(group));
                }
                push(Field::ApiVersion, o.api_version.as_ref().map(Str::as_str));
            }
            push(Field::Stage, Some(self.stage.as_str()));
            push(Field::Level, Some(self.level.as_str()));
            push(Field::AuditId, Some(self.audit_id.as_str()));
            push(Field::UserAgent, self.user_agent.as_ref().map(Str::as_str));
            for ip in &self.source_ips {
                push(Field::Ip, Some(ip.as_str()));
            }
            push(Field::Uri, Some(self.request_uri.as_str()));
            let cluster = self
                .annotations
                .iter()
                .find(|(k, _)| k.as_str() == CLUSTER_ANNOTATION)
                .map(|(_, v)| v.as_str())
                .filter(|c| !c.is_empty())
                .unwrap_or(DEFAULT_CLUSTER);
            push(Field::Cluster, Some(cluster));
            if let Some(code) = self.response_status.as_ref().and_then(|s| s.code)
                && code >= 0
            {
                doc.add_u64(f.code, code as u64);
            }
            let mut kv = String::new();
            for (k, v) in &self.annotations {
                kv.clear();
                kv.push_str(k.as_str());
                kv.push('=');
                kv.push_str(v.as_str());
                doc.add_text(f.annotation, &kv);
                doc.add_text(f.annotation_key, k.as_str());
            }
            for v in self.annotations.values() {
                text.push_str(v.as_str());
                text.push(VALUE_BREAK);
            }
            for obj in [&self.request_object, &self.response_object]
                .into_iter()
                .flatten()
            {
                text.push_str(&obj.0);
                text.push(VALUE_BREAK);
            }
            super::add_text_values(&mut doc, f.text, &text);
            doc.add_bytes(f.raw, raw);
            Ok(Prepared {
                day: time.div_euclid(DAY_MICROS),
                time,
                key,
                doc,
            })
        }
    }
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
    register_tokenizers(&index);
    Ok(index)
}

fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        "audit_text",
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
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

/// The documents of one search page, found and not yet read (see
/// [`Partitions::search_hits`]).
pub struct Hits {
    hits: Vec<(u64, Arc<Partition>, DocAddress)>,
    searchers: HashMap<i64, tantivy::Searcher>,
    raw: tantivy::schema::Field,
    /// Cursor of the next page, `None` on the last.
    pub next: Option<u64>,
}

impl Hits {
    /// How many events the page holds.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether the page is empty.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Reads the events in order, handing each one's original bytes to
    /// `emit`; stops early when `emit` answers `false`.
    pub fn for_each_event(
        &mut self,
        mut emit: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), IndexError> {
        for (_, p, addr) in &self.hits {
            let searcher = self
                .searchers
                .entry(p.day)
                .or_insert_with(|| p.reader.searcher());
            let doc: TantivyDocument = searcher.doc(*addr)?;
            let raw = doc
                .get_first(self.raw)
                .and_then(|v| v.as_bytes())
                .unwrap_or_default();
            if !emit(raw) {
                break;
            }
        }
        Ok(())
    }
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
        let mut hits = self.search_hits(req)?;
        let mut out = Vec::with_capacity(hits.len());
        hits.for_each_event(|raw| {
            out.push(raw.to_vec());
            true
        })?;
        Ok((out, hits.next))
    }

    /// The documents matching `req`, newest first, found but not read yet:
    /// [`Hits::for_each_event`] reads them one at a time, so an answer can
    /// be streamed without holding the page.
    pub fn search_hits(&self, req: &SearchRequest) -> Result<Hits, IndexError> {
        let query = self.filtered(&req.query, req.since, req.until, req.cursor)?;
        let want = req.limit + 1;
        let mut hits: Vec<(u64, Arc<Partition>, DocAddress)> = Vec::new();
        // Documents are read with the very searcher that found them: a
        // commit or merge in between changes the segment list, and a
        // DocAddress from an older one names another (or no) document.
        let mut searchers = HashMap::new();
        for p in self.overlapping(req.since, req.until) {
            if hits.len() >= want {
                break;
            }
            let searcher = searchers
                .entry(p.day)
                .or_insert_with(|| p.reader.searcher());
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
        Ok(Hits {
            hits,
            searchers,
            raw: self.fields.raw,
            next,
        })
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

    #[test]
    fn day_names_round_trip_and_sort_keys_order() {
        let day = 17_830;
        assert_eq!(parse_day_name(&day_name(day)), Some(day));
        assert_eq!(day_name(0), "1970-01-01");
        assert!(sort_key(2_000_000_000_000_000, 0) > sort_key(1_999_999_999_999_999, u64::MAX));
    }

    use tantivy::Document as _;

    #[test]
    fn an_event_written_as_an_array_is_refused_like_audit_api_does() {
        let fields = IndexFields::new();
        let raw = br#"["Event","audit.k8s.io/v1","Metadata","id-1","ResponseComplete","/api","get",{"username":"u"},null,[],null,null,null,null,null,"2024-01-01T00:00:00Z"]"#;
        let Err(err) = prepare_json(raw, &fields) else {
            panic!("an array was taken for an event");
        };
        assert!(err.to_string().contains("JSON object"), "{err}");
        let api = Event::from_json(std::str::from_utf8(raw).unwrap()).unwrap_err();
        assert_eq!(err.to_string(), api.to_string());
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
        let search = |q: &str| {
            let req = SearchRequest {
                query: audit_api::parse_query(q).unwrap(),
                since: None,
                until: None,
                limit: 100,
                cursor: None,
            };
            parts.search(&req).unwrap().0.len()
        };
        assert_eq!(search("cluster:default"), 50);
        assert_eq!(search("cluster:prod"), 0);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, [day_name(day)]);
    }

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

    /// What the slow path (`Event` with `Value` trees, `EventFields`) makes of `raw`.
    fn slow(raw: &str, f: &IndexFields) -> Result<(i64, i64, u64, String), String> {
        let e = Event::from_json(raw).map_err(|e| e.to_string())?;
        let p = prepare(&e, raw.as_bytes(), f).map_err(|e| e.to_string())?;
        Ok((p.day, p.time, p.key, p.doc.to_json(&f.schema)))
    }

    fn fast(raw: &str, f: &IndexFields) -> Result<(i64, i64, u64, String), String> {
        let p = prepare_json(raw.as_bytes(), f).map_err(|e| e.to_string())?;
        Ok((p.day, p.time, p.key, p.doc.to_json(&f.schema)))
    }

    #[test]
    fn one_pass_document_builder_matches_the_event_model() {
        let f = IndexFields::new();
        let mut inputs: Vec<String> = Vec::new();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/audit/falco_k8s_audit");
        let rd = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("the real events in {}: {e}", dir.display()));
        for e in rd {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            inputs.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
        }
        // The 52 lines of testdata/audit (see its PROVENANCE.md) are all read.
        assert_eq!(inputs.len(), 52, "lines read from {}", dir.display());
        let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
        for level in [
            crate::testgen::Level::Metadata,
            crate::testgen::Level::RequestResponse,
        ] {
            inputs.extend(crate::testgen::events(7, 200, level, start, 1_000));
        }
        let base = r#""auditID":"a1","stage":"ResponseComplete","verb":"get","requestReceivedTimestamp":"2024-01-01T00:00:00.000001Z""#;
        for extra in [
            // escapes, unsorted and duplicate keys, numbers of every kind, nesting
            r#""user":{"username":"al\"ice\u00e9","groups":["a\nb","c"],"extra":{"x":[1]}},"requestObject":{"z":1,"a":[-2,3.5,1e300,true,null,"s"],"m":{"k":"v","k":"w"},"b":{"y":{"x":"deep"}}},"responseObject":[{"b":1,"a":2}],"annotations":{"z":"1","a":"2"}"#,
            r#""objectRef":{"resource":"pods","apiGroup":"","subresource":"exec","namespace":"n","name":"p"},"responseStatus":{"code":-1},"sourceIPs":["::1","10.0.0.1"],"impersonatedUser":{"username":"bob"}"#,
            r#""objectRef":{"apiVersion":"v1"},"responseStatus":{"code":404,"reason":"NotFound"},"userAgent":null,"requestObject":null"#,
            r#""stageTimestamp":"2024-01-01T00:00:01Z","metadata":{"creationTimestamp":null},"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","level":"Request","requestURI":"/api"}"#,
            // invalid: wrong types, values, timestamps
            r#""verb":5"#,
            r#""user":{"groups":"x"}"#,
            r#""kind":"Pod""#,
            r#""apiVersion":"v2""#,
            r#""stageTimestamp":"yesterday""#,
            r#""responseStatus":{"code":"200"}"#,
            r#""annotations":{"a":1}"#,
            r#""requestObject":{"a":}"#,
        ] {
            inputs.push(format!("{{{base},{extra}}}"));
        }
        for bad in [
            r#"{"stage":"x","verb":"get","requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#,
            r#"{"auditID":"a","stage":"x","verb":"get"}"#,
            r#"{"auditID":"a","stage":"x","verb":"get","timestamp":"2024-01-01T00:00:00Z"}"#,
            r#"{"auditID":"a","stage":"x","verb":"get","requestReceivedTimestamp":"no"}"#,
            r#"[1,2]"#,
        ] {
            inputs.push(bad.to_string());
        }
        let mut compared = 0;
        for raw in &inputs {
            let (a, b) = (slow(raw, &f), fast(raw, &f));
            match (&a, &b) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "{raw}"),
                (Err(x), Err(y)) => {
                    // serde_json positions may differ by a column; the kind must not.
                    let kind = |s: &str| s.split(" at line").next().unwrap_or("").to_string();
                    assert_eq!(kind(x), kind(y), "{raw}");
                }
                _ => panic!("{raw}: slow {a:?}, fast {b:?}"),
            }
            compared += 1;
        }
        assert!(compared > 400);
    }
}
