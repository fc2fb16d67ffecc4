//! `audit-sink`: the kube-apiserver's audit webhook target.
//!
//! Batches (`EventList`) arrive over HTTP(S) ([`server`]), are validated
//! event by event (invalid ones go verbatim to the [`deadletter`] log),
//! appended to the write-ahead log ([`wal`]) and fsync'd — with group commit
//! across concurrent requests — before the 200. The [`pipeline`] then indexes
//! them into per-day tantivy indexes ([`index`]), deduplicating on
//! (auditID, stage, stageTimestamp), and commits on a short cadence; after a
//! crash the log is replayed. Searches, stats and live follow are answered
//! from the index with the query language of `audit-api` ([`index::query`]).
//!
//! With `default-features = false` (no `server` feature) the crate is the
//! index, pipeline and generator without the HTTP server or command line: a
//! tool can open a copied data directory read-only with
//! [`index::Partitions::open`] and call [`index::Partitions::search`] /
//! [`index::Partitions::stats`].

#[cfg(feature = "server")]
pub mod apiserver;
#[cfg(feature = "server")]
pub mod auth;
pub mod deadletter;
#[cfg(feature = "server")]
pub mod import;
pub mod index;
pub mod metrics;
#[cfg(feature = "server")]
pub mod nats;
pub mod pipeline;
pub mod redaction;
#[cfg(feature = "server")]
pub mod server;
pub mod wal;

// The unit tests' synthetic events come from the generator every test,
// benchmark and xtask command shares (a dev-dependency: never shipped).
#[cfg(test)]
use audit_gen as testgen;
