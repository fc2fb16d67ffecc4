//! The sink's own ingest path for `POST /v1/events`, differentially against
//! `audit-api`: the handler splits the body with
//! `audit_api::event::RawEventList::from_slice` and builds each item's index
//! document in one pass with `audit_sink::index::prepare_json` (a borrowed
//! view of the event, not `audit_api::Event`). That function promises to
//! accept and reject exactly what `Event::from_json` does and to index the
//! same values as `prepare_with_fields(Event::from_json(..))`.
//!
//! Asserts: no panic; for every item both paths agree on acceptance (and on
//! the kind of error), and accepted items get the same day partition, dedup
//! key and index document.
#![no_main]

use std::sync::OnceLock;

use audit_api::event::{Event, RawEventList};
use audit_sink::index::{IndexFields, prepare_json, prepare_with_fields};
use libfuzzer_sys::fuzz_target;
use tantivy::TantivyDocument;
use tantivy::schema::OwnedValue;

fn fields() -> &'static IndexFields {
    static FIELDS: OnceLock<IndexFields> = OnceLock::new();
    FIELDS.get_or_init(IndexFields::new)
}

/// The document's values by field, in the order they were added per field.
fn values(doc: &TantivyDocument) -> Vec<(u32, OwnedValue)> {
    let mut v: Vec<(u32, OwnedValue)> = doc
        .field_values()
        .map(|(field, value)| (field.field_id(), OwnedValue::from(value)))
        .collect();
    v.sort_by_key(|(field, _)| *field);
    v
}

fuzz_target!(|body: &[u8]| {
    let Ok(list) = RawEventList::from_slice(body) else {
        return;
    };
    let f = fields();
    for raw in &list.items {
        let bytes = raw.get().as_bytes();
        let sink = prepare_json(bytes, f);
        let api = Event::from_json(raw.get())
            .and_then(|e| prepare_with_fields(&e, bytes, f).map(|(p, _)| p));
        match (sink, api) {
            (Ok(s), Ok(a)) => {
                assert_eq!(s.day, a.day, "day of {}", raw.get());
                assert_eq!(s.key, a.key, "dedup key of {}", raw.get());
                assert_eq!(
                    values(&s.doc),
                    values(&a.doc),
                    "index document of {}",
                    raw.get()
                );
            }
            (Err(s), Err(a)) => assert_eq!(
                std::mem::discriminant(&s),
                std::mem::discriminant(&a),
                "{}: sink says {s}, audit-api says {a}",
                raw.get()
            ),
            (s, a) => panic!(
                "{}: sink {}, audit-api {}",
                raw.get(),
                s.map(|_| "accepts".to_string())
                    .unwrap_or_else(|e| format!("rejects ({e})")),
                a.map(|_| "accepts".to_string())
                    .unwrap_or_else(|e| format!("rejects ({e})")),
            ),
        }
    }
});
