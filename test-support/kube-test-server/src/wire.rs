//! HTTP on the wire, for every endpoint: query parameters and selectors,
//! request bodies (JSON, or kubectl's protobuf), and JSON, `Table`, text and
//! `Status` replies.

use axum::body::Body;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::selector::{self, Selector};
use crate::status::ApiError;
use crate::store::ResourceType;

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
