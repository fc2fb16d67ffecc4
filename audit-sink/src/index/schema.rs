//! The tantivy schema: one field per query field of `audit-api` (keywords,
//! the response code and time as numbers, the free text, annotations) and
//! the original event bytes, with the tokenizer of the free text.

use std::collections::HashMap;

use audit_api::fields::{FIELDS, Field};
use tantivy::Index;
use tantivy::schema::{
    BytesOptions, FAST, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{LowerCaser, SimpleTokenizer, TextAnalyzer};

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;
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
    pub(super) schema: Schema,
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

/// Registers the tokenizer the `text` field names (lower-cased words).
pub(super) fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        "audit_text",
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}
