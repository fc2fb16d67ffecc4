//! `/readyz` (whether this replica should get traffic, and why not) and
//! `/metrics` (Prometheus text format).

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// `GET /healthz`: the process answers.
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 `ok`, or 503 with the reason this replica should get
/// no traffic now.
pub(super) async fn readyz(State(st): State<AppState>) -> Response {
    let s = &st.sink.shared;
    if s.closing() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else if s.indexer_stopped() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the indexer thread stopped (see the log); restart this replica",
        )
            .into_response()
    } else if s.replaying() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "indexing the write-ahead log left by the previous run",
        )
            .into_response()
    } else if s.index_failing() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "index writes failing (disk full?); retrying",
        )
            .into_response()
    } else if let Some(lag) = s.lagging() {
        let msg = if lag == Duration::MAX {
            "catching up with the replicated log".to_string()
        } else {
            format!(
                "{:.1}s behind the replicated log (--max-lag)",
                lag.as_secs_f64()
            )
        };
        (StatusCode::SERVICE_UNAVAILABLE, msg).into_response()
    } else if s.overloaded() {
        (StatusCode::SERVICE_UNAVAILABLE, "indexer behind").into_response()
    } else {
        (StatusCode::OK, "ok").into_response()
    }
}

/// `GET /metrics`: the sink's and the redaction's metrics, in the
/// OpenMetrics text format.
pub(super) async fn metrics(State(st): State<AppState>) -> Response {
    let s = st.sink.shared.clone();
    let text = tokio::task::spawn_blocking(move || s.metrics.encode(s.parts.num_docs()))
        .await
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], text).into_response()
}
