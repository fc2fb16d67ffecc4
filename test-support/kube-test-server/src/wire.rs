//! HTTP on the wire, for every endpoint: query parameters and selectors,
//! request bodies (JSON, or kubectl's protobuf), and JSON, `Table`, text and
//! `Status` replies.

use axum::body::Body;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::status::ApiError;
use crate::store::ResourceType;
use kubectl_kit::selector::{
    Selector, SelectorExt as _, parse_field_selector, parse_label_selector, selector_keys,
};

/// Largest request body accepted (the apiserver's limit is 3 MiB for most objects).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// A JSON reply with this status code.
pub(crate) fn json_response(code: u16, body: &Value) -> Response<Body> {
    json_bytes_response(code, serde_json::to_vec(body).unwrap_or_default())
}

/// The `Status` reply of an API error.
pub(crate) fn error_response(err: &ApiError) -> Response<Body> {
    json_bytes_response(err.code, err.body.clone())
}

/// Serialized JSON as a reply, newline-terminated as the apiserver sends it.
fn json_bytes_response(code: u16, mut bytes: Vec<u8>) -> Response<Body> {
    bytes.push(b'\n');
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A plain-text reply (the health endpoints).
pub(crate) fn text_response(text: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A `Table` reply, for `kubectl get`.
pub(crate) fn table_response(table: &Value) -> Response<Body> {
    let mut resp = json_response(200, table);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;as=Table;v=v1;g=meta.k8s.io"),
    );
    resp
}

/// The bearer token of the `Authorization` header, if any.
pub(crate) fn bearer_token(req: &Request<Incoming>) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        Some(token.trim().to_string())
    } else {
        None
    }
}

/// The decoded value of one query parameter.
pub(crate) fn query_param(query: &str, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The `labelSelector` and `fieldSelector` of a list or watch, parsed with
/// the kit's parser as the apiserver reads them: set-based label
/// requirements; field selectors on metadata.name, metadata.namespace and a
/// few per-kind fields such as a Secret's `type`.
#[derive(Debug)]
pub(crate) struct ObjectSelector {
    kind: String,
    labels: Selector,
    fields: Selector,
}

impl ObjectSelector {
    /// Reads both parameters of `query`; a 400 when one does not parse or
    /// selects on a field this kind does not support.
    pub(crate) fn from_query(rt: &ResourceType, query: &str) -> Result<Self, ApiError> {
        let labels = parse_label_selector(&query_param(query, "labelSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let fields = parse_field_selector(&query_param(query, "fieldSelector").unwrap_or_default())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if let Some(bad) = selector_keys(&fields)
            .into_iter()
            .find(|k| !field_supported(&rt.kind, k))
        {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {bad}"
            )));
        }
        Ok(ObjectSelector {
            kind: rt.kind.clone(),
            labels,
            fields,
        })
    }

    /// Whether the object satisfies both selectors.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        (self.labels.selects_all() || self.labels.matches(&labels(obj)))
            && (self.fields.selects_all() || self.fields.matches(&fields(&self.kind, obj)))
    }
}

fn labels(obj: &Value) -> BTreeMap<String, String> {
    obj["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// The fields the apiserver lets you select on, per kind, with their values.
fn fields(kind: &str, obj: &Value) -> BTreeMap<String, String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    let mut out = BTreeMap::new();
    if let Some(name) = s(&obj["metadata"]["name"]) {
        out.insert("metadata.name".to_string(), name);
    }
    out.insert(
        "metadata.namespace".to_string(),
        s(&obj["metadata"]["namespace"]).unwrap_or_default(),
    );
    let extra = match kind {
        "Secret" => Some(("type", s(&obj["type"]))),
        "Namespace" => Some(("status.phase", s(&obj["status"]["phase"]))),
        _ => None,
    };
    if let Some((key, Some(value))) = extra {
        out.insert(key.to_string(), value);
    }
    out
}

fn field_supported(kind: &str, key: &str) -> bool {
    matches!(key, "metadata.name" | "metadata.namespace")
        || (kind == "Secret" && key == "type")
        || (kind == "Namespace" && key == "status.phase")
}

/// The request body, at most [`MAX_BODY`] bytes.
pub(crate) async fn read_body(req: Request<Incoming>) -> Result<bytes::Bytes, ApiError> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => Err(ApiError::bad_request(format!(
            "unable to read the request body: {e}"
        ))),
    }
}

/// The request body as JSON, decoding kubectl's protobuf bodies.
pub(crate) async fn read_object(req: Request<Incoming>) -> Result<Value, ApiError> {
    let protobuf = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(crate::proto::CONTENT_TYPE));
    let body = read_body(req).await?;
    if protobuf {
        crate::proto::decode(&body).map_err(|e| {
            let mut message = format!("unable to decode the protobuf request body: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                message.push_str(&format!(": {c}"));
                cause = c.source();
            }
            ApiError::bad_request(message)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_type() -> ResourceType {
        ResourceType {
            group: String::new(),
            version: "v1".into(),
            plural: "secrets".into(),
            singular: "secret".into(),
            kind: "Secret".into(),
            namespaced: true,
            verbs: Vec::new(),
            short_names: Vec::new(),
        }
    }

    fn obj() -> Value {
        json!({"metadata": {"name": "db", "namespace": "prod", "labels": {"app": "web", "tier": "back"}}, "type": "Opaque"})
    }

    fn selects(query: &str) -> bool {
        ObjectSelector::from_query(&secret_type(), query)
            .unwrap()
            .matches(&obj())
    }

    #[test]
    fn label_selectors() {
        assert!(selects("labelSelector=app%3Dweb"));
        assert!(selects("labelSelector=app%3D%3Dweb%2Ctier"));
        assert!(!selects("labelSelector=app!%3Dweb"));
        assert!(selects("labelSelector=app+in+(api,web),!missing"));
        assert!(!selects("labelSelector=app+notin+(web)"));
        assert!(!selects("labelSelector=missing"));
        assert!(selects("labelSelector="));
        assert!(selects(""));
    }

    #[test]
    fn field_selectors() {
        assert!(selects("fieldSelector=metadata.name%3Ddb,type%3DOpaque"));
        assert!(!selects("fieldSelector=metadata.name!%3Ddb"));
        assert!(selects("fieldSelector=metadata.namespace%3Dprod"));
        let bad = ObjectSelector::from_query(&secret_type(), "fieldSelector=metadata.name+in+(db)");
        assert!(bad.is_err());
        let unsupported =
            ObjectSelector::from_query(&secret_type(), "fieldSelector=colour%3Dred").unwrap_err();
        assert_eq!(unsupported.code, 400);
        let body = String::from_utf8(unsupported.body).unwrap();
        assert!(body.contains("field label not supported: colour"), "{body}");
    }
}
