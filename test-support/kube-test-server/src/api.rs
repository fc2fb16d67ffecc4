//! Request handling: authentication, authorization, then the endpoint.

use std::sync::Arc;

use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::RecordedRequest;
use crate::auth::{Attributes, TokenEntry, User, authorize, forbidden_reason, matching_audiences};
use crate::discovery;
use crate::request_info::{self, RequestInfo, ResourceRequest};
use crate::selector::{self, Selector};
use crate::server::Shared;
use crate::status::ApiError;
use crate::store::{ObjectKey, ResourceType, format_time, new_uid};
use crate::table;

/// Largest request body accepted (the apiserver's limit is 3 MiB for most objects).
const MAX_BODY: usize = 3 * 1024 * 1024;

pub(crate) type ClientIdentity = Arc<(String, Vec<String>)>;

pub(crate) fn json_response(code: u16, body: &Value) -> Response<Body> {
    let mut bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes.push(b'\n');
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(err: &ApiError) -> Response<Body> {
    let mut bytes = err.body.clone();
    bytes.push(b'\n');
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() =
        StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn text_response(text: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn bearer_token(req: &Request<Incoming>) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Some(token.trim().to_string())
    } else {
        None
    }
}

pub(crate) fn query_param(query: &str, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Who is calling: Ok(None) is anonymous, Err is a credential that was presented
/// but is not valid (401, as the apiserver answers even on public paths).
async fn authenticate(
    shared: &Shared,
    identity: Option<&ClientIdentity>,
    token: Option<&str>,
) -> Result<Option<User>, ()> {
    if let Some(identity) = identity {
        let (name, groups) = identity.as_ref();
        return Ok(Some(
            User::new(name.clone())
                .with_groups(groups.clone())
                .authenticated(),
        ));
    }
    let Some(token) = token else {
        return Ok(None);
    };
    authenticate_token(shared, token, &[API_AUDIENCE.to_string()])
        .await
        .map(|(user, _)| Some(user))
        .ok_or(())
}

/// The user behind a bearer token, and the audiences among `wanted` it is valid for.
async fn authenticate_token(
    shared: &Shared,
    token: &str,
    wanted: &[String],
) -> Option<(User, Vec<String>)> {
    let (entry, issuers) = {
        let inner = shared.lock();
        (inner.tokens.get(token).cloned(), inner.oidc.clone())
    };
    if let Some(entry) = entry {
        let audiences = matching_audiences(entry.audiences.as_deref(), wanted);
        return (entry.valid_now() && !audiences.is_empty())
            .then(|| (entry.user.authenticated(), audiences));
    }
    let audiences = matching_audiences(None, wanted);
    if audiences.is_empty() {
        return None;
    }
    for issuer in issuers {
        if let Some(user) = issuer.authenticate(token).await {
            return Some((user.authenticated(), audiences));
        }
    }
    None
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    identity: Option<ClientIdentity>,
    req: Request<Incoming>,
) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let token = bearer_token(&req);

    let authn = authenticate(&shared, identity.as_ref(), token.as_deref()).await;
    let user = authn.clone().ok().flatten();
    let resp = match authn {
        Err(()) => error_response(&ApiError::unauthorized()),
        Ok(user) => route(&shared, user, req).await,
    };

    shared.lock().requests.push(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        user: user.map(|u| u.name),
        bearer_token_seen: token,
        status: resp.status().as_u16(),
    });
    resp
}

const PUBLIC_PATHS: &[&str] = &["/healthz", "/livez", "/readyz", "/version"];

async fn route(shared: &Shared, user: Option<User>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let watch = matches!(query_param(&query, "watch").as_deref(), Some("true" | "1"));
    let info = request_info::parse(req.method(), &path, watch);

    let Some(user) = user else {
        return if PUBLIC_PATHS.contains(&path.trim_end_matches('/')) {
            non_resource(shared, &path)
        } else {
            error_response(&ApiError::unauthorized())
        };
    };

    match info {
        RequestInfo::NonResource => {
            if req.method() == http::Method::GET || req.method() == http::Method::HEAD {
                non_resource(shared, &path)
            } else {
                error_response(&ApiError::forbidden(
                    "",
                    "",
                    "",
                    format!(
                        "User {:?} cannot {} path {:?}",
                        user.name,
                        req.method().as_str().to_lowercase(),
                        path
                    ),
                ))
            }
        }
        RequestInfo::Resource(rr) => match resource_request(shared, &user, rr, req, &query).await {
            Ok(resp) => resp,
            Err(e) => error_response(&e),
        },
    }
}

fn non_resource(shared: &Shared, path: &str) -> Response<Body> {
    let path = path.trim_end_matches('/');
    let types = shared.lock().types.clone();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let doc = match parts.as_slice() {
        ["healthz"] | ["livez"] | ["readyz"] => return text_response("ok"),
        ["version"] => Some(discovery::version()),
        ["api"] => Some(discovery::api_versions(&shared.addr.to_string())),
        ["apis"] => Some(discovery::api_group_list(&types)),
        ["api", version] => discovery::api_resource_list(&types, "", version),
        ["apis", group] => discovery::api_group(&types, group),
        ["apis", group, version] => discovery::api_resource_list(&types, group, version),
        _ => None,
    };
    match doc {
        Some(doc) => json_response(200, &doc),
        None => error_response(&ApiError::no_route()),
    }
}

/// Subject reviews every authenticated user may create (RBAC's
/// `system:basic-user` role).
fn always_allowed(rr: &ResourceRequest) -> bool {
    matches!(
        (rr.group.as_str(), rr.resource.as_str(), rr.verb.as_str()),
        ("authentication.k8s.io", "selfsubjectreviews", "create")
            | ("authorization.k8s.io", "selfsubjectaccessreviews", "create")
    )
}

async fn read_body(req: Request<Incoming>) -> Result<bytes::Bytes, ApiError> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(ApiError::bad_request(format!(
            "unable to read the request body: {e}"
        ))),
    }
}

/// The request body as JSON, decoding kubectl's protobuf bodies.
async fn read_object(req: Request<Incoming>) -> Result<Value, ApiError> {
    let protobuf = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(crate::proto::CONTENT_TYPE));
    let body = read_body(req).await?;
    if protobuf {
        crate::proto::decode(&body).map_err(|e| {
            ApiError::bad_request(format!("unable to decode the protobuf request body: {e}"))
        })
    } else {
        parse_json_body(&body)
    }
}

fn parse_json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json: {e}"
        ))
    })
}

async fn resource_request(
    shared: &Shared,
    user: &User,
    rr: ResourceRequest,
    req: Request<Incoming>,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    if !always_allowed(&rr) {
        let attrs = Attributes {
            verb: rr.verb.clone(),
            group: rr.group.clone(),
            resource: rr.rbac_resource(),
            namespace: rr.namespace.clone(),
            name: rr.name.clone(),
        };
        let allowed = authorize(&shared.lock().rules, user, &attrs);
        if !allowed {
            return Err(ApiError::forbidden(
                &rr.group,
                &rr.resource,
                &rr.name,
                forbidden_reason(user, &attrs),
            ));
        }
    }

    match (
        rr.group.as_str(),
        rr.version.as_str(),
        rr.resource.as_str(),
        rr.subresource.as_str(),
    ) {
        ("authentication.k8s.io", "v1", "selfsubjectreviews", "") if rr.verb == "create" => {
            let _ = read_object(req).await?;
            Ok(json_response(201, &self_subject_review(user)))
        }
        ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "") if rr.verb == "create" => {
            let body = read_object(req).await?;
            Ok(json_response(
                201,
                &self_subject_access_review(shared, user, body),
            ))
        }
        ("authentication.k8s.io", "v1", "tokenreviews", "") if rr.verb == "create" => {
            let body = read_object(req).await?;
            Ok(json_response(201, &token_review(shared, body).await))
        }
        ("authorization.k8s.io", "v1", "subjectaccessreviews", "") if rr.verb == "create" => {
            let body = read_object(req).await?;
            Ok(json_response(201, &subject_access_review(shared, body)))
        }
        ("", "v1", "serviceaccounts", "token") if rr.verb == "create" => {
            let body = read_object(req).await?;
            token_request(shared, &rr, body).map(|v| json_response(201, &v))
        }
        ("", "v1", "services", "proxy") => crate::proxy::forward(shared, &rr, req, query).await,
        (_, _, _, "") => {
            let rt = shared
                .lock()
                .types
                .iter()
                .find(|t| t.group == rr.group && t.version == rr.version && t.plural == rr.resource)
                .cloned()
                .ok_or_else(ApiError::no_route)?;
            object_request(shared, &rt, &rr, req, query).await
        }
        _ => Err(ApiError::no_route()),
    }
}

async fn object_request(
    shared: &Shared,
    rt: &ResourceType,
    rr: &ResourceRequest,
    req: Request<Incoming>,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let as_table = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(table::wants_table);
    let include_object = query_param(query, "includeObject").unwrap_or_else(|| "Metadata".into());
    // For cluster-scoped types the namespace in the request info is only the
    // name of a namespace itself (`/api/v1/namespaces/{name}`).
    let namespace = if rt.namespaced {
        rr.namespace.as_str()
    } else {
        ""
    };
    let key = |name: &str| ObjectKey {
        group: rt.group.clone(),
        plural: rt.plural.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    match rr.verb.as_str() {
        "get" => {
            let obj = shared
                .lock()
                .store
                .get(&key(&rr.name))
                .cloned()
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &rr.name))?;
            if as_table {
                let t = table::table(rt, &[obj], None, &include_object);
                return Ok(table_response(&t));
            }
            Ok(json_response(200, &obj))
        }
        "list" => {
            let (items, rv) = list(shared, rt, namespace, query)?;
            if as_table {
                let t = table::table(rt, &items, Some(rv), &include_object);
                return Ok(table_response(&t));
            }
            Ok(json_response(200, &list_body(rt, items, rv)))
        }
        "watch" => crate::watch::watch(
            shared,
            rt,
            namespace,
            &rr.name,
            query,
            as_table,
            &include_object,
        ),
        "create" => {
            let body = read_object(req).await?;
            create(shared, rt, namespace, body).map(|v| json_response(201, &v))
        }
        "update" => {
            let body = read_object(req).await?;
            update(shared, rt, namespace, &rr.name, body).map(|v| json_response(200, &v))
        }
        "patch" => {
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = read_body(req).await?;
            patch(shared, rt, namespace, &rr.name, &content_type, &body)
                .map(|v| json_response(200, &v))
        }
        "delete" => {
            let mut inner = shared.lock();
            let removed = inner
                .store
                .remove(&key(&rr.name))
                .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &rr.name))?;
            Ok(json_response(
                200,
                &json!({
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {"name": rr.name, "kind": rt.plural, "uid": removed["metadata"]["uid"]}
                }),
            ))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn table_response(table: &Value) -> Response<Body> {
    let mut resp = json_response(200, table);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;as=Table;v=v1;g=meta.k8s.io"),
    );
    resp
}

fn list_body(rt: &ResourceType, items: Vec<Value>, resource_version: String) -> Value {
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut o| {
            // Items of a list carry no apiVersion/kind on the wire.
            if let Some(m) = o.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            o
        })
        .collect();
    json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": {"resourceVersion": resource_version},
        "items": items,
    })
}

/// The `labelSelector` and `fieldSelector` of a list or watch.
pub(crate) fn selectors(rt: &ResourceType, query: &str) -> Result<(Selector, Selector), ApiError> {
    let labels = Selector::parse(&query_param(query, "labelSelector").unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    let fields = Selector::parse_fields(&query_param(query, "fieldSelector").unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    if let Some(bad) = fields
        .keys()
        .find(|k| !selector::field_supported(&rt.kind, k))
    {
        return Err(ApiError::bad_request(format!(
            "field label not supported: {bad}"
        )));
    }
    Ok((labels, fields))
}

/// The matching objects and the store's resourceVersion.
fn list(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    query: &str,
) -> Result<(Vec<Value>, String), ApiError> {
    let (labels, fields) = selectors(rt, query)?;
    let inner = shared.lock();
    let ns = (!namespace.is_empty()).then_some(namespace);
    let items: Vec<Value> = inner
        .store
        .list(&rt.group, &rt.plural, ns)
        .into_iter()
        .filter(|o| labels.matches(|k| selector::label(o, k)))
        .filter(|o| fields.matches(|k| selector::field(&rt.kind, o, k)))
        .collect();
    Ok((items, inner.store.resource_version()))
}

fn check_type(rt: &ResourceType, body: &Value) -> Result<(), ApiError> {
    let kind = body["kind"].as_str().unwrap_or("");
    let api_version = body["apiVersion"].as_str().unwrap_or("");
    if (!kind.is_empty() && kind != rt.kind)
        || (!api_version.is_empty() && api_version != rt.api_version())
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    Ok(())
}

fn create(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    mut body: Value,
) -> Result<Value, ApiError> {
    check_type(rt, &body)?;
    if !body["metadata"].is_object() {
        body["metadata"] = json!({});
    }
    let mut name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
    if name.is_empty() {
        if let Some(prefix) = body["metadata"]["generateName"].as_str() {
            let suffix: String = new_uid()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(5)
                .collect();
            name = format!("{prefix}{suffix}");
            body["metadata"]["name"] = json!(name);
        } else {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                "",
                "metadata.name",
                "Required value: name or generateName is required".into(),
            ));
        }
    }
    if rt.namespaced {
        let body_ns = body["metadata"]["namespace"].as_str().unwrap_or("");
        if !body_ns.is_empty() && body_ns != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        body["metadata"]["namespace"] = json!(namespace);
    }
    let mut inner = shared.lock();
    if rt.namespaced {
        let ns_key = ObjectKey {
            group: String::new(),
            plural: "namespaces".into(),
            namespace: String::new(),
            name: namespace.to_string(),
        };
        if inner.store.get(&ns_key).is_none() {
            return Err(ApiError::not_found("", "namespaces", namespace));
        }
    }
    let key = ObjectKey {
        group: rt.group.clone(),
        plural: rt.plural.clone(),
        namespace: if rt.namespaced {
            namespace.to_string()
        } else {
            String::new()
        },
        name: name.clone(),
    };
    if inner.store.get(&key).is_some() {
        return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
    }
    if let Some(m) = body["metadata"].as_object_mut() {
        // Server-set fields are ignored on create.
        m.remove("uid");
        m.remove("creationTimestamp");
        m.remove("resourceVersion");
    }
    defaults(rt, &mut body);
    Ok(inner.store.put(rt, body))
}

fn update(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    mut body: Value,
) -> Result<Value, ApiError> {
    check_type(rt, &body)?;
    let body_name = body["metadata"]["name"].as_str().unwrap_or("");
    if body_name != name {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL".into(),
        ));
    }
    let mut inner = shared.lock();
    let key = ObjectKey {
        group: rt.group.clone(),
        plural: rt.plural.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let existing = inner
        .store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let sent_rv = body["metadata"]["resourceVersion"].as_str().unwrap_or("");
    if !sent_rv.is_empty() && existing["metadata"]["resourceVersion"].as_str() != Some(sent_rv) {
        let qualified = if rt.group.is_empty() {
            rt.plural.clone()
        } else {
            format!("{}.{}", rt.plural, rt.group)
        };
        return Err(ApiError::conflict(
            &rt.group,
            &rt.plural,
            name,
            format!(
                "Operation cannot be fulfilled on {qualified} {name:?}: the object has been modified; please apply your changes to the latest version and try again"
            ),
        ));
    }
    body["metadata"]["uid"] = existing["metadata"]["uid"].clone();
    body["metadata"]["creationTimestamp"] = existing["metadata"]["creationTimestamp"].clone();
    if rt.namespaced {
        body["metadata"]["namespace"] = json!(namespace);
    }
    defaults(rt, &mut body);
    Ok(inner.store.put(rt, body))
}

fn patch(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let is_json_patch = match media {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => false,
        "application/json-patch+json" => true,
        _ => {
            return Err(ApiError::unsupported_media_type(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {media:?})"
            )));
        }
    };
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut inner = shared.lock();
    let key = ObjectKey {
        group: rt.group.clone(),
        plural: rt.plural.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let existing = inner
        .store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let mut patched = existing.clone();
    if is_json_patch {
        crate::patch::json_patch(&mut patched, &patch).map_err(|e| {
            ApiError::unprocessable(format!(
                "the server rejected our request due to an error in our request: {e}"
            ))
        })?;
    } else {
        crate::patch::merge(&mut patched, &patch);
    }
    // What a patch may not change.
    for field in ["name", "namespace", "uid", "creationTimestamp"] {
        patched["metadata"][field] = existing["metadata"][field].clone();
    }
    if let Some(m) = patched["metadata"].as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    defaults(rt, &mut patched);
    Ok(inner.store.put(rt, patched))
}

/// Defaulting the apiserver applies on write.
pub(crate) fn defaults(rt: &ResourceType, obj: &mut Value) {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Secret") if obj["type"].as_str().unwrap_or("").is_empty() => {
            obj["type"] = json!("Opaque");
        }
        ("", "Namespace") => {
            if obj["spec"]["finalizers"].is_null() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            if obj["status"]["phase"].is_null() {
                obj["status"] = json!({"phase": "Active"});
            }
            let name = obj["metadata"]["name"].clone();
            if obj["metadata"]["labels"]["kubernetes.io/metadata.name"].is_null() {
                if !obj["metadata"]["labels"].is_object() {
                    obj["metadata"]["labels"] = json!({});
                }
                obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
            }
        }
        _ => {}
    }
}

fn user_info(user: &User) -> Value {
    let mut info = json!({"username": user.name});
    if !user.uid.is_empty() {
        info["uid"] = json!(user.uid);
    }
    if !user.groups.is_empty() {
        info["groups"] = json!(user.groups);
    }
    if !user.extra.is_empty() {
        info["extra"] = json!(user.extra);
    }
    info
}

fn self_subject_review(user: &User) -> Value {
    json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": user_info(user)},
    })
}

/// Whether `user` may do what a review's `spec` asks about.
fn review_allows(shared: &Shared, user: &User, spec: &Value) -> bool {
    let ra = &spec["resourceAttributes"];
    if !ra.is_object() {
        // Non-resource URLs: discovery and health paths are open to every
        // authenticated user.
        return user.groups.iter().any(|g| g == "system:authenticated");
    }
    let s = |k: &str| ra[k].as_str().unwrap_or("").to_string();
    let mut resource = s("resource");
    if !s("subresource").is_empty() {
        resource = format!("{resource}/{}", s("subresource"));
    }
    let attrs = Attributes {
        verb: s("verb"),
        group: s("group"),
        resource,
        namespace: s("namespace"),
        name: s("name"),
    };
    authorize(&shared.lock().rules, user, &attrs)
}

fn review_response(mut body: Value, kind: &str, allowed: bool) -> Value {
    body["apiVersion"] = json!("authorization.k8s.io/v1");
    body["kind"] = json!(kind);
    body["metadata"] = json!({"creationTimestamp": null});
    body["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by kube-test-server rules"})
    } else {
        json!({"allowed": false})
    };
    body
}

fn self_subject_access_review(shared: &Shared, user: &User, body: Value) -> Value {
    let allowed = review_allows(shared, user, &body["spec"]);
    review_response(body, "SelfSubjectAccessReview", allowed)
}

/// SubjectAccessReview: may the user in `spec` (name, groups as given) do it?
fn subject_access_review(shared: &Shared, body: Value) -> Value {
    let spec = &body["spec"];
    let mut subject = User::new(spec["user"].as_str().unwrap_or(""));
    subject.groups = spec["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let allowed = review_allows(shared, &subject, spec);
    review_response(body, "SubjectAccessReview", allowed)
}

/// TokenReview: who is behind `spec.token`, for `spec.audiences`.
async fn token_review(shared: &Shared, mut body: Value) -> Value {
    let token = body["spec"]["token"].as_str().unwrap_or("").to_string();
    let wanted: Vec<String> = body["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| vec![API_AUDIENCE.to_string()]);
    body["apiVersion"] = json!("authentication.k8s.io/v1");
    body["kind"] = json!("TokenReview");
    body["metadata"] = json!({"creationTimestamp": null});
    body["status"] = match authenticate_token(shared, &token, &wanted).await {
        Some((user, audiences)) => {
            json!({"authenticated": true, "user": user_info(&user), "audiences": audiences})
        }
        None => json!({"user": {}, "error": "invalid bearer token"}),
    };
    body
}

/// The audience the apiserver puts into tokens when the request names none.
pub(crate) const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

fn token_request(
    shared: &Shared,
    rr: &ResourceRequest,
    mut body: Value,
) -> Result<Value, ApiError> {
    const GROUP: &str = "authentication.k8s.io";
    let expiration = match &body["spec"]["expirationSeconds"] {
        Value::Null => 3600,
        v => v.as_i64().ok_or_else(|| {
            ApiError::bad_request("spec.expirationSeconds must be an integer".into())
        })?,
    };
    if expiration < 600 {
        return Err(ApiError::invalid(
            GROUP,
            "TokenRequest",
            &rr.name,
            "spec.expirationSeconds",
            format!("Invalid value: {expiration}: may not specify a duration less than 10 minutes"),
        ));
    }
    if expiration > 1 << 32 {
        return Err(ApiError::invalid(
            GROUP,
            "TokenRequest",
            &rr.name,
            "spec.expirationSeconds",
            format!(
                "Invalid value: {expiration}: may not specify a duration larger than 2^32 seconds"
            ),
        ));
    }
    let audiences: Vec<String> = body["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.is_empty())
        .unwrap_or_else(|| vec![API_AUDIENCE.to_string()]);

    let mut inner = shared.lock();
    let sa_key = ObjectKey {
        group: String::new(),
        plural: "serviceaccounts".into(),
        namespace: rr.namespace.clone(),
        name: rr.name.clone(),
    };
    let sa = inner
        .store
        .get(&sa_key)
        .cloned()
        .ok_or_else(|| ApiError::not_found("", "serviceaccounts", &rr.name))?;
    let sa_uid = sa["metadata"]["uid"].as_str().unwrap_or("").to_string();

    let mut kubernetes_io = json!({
        "namespace": rr.namespace,
        "serviceaccount": {"name": rr.name, "uid": sa_uid},
    });
    let bound = body["spec"]["boundObjectRef"].clone();
    if bound.is_object() {
        let kind = bound["kind"].as_str().unwrap_or("");
        let name = bound["name"].as_str().unwrap_or("");
        let (plural, claim) = match kind {
            "Pod" => ("pods", "pod"),
            "Secret" => ("secrets", "secret"),
            "Node" => ("nodes", "node"),
            other => {
                return Err(ApiError::invalid(
                    GROUP,
                    "TokenRequest",
                    &rr.name,
                    "spec.boundObjectRef.kind",
                    format!(
                        "Unsupported value: {other:?}: supported values: \"Pod\", \"Secret\", \"Node\""
                    ),
                ));
            }
        };
        let key = ObjectKey {
            group: String::new(),
            plural: plural.into(),
            namespace: if kind == "Node" {
                String::new()
            } else {
                rr.namespace.clone()
            },
            name: name.to_string(),
        };
        let obj = inner
            .store
            .get(&key)
            .ok_or_else(|| ApiError::not_found("", plural, name))?;
        let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_string();
        if let Some(want) = bound["uid"].as_str().filter(|u| !u.is_empty() && *u != uid) {
            return Err(ApiError::conflict(
                "",
                plural,
                name,
                format!(
                    "the UID in the bound object reference ({want}) does not match the UID in record. The object might have been deleted and then recreated"
                ),
            ));
        }
        body["spec"]["boundObjectRef"]["uid"] = json!(uid);
        if body["spec"]["boundObjectRef"]["apiVersion"].is_null() {
            body["spec"]["boundObjectRef"]["apiVersion"] = json!("v1");
        }
        kubernetes_io[claim] = json!({"name": name, "uid": uid});
    }

    let now = jiff::Timestamp::now();
    let exp = now + jiff::SignedDuration::from_secs(expiration);
    let jti = new_uid();
    let claims = json!({
        "aud": audiences,
        "exp": exp.as_second(),
        "iat": now.as_second(),
        "iss": API_AUDIENCE,
        "jti": jti,
        "kubernetes.io": kubernetes_io,
        "nbf": now.as_second(),
        "sub": format!("system:serviceaccount:{}:{}", rr.namespace, rr.name),
    });
    let token = sign_jwt(shared, &claims).map_err(ApiError::internal)?;

    let mut user = User::new(format!(
        "system:serviceaccount:{}:{}",
        rr.namespace, rr.name
    ))
    .with_uid(sa_uid)
    .with_groups([
        "system:serviceaccounts".to_string(),
        format!("system:serviceaccounts:{}", rr.namespace),
    ]);
    user.extra.insert(
        "authentication.kubernetes.io/credential-id".into(),
        vec![format!("JTI={jti}")],
    );
    inner.tokens.insert(
        token.clone(),
        TokenEntry {
            user,
            expires: Some(exp),
            audiences: Some(audiences.clone()),
        },
    );

    body["apiVersion"] = json!("authentication.k8s.io/v1");
    body["kind"] = json!("TokenRequest");
    body["metadata"] =
        json!({"name": rr.name, "namespace": rr.namespace, "creationTimestamp": null});
    body["spec"]["audiences"] = json!(audiences);
    body["spec"]["expirationSeconds"] = json!(expiration);
    if !body["spec"]["boundObjectRef"].is_object() {
        // Not omitempty in TokenRequestSpec: sent as null.
        body["spec"]["boundObjectRef"] = Value::Null;
    }
    body["status"] = json!({"token": token, "expirationTimestamp": format_time(exp)});
    Ok(body)
}

fn sign_jwt(shared: &Shared, claims: &Value) -> Result<String, String> {
    let header = json!({"alg": "ES256", "kid": shared.sa_key_id});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = shared
        .sa_key
        .sign(&shared.rng, signing_input.as_bytes())
        .map_err(|_| "signing the token failed".to_string())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(sig.as_ref())
    ))
}
