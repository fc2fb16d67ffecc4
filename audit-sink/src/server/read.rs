//! What search, stats and follow share: one preamble ([`begin`]: the
//! caller may search, the parameters parse, the query and the time range
//! are valid), and the one way search and stats ask the index and turn its
//! failure into an answer.

use std::sync::Arc;
use std::time::Instant;

use audit_api::api::{ErrorBody, FollowParams, SearchParams, StatsParams};
use audit_api::{Query as AuditQuery, parse_query};
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::AppState;
use super::caller::search_auth;
use super::reply::{bad_params, error, index_error};
use crate::index::IndexError;
use crate::pipeline::Shared;

/// The parameters every read endpoint has: the query `q` and, where the
/// endpoint looks back in time, `since` and `until`.
pub(super) trait ReadParams {
    /// The `q` parameter.
    fn q(&self) -> Option<&str>;
    /// The `since` and `until` parameters (none for follow, which reads
    /// only what is indexed from now on).
    fn range(&self) -> (Option<&str>, Option<&str>) {
        (None, None)
    }
}

impl ReadParams for SearchParams {
    fn q(&self) -> Option<&str> {
        self.q.as_deref()
    }
    fn range(&self) -> (Option<&str>, Option<&str>) {
        (self.since.as_deref(), self.until.as_deref())
    }
}

impl ReadParams for StatsParams {
    fn q(&self) -> Option<&str> {
        self.q.as_deref()
    }
    fn range(&self) -> (Option<&str>, Option<&str>) {
        (self.since.as_deref(), self.until.as_deref())
    }
}

impl ReadParams for FollowParams {
    fn q(&self) -> Option<&str> {
        self.q.as_deref()
    }
}

/// A search, stats or follow request that passed the preamble.
pub(super) struct ReadRequest<P> {
    /// All of the request's parameters, for what only the endpoint reads.
    pub(super) params: P,
    /// `q`, parsed.
    pub(super) query: AuditQuery,
    /// `since`, microseconds.
    pub(super) since: Option<i64>,
    /// `until`, microseconds.
    pub(super) until: Option<i64>,
}

/// The preamble of search, stats and follow, in the order a client's
/// mistakes are reported: a caller allowed to search (else 401), parameters
/// of the endpoint (else 400), `q` in the query language (else 400 saying
/// where), `since`/`until` as times (else 400 naming the bad one).
pub(super) fn begin<P: ReadParams>(
    st: &AppState,
    headers: &HeaderMap,
    ext: &http::Extensions,
    params: Result<Query<P>, QueryRejection>,
) -> Result<ReadRequest<P>, Response> {
    search_auth(st, headers, ext)?;
    let params = params.map(|Query(p)| p).map_err(bad_params)?;
    let query = parse_q(params.q())?;
    let (since, until) = params.range();
    let (since, until) = parse_range(since, until)?;
    Ok(ReadRequest {
        params,
        query,
        since,
        until,
    })
}

/// Runs `find` against the index on a blocking thread, timed as a search
/// (the search latency histogram). Its failure is the answer: 400 for the
/// caller's mistake, 500 for ours ([`index_error`]).
pub(super) async fn from_index<T: Send + 'static>(
    shared: &Arc<Shared>,
    find: impl FnOnce(&Shared) -> Result<T, IndexError> + Send + 'static,
) -> Result<T, Response> {
    let started = Instant::now();
    let s = shared.clone();
    let res = tokio::task::spawn_blocking(move || find(&s)).await;
    shared.metrics.search.observe(started.elapsed());
    match res {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(index_error(e)),
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("internal", e.to_string()),
        )),
    }
}

/// The `q` parameter in the query language; 400 saying where it is wrong.
fn parse_q(q: Option<&str>) -> Result<AuditQuery, Response> {
    parse_query(q.unwrap_or("")).map_err(|e| error(StatusCode::BAD_REQUEST, ErrorBody::from(&e)))
}

/// `since` and `until` (RFC 3339 or a duration back from now) in
/// microseconds; 400 naming the bad one.
fn parse_range(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), Response> {
    let now = jiff::Timestamp::now();
    let one = |name: &str, v: Option<&str>| -> Result<Option<i64>, Response> {
        v.filter(|s| !s.is_empty())
            .map(|s| {
                audit_api::time::parse_time(s, now)
                    .map(|t| t.as_microsecond())
                    .map_err(|e| {
                        error(
                            StatusCode::BAD_REQUEST,
                            ErrorBody::new("bad_request", format!("{name}: {e}")),
                        )
                    })
            })
            .transpose()
    };
    Ok((one("since", since)?, one("until", until)?))
}
