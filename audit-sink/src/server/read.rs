//! What search, stats and follow share: the caller may search, the
//! parameters parse (query, time range), and the one way search and stats
//! ask the index and turn its failure into an answer.

use std::sync::Arc;
use std::time::Instant;

use audit_api::api::ErrorBody;
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

/// The parameters of a search, stats or follow request from a caller
/// allowed to search; otherwise the answer (401, 400).
pub(super) fn authorized<P>(
    st: &AppState,
    headers: &HeaderMap,
    ext: &http::Extensions,
    params: Result<Query<P>, QueryRejection>,
) -> Result<P, Response> {
    search_auth(st, headers, ext)?;
    params.map(|Query(p)| p).map_err(bad_params)
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
pub(super) fn parse_q(q: Option<&str>) -> Result<AuditQuery, Response> {
    parse_query(q.unwrap_or("")).map_err(|e| error(StatusCode::BAD_REQUEST, ErrorBody::from(&e)))
}

/// `since` and `until` (RFC 3339 or a duration back from now) in
/// microseconds; 400 naming the bad one.
pub(super) fn parse_range(
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
