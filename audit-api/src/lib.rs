//! `audit-api`: what the audit sink and `kubectl audit` share.
//!
//! This crate holds the `audit.k8s.io/v1` [`Event`] model (tolerant of the
//! legacy `v1beta1` shape), the JSON bodies of the sink's HTTP API
//! ([`api`]), the query language ([`query`]: AST, parser with positioned
//! errors, canonical field names, an in-memory matcher), and the time helpers
//! ([`time`]) that turn `--since 1h` or an RFC 3339 string into an instant.
//! The cloud [`envelope`] adapters (EKS, GKE, AKS exports → events) and the
//! one reader of audit log files ([`logfile`]) live here too, so that both
//! imports read the same inputs the same way, and so does the [`redact`]ion
//! of Secret data and tokens that every ingest path applies before storing
//! an event. It deliberately depends on nothing heavier than serde, jiff,
//! base64, flate2 and sha2, so a command-line
//! client can link it without pulling in an index or a server.

pub mod api;
pub mod envelope;
pub mod event;
pub mod fields;
pub mod logfile;
pub mod order;
pub mod query;
pub mod redact;
pub mod time;

pub use api::{ErrorBody, SearchResponse, StatsResponse};
pub use event::{Event, EventError, EventList, ObjectReference, ResponseStatus, UserInfo};
pub use fields::{EventFields, FIELDS, Field, FieldSpec};
pub use query::{CodeMatch, ParseError, Pattern, Query, parse_query};

/// The address `audit-sink serve` listens on when `--listen` is not given, and
/// the one `kubectl audit` tries when no `--server` is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9470";

/// The base URL matching [`DEFAULT_LISTEN`] (plain HTTP on loopback).
pub const DEFAULT_URL: &str = "http://127.0.0.1:9470";

/// Ingest path: `POST` an `EventList` here.
pub const EVENTS_PATH: &str = "/v1/events";
/// Search path: `GET` with [`api::SearchParams`].
pub const SEARCH_PATH: &str = "/v1/search";
/// Stats path: `GET` with [`api::StatsParams`].
pub const STATS_PATH: &str = "/v1/stats";
/// Live stream path: `GET` with [`api::FollowParams`]; answers server-sent events.
pub const FOLLOW_PATH: &str = "/v1/follow";

/// The apiserver's default webhook batch size (`--audit-webhook-batch-max-size`).
pub const DEFAULT_BATCH_SIZE: usize = 400;
