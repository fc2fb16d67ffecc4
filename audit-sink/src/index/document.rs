//! Documents: an audit event turned into what the index stores, either from
//! the parsed [`Event`] or in one pass over its JSON bytes through a
//! borrowed view ([`prepare_json`], the hot path of ingest, replay and
//! import), both with the same result.

use audit_api::Event;
use audit_api::fields::{EventFields, VALUE_BREAK};
use tantivy::TantivyDocument;

use super::schema::{DAY_MICROS, IndexFields};

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

    use super::{Prepared, sort_key};
    use crate::index::schema::{DAY_MICROS, IndexFields};

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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
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
