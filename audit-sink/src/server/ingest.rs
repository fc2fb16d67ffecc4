//! `POST /v1/events` (and any other POST path): the kube-apiserver's audit
//! webhook. A batch is authenticated, bounded in size and time, decoded
//! (gzip), split into events that are redacted, stamped with their cluster
//! and parsed for the index; the valid ones are durably logged before the
//! 200 and the invalid ones kept in the dead-letter log.

use std::io::Read as _;

use audit_api::api::{ErrorBody, IngestParams, REPORT_DUPLICATES};
use audit_api::event::RawEventList;
use audit_api::fields::{stamp_cluster, stamp_cluster_unless_named};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;

use super::caller::{bearer, peer_of};
use super::reply::{error, ingest_error, too_large, unauthorized};
use super::{AppState, store};
use crate::auth::{AuthError, Principal};
use crate::deadletter::DeadLetter;
use crate::index::prepare_json;
use crate::pipeline::{Accepted, IngestError};

/// `POST /v1/events`: one `EventList` from the webhook.
pub(super) async fn ingest(State(st): State<AppState>, req: http::Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let (peer, remote) = peer_of(&parts.extensions);
    let principal = match st.ingest.authenticate(bearer(&parts.headers), &peer) {
        Ok(p) => p,
        Err(AuthError::Unauthenticated) => {
            tracing::warn!(remote = ?remote, "unauthenticated ingest refused");
            return unauthorized("ingest");
        }
        Err(e) => {
            tracing::warn!(remote = ?remote, error = %e, "ingest refused");
            return error(
                StatusCode::FORBIDDEN,
                ErrorBody::new("forbidden", e.to_string()),
            );
        }
    };
    let params = match ingest_params(&parts.uri) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let report = params.report.is_some();
    let cluster = match ingest_cluster(&st, &principal, params.cluster) {
        Ok(c) => c,
        Err(r) => {
            tracing::warn!(remote = ?remote, "ingest refused: cluster not allowed");
            return r.into_response();
        }
    };
    // While the index queue is full, wait for room before reading and
    // parsing the body (it stays in the socket, memory stays bounded); if
    // none comes in time, refuse: parsing batches only to answer 429 would
    // take the CPU the indexer needs.
    let deadline = tokio::time::Instant::now() + st.sink.overload_wait();
    if !st.sink.wait_for_room(deadline).await {
        st.sink.shared.metrics.overloaded.inc();
        return ingest_error(IngestError::Overloaded);
    }
    let limit = st.max_body;
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > limit
    {
        st.sink.shared.metrics.reject("too_large", 1);
        return too_large(limit);
    }
    let read = tokio::time::timeout(st.body_read_timeout, axum::body::to_bytes(body, limit)).await;
    let Ok(read) = read else {
        st.sink.shared.metrics.reject("body_timeout", 1);
        tracing::warn!(remote = ?remote, timeout = ?st.body_read_timeout, "request body not received in time");
        let mut r = error(
            StatusCode::REQUEST_TIMEOUT,
            ErrorBody::new(
                "body_timeout",
                format!(
                    "the request body did not arrive within {:?} (--body-read-timeout)",
                    st.body_read_timeout
                ),
            ),
        );
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            let is_limit = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            if is_limit {
                st.sink.shared.metrics.reject("too_large", 1);
                return too_large(limit);
            }
            return error(
                StatusCode::BAD_REQUEST,
                ErrorBody::new("bad_request", format!("reading the body: {e}")),
            );
        }
    };
    let source = remote.map(|r| r.to_string());
    let gzip = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let body: Vec<u8> = if gzip || bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut dec = flate2::read::GzDecoder::new(&bytes[..]).take(limit as u64 + 1);
        if let Err(e) = dec.read_to_end(&mut out) {
            return reject_body(
                &st,
                source,
                &bytes,
                format!("gzip body does not decode: {e}"),
            )
            .await;
        }
        if out.len() > limit {
            st.sink.shared.metrics.reject("too_large", 1);
            return too_large(limit);
        }
        out
    } else {
        bytes.to_vec()
    };
    let list = match RawEventList::from_slice(&body) {
        Ok(l) => l,
        Err(e) => {
            return reject_body(
                &st,
                source,
                &body,
                format!("body is not an audit EventList: {e}"),
            )
            .await;
        }
    };
    let mut accepted = Vec::with_capacity(list.items.len());
    let mut dead = Vec::new();
    let redaction = &st.sink.shared.redaction;
    for raw in list.items {
        let raw = redaction.event(raw);
        // The cluster goes into the stored event; a rejected one is kept as received.
        let stamped = match if cluster.bound {
            stamp_cluster(raw.get(), &cluster.name)
        } else {
            stamp_cluster_unless_named(raw.get(), &cluster.name)
        } {
            Ok(Some(s)) => RawValue::from_string(s).ok(),
            // Unchanged, or not an object (prepare_json says why, in audit-api's words).
            Ok(None) | Err(_) => None,
        };
        let stored = stamped.as_deref().unwrap_or(&raw);
        match prepare_json(stored.get().as_bytes(), &st.sink.shared.parts.fields) {
            Ok(prepared) => accepted.push(Accepted {
                raw: stamped.unwrap_or(raw),
                prepared,
            }),
            Err(e) => dead.push(DeadLetter::new(
                "event",
                e.to_string(),
                source.clone(),
                &redaction.rejected(raw.get().as_bytes()),
            )),
        }
    }
    // The body is parsed: rather wait for room (until the same deadline)
    // than throw that work away.
    let source = source.unwrap_or_default();
    match store::store(&st, accepted, dead, deadline, report, &source).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Any other path: a POST is ingest (the webhook kubeconfig may name any
/// path), anything else 404.
pub(super) async fn fallback(State(st): State<AppState>, req: http::Request<Body>) -> Response {
    if req.method() == http::Method::POST {
        return ingest(State(st), req).await;
    }
    error(
        StatusCode::NOT_FOUND,
        ErrorBody::new(
            "not_found",
            format!("no endpoint {} {}", req.method(), req.uri().path()),
        ),
    )
}

/// The cluster a batch is stored as.
pub(super) struct BatchCluster {
    name: String,
    /// From the credential or `?cluster=`: it replaces whatever the events
    /// say. Otherwise `name` is only for events that name no valid cluster.
    bound: bool,
}

/// Why an ingest request is refused before its body is read: a query
/// string that does not parse (400), or a cluster it may not write as (403).
/// Each ingest path renders it in its own protocol's answer.
pub(super) struct Refused {
    pub(super) status: StatusCode,
    reason: &'static str,
    pub(super) message: String,
}

impl Refused {
    fn bad_request(reason: &'static str, message: String) -> Refused {
        Refused {
            status: StatusCode::BAD_REQUEST,
            reason,
            message,
        }
    }

    /// The answer of the webhook and Pub/Sub paths.
    pub(super) fn into_response(self) -> Response {
        error(self.status, ErrorBody::new(self.reason, self.message))
    }
}

/// The query string of an ingest path: `?cluster=` and `?report=duplicates`.
pub(super) fn ingest_params(uri: &http::Uri) -> Result<IngestParams, Refused> {
    let params = match Query::<IngestParams>::try_from_uri(uri) {
        Ok(Query(p)) => p,
        Err(e) => {
            return Err(Refused::bad_request(
                "bad_request",
                format!("query string: {e}"),
            ));
        }
    };
    if let Some(r) = &params.report
        && r != REPORT_DUPLICATES
    {
        return Err(Refused::bad_request(
            "bad_request",
            format!("?report={r} is not known: use ?report={REPORT_DUPLICATES}, or leave it out"),
        ));
    }
    Ok(params)
}

/// The cluster a batch is stored as: the credential's, else `?cluster=`
/// (`asked`), else the one each event names, else `--cluster-name`. A
/// credential bound to one cluster may not name another (403); a malformed
/// name is a 400.
pub(super) fn ingest_cluster(
    st: &AppState,
    who: &Principal,
    asked: Option<String>,
) -> Result<BatchCluster, Refused> {
    if let Some(name) = &asked
        && let Err(e) = audit_api::fields::validate_cluster_name(name)
    {
        return Err(Refused::bad_request(
            "bad_cluster",
            format!("?cluster=: {e}"),
        ));
    }
    match (&who.cluster, asked) {
        (Some(bound), Some(asked)) if *bound != asked => Err(Refused {
            status: StatusCode::FORBIDDEN,
            reason: "forbidden",
            message: format!(
                "this credential may only write as cluster {bound:?}, not {asked:?}; drop ?cluster= from the URL or use that cluster's credential"
            ),
        }),
        (Some(bound), _) => Ok(BatchCluster {
            name: bound.clone(),
            bound: true,
        }),
        (None, Some(asked)) => Ok(BatchCluster {
            name: asked,
            bound: true,
        }),
        (None, None) => Ok(BatchCluster {
            name: st.cluster_name.to_string(),
            bound: false,
        }),
    }
}

/// Keeps a body that is not an audit `EventList` in the dead-letter log and
/// answers 400 with `reason`.
async fn reject_body(
    st: &AppState,
    source: Option<String>,
    body: &[u8],
    reason: String,
) -> Response {
    tracing::warn!(source = ?source, bytes = body.len(), reason = %reason, "rejected request body kept in the dead-letter log");
    let d = DeadLetter::new(
        "body",
        reason.clone(),
        source,
        &st.sink.shared.redaction.rejected(body),
    );
    store::keep_rejected_body(st, d).await;
    error(
        StatusCode::BAD_REQUEST,
        ErrorBody::new("bad_request", reason),
    )
}

/// Redacts the events a cloud envelope held, stores each as `cluster` (as
/// the webhook does: a bound cluster replaces the one the envelope names,
/// else it is only for events naming none) and parses it for the index; one
/// that does not parse goes to `dead` with `source`, redacted as well.
pub(super) fn accept_cloud_events(
    st: &AppState,
    events: Vec<audit_api::envelope::CloudEvent>,
    cluster: &BatchCluster,
    source: &str,
    accepted: &mut Vec<crate::pipeline::Accepted>,
    dead: &mut Vec<DeadLetter>,
) {
    let redaction = &st.sink.shared.redaction;
    for e in events {
        let stamped = if cluster.bound {
            stamp_cluster(&e.json, &cluster.name)
        } else {
            stamp_cluster_unless_named(&e.json, &cluster.name)
        };
        let json = match stamped {
            Ok(Some(s)) => s,
            Ok(None) | Err(_) => e.json,
        };
        let Ok(raw) = RawValue::from_string(json) else {
            continue;
        };
        let raw = redaction.event(raw);
        let bytes = raw.get().as_bytes().to_vec();
        match crate::pipeline::Accepted::parse(raw, &st.sink.shared.parts.fields) {
            Ok(a) => accepted.push(a),
            Err(err) => dead.push(DeadLetter::new(
                "event",
                format!("invalid-event: {err}"),
                Some(source.to_string()),
                &redaction.rejected(&bytes),
            )),
        }
    }
}
