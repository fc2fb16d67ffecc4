//! The error answers every handler gives: a JSON [`ErrorBody`] with its
//! status, and `Retry-After` or `WWW-Authenticate` where the client needs them.

use audit_api::api::ErrorBody;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::index::IndexError;
use crate::pipeline::IngestError;
/// An error answer: `status` with `body` as JSON.
pub(super) fn error(status: StatusCode, body: ErrorBody) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A search or stats failure: the caller's mistake (400) or ours (500).
pub(super) fn index_error(e: IndexError) -> Response {
    match crate::index::query::explain(e) {
        IndexError::BadRequest(m) => {
            error(StatusCode::BAD_REQUEST, ErrorBody::new("bad_request", m))
        }
        e => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("internal", crate::apiserver::chain(&e)),
        ),
    }
}

/// An error answer the client should retry after `secs` seconds.
pub(super) fn retry_after(status: StatusCode, reason: &str, msg: &str, secs: u32) -> Response {
    let mut r = error(status, ErrorBody::new(reason, msg));
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// 401 for `what` (ingest, search), asking for a bearer token.
pub(super) fn unauthorized(what: &str) -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        ErrorBody::new(
            "unauthorized",
            format!("{what} needs a valid bearer token or client certificate"),
        ),
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// 413: the body exceeds `limit` bytes, and which flag to change.
pub(super) fn too_large(limit: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorBody::new(
            "too_large",
            format!(
                "request body exceeds {limit} bytes; lower --audit-webhook-batch-max-size or raise --max-body-bytes"
            ),
        ),
    )
}

/// A batch that was not stored: 429, 503 or 507 with `Retry-After`.
pub(super) fn ingest_error(e: IngestError) -> Response {
    match e {
        IngestError::Overloaded => retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded",
            &e.to_string(),
            1,
        ),
        IngestError::Closed => retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            &e.to_string(),
            5,
        ),
        IngestError::Log(_) => retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "log_unavailable",
            &e.to_string(),
            2,
        ),
        IngestError::Wal(_) => retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage",
            &e.to_string(),
            5,
        ),
        // Nothing was acknowledged; the apiserver retries after Retry-After
        // and the sink takes batches again as soon as space returns.
        IngestError::NoSpace(_) => retry_after(
            StatusCode::INSUFFICIENT_STORAGE,
            "no_space",
            &e.to_string(),
            5,
        ),
    }
}

/// 400: the query string does not fit the endpoint's parameters.
pub(super) fn bad_params(e: QueryRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        ErrorBody::new("bad_request", e.body_text()),
    )
}
