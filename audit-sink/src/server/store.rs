//! The tail every ingest path shares (the webhook, Firehose, Pub/Sub): once
//! a request's events are parsed, wait for room in the index queue, make them
//! and the dead letters durable, count them in the metrics and, when the
//! sender asked (`?report=duplicates`), tell how many the sink already had.
//! Each path renders the outcome in its own protocol's answer.

use audit_api::api::{ErrorBody, IngestResponse};
use axum::http::StatusCode;
use axum::response::Response;

use super::reply::{error, ingest_error, retry_after};
use super::{AppState, INGEST_DEADLINE};
use crate::deadletter::DeadLetter;
use crate::pipeline::{Accepted, IngestError};

/// Why a request's events were not stored (nothing of it was acknowledged).
#[derive(Debug)]
pub(super) enum StoreError {
    /// The pipeline refused or failed: overloaded, shutting down, the log.
    Ingest(IngestError),
    /// The task making the batch durable failed unexpectedly.
    Internal(String),
    /// The log did not confirm within [`INGEST_DEADLINE`].
    Slow,
}

impl StoreError {
    /// The answer of the webhook and Pub/Sub paths.
    pub(super) fn into_response(self) -> Response {
        match self {
            StoreError::Ingest(e) => ingest_error(e),
            StoreError::Internal(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorBody::new("internal", e),
            ),
            StoreError::Slow => retry_after(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "the write-ahead log is slow; retry later",
                5,
            ),
        }
    }
}

/// Makes `accepted` and `dead` durable, waiting for room in the index queue
/// until `deadline`; with `report`, then waits (at most [`INGEST_DEADLINE`]
/// more) until the indexer has told which events were duplicates. `source`
/// names the sender in the log.
pub(super) async fn store(
    st: &AppState,
    accepted: Vec<Accepted>,
    dead: Vec<DeadLetter>,
    deadline: tokio::time::Instant,
    report: bool,
    source: &str,
) -> Result<IngestResponse, StoreError> {
    let m = &st.sink.shared.metrics;
    let (n_ok, n_bad) = (accepted.len() as u64, dead.len() as u64);
    m.events_received.inc_by(n_ok + n_bad);
    st.sink
        .reserve_by(accepted.len(), deadline)
        .await
        .map_err(StoreError::Ingest)?;
    let sink = st.sink.clone();
    let task = tokio::spawn(async move {
        if report {
            sink.ingest_counting(accepted, dead).await.map(Some)
        } else {
            sink.ingest(accepted, dead).await.map(|()| None)
        }
    });
    let duplicates = match tokio::time::timeout(INGEST_DEADLINE, task).await {
        Ok(Ok(Ok(d))) => d,
        Ok(Ok(Err(e))) => return Err(StoreError::Ingest(e)),
        Ok(Err(e)) => return Err(StoreError::Internal(e.to_string())),
        Err(_) => return Err(StoreError::Slow),
    };
    if n_bad > 0 {
        m.reject("invalid_event", n_bad);
        tracing::info!(
            source,
            rejected = n_bad,
            "invalid events kept in the dead-letter log"
        );
    }
    // Durable already: a count that does not come in time is left out, the
    // answer stays 200.
    let duplicates = match duplicates {
        Some(d) => tokio::time::timeout(INGEST_DEADLINE, d.count())
            .await
            .ok()
            .flatten()
            .map(|d| d.min(n_ok)),
        None => None,
    };
    Ok(IngestResponse {
        accepted: n_ok,
        rejected: n_bad,
        stored: duplicates.map(|d| n_ok - d),
        duplicates,
    })
}

/// Keeps a whole request body that is not what its path takes in the
/// dead-letter log (best effort: the sender is answered 400 either way).
pub(super) async fn keep_rejected_body(st: &AppState, d: DeadLetter) {
    st.sink.shared.metrics.reject("bad_body", 1);
    let sink = st.sink.clone();
    let _ = tokio::spawn(async move { sink.ingest(Vec::new(), vec![d]).await }).await;
}
