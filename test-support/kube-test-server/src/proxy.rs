//! `services/{[scheme:]name[:port]}/proxy/{path}`: forwards a request to the
//! address a test registered for the service, streaming the answer back.
//!
//! As the apiserver does, the caller's credentials (`Authorization`,
//! impersonation headers) are not passed on, and hop-by-hop headers are dropped.

use axum::body::Body;
use http::{HeaderMap, Request, Response, header};
use hyper::body::Incoming;

use crate::request_info::ResourceRequest;
use crate::state::Shared;
use crate::status::ApiError;

fn is_hop_by_hop(name: &header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// The request headers passed on to a backend: no credentials, no hop-by-hop
/// headers.
pub(crate) fn forwarded_request_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        if is_hop_by_hop(name)
            || name == header::HOST
            || name == header::AUTHORIZATION
            || name == header::CONTENT_LENGTH
            || n.starts_with("impersonate-")
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Splits `[scheme:]name[:port]` as the apiserver's `ResourceLocation` does.
fn split_service_name(id: &str) -> Result<(&str, &str, &str), ApiError> {
    let parts: Vec<&str> = id.split(':').collect();
    match parts.as_slice() {
        [name] => Ok(("", name, "")),
        [name, port] => Ok(("", name, port)),
        [scheme @ ("http" | "https"), name, port] => Ok((scheme, name, port)),
        _ => Err(ApiError::bad_request(format!(
            "invalid service request {id:?}"
        ))),
    }
}

pub(crate) async fn forward(
    shared: &Shared,
    rr: &ResourceRequest,
    req: Request<Incoming>,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let (scheme, name, port) = split_service_name(&rr.name)?;
    let target = {
        let inner = shared.lock();
        let candidates: Vec<_> = inner
            .proxies
            .iter()
            .filter(|p| p.namespace == rr.namespace && p.name == name)
            .collect();
        if candidates.is_empty() {
            return Err(ApiError::not_found("", "services", name));
        }
        candidates
            .iter()
            .find(|p| port.is_empty() || p.port == port)
            .map(|p| p.target.clone())
            .ok_or_else(|| {
                ApiError::service_unavailable(format!(
                    "no endpoints available for service \"{}\"",
                    rr.name
                ))
            })?
    };
    let scheme = if scheme.is_empty() { "http" } else { scheme };
    let mut url = format!("{scheme}://{target}{}", rr.rest);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }

    let (parts, body) = req.into_parts();
    let body = http_body_util::BodyExt::collect(body)
        .await
        .map_err(|e| ApiError::bad_request(format!("unable to read the request body: {e}")))?
        .to_bytes();
    let mut headers = forwarded_request_headers(&parts.headers);
    headers.insert(
        "x-forwarded-for",
        http::HeaderValue::from_static("127.0.0.1"),
    );
    let upstream = shared
        .upstream
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(unreachable)?;
    stream_back(upstream)
}

/// 503 for a backend that could not be reached, with every cause.
pub(crate) fn unreachable(e: reqwest::Error) -> ApiError {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    ApiError::service_unavailable(format!("error trying to reach service: {msg}"))
}

/// The backend's answer, streamed to the caller (status and end-to-end headers).
pub(crate) fn stream_back(upstream: reqwest::Response) -> Result<Response<Body>, ApiError> {
    let mut resp = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if !is_hop_by_hop(name) && name != header::CONTENT_LENGTH {
            resp = resp.header(name, value);
        }
    }
    resp.body(Body::from_stream(upstream.bytes_stream()))
        .map_err(|e| ApiError::internal(e.to_string()))
}
