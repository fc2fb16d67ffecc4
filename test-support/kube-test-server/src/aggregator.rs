//! API aggregation, as kube-aggregator does it: an `APIService`
//! (`apiregistration.k8s.io/v1`) whose `spec.service` names a Service hands
//! `/apis/{group}/{version}/...` to that Service's backend. The request goes
//! over TLS, the backend's certificate verified against the APIService's
//! `caBundle` for the name `{service}.{namespace}.svc`, with the front-proxy
//! client certificate (CN `front-proxy-client`) and the authenticated caller in
//! `X-Remote-User`, `X-Remote-Group` and `X-Remote-Extra-*`; such headers sent
//! by the caller are dropped. The backend address is the one a test registered
//! with [`crate::KubeTestServer::add_service_proxy`].

use std::sync::Arc;

use axum::body::Body;
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use hyper::body::Incoming;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;

use crate::auth::User;
use crate::state::{Inner, Shared};
use crate::status::ApiError;
use crate::store::APIREGISTRATION_GROUP;
use crate::wire::error_response;

/// The header names kube-apiserver's `--requestheader-*` flags default to and
/// the aggregator sets.
pub(crate) const USERNAME_HEADER: &str = "X-Remote-User";
/// See [`USERNAME_HEADER`].
pub(crate) const GROUP_HEADER: &str = "X-Remote-Group";
/// See [`USERNAME_HEADER`].
pub(crate) const EXTRA_HEADER_PREFIX: &str = "X-Remote-Extra-";

/// Where an aggregated group version is served.
#[derive(Clone, Debug)]
pub(crate) struct Backend {
    service_namespace: String,
    service_name: String,
    port: u16,
    /// PEM certificates the backend's serving certificate must chain to.
    ca_bundle: Vec<u8>,
}

/// The stored APIServices that delegate to a service (not served locally).
fn delegating_api_services(inner: &Inner) -> Vec<Value> {
    inner
        .store
        .list(APIREGISTRATION_GROUP, "apiservices", None)
        .into_iter()
        .filter(|s| s["spec"]["service"].is_object())
        .collect()
}

/// The (group, version) pairs of APIServices with a backend, for discovery.
pub(crate) fn aggregated_group_versions(inner: &Inner) -> Vec<(String, String)> {
    delegating_api_services(inner)
        .iter()
        .filter_map(|s| {
            let spec = &s["spec"];
            Some((
                spec["group"].as_str()?.to_string(),
                spec["version"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The backend of `/apis/{group}/{version}[/...]`, if an APIService delegates it.
pub(crate) fn backend_for(shared: &Shared, path: &str) -> Option<Backend> {
    let mut parts = path.trim_start_matches('/').split('/');
    let (Some("apis"), Some(group), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if group.is_empty() || version.is_empty() {
        return None;
    }
    let inner = shared.lock();
    let service = delegating_api_services(&inner).into_iter().find(|s| {
        s["spec"]["group"].as_str() == Some(group) && s["spec"]["version"].as_str() == Some(version)
    })?;
    let spec = &service["spec"];
    let ca_bundle = spec["caBundle"]
        .as_str()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_default();
    Some(Backend {
        service_namespace: spec["service"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        service_name: spec["service"]["name"].as_str().unwrap_or("").to_string(),
        port: spec["service"]["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(443),
        ca_bundle,
    })
}

/// TLS to the backend: trust only the caBundle, present the front-proxy
/// client certificate.
fn tls_config(shared: &Shared, backend: &Backend) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&backend.ca_bundle) {
        let cert = cert.map_err(|e| format!("the APIService's caBundle is not PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("the APIService's caBundle holds an unusable certificate: {e}"))?;
    }
    let client = &shared.pki.front_proxy_client;
    let chain = CertificateDer::pem_slice_iter(client.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let key =
        PrivateKeyDer::from_pem_slice(client.key_pem.as_bytes()).map_err(|e| e.to_string())?;
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| e.to_string())
}

/// The caller's request headers as the backend gets them: credentials and any
/// identity headers the caller sent removed, the authenticated user added.
fn backend_headers(sent: &HeaderMap, user: &User) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &crate::proxy::forwarded_request_headers(sent) {
        if !name.as_str().starts_with("x-remote-") {
            headers.append(name.clone(), value.clone());
        }
    }
    let value = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| ApiError::internal(format!("{v:?} cannot be sent in an HTTP header")))
    };
    headers.insert(USERNAME_HEADER, value(&user.name)?);
    for group in &user.groups {
        headers.append(GROUP_HEADER, value(group)?);
    }
    for (key, values) in &user.extra {
        // Extra keys are percent-encoded in the header name, as the aggregator does.
        let encoded = percent_encode(key);
        let name = HeaderName::try_from(format!("{EXTRA_HEADER_PREFIX}{encoded}"))
            .map_err(|_| ApiError::internal(format!("extra key {key:?} cannot be a header")))?;
        for v in values {
            headers.append(name.clone(), value(v)?);
        }
    }
    Ok(headers)
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends the request to the backend and streams its answer back; 503 when
/// the backend cannot be reached or its certificate does not verify.
pub(crate) async fn forward(
    shared: &Shared,
    user: &User,
    backend: Backend,
    req: Request<Incoming>,
    query: &str,
) -> Response<Body> {
    match try_forward(shared, user, backend, req, query).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

async fn try_forward(
    shared: &Shared,
    user: &User,
    backend: Backend,
    req: Request<Incoming>,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let target = {
        let inner = shared.lock();
        let candidates: Vec<_> = inner
            .proxies
            .iter()
            .filter(|p| p.namespace == backend.service_namespace && p.name == backend.service_name)
            .collect();
        candidates
            .iter()
            .find(|p| p.port == backend.port.to_string())
            .or(candidates.first())
            .map(|p| p.target.clone())
    };
    // What kube-aggregator answers for an APIService that is not available.
    let target =
        target.ok_or_else(|| ApiError::service_unavailable("service unavailable".into()))?;
    let addr = tokio::net::lookup_host(&target)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| ApiError::service_unavailable(format!("cannot resolve {target:?}")))?;
    let tls = tls_config(shared, &backend).map_err(ApiError::service_unavailable)?;
    let host = format!("{}.{}.svc", backend.service_name, backend.service_namespace);
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve(&host, addr)
        .no_proxy()
        .no_gzip()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ApiError::internal(e.to_string()))?;

    let (parts, body) = req.into_parts();
    // reqwest's resolve() override keeps the URL's port, so the URL names the
    // backend's real one.
    let mut url = format!("https://{host}:{}{}", addr.port(), parts.uri.path());
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    let headers = backend_headers(&parts.headers, user)?;
    let body = http_body_util::BodyExt::collect(body)
        .await
        .map_err(|e| ApiError::bad_request(format!("unable to read the request body: {e}")))?
        .to_bytes();
    let upstream = client
        .request(parts.method, &url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(crate::proxy::unreachable)?;
    crate::proxy::stream_back(upstream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_headers_are_the_authenticated_users_not_the_callers() {
        let mut sent = HeaderMap::new();
        sent.insert("x-remote-user", HeaderValue::from_static("system:admin"));
        sent.insert("x-remote-group", HeaderValue::from_static("system:masters"));
        sent.insert("x-remote-extra-scopes", HeaderValue::from_static("all"));
        sent.insert("authorization", HeaderValue::from_static("Bearer secret"));
        sent.insert("accept", HeaderValue::from_static("application/json"));
        let mut user = User::new("alice").with_groups(["devs", "system:authenticated"]);
        user.extra
            .insert("example.org/team key".into(), vec!["a".into(), "b".into()]);
        let h = backend_headers(&sent, &user).unwrap();
        let all = |name: &str| -> Vec<&str> {
            h.get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect()
        };
        assert_eq!(all("x-remote-user"), ["alice"]);
        assert_eq!(all("x-remote-group"), ["devs", "system:authenticated"]);
        assert_eq!(all("x-remote-extra-scopes"), Vec::<&str>::new());
        assert_eq!(all("x-remote-extra-example.org%2Fteam%20key"), ["a", "b"]);
        assert!(h.get("authorization").is_none());
        assert_eq!(all("accept"), ["application/json"]);
    }
}
