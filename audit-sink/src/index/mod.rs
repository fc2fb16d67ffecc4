//! The tantivy index: one index per UTC day of `requestReceivedTimestamp`
//! (`<data-dir>/index/YYYY-MM-DD/`), so a search opens only the days its
//! time range overlaps and retention deletes whole directories.
//!
//! Documents carry keyword fields for every query field (raw, case-sensitive,
//! most of them fast for `stats`), the response code and time as numbers, a
//! full-text field, and the original event bytes in the (LZ4-compressed)
//! doc store. `sortkey` orders events newest first and is the search cursor.
//! One concept per file, each using only those listed before it: `error`
//! ([`IndexError`]), `schema` ([`IndexFields`]), `document` (events into
//! documents, [`prepare_json`]), [`query`] (the query language into tantivy
//! queries), `partitions` (the day indexes, [`Partitions`]), `search` and
//! `stats` (the read side), `writers` (the write side, [`Writers`]).

mod document;
mod error;
mod partitions;
pub mod query;
mod schema;
mod search;
mod stats;
mod writers;

pub use document::{Prepared, key_hash, prepare, prepare_json, prepare_with_fields, sort_key};
pub use error::IndexError;
pub use partitions::{Partition, Partitions};
pub use schema::{DAY_MICROS, IndexFields};
pub use search::{Hits, SearchRequest};
#[cfg(test)]
pub(crate) use writers::committed_contains;
pub use writers::{DEDUP_WINDOW_MINUTES, Writers, merge_policy};
