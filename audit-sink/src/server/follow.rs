//! `GET /v1/follow`: matching events as they are indexed, as server-sent
//! events, until the client goes away or the server stops.

use std::convert::Infallible;

use audit_api::api::FollowParams;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::read::begin;

/// `GET /v1/follow`.
pub(super) async fn follow(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: http::Extensions,
    params: Result<Query<FollowParams>, QueryRejection>,
) -> Response {
    let query = match begin(&st, &headers, &ext, params) {
        Ok(r) => r.query,
        Err(r) => return r,
    };
    let rx = st.sink.shared.follow.subscribe();
    let stream = futures_util::stream::unfold(
        (rx, query, st.shutdown.clone()),
        |(mut rx, q, mut stop)| async move {
            loop {
                if *stop.borrow() {
                    return None;
                }
                let item = tokio::select! {
                    r = rx.recv() => r,
                    _ = stop.changed() => return None,
                };
                match item {
                    Ok(item) => {
                        if q.matches(&item.fields) {
                            let raw = item.raw.get();
                            let data = if raw.contains('\r') {
                                serde_json::from_str::<serde_json::Value>(raw)
                                    .map(|v| v.to_string())
                                    .unwrap_or_default()
                            } else {
                                raw.to_string()
                            };
                            return Some((
                                Ok::<_, Infallible>(SseEvent::default().data(data)),
                                (rx, q, stop),
                            ));
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        return Some((
                            Ok(SseEvent::default().event("lagged").data(n.to_string())),
                            (rx, q, stop),
                        ));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
