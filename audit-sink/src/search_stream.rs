//! The answer of `GET /v1/search`, streamed: the page's documents are found
//! first (an error then is still an error status), then read and sent one
//! chunk at a time through a small bounded channel, so the sink never holds
//! a whole page of events (up to `MAX_LIMIT` of them) in memory, and a slow
//! reader slows the reading down instead of piling bytes up.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{mpsc, oneshot};

use crate::index::{IndexError, SearchRequest};
use crate::pipeline::Shared;

/// Bytes gathered before a chunk is sent.
const CHUNK: usize = 64 * 1024;

/// Chunks in flight between the index reader and the connection.
const IN_FLIGHT: usize = 8;

/// Answers one search: `{"events":[…],"next":…}`, streamed.
pub async fn respond(shared: Arc<Shared>, req: SearchRequest) -> Response {
    let (head_tx, head_rx) = oneshot::channel::<Result<(), IndexError>>();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(IN_FLIGHT);
    let started = Instant::now();
    let metrics = shared.metrics.clone();
    tokio::task::spawn_blocking(move || {
        let mut hits = match shared.parts.search_hits(&req) {
            Ok(h) => h,
            Err(e) => {
                let _ = head_tx.send(Err(e));
                return;
            }
        };
        metrics.search.observe(started.elapsed());
        if head_tx.send(Ok(())).is_err() {
            return;
        }
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
    match head_rx.await {
        Ok(Ok(())) => {
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|item| (item, rx))
            });
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Ok(Err(e)) => crate::server::index_error(e),
        Err(_) => crate::server::index_error(IndexError::BadRequest(
            "the search stopped before answering".into(),
        )),
    }
}
