//! `auditevents`: list (one namespace or all), get by name, and watch.
//!
//! A namespaced list is the sink's search with `ns:NAMESPACE` added, so it
//! returns only that namespace's events; the all-namespaces list also holds
//! events about cluster-scoped objects. `limit`/`continue` are the search's
//! page size and cursor; `fieldSelector`, `q` (the query language) and
//! `since`/`from`/`to` narrow it.

use std::time::Duration;

use audit_api::api::MAX_LIMIT;
use audit_api::{Field, Pattern, Query as AuditQuery, parse_query};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::authz::Request;
use super::field_selector::{field_selector_query, name_query};
use super::history::{self, Positioned};
use super::object::{List, ListMeta, Stored};
use super::table::{IncludeObject, table, wants_table};
use super::{API_VERSION, ApiState, status};
use crate::index::SearchRequest;
use crate::pipeline::FollowItem;

/// Page size when the client gives no `limit` (kubectl always does).
pub(crate) const DEFAULT_PAGE: usize = 500;

/// Searches of a list while events keep becoming searchable during it.
const LIST_ATTEMPTS: usize = 3;

/// The query parameters of a list, get or watch.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListParams {
    limit: Option<String>,
    #[serde(rename = "continue")]
    continue_: Option<String>,
    field_selector: Option<String>,
    label_selector: Option<String>,
    q: Option<String>,
    since: Option<String>,
    from: Option<String>,
    to: Option<String>,
    watch: Option<String>,
    timeout_seconds: Option<String>,
    include_object: Option<String>,
    resource_version: Option<String>,
}

/// What a list asks for, checked.
struct Listing {
    query: AuditQuery,
    since: Option<i64>,
    until: Option<i64>,
    limit: usize,
    cursor: Option<u64>,
}

fn bad(m: impl AsRef<str>) -> Response {
    status::bad_request(m.as_ref())
}

fn time_param(name: &str, v: Option<&str>) -> Result<Option<i64>, Response> {
    let now = jiff::Timestamp::now();
    v.filter(|s| !s.is_empty())
        .map(|s| {
            audit_api::time::parse_time(s, now)
                .map(|t| t.as_microsecond())
                .map_err(|e| {
                    bad(format!(
                        "{name}: {e} (RFC 3339, or a duration before now such as 1h)"
                    ))
                })
        })
        .transpose()
}

/// The query of a request: its namespace, `fieldSelector` and `q`.
fn request_query(namespace: Option<&str>, p: &ListParams) -> Result<AuditQuery, Response> {
    let mut all = Vec::new();
    if let Some(ns) = namespace {
        all.push(AuditQuery::Field {
            field: Field::Namespace,
            pattern: Pattern::Exact(ns.to_string()),
        });
    }
    if let Some(sel) = p.field_selector.as_deref().filter(|s| !s.is_empty()) {
        all.push(field_selector_query(sel).map_err(bad)?);
    }
    if let Some(q) = p.q.as_deref().filter(|s| !s.trim().is_empty()) {
        all.push(parse_query(q).map_err(|e| bad(format!("q: {e}")))?);
    }
    if p.label_selector.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(bad(
            "AuditEvents carry no labels: select with fieldSelector (user, verb, resource, name, code, stage, cluster) or q",
        ));
    }
    Ok(match all.len() {
        0 => AuditQuery::All,
        1 => all.pop().expect("one"),
        _ => AuditQuery::And(all),
    })
}

fn listing(namespace: Option<&str>, p: &ListParams) -> Result<Listing, Response> {
    let query = request_query(namespace, p)?;
    if p.since.as_deref().is_some_and(|s| !s.is_empty())
        && p.from.as_deref().is_some_and(|s| !s.is_empty())
    {
        return Err(bad(
            "give since or from, not both (both are the lower bound of the time range)",
        ));
    }
    let since = time_param("since", p.since.as_deref())?;
    let from = time_param("from", p.from.as_deref())?;
    let until = time_param("to", p.to.as_deref())?;
    let limit = match p.limit.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_PAGE,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n > 0 => (n as usize).min(MAX_LIMIT),
            // 0 or negative: no limit asked, as the apiserver reads it.
            Ok(_) => DEFAULT_PAGE,
            Err(_) => return Err(bad(format!("limit: {l:?} is not a number"))),
        },
    };
    let cursor = match p.continue_.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => Some(u64::from_str_radix(c, 16).map_err(|_| {
            bad("continue key is not valid: use the metadata.continue of the previous page")
        })?),
    };
    Ok(Listing {
        query,
        since: since.or(from),
        until,
        limit,
        cursor,
    })
}

/// Authenticates the caller and asks the cluster whether it may `req`.
async fn admit(
    st: &ApiState,
    headers: &HeaderMap,
    ext: &http::Extensions,
    req: Request,
) -> Result<(), Response> {
    let who = st.authenticate(headers, ext)?;
    match st.authz.authorize(&who, &req).await {
        Ok(d) if d.allowed => Ok(()),
        Ok(d) => {
            let message =
                status::forbidden_message(&who.name, req.verb, req.namespace.as_deref(), &d.reason);
            tracing::info!(user = %who.name, verb = req.verb, namespace = ?req.namespace, "aggregated API request forbidden");
            Err(status::forbidden(
                req.name.as_deref().unwrap_or(""),
                &message,
            ))
        }
        Err(e) => {
            tracing::warn!(error = %crate::apiserver::chain(&e), "SubjectAccessReview failed");
            Err(status::internal(&crate::apiserver::chain(&e)))
        }
    }
}

async fn search(st: &ApiState, req: SearchRequest) -> Result<(Vec<Stored>, Option<u64>), Response> {
    let shared = st.shared.clone();
    let res = tokio::task::spawn_blocking(move || shared.parts.search(&req)).await;
    match res {
        Ok(Ok((raws, next))) => Ok((raws.iter().filter_map(|r| Stored::parse(r)).collect(), next)),
        Ok(Err(e)) => Err(match crate::index::query::explain(e) {
            crate::index::IndexError::BadRequest(m) => bad(m),
            e => status::internal(&super::chain(&e)),
        }),
        Err(e) => Err(status::internal(&e.to_string())),
    }
}

/// `GET /apis/audit.kubext.io/v1alpha1/auditevents`
pub(crate) async fn list_all(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ext: http::Extensions,
    Query(p): Query<ListParams>,
) -> Response {
    list(st, headers, ext, None, p).await
}

/// `GET /apis/audit.kubext.io/v1alpha1/namespaces/{namespace}/auditevents`
pub(crate) async fn list_namespaced(
    State(st): State<ApiState>,
    Path(namespace): Path<String>,
    headers: HeaderMap,
    ext: http::Extensions,
    Query(p): Query<ListParams>,
) -> Response {
    list(st, headers, ext, Some(namespace), p).await
}

fn is_true(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1"))
}

async fn list(
    st: ApiState,
    headers: HeaderMap,
    ext: http::Extensions,
    namespace: Option<String>,
    p: ListParams,
) -> Response {
    let verb = if is_true(p.watch.as_deref()) {
        "watch"
    } else {
        "list"
    };
    if let Err(r) = admit(
        &st,
        &headers,
        &ext,
        Request {
            verb,
            namespace: namespace.clone(),
            name: None,
        },
    )
    .await
    {
        return r;
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let as_table = wants_table(accept);
    let include = match IncludeObject::parse(p.include_object.as_deref()) {
        Ok(i) => i,
        Err(e) => return bad(e.to_string()),
    };
    if verb == "watch" {
        return watch(st, namespace.as_deref(), &p, as_table, include);
    }
    let l = match listing(namespace.as_deref(), &p) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let request = SearchRequest {
        query: l.query,
        since: l.since,
        until: l.until,
        limit: l.limit,
        cursor: l.cursor,
    };
    // The list's position: every event made searchable up to it is in the
    // search. Searched again if events became searchable meanwhile, so a
    // watch from the position repeats none of the list's.
    let mut attempts = 0;
    let (events, next, position) = loop {
        let before = st.history.last();
        let (events, next) = match search(&st, request.clone()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        attempts += 1;
        if st.history.last() == before || attempts == LIST_ATTEMPTS {
            break (events, next, before);
        }
    };
    let meta = ListMeta {
        resource_version: Some(st.history.version(position)),
        continue_: next.map(|n| format!("{n:x}")),
    };
    if as_table {
        return status::json_response(StatusCode::OK, &table(&events, meta, include));
    }
    status::json_response(
        StatusCode::OK,
        &List {
            api_version: API_VERSION,
            kind: "AuditEventList",
            metadata: meta,
            items: events.iter().map(Stored::object).collect(),
        },
    )
}

/// `GET /apis/audit.kubext.io/v1alpha1/namespaces/{namespace}/auditevents/{name}`
pub(crate) async fn get(
    State(st): State<ApiState>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
    ext: http::Extensions,
    Query(p): Query<ListParams>,
) -> Response {
    get_event(st, headers, ext, p, Some(namespace), name).await
}

/// `GET /apis/audit.kubext.io/v1alpha1/auditevents/{name}`: an event about a
/// cluster-scoped object (one without a namespace), which takes the
/// cluster-wide `get` permission.
pub(crate) async fn get_cluster_scoped(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    ext: http::Extensions,
    Query(p): Query<ListParams>,
) -> Response {
    get_event(st, headers, ext, p, None, name).await
}

async fn get_event(
    st: ApiState,
    headers: HeaderMap,
    ext: http::Extensions,
    p: ListParams,
    namespace: Option<String>,
    name: String,
) -> Response {
    if let Err(r) = admit(
        &st,
        &headers,
        &ext,
        Request {
            verb: "get",
            namespace: namespace.clone(),
            name: Some(name.clone()),
        },
    )
    .await
    {
        return r;
    }
    let query = match &namespace {
        Some(ns) => AuditQuery::And(vec![
            AuditQuery::Field {
                field: Field::Namespace,
                pattern: Pattern::Exact(ns.clone()),
            },
            name_query(&name),
        ]),
        None => name_query(&name),
    };
    let (events, _) = match search(
        &st,
        SearchRequest {
            query,
            since: None,
            until: None,
            limit: 10,
            cursor: None,
        },
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Without a namespace in the path: only events without one.
    let events: Vec<Stored> = match namespace {
        Some(_) => events,
        None => events
            .into_iter()
            .filter(|s| s.metadata().namespace.is_none())
            .collect(),
    };
    // A bare auditID names the request: its ResponseComplete stage when stored.
    let found = events
        .iter()
        .find(|s| s.event.stage == "ResponseComplete")
        .or_else(|| events.first());
    let Some(found) = found else {
        return status::not_found(&name);
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if wants_table(accept) {
        let include = match IncludeObject::parse(p.include_object.as_deref()) {
            Ok(i) => i,
            Err(e) => return bad(e.to_string()),
        };
        return status::json_response(
            StatusCode::OK,
            &table(std::slice::from_ref(found), ListMeta::default(), include),
        );
    }
    status::json_response(StatusCode::OK, &found.object())
}

/// One line of a watch stream.
fn watch_line(kind: &str, object: serde_json::Value) -> Bytes {
    let mut line = serde_json::to_vec(&serde_json::json!({"type": kind, "object": object}))
        .unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The `ERROR` line of a watch that must list again.
fn expired_line(message: &str) -> Bytes {
    watch_line(
        "ERROR",
        serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "reason": "Expired", "code": 410,
            "message": message,
        }),
    )
}

/// `?watch=true`: `ADDED` for each newly searchable event that matches.
/// With the `resourceVersion` of a list, first every matching event stored
/// after that list (audit events are never modified or deleted); without
/// one, or with `0`, from the moment the watch starts. A version no longer
/// kept (or from an earlier run of the sink) gets an `ERROR` with a `410
/// Expired` Status, as from the apiserver: list again.
fn watch(
    st: ApiState,
    namespace: Option<&str>,
    p: &ListParams,
    as_table: bool,
    include: IncludeObject,
) -> Response {
    let query = match request_query(namespace, p) {
        Ok(q) => q,
        Err(r) => return r,
    };
    let timeout = match p.timeout_seconds.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(t) => match t.parse::<u64>() {
            Ok(n) => Some(Duration::from_secs(n)),
            Err(_) => return bad(format!("timeoutSeconds: {t:?} is not a number of seconds")),
        },
    };
    let rv = p
        .resource_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "0");
    let stream_of = |lines: Vec<Bytes>| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(futures_util::stream::iter(
                lines.into_iter().map(Ok::<_, std::io::Error>),
            )),
        )
            .into_response()
    };
    let start = match st.history.watch_from(rv) {
        Ok(s) => s,
        Err(history::Unusable::Expired) => {
            let rv = rv.unwrap_or_default();
            return stream_of(vec![expired_line(&st.history.too_old(rv))]);
        }
        Err(history::Unusable::Malformed) => {
            return bad(format!(
                "resourceVersion: {:?} is not one this API handed out: watch from the metadata.resourceVersion of a list, or without one to watch from now",
                rv.unwrap_or_default()
            ));
        }
    };
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let history = st.history.clone();
    let line_of = move |pos: u64, item: &FollowItem| -> Option<Bytes> {
        let s = Stored::parse(item.raw.get().as_bytes())?;
        let object = if as_table {
            table(
                std::slice::from_ref(&s),
                ListMeta {
                    resource_version: Some(history.version(pos)),
                    continue_: None,
                },
                include,
            )
        } else {
            serde_json::to_value(s.object_at(Some(history.version(pos)))).unwrap_or_default()
        };
        Some(watch_line("ADDED", object))
    };
    let replay: std::collections::VecDeque<Positioned> = start.replay.into();
    let stop = st.stop.clone();
    let stream = futures_util::stream::unfold(
        (replay, start.live, query, stop, false),
        move |(mut replay, mut rx, q, mut stop, ended)| {
            let line_of = line_of.clone();
            async move {
                if ended {
                    return None;
                }
                while let Some((pos, item)) = replay.pop_front() {
                    if !q.matches(&item.fields) {
                        continue;
                    }
                    if let Some(line) = line_of(pos, &item) {
                        return Some((Ok::<_, std::io::Error>(line), (replay, rx, q, stop, false)));
                    }
                }
                loop {
                    if *stop.borrow() {
                        return None;
                    }
                    let sleep = async {
                        match deadline {
                            Some(d) => tokio::time::sleep_until(d).await,
                            None => std::future::pending().await,
                        }
                    };
                    let item = tokio::select! {
                        r = rx.recv() => r,
                        _ = stop.changed() => return None,
                        () = sleep => return None,
                    };
                    match item {
                        Ok((pos, item)) => {
                            if !q.matches(&item.fields) {
                                continue;
                            }
                            if let Some(line) = line_of(pos, &item) {
                                return Some((Ok(line), (replay, rx, q, stop, false)));
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                            // Events were skipped: end with 410 so the client lists again.
                            let line = expired_line(&format!(
                                "the watch fell behind and {n} events were skipped: list again, then watch"
                            ));
                            return Some((Ok(line), (replay, rx, q, stop, true)));
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        },
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}
