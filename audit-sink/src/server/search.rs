//! `GET /v1/search`: one page of matching events, streamed.
//!
//! The page's documents are found first (an error then is still an error
//! status), then read and sent one chunk at a time through a small bounded
//! channel, so the sink never holds a whole page of events (up to
//! `MAX_LIMIT` of them) in memory, and a slow reader slows the reading down
//! instead of piling bytes up.

use audit_api::api::{DEFAULT_LIMIT, ErrorBody, MAX_LIMIT, SearchParams};
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::AppState;
use super::read::{begin, from_index};
use super::reply::error;
use crate::index::{Hits, SearchRequest};

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

/// Chunks in flight between the index reader and the connection.
const IN_FLIGHT: usize = 8;

/// `GET /v1/search`.
pub(super) async fn search(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: http::Extensions,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    let (p, query, since, until) = match begin(&st, &headers, &ext, params) {
        Ok(r) => (r.params, r.query, r.since, r.until),
        Err(r) => return r,
    };
    let cursor = match p.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match u64::from_str_radix(c, 16) {
            Ok(v) => Some(v),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    ErrorBody::new(
                        "bad_request",
                        "cursor: not a value returned as `next` by a previous search",
                    ),
                );
            }
        },
    };
    let req = SearchRequest {
        query,
        since,
        until,
        limit: p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        cursor,
    };
    match from_index(&st.sink.shared, move |s| s.parts.search_hits(&req)).await {
        Ok(hits) => stream(hits),
        Err(r) => r,
    }
}

/// Answers with the page `{"events":[…],"next":…}`, its events read on a
/// blocking thread while the body is sent.
fn stream(mut hits: Hits) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::with_capacity(CHUNK + 4096);
        buf.extend_from_slice(b"{\"events\":[");
        let mut first = true;
        let mut open = true;
        let read = hits.for_each_event(|raw| {
            if !std::mem::replace(&mut first, false) {
                buf.push(b',');
            }
            buf.extend_from_slice(raw);
            if buf.len() >= CHUNK {
                let chunk = Bytes::from(std::mem::replace(
                    &mut buf,
                    Vec::with_capacity(CHUNK + 4096),
                ));
                // The client went away: stop reading.
                open = tx.blocking_send(Ok(chunk)).is_ok();
            }
            open
        });
        if let Err(e) = read {
            // Too late for an error status: end the body abruptly, so the
            // client sees a broken answer rather than a short one.
            tracing::warn!(error = %e, "search failed while reading events");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            return;
        }
        if !open {
            return;
        }
        buf.extend_from_slice(b"],\"next\":");
        match hits.next {
            Some(n) => buf.extend_from_slice(format!("\"{n:x}\"").as_bytes()),
            None => buf.extend_from_slice(b"null"),
        }
        buf.push(b'}');
        let _ = tx.blocking_send(Ok(Bytes::from(buf)));
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
}
