//! Objects in the store: get, list, watch, create, update, patch and delete of
//! any registered type, with the apiserver's defaulting, checks and errors.

use axum::body::Body;
use http::{Request, Response, header};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::request_info::ResourceRequest;
use crate::state::{Inner, Shared};
use crate::status::ApiError;
use crate::store::{ObjectKey, ResourceType, new_uid};
use crate::table;
use crate::wire::{
    ObjectSelector, json_response, query_param, read_body, read_object, table_response,
};

/// A request on the objects of one registered type.
pub(crate) async fn object_request(
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

/// The matching objects and the store's resourceVersion.
fn list(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    query: &str,
) -> Result<(Vec<Value>, String), ApiError> {
    let selector = ObjectSelector::from_query(rt, query)?;
    let inner = shared.lock();
    let ns = (!namespace.is_empty()).then_some(namespace);
    let items: Vec<Value> = inner
        .store
        .list(&rt.group, &rt.plural, ns)
        .into_iter()
        .filter(|o| selector.matches(o))
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
    let existing = stored(&inner, rt, namespace, name)?;
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
    let existing = stored(&inner, rt, namespace, name)?;
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

/// The stored object `name` of type `rt` in `namespace`, or 404 NotFound.
fn stored(
    inner: &Inner,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    let key = ObjectKey {
        group: rt.group.clone(),
        plural: rt.plural.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    inner
        .store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
}
