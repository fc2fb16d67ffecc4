//! Request parameters and response bodies of the sink's HTTP API.
//!
//! | method | path | parameters | answer |
//! |---|---|---|---|
//! | `POST` | `/v1/events` | body: `EventList` (JSON, optionally gzip); [`IngestParams`] | `200` + [`IngestResponse`] |
//! | `GET` | `/v1/search` | [`SearchParams`] | [`SearchResponse`] |
//! | `GET` | `/v1/stats` | [`StatsParams`] | [`StatsResponse`] |
//! | `GET` | `/v1/follow` | [`FollowParams`] | `text/event-stream`, one event per `data:` line |
//!
//! Every error answers an [`ErrorBody`].

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Query string of `GET /v1/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchParams {
    /// Query in the syntax of [`crate::query`]; empty matches everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Lower bound (inclusive) on `requestReceivedTimestamp`: RFC 3339 or a
    /// duration before now such as `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Upper bound (exclusive), same syntax as `since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Page size, default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// The `next` value of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Default page size of `/v1/search`.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size `/v1/search` accepts.
pub const MAX_LIMIT: usize = 10_000;

/// Answer of `GET /v1/search`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SearchResponse {
    /// The original events exactly as received, newest first.
    pub events: Vec<Box<RawValue>>,
    /// Cursor for the next page, `null` on the last page.
    pub next: Option<String>,
}

/// Query string of `GET /v1/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsParams {
    /// Query restricting the counted events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Same as [`SearchParams::since`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Same as [`SearchParams::until`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Field to group by (a canonical name from [`crate::FIELDS`] marked
    /// `groupable`), e.g. `user`, `verb`, `resource`, `ns`, `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// How many groups to return, default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<usize>,
    /// Histogram bucket width as a duration (`5m`, `1h`, `1d`); no histogram
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// Answer of `GET /v1/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsResponse {
    /// Number of matching events.
    pub total: u64,
    /// The field grouped by, if any.
    #[serde(default)]
    pub by: Option<String>,
    /// The top groups, largest first.
    #[serde(default)]
    pub counts: Vec<FieldCount>,
    /// Histogram over `requestReceivedTimestamp`, oldest bucket first.
    #[serde(default)]
    pub histogram: Vec<HistogramBucket>,
}

/// One group of [`StatsResponse::counts`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldCount {
    /// The field value (a code is given as its decimal string).
    pub value: String,
    /// Matching events with this value.
    pub count: u64,
}

/// One bucket of [`StatsResponse::histogram`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistogramBucket {
    /// Bucket start, RFC 3339.
    pub start: String,
    /// Matching events in `[start, start + interval)`.
    pub count: u64,
}

/// Query string of `GET /v1/follow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowParams {
    /// Only events matching this query are streamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

/// Query string of `POST /v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestParams {
    /// The cluster the events are stored as (for a credential bound to none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// [`REPORT_DUPLICATES`]: answer only once the sink has told which of the
    /// events it already had, with [`IngestResponse::stored`] and
    /// [`IngestResponse::duplicates`] (an import reports them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// The value of [`IngestParams::report`] asking for duplicates.
pub const REPORT_DUPLICATES: &str = "duplicates";

/// Answer of `POST /v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Valid events made durable (duplicates included).
    pub accepted: u64,
    /// Invalid events kept in the dead-letter log.
    pub rejected: u64,
    /// Of `accepted`, the events new to the sink: with `?report=duplicates`,
    /// when the sink could tell (not in fleet mode, not while index writes
    /// fail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<u64>,
    /// Of `accepted`, the events the sink already had (same as `stored`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
}

/// Body of every error answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for humans.
    pub error: String,
    /// Stable machine-readable reason, e.g. `bad_query`, `unauthorized`,
    /// `too_large`, `overloaded`, `bad_request`.
    pub reason: String,
    /// For `bad_query`: character offset (0-based) in `q` where parsing failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// For `bad_query`: what the parser expected there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

impl ErrorBody {
    /// An error body with no position.
    pub fn new(reason: &str, error: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: error.into(),
            reason: reason.to_string(),
            position: None,
            expected: None,
        }
    }
}

impl From<&crate::ParseError> for ErrorBody {
    fn from(e: &crate::ParseError) -> ErrorBody {
        ErrorBody {
            error: e.to_string(),
            reason: "bad_query".into(),
            position: Some(e.position),
            expected: Some(e.expected.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_response_keeps_events_verbatim() {
        let body = r#"{"events":[{"b":1,  "a":2}],"next":null}"#;
        let r: SearchResponse = serde_json::from_str(body).unwrap();
        assert_eq!(r.events[0].get(), r#"{"b":1,  "a":2}"#);
        assert!(r.next.is_none());
    }
}
