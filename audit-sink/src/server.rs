//! The HTTP(S) server: ingest, search, stats, follow, health and metrics.
//!
//! One accept loop serves plain HTTP or TLS (rustls); with TLS the client
//! certificate chain is attached to each request so ingest and search can
//! check it against their own CA. Shutdown stops accepting, lets in-flight
//! requests finish, ends follow streams, then drains the pipeline.
//!
//! Slow or idle clients cannot pin the sink down ([`Limits`]): at most
//! `max_connections` connections are served at once (more wait in the
//! listen backlog); a connection that has not delivered a request's headers
//! within `header_read_timeout` (the first request, or a request head that
//! started arriving on an idle keep-alive connection) is closed; an ingest
//! body not received within `body_read_timeout` answers 408; a keep-alive
//! connection idle for `idle_timeout` is closed. A small watchdog per
//! connection enforces these from what the connection reads and which
//! requests are in flight (a response streaming to `/v1/follow` counts as
//! in flight).

// Handlers' helpers return the ready error `Response` as their `Err`; it is
// built once per failed request, so its size does not matter.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::future::Future;
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use audit_api::api::{
    DEFAULT_LIMIT, ErrorBody, FollowParams, IngestResponse, MAX_LIMIT, SearchParams, StatsParams,
};
use audit_api::event::RawEventList;
use audit_api::fields::{Field, stamp_cluster, stamp_cluster_unless_named};
use audit_api::{Query as AuditQuery, parse_query};
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde_json::value::RawValue;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use crate::auth::{AuthError, Credentials, PeerCerts, Principal};

mod firehose;
pub mod pubsub;
use crate::deadletter::DeadLetter;
use crate::index::{SearchRequest, prepare_json};
use crate::pipeline::{Accepted, IngestError, Sink, SinkOptions};

/// Default request body limit (32 MiB): real 400-event batches at
/// RequestResponse level exceed axum's 2 MB default.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;
/// Ingest answers well inside the apiserver's 30 s webhook timeout.
const INGEST_DEADLINE: Duration = Duration::from_secs(20);

/// Connection limits and timeouts (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest time to receive a request's headers; also how long a new
    /// connection may stay silent before its first request (and its TLS handshake).
    pub header_read_timeout: Duration,
    /// Longest time to receive a whole ingest request body (answered 408 beyond).
    pub body_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            // longer than the 90 s idle timeout of Go's HTTP clients (the
            // apiserver's), so the client closes first and never races a close
            idle_timeout: Duration::from_secs(120),
            max_connections: 1024,
        }
    }
}

/// Everything `audit-sink serve` is configured with.
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// TLS certificate and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Who may ingest.
    pub ingest: Credentials,
    /// Who may search.
    pub search: Credentials,
    /// Verifier of Pub/Sub push OIDC tokens (`--pubsub-audience`).
    pub pubsub: Option<Arc<pubsub::PushAuth>>,
    /// Allow a non-loopback address without authentication.
    pub insecure: bool,
    /// Request body limit in bytes (also applied after gzip decoding).
    pub max_body: usize,
    /// Connection limits and timeouts.
    pub limits: Limits,
    /// Pipeline options.
    pub sink: SinkOptions,
    /// The cluster of events whose credential names none and whose URL
    /// has no `?cluster=` (`--cluster-name`).
    pub cluster_name: String,
    /// Fleet mode: a NATS JetStream stream is the log of record.
    pub nats: Option<crate::nats::NatsOptions>,
    /// The aggregated API (`--api-listen`), served on its own listener.
    pub api: Option<crate::apiserver::ApiOptions>,
}

/// The peer's address.
#[derive(Clone, Copy, Debug)]
pub struct RemoteAddr(pub SocketAddr);

/// Handler state.
#[derive(Clone)]
pub struct AppState {
    sink: Arc<Sink>,
    ingest: Credentials,
    search: Credentials,
    pubsub: Option<Arc<pubsub::PushAuth>>,
    max_body: usize,
    body_read_timeout: Duration,
    cluster_name: Arc<str>,
    shutdown: watch::Receiver<bool>,
}

fn error(status: StatusCode, body: ErrorBody) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A search or stats failure: the caller's mistake (400) or ours (500).
pub(crate) fn index_error(e: crate::index::IndexError) -> Response {
    match crate::query::explain(e) {
        crate::index::IndexError::BadRequest(m) => {
            error(StatusCode::BAD_REQUEST, ErrorBody::new("bad_request", m))
        }
        e => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("internal", e.to_string()),
        ),
    }
}

fn retry_after(status: StatusCode, reason: &str, msg: &str, secs: u32) -> Response {
    let mut r = error(status, ErrorBody::new(reason, msg));
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

fn unauthorized(what: &str) -> Response {
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn peer_of(req_ext: &http::Extensions) -> (PeerCerts, Option<SocketAddr>) {
    (
        req_ext.get::<PeerCerts>().cloned().unwrap_or_default(),
        req_ext.get::<RemoteAddr>().map(|r| r.0),
    )
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(audit_api::EVENTS_PATH, post(ingest))
        .route(firehose::FIREHOSE_PATH, post(firehose::ingest))
        .route(pubsub::PUBSUB_PATH, post(pubsub::ingest))
        .route(audit_api::SEARCH_PATH, get(search))
        .route(audit_api::STATS_PATH, get(stats))
        .route(audit_api::FOLLOW_PATH, get(follow))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // The webhook kubeconfig may name any path: any other POST is ingest.
        .fallback(fallback)
        .with_state(state)
}

async fn fallback(State(st): State<AppState>, req: http::Request<Body>) -> Response {
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

async fn readyz(State(st): State<AppState>) -> Response {
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

async fn metrics(State(st): State<AppState>) -> Response {
    let s = st.sink.shared.clone();
    let text = tokio::task::spawn_blocking(move || {
        let mut text = s.metrics.render(s.parts.num_docs());
        s.redaction.render_metrics(&mut text);
        text
    })
    .await
    .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

fn too_large(limit: usize) -> Response {
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

async fn ingest(State(st): State<AppState>, req: http::Request<Body>) -> Response {
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
    let cluster = match ingest_cluster(&st, &principal, &parts.uri) {
        Ok(c) => c,
        Err(r) => {
            tracing::warn!(remote = ?remote, "ingest refused: cluster not allowed");
            return r;
        }
    };
    // While the index queue is full, wait for room before reading and
    // parsing the body (it stays in the socket, memory stays bounded); if
    // none comes in time, refuse: parsing batches only to answer 429 would
    // take the CPU the indexer needs.
    let deadline = tokio::time::Instant::now() + st.sink.overload_wait();
    if !st.sink.wait_for_room(deadline).await {
        st.sink.shared.metrics.overloaded.fetch_add(1, Relaxed);
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
    let m = &st.sink.shared.metrics;
    m.events_received
        .fetch_add(list.items.len() as u64, Relaxed);
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
    let (n_ok, n_bad) = (accepted.len() as u64, dead.len() as u64);
    // The body is parsed: rather wait for room (until the same deadline)
    // than throw that work away.
    if let Err(e) = st.sink.reserve_by(accepted.len(), deadline).await {
        return ingest_error(e);
    }
    let sink = st.sink.clone();
    let task = tokio::spawn(async move { sink.ingest(accepted, dead).await });
    match tokio::time::timeout(INGEST_DEADLINE, task).await {
        Ok(Ok(Ok(()))) => {
            if n_bad > 0 {
                m.reject("invalid_event", n_bad);
                tracing::info!(remote = ?remote, rejected = n_bad, "invalid events kept in the dead-letter log");
            }
            axum::Json(IngestResponse {
                accepted: n_ok,
                rejected: n_bad,
            })
            .into_response()
        }
        Ok(Ok(Err(e))) => ingest_error(e),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("internal", e.to_string()),
        ),
        Err(_) => retry_after(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the write-ahead log is slow; retry later",
            5,
        ),
    }
}

/// `?cluster=` on the webhook URL.
#[derive(serde::Deserialize)]
struct IngestParams {
    cluster: Option<String>,
}

/// The cluster a batch is stored as.
struct BatchCluster {
    name: String,
    /// From the credential or `?cluster=`: it replaces whatever the events
    /// say. Otherwise `name` is only for events that name no valid cluster.
    bound: bool,
}

/// The cluster a batch is stored as: the credential's, else `?cluster=`,
/// else the one each event names, else `--cluster-name`. A credential bound
/// to one cluster may not name another (403); a malformed name is a 400.
fn ingest_cluster(
    st: &AppState,
    who: &Principal,
    uri: &http::Uri,
) -> Result<BatchCluster, Response> {
    let asked = match Query::<IngestParams>::try_from_uri(uri) {
        Ok(Query(p)) => p.cluster,
        Err(e) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                ErrorBody::new("bad_request", format!("query string: {e}")),
            ));
        }
    };
    if let Some(name) = &asked
        && let Err(e) = audit_api::fields::validate_cluster_name(name)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            ErrorBody::new("bad_cluster", format!("?cluster=: {e}")),
        ));
    }
    match (&who.cluster, asked) {
        (Some(bound), Some(asked)) if *bound != asked => Err(error(
            StatusCode::FORBIDDEN,
            ErrorBody::new(
                "forbidden",
                format!(
                    "this credential may only write as cluster {bound:?}, not {asked:?}; drop ?cluster= from the webhook URL or use that cluster's credential"
                ),
            ),
        )),
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

fn ingest_error(e: IngestError) -> Response {
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

async fn reject_body(
    st: &AppState,
    source: Option<String>,
    body: &[u8],
    reason: String,
) -> Response {
    st.sink.shared.metrics.reject("bad_body", 1);
    tracing::warn!(source = ?source, bytes = body.len(), reason = %reason, "rejected request body kept in the dead-letter log");
    let d = DeadLetter::new(
        "body",
        reason.clone(),
        source,
        &st.sink.shared.redaction.rejected(body),
    );
    let sink = st.sink.clone();
    let _ = tokio::spawn(async move { sink.ingest(Vec::new(), vec![d]).await }).await;
    error(
        StatusCode::BAD_REQUEST,
        ErrorBody::new("bad_request", reason),
    )
}

fn parse_q(q: Option<&str>) -> Result<AuditQuery, Response> {
    parse_query(q.unwrap_or("")).map_err(|e| error(StatusCode::BAD_REQUEST, ErrorBody::from(&e)))
}

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

fn bad_params(e: QueryRejection) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        ErrorBody::new("bad_request", e.body_text()),
    )
}

fn search_auth(st: &AppState, headers: &HeaderMap, ext: &http::Extensions) -> Result<(), Response> {
    let (peer, remote) = peer_of(ext);
    if st.search.allows(bearer(headers), &peer) {
        Ok(())
    } else {
        tracing::warn!(remote = ?remote, "unauthenticated search refused");
        Err(unauthorized("search"))
    }
}

async fn search(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: http::Extensions,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    if let Err(r) = search_auth(&st, &headers, &ext) {
        return r;
    }
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return bad_params(e),
    };
    let query = match parse_q(p.q.as_deref()) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let (since, until) = match parse_range(p.since.as_deref(), p.until.as_deref()) {
        Ok(r) => r,
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
    crate::search_stream::respond(st.sink.shared.clone(), req).await
}

async fn stats(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: http::Extensions,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Response {
    if let Err(r) = search_auth(&st, &headers, &ext) {
        return r;
    }
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return bad_params(e),
    };
    let query = match parse_q(p.q.as_deref()) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let (since, until) = match parse_range(p.since.as_deref(), p.until.as_deref()) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let by = match p.by.as_deref().filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => match Field::from_name(b) {
            Some(f) => Some(f),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    ErrorBody::new(
                        "bad_request",
                        format!(
                            "by: unknown field `{b}`; use one of {}",
                            audit_api::fields::field_names().join(", ")
                        ),
                    ),
                );
            }
        },
    };
    let interval = match p.interval.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match audit_api::time::parse_duration(s) {
            Ok(d) if d.as_secs() > 0 => Some(d.as_micros() as i64),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    ErrorBody::new(
                        "bad_request",
                        format!("interval: invalid duration {s:?} (e.g. 5m, 1h, 1d)"),
                    ),
                );
            }
        },
    };
    let top = p.top.unwrap_or(10).clamp(1, 10_000);
    let shared = st.sink.shared.clone();
    let started = Instant::now();
    let res = tokio::task::spawn_blocking(move || {
        shared.parts.stats(&query, since, until, by, top, interval)
    })
    .await;
    st.sink.shared.metrics.search.observe(started.elapsed());
    match res {
        Ok(Ok(s)) => axum::Json(s).into_response(),
        Ok(Err(e)) => index_error(e),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("internal", e.to_string()),
        ),
    }
}

async fn follow(
    State(st): State<AppState>,
    headers: HeaderMap,
    ext: http::Extensions,
    params: Result<Query<FollowParams>, QueryRejection>,
) -> Response {
    if let Err(r) = search_auth(&st, &headers, &ext) {
        return r;
    }
    let Query(p) = match params {
        Ok(p) => p,
        Err(e) => return bad_params(e),
    };
    let query = match parse_q(p.q.as_deref()) {
        Ok(q) => q,
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

/// Checks the listen/auth combination; returns a clear refusal.
pub fn check_exposure(opts: &ServeOptions) -> anyhow::Result<()> {
    let loopback = opts.listen.ip().is_loopback();
    if !loopback && !opts.insecure {
        for (what, c, flags) in [
            ("ingest", &opts.ingest, "--token-file or --client-ca"),
            (
                "search",
                &opts.search,
                "--search-token-file or --search-client-ca",
            ),
        ] {
            anyhow::ensure!(
                c.is_configured(),
                "refusing to listen on {} without authentication for {what}: give {flags} (with --tls-cert/--tls-key), or pass --insecure to accept unauthenticated requests",
                opts.listen
            );
        }
    }
    anyhow::ensure!(
        opts.tls.is_some() || (!opts.ingest.has_client_ca() && !opts.search.has_client_ca()),
        "client certificate authentication (--client-ca, --search-client-ca) needs TLS: give --tls-cert and --tls-key"
    );
    Ok(())
}

/// Runs the server until `shutdown` resolves. `on_listening` gets the bound
/// address and scheme (e.g. to print it).
pub async fn serve(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
    on_listening: impl FnOnce(&str, SocketAddr),
) -> anyhow::Result<()> {
    check_exposure(&opts)?;
    let tls = match &opts.tls {
        Some((cert, key)) => {
            let mut roots = opts.ingest.client_roots().to_vec();
            roots.extend_from_slice(opts.search.client_roots());
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(
                crate::auth::tls_config(cert, key, &roots)?,
            )))
        }
        None => None,
    };
    let api = match opts.api.clone() {
        Some(a) => Some(crate::apiserver::ApiServer::prepare(a).await?),
        None => None,
    };
    let sink_opts = opts.sink.clone();
    let sink = Arc::new(match opts.nats.clone() {
        Some(nats) => crate::nats::open_sink(sink_opts, nats).await?,
        None => tokio::task::spawn_blocking(move || Sink::open(sink_opts))
            .await
            .context("opening the sink")??,
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {}; is another process using it? choose another with --listen",
                opts.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    on_listening(scheme, addr);
    tracing::info!(%addr, scheme, "audit-sink listening");
    let (stop_tx, stop_rx) = watch::channel(false);
    if let Some(api) = api {
        let listener = api.bind().await?;
        tokio::spawn(api.serve(listener, sink.shared.clone(), stop_rx.clone()));
    }
    let limits = opts.limits;
    anyhow::ensure!(
        limits.max_connections > 0,
        "--max-connections must be at least 1"
    );
    let app = router(AppState {
        sink: sink.clone(),
        ingest: opts.ingest,
        search: opts.search,
        pubsub: opts.pubsub,
        max_body: opts.max_body,
        body_read_timeout: limits.body_read_timeout,
        cluster_name: opts.cluster_name.into(),
        shutdown: stop_rx.clone(),
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut full_warned: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A free connection slot first: beyond the limit, new connections
        // wait in the kernel's listen backlog while existing ones are served.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if slots.available_permits() == 0
            && full_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            full_warned = Some(Instant::now());
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit reached; new connections wait until one closes (--max-connections)"
            );
        }
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let builder = builder.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let accepted = Instant::now();
            let (peer, io): (PeerCerts, Box<dyn IoStream>) = match tls {
                Some(acc) => {
                    match tokio::time::timeout(limits.header_read_timeout, acc.accept(stream)).await
                    {
                        Ok(Ok(s)) => {
                            let certs = s.get_ref().1.peer_certificates().map(|c| {
                                Arc::new(c.iter().map(|x| x.clone().into_owned()).collect())
                            });
                            (PeerCerts(certs), Box::new(s))
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%remote, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%remote, "TLS handshake timed out");
                            return;
                        }
                    }
                }
                None => (PeerCerts(None), Box::new(stream)),
            };
            serve_connection(app, builder, io, peer, remote, accepted, limits, stop).await;
        });
    }
    tracing::info!("shutting down: finishing in-flight requests");
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(25), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 25 s; closing them");
    }
    let s = sink.clone();
    tokio::task::spawn_blocking(move || s.shutdown()).await?;
    tracing::info!("audit-sink stopped");
    Ok(())
}

/// What the watchdog of a connection knows about it.
struct ConnState {
    /// Requests whose response has not been fully sent (or dropped).
    in_flight: usize,
    /// Requests received so far.
    requests: u64,
    /// When the last response finished.
    idle_since: Instant,
    /// While idle, when bytes of a next request head started to arrive (HTTP/1).
    head_started: Option<Instant>,
    /// The connection speaks HTTP/2 (frames arrive between requests).
    h2: bool,
}

type SharedConn = Arc<Mutex<ConnState>>;

fn lock(s: &SharedConn) -> std::sync::MutexGuard<'_, ConnState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts a request in flight until its response body is dropped.
struct InFlight(SharedConn);

impl InFlight {
    fn enter(state: &SharedConn, h2: bool) -> InFlight {
        let mut s = lock(state);
        s.in_flight += 1;
        s.requests += 1;
        s.head_started = None;
        s.h2 |= h2;
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = lock(&self.0);
        s.in_flight -= 1;
        if s.in_flight == 0 {
            s.idle_since = Instant::now();
        }
    }
}

/// A response body that keeps its request counted as in flight.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's byte stream, noting when a request head starts arriving.
struct TrackedIo {
    io: Box<dyn IoStream>,
    state: SharedConn,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut s = lock(&self.state);
            if s.in_flight == 0 && s.head_started.is_none() && !s.h2 {
                s.head_started = Some(Instant::now());
            }
        }
        r
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// What the watchdog decides about a connection.
enum Verdict {
    Fine,
    /// A request's headers (or the first request) did not arrive in time.
    HeaderTimeout,
    /// Nothing happened on a keep-alive connection for too long.
    Idle,
}

fn verdict(state: &SharedConn, accepted: Instant, limits: &Limits) -> Verdict {
    let s = lock(state);
    if s.in_flight > 0 {
        Verdict::Fine
    } else if s.requests == 0 {
        if accepted.elapsed() > limits.header_read_timeout {
            Verdict::HeaderTimeout
        } else {
            Verdict::Fine
        }
    } else if s
        .head_started
        .is_some_and(|t| t.elapsed() > limits.header_read_timeout)
    {
        Verdict::HeaderTimeout
    } else if s.idle_since.elapsed() > limits.idle_timeout {
        Verdict::Idle
    } else {
        Verdict::Fine
    }
}

/// Serves one connection under the watchdog until it ends, times out or the
/// server stops.
#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    app: Router,
    builder: hyper_util::server::conn::auto::Builder<TokioExecutor>,
    io: Box<dyn IoStream>,
    peer: PeerCerts,
    remote: SocketAddr,
    accepted: Instant,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let state: SharedConn = Arc::new(Mutex::new(ConnState {
        in_flight: 0,
        requests: 0,
        idle_since: accepted,
        head_started: None,
        h2: false,
    }));
    let svc_state = state.clone();
    let svc = tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        let in_flight = InFlight::enter(&svc_state, req.version() == http::Version::HTTP_2);
        req.extensions_mut().insert(peer.clone());
        req.extensions_mut().insert(RemoteAddr(remote));
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await?;
            Ok::<_, Infallible>(res.map(|inner| {
                Body::new(TrackedBody {
                    inner,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let io = TrackedIo {
        io,
        state: state.clone(),
    };
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc));
    tokio::pin!(conn);
    let tick = (limits.header_read_timeout / 4)
        .min(limits.idle_timeout / 4)
        .clamp(Duration::from_millis(20), Duration::from_secs(1));
    // Set once the connection was asked to finish: when, and how long it may take.
    let mut closing: Option<(Instant, Duration)> = None;
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
        closing = Some((Instant::now(), Duration::from_secs(25)));
    }
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            r = stop.changed(), if closing.is_none() => {
                if r.is_ok() && *stop.borrow() {
                    conn.as_mut().graceful_shutdown();
                    closing = Some((Instant::now(), Duration::from_secs(25)));
                }
            }
            () = tokio::time::sleep(tick) => {
                if let Some((since, grace)) = closing {
                    if since.elapsed() > grace {
                        return;
                    }
                    continue;
                }
                match verdict(&state, accepted, &limits) {
                    Verdict::Fine => {}
                    Verdict::HeaderTimeout => {
                        tracing::debug!(%remote, "request headers not received in time; closing the connection");
                        return;
                    }
                    Verdict::Idle => {
                        tracing::debug!(%remote, "idle keep-alive connection; closing it");
                        conn.as_mut().graceful_shutdown();
                        closing = Some((Instant::now(), limits.header_read_timeout));
                    }
                }
            }
        }
    }
}

/// A byte stream a connection can be served over (TCP or TLS over TCP).
trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> IoStream for T {}

/// Redacts the events a cloud envelope held and parses each for the index;
/// one that does not parse goes to `dead` with `source`, redacted as well.
fn accept_cloud_events(
    st: &AppState,
    events: Vec<audit_api::envelope::CloudEvent>,
    source: &str,
    accepted: &mut Vec<crate::pipeline::Accepted>,
    dead: &mut Vec<DeadLetter>,
) {
    let redaction = &st.sink.shared.redaction;
    for e in events {
        let Ok(raw) = RawValue::from_string(e.json) else {
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
