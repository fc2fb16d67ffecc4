//! Authentication as extension apiservers do it (k8s.io/apiserver's
//! request-header authenticator): the aggregator (kube-apiserver) connects
//! with its front-proxy client certificate and names the user it
//! authenticated in `X-Remote-User`, `X-Remote-Group` and
//! `X-Remote-Extra-*` headers. Those headers are believed only from a
//! certificate that verifies against the request-header CA and whose CN is
//! one of the allowed names (any, when the list is empty). There is no
//! anonymous access.
//!
//! The TLS handshake asks for a client certificate but accepts any (after
//! checking the client holds its key): the chain is verified per request, so
//! a certificate from another CA is answered `401 Unauthorized` like the
//! apiserver does, instead of failing the handshake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use crate::auth::PeerCerts;

/// Name of the ConfigMap in `kube-system` where the kube-apiserver publishes
/// its request-header settings.
pub const AUTHENTICATION_CONFIGMAP: &str = "extension-apiserver-authentication";

/// Why the request-header settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RequestHeaderError {
    /// The CA file cannot be read.
    #[error("reading the request-header CA {path}")]
    ReadCa {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The CA bundle holds no usable certificate.
    #[error(
        "the request-header CA from {origin} holds no PEM certificate that can be used: {reason}"
    )]
    BadCa {
        /// Where it came from (a path or the ConfigMap).
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// The ConfigMap could not be read.
    #[error(
        "reading ConfigMap kube-system/{AUTHENTICATION_CONFIGMAP} (give --requestheader-client-ca-file, or let the sink's ServiceAccount read it: RoleBinding to extension-apiserver-authentication-reader)"
    )]
    ConfigMap {
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// The ConfigMap lacks the request-header CA.
    #[error(
        "ConfigMap kube-system/{AUTHENTICATION_CONFIGMAP} has no requestheader-client-ca-file: the kube-apiserver runs without --requestheader-client-ca-file, so it cannot proxy to extension apiservers"
    )]
    NoCaInConfigMap,
    /// A list value of the ConfigMap is not a JSON array of strings.
    #[error(
        "ConfigMap kube-system/{AUTHENTICATION_CONFIGMAP}: {key} is not a JSON array of strings"
    )]
    BadList {
        /// The key.
        key: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A header name is not a valid HTTP header name.
    #[error("{0:?} is not a valid HTTP header name")]
    BadHeader(String),
}

/// Why [`RequestHeaderAuth::trusted_proxy`] refuses a certificate of another CA.
pub const NOT_SIGNED_BY_CA: &str = "client certificate not signed by the request-header CA";

/// The request-header settings, as given by flags or the ConfigMap.
#[derive(Debug, Clone, Default)]
pub struct RequestHeaderSettings {
    /// CA bundle (PEM) of the front-proxy client certificates.
    pub client_ca_pem: Vec<u8>,
    /// Where the CA came from, for messages.
    pub origin: String,
    /// CNs allowed to assert identities; empty: any certificate of the CA.
    pub allowed_names: Vec<String>,
    /// Headers naming the user (the first one present wins).
    pub username_headers: Vec<String>,
    /// Headers naming groups (every value of each).
    pub group_headers: Vec<String>,
    /// Prefixes of headers carrying extra attributes.
    pub extra_headers_prefixes: Vec<String>,
}

impl RequestHeaderSettings {
    /// Settings from flags: the CA from `ca_file`, the rest as given.
    pub fn from_file(
        ca_file: &Path,
        allowed_names: Vec<String>,
        username_headers: Vec<String>,
        group_headers: Vec<String>,
        extra_headers_prefixes: Vec<String>,
    ) -> Result<RequestHeaderSettings, RequestHeaderError> {
        let pem = std::fs::read(ca_file).map_err(|source| RequestHeaderError::ReadCa {
            path: ca_file.to_path_buf(),
            source,
        })?;
        Ok(RequestHeaderSettings {
            client_ca_pem: pem,
            origin: ca_file.display().to_string(),
            allowed_names,
            username_headers,
            group_headers,
            extra_headers_prefixes,
        })
    }

    /// Settings the kube-apiserver publishes in ConfigMap
    /// `kube-system/extension-apiserver-authentication`.
    pub async fn from_cluster(
        client: kube::Client,
    ) -> Result<RequestHeaderSettings, RequestHeaderError> {
        use k8s_openapi::api::core::v1::ConfigMap;
        let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, "kube-system");
        let cm = api
            .get(AUTHENTICATION_CONFIGMAP)
            .await
            .map_err(|source| RequestHeaderError::ConfigMap { source })?;
        let data = cm.data.unwrap_or_default();
        let ca = data
            .get("requestheader-client-ca-file")
            .filter(|s| !s.trim().is_empty())
            .ok_or(RequestHeaderError::NoCaInConfigMap)?;
        let list = |key: &str| -> Result<Vec<String>, RequestHeaderError> {
            match data.get(key).filter(|s| !s.trim().is_empty()) {
                None => Ok(Vec::new()),
                Some(s) => serde_json::from_str(s).map_err(|source| RequestHeaderError::BadList {
                    key: key.to_string(),
                    source,
                }),
            }
        };
        Ok(RequestHeaderSettings {
            client_ca_pem: ca.clone().into_bytes(),
            origin: format!("ConfigMap kube-system/{AUTHENTICATION_CONFIGMAP}"),
            allowed_names: list("requestheader-allowed-names")?,
            username_headers: list("requestheader-username-headers")?,
            group_headers: list("requestheader-group-headers")?,
            extra_headers_prefixes: list("requestheader-extra-headers-prefix")?,
        })
    }
}

/// The user the aggregator authenticated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// User name.
    pub name: String,
    /// Groups.
    pub groups: Vec<String>,
    /// Extra attributes (keys lower case).
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The request-header authenticator.
#[derive(Clone)]
pub struct RequestHeaderAuth {
    verifier: Arc<dyn ClientCertVerifier>,
    allowed_names: Vec<String>,
    username_headers: Vec<HeaderName>,
    group_headers: Vec<HeaderName>,
    extra_prefixes: Vec<String>,
}

impl std::fmt::Debug for RequestHeaderAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHeaderAuth")
            .field("allowed_names", &self.allowed_names)
            .field("username_headers", &self.username_headers)
            .finish_non_exhaustive()
    }
}

fn header_names(names: &[String]) -> Result<Vec<HeaderName>, RequestHeaderError> {
    names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map(|n| {
            HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| RequestHeaderError::BadHeader(n.to_string()))
        })
        .collect()
}

impl RequestHeaderAuth {
    /// Builds the authenticator from `settings`.
    pub fn new(settings: &RequestHeaderSettings) -> Result<RequestHeaderAuth, RequestHeaderError> {
        let bad = |reason: String| RequestHeaderError::BadCa {
            origin: settings.origin.clone(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&settings.client_ca_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("no certificate found".into()));
        }
        let mut roots = RootCertStore::empty();
        for c in certs {
            roots.add(c).map_err(|e| bad(e.to_string()))?;
        }
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
            .allow_unauthenticated()
            .build()
            .map_err(|e| bad(e.to_string()))?;
        Ok(RequestHeaderAuth {
            verifier,
            allowed_names: settings
                .allowed_names
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            username_headers: header_names(&settings.username_headers)?,
            group_headers: header_names(&settings.group_headers)?,
            extra_prefixes: settings
                .extra_headers_prefixes
                .iter()
                .map(|p| p.trim().to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
        })
    }

    /// The TLS handshake's client-certificate policy: ask for one (with the
    /// CA's names as hints), accept any whose key the client proves to hold.
    pub fn handshake_verifier(&self) -> Arc<dyn ClientCertVerifier> {
        self.deferred(true)
    }

    /// As [`RequestHeaderAuth::handshake_verifier`], without naming the CA:
    /// for a CA that may be replaced while the listener runs (a client
    /// picks its certificate by the names, and the new CA's must not be
    /// turned away by the old one's).
    pub fn handshake_verifier_without_hints(&self) -> Arc<dyn ClientCertVerifier> {
        self.deferred(false)
    }

    fn deferred(&self, hints: bool) -> Arc<dyn ClientCertVerifier> {
        Arc::new(DeferredVerifier {
            inner: self.verifier.clone(),
            hints,
            provider: rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider())),
        })
    }

    /// Whether the peer's certificate is a front proxy we trust: it verifies
    /// against the CA and its CN is allowed.
    pub fn trusted_proxy(&self, peer: &PeerCerts) -> Result<(), &'static str> {
        let Some(chain) = &peer.0 else {
            return Err("no client certificate");
        };
        let Some((end, rest)) = chain.split_first() else {
            return Err("no client certificate");
        };
        if self
            .verifier
            .verify_client_cert(end, rest, UnixTime::now())
            .is_err()
        {
            return Err(NOT_SIGNED_BY_CA);
        }
        if self.allowed_names.is_empty() {
            return Ok(());
        }
        let cn = x509_parser::parse_x509_certificate(end.as_ref())
            .ok()
            .and_then(|(_, c)| {
                c.subject()
                    .iter_common_name()
                    .next()
                    .and_then(|a| a.as_str().ok())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        if self.allowed_names.contains(&cn) {
            Ok(())
        } else {
            Err("client certificate CN not in --requestheader-allowed-names")
        }
    }

    /// The user of a request: from the identity headers of a trusted proxy.
    pub fn authenticate(
        &self,
        peer: &PeerCerts,
        headers: &HeaderMap,
    ) -> Result<Identity, &'static str> {
        self.trusted_proxy(peer)?;
        let name = self
            .username_headers
            .iter()
            .find_map(|h| {
                headers
                    .get_all(h)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .map(str::trim)
                    .find(|v| !v.is_empty())
            })
            .ok_or("no user name header")?
            .to_string();
        let mut groups = Vec::new();
        for h in &self.group_headers {
            for v in headers.get_all(h) {
                if let Ok(v) = v.to_str() {
                    groups.push(v.to_string());
                }
            }
        }
        let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in headers {
            let k = k.as_str();
            let Some(key) = self
                .extra_prefixes
                .iter()
                .find_map(|p| k.strip_prefix(p.as_str()))
            else {
                continue;
            };
            if let Ok(v) = v.to_str() {
                extra
                    .entry(percent_decode(key).to_ascii_lowercase())
                    .or_default()
                    .push(v.to_string());
            }
        }
        Ok(Identity {
            name,
            groups,
            extra,
        })
    }
}

/// Extra keys travel percent-encoded in header names (`X-Remote-Extra-Foo%2fbar`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Asks for a client certificate, checks the handshake signature, and leaves
/// the chain to [`RequestHeaderAuth::trusted_proxy`].
#[derive(Debug)]
struct DeferredVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    hints: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ClientCertVerifier for DeferredVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        if self.hints {
            self.inner.root_hint_subjects()
        } else {
            &[]
        }
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_unescaped() {
        assert_eq!(percent_decode("scopes"), "scopes");
        assert_eq!(percent_decode("example.org%2fteam"), "example.org/team");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
        assert_eq!(percent_decode("end%2"), "end%2");
    }
}
