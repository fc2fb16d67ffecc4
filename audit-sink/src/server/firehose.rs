//! `POST /v1/ingest/firehose`: Amazon Data Firehose's HTTP endpoint delivery,
//! for EKS clusters whose audit log group has a CloudWatch Logs subscription
//! to a Firehose stream.
//!
//! Firehose sends `{"requestId","timestamp","records":[{"data":BASE64}]}`
//! (the body gzip'd with `Content-Encoding: gzip` when so configured), each
//! record a gzip'd CloudWatch Logs subscription payload, with the stream's
//! access key in `X-Amz-Firehose-Access-Key`. The key is checked like an
//! ingest bearer token. The answer is the body Firehose expects,
//! `{"requestId","timestamp"}` (plus `errorMessage` when not 200), and 200
//! only once every event is durable. The cluster is decided as on the
//! webhook: a key bound to a cluster stores as it (`?cluster=` naming
//! another is a 403), else `?cluster=` on the endpoint URL, else the log
//! group's. Firehose retries a request with the same
//! `requestId` until it gets a 200; the events of a retry are deduplicated
//! like any others, and its dead letters are recognized (keyed by the
//! `requestId`) and kept once. A record that is not a payload, a `CONTROL_MESSAGE` or a
//! message cut at 256 KB goes to the dead-letter log with its reason; the
//! rest of the request is stored.

use std::io::Read as _;

use audit_api::envelope::{Context, eks};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::caller::{bearer, peer_of};
use super::ingest::{accept_cloud_events, ingest_cluster, ingest_params};
use super::store::{self, StoreError};
use crate::auth::AuthError;
use crate::deadletter::DeadLetter;
use crate::pipeline::IngestError;

/// The path Firehose is pointed at.
pub const FIREHOSE_PATH: &str = "/v1/ingest/firehose";

/// The header carrying the Firehose stream's access key.
const ACCESS_KEY: &str = "x-amz-firehose-access-key";
/// The header carrying the request id (the same on every retry).
const REQUEST_ID: &str = "x-amz-firehose-request-id";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    request_id: String,
    #[serde(default)]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    data: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    request_id: &'a str,
    timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

/// The answer Firehose reads: the request id, the time in milliseconds, and
/// what went wrong when the status is not 200.
fn answer(status: StatusCode, request_id: &str, error: Option<&str>) -> Response {
    let body = Answer {
        request_id,
        timestamp: jiff::Timestamp::now().as_millisecond(),
        error_message: error,
    };
    let mut r = (status, axum::Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(5));
    }
    r
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

fn ingest_failure(e: &IngestError, request_id: &str) -> Response {
    let status = match e {
        IngestError::Overloaded => StatusCode::TOO_MANY_REQUESTS,
        IngestError::NoSpace(_) => StatusCode::INSUFFICIENT_STORAGE,
        IngestError::Closed | IngestError::Wal(_) | IngestError::Log(_) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    answer(status, request_id, Some(&e.to_string()))
}

/// Handles one Firehose delivery request.
pub(super) async fn ingest(State(st): State<AppState>, req: http::Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let (peer, remote) = peer_of(&parts.extensions);
    let header_id = header_str(&parts.headers, REQUEST_ID)
        .unwrap_or_default()
        .to_string();
    let key = header_str(&parts.headers, ACCESS_KEY).or_else(|| bearer(&parts.headers));
    let principal = match st.ingest.authenticate(key, &peer) {
        Ok(p) => p,
        Err(AuthError::Unauthenticated) => {
            tracing::warn!(remote = ?remote, request_id = %header_id, "Firehose delivery with a wrong access key refused");
            return answer(
                StatusCode::UNAUTHORIZED,
                &header_id,
                Some(
                    "the access key (X-Amz-Firehose-Access-Key) is not an ingest token of this sink: set the Firehose stream's access key to a line of --token-file",
                ),
            );
        }
        Err(e) => {
            tracing::warn!(remote = ?remote, request_id = %header_id, error = %e, "Firehose delivery refused");
            return answer(StatusCode::FORBIDDEN, &header_id, Some(&e.to_string()));
        }
    };
    // The cluster as on the webhook: a key bound to one stores as it (and
    // may not ask for another), else `?cluster=` on the endpoint URL, else
    // the log group's.
    let params = ingest_params(&parts.uri);
    let report = params.as_ref().is_ok_and(|p| p.report.is_some());
    let cluster = match params.and_then(|p| ingest_cluster(&st, &principal, p.cluster)) {
        Ok(c) => c,
        Err(r) => {
            tracing::warn!(remote = ?remote, request_id = %header_id, reason = %r.message, "Firehose delivery refused");
            return answer(r.status, &header_id, Some(&r.message));
        }
    };
    let deadline = tokio::time::Instant::now() + st.sink.overload_wait();
    if !st.sink.wait_for_room(deadline).await {
        st.sink.shared.metrics.overloaded.inc();
        return ingest_failure(&IngestError::Overloaded, &header_id);
    }
    let limit = st.max_body;
    let read = tokio::time::timeout(st.body_read_timeout, axum::body::to_bytes(body, limit)).await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                &header_id,
                Some(&format!(
                    "reading the body failed (larger than --max-body-bytes {limit}?): {e}; lower the stream's buffer size"
                )),
            );
        }
        Err(_) => {
            return answer(
                StatusCode::REQUEST_TIMEOUT,
                &header_id,
                Some("the request body did not arrive within --body-read-timeout"),
            );
        }
    };
    let source = format!(
        "firehose {}{}",
        header_id,
        remote.map(|r| format!(" from {r}")).unwrap_or_default()
    );
    let gzip = header_str(&parts.headers, header::CONTENT_ENCODING.as_str())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let body = if gzip {
        let mut out = Vec::new();
        match flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
        {
            Ok(n) if n <= limit => out,
            Ok(_) => {
                return answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &header_id,
                    Some("the gzip'd body decodes to more than --max-body-bytes"),
                );
            }
            Err(e) => {
                return reject(
                    &st,
                    source,
                    &bytes,
                    &header_id,
                    format!("gzip body does not decode: {e}"),
                )
                .await;
            }
        }
    } else {
        bytes.to_vec()
    };
    let delivery: Delivery = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => {
            return reject(
                &st,
                source,
                &body,
                &header_id,
                format!("body is not a Firehose delivery request ({{\"requestId\",\"records\":[{{\"data\"}}]}}): {e}"),
            )
            .await;
        }
    };
    let request_id = delivery.request_id;
    let redaction = &st.sink.shared.redaction;
    let mut accepted = Vec::new();
    let mut dead = Vec::new();
    let ctx = Context::default();
    for (i, record) in delivery.records.iter().enumerate() {
        let at = |loc: &str| {
            if loc.is_empty() {
                format!("{source} records[{i}]")
            } else {
                format!("{source} records[{i}] {loc}")
            }
        };
        let data = match base64::engine::general_purpose::STANDARD.decode(record.data.trim()) {
            Ok(d) => d,
            Err(e) => {
                dead.push(DeadLetter::new(
                    "event",
                    format!("malformed: record data is not base64: {e}"),
                    Some(at("")),
                    &redaction.rejected(record.data.as_bytes()),
                ));
                continue;
            }
        };
        let decoded = eks::decode(&data, &ctx);
        accept_cloud_events(
            &st,
            decoded.events,
            &cluster,
            &at(""),
            &mut accepted,
            &mut dead,
        );
        for d in decoded.dead {
            dead.push(DeadLetter::new(
                "event",
                d.reason.to_string(),
                Some(at(&d.location)),
                &redaction.rejected(&d.bytes),
            ));
        }
    }
    // A retry of this request (same requestId) yields the same dead letters
    // in the same order: keyed so, the log keeps each once.
    for (i, d) in dead.iter_mut().enumerate() {
        d.key = Some(format!("firehose {request_id} #{i}"));
    }
    match store::store(&st, accepted, dead, deadline, report, &source).await {
        Ok(_) => answer(StatusCode::OK, &request_id, None),
        Err(StoreError::Ingest(e)) => ingest_failure(&e, &request_id),
        Err(StoreError::Internal(e)) => {
            answer(StatusCode::INTERNAL_SERVER_ERROR, &request_id, Some(&e))
        }
        Err(StoreError::Slow) => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            &request_id,
            Some("the write-ahead log is slow; retry later"),
        ),
    }
}

/// Keeps a body that is not a delivery request in the dead-letter log and
/// answers 400 (Firehose retries, then backs the records up to S3).
async fn reject(
    st: &AppState,
    source: String,
    body: &[u8],
    request_id: &str,
    reason: String,
) -> Response {
    tracing::warn!(source = %source, bytes = body.len(), reason = %reason, "rejected Firehose body kept in the dead-letter log");
    let mut d = DeadLetter::new(
        "body",
        reason.clone(),
        Some(source),
        &st.sink.shared.redaction.rejected(body),
    );
    if !request_id.is_empty() {
        d.key = Some(format!("firehose {request_id} body"));
    }
    store::keep_rejected_body(st, d).await;
    answer(StatusCode::BAD_REQUEST, request_id, Some(&reason))
}
