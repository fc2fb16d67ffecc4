//! Authentication of ingest and search requests: bearer tokens read from
//! files, and client certificates verified against a CA bundle. Ingest and
//! search have separate credentials. Tokens are never logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use audit_api::fields::InvalidClusterName;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use sha2::{Digest, Sha256};

/// The client certificate chain presented on a TLS connection.
#[derive(Clone, Debug, Default)]
pub struct PeerCerts(pub Option<Arc<Vec<CertificateDer<'static>>>>);

/// Which part of a client certificate's subject names the cluster it
/// writes as (`--cluster-from-cert`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertClusterField {
    /// The subject's common name (CN).
    CommonName,
    /// The subject's organisation (O); the first one if several.
    Organization,
}

/// Who may use one group of endpoints.
#[derive(Clone, Default)]
pub struct Credentials {
    tokens: Vec<TokenEntry>,
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    roots: Vec<CertificateDer<'static>>,
    cert_cluster: Option<CertClusterField>,
}

#[derive(Clone)]
struct TokenEntry {
    digest: [u8; 32],
    cluster: Option<String>,
}

/// A request that passed authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    /// The cluster its credential is bound to: it may write only as this cluster.
    pub cluster: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tokens", &self.tokens.len())
            .field("client_ca", &self.verifier.is_some())
            .finish()
    }
}

/// One line of a token file: the token and the cluster it is bound to.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenLine {
    /// The bearer token.
    pub token: String,
    /// `cluster=NAME`: the only cluster this token may write as.
    pub cluster: Option<String>,
}

impl std::fmt::Debug for TokenLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("TokenLine")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

/// Why a token, certificate or key file cannot be used. Each names the
/// file; none holds a token.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The token file cannot be read.
    #[error("reading token file {}", path.display())]
    ReadTokens {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A token line has something else than `cluster=NAME` after the token.
    #[error(
        "token file {} line {line}: unexpected {word:?} after the token; a line is `TOKEN` or `TOKEN cluster=NAME`",
        path.display()
    )]
    TokenLine {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What came after the token (up to a `=`; never the token).
        word: String,
    },
    /// A token line's `cluster=` is not a cluster name.
    #[error("token file {} line {line}", path.display())]
    TokenCluster {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// Why the name is refused.
        #[source]
        source: InvalidClusterName,
    },
    /// The token file holds no token.
    #[error("token file {} holds no token (one per line)", path.display())]
    NoTokens {
        /// The file.
        path: PathBuf,
    },
    /// The certificate file cannot be read.
    #[error("reading certificates from {}", path.display())]
    ReadCerts {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file is not PEM.
    #[error("parsing PEM certificates in {}", path.display())]
    ParseCerts {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("no PEM certificate in {}", path.display())]
    NoCerts {
        /// The file.
        path: PathBuf,
    },
    /// The key file cannot be read or holds no PEM private key.
    #[error("reading a PEM private key from {}", path.display())]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A client CA certificate is not usable as a trust anchor.
    #[error("adding a client CA certificate")]
    ClientCa {
        /// The cause.
        #[source]
        source: rustls::Error,
    },
    /// The client certificate verifier cannot be built from the CAs.
    #[error("building the client certificate verifier")]
    Verifier {
        /// The cause.
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
    /// The serving certificate and key do not go together.
    #[error("the TLS certificate and key do not match or are unsupported")]
    CertKey {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The cause.
        #[source]
        source: rustls::Error,
    },
}

/// Reads a token file: one token per line, optionally followed by
/// `cluster=NAME`; blank lines and `#` comments ignored.
pub fn load_tokens(path: &Path) -> Result<Vec<TokenLine>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::ReadTokens {
        path: path.to_path_buf(),
        source,
    })?;
    let mut tokens = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let token = words.next().unwrap_or_default().to_string();
        let mut cluster = None;
        for w in words {
            let Some(name) = w.strip_prefix("cluster=") else {
                return Err(LoadError::TokenLine {
                    path: path.to_path_buf(),
                    line: i + 1,
                    word: w.split('=').next().unwrap_or(w).to_string(),
                });
            };
            audit_api::fields::validate_cluster_name(name).map_err(|source| {
                LoadError::TokenCluster {
                    path: path.to_path_buf(),
                    line: i + 1,
                    source,
                }
            })?;
            cluster = Some(name.to_string());
        }
        tokens.push(TokenLine { token, cluster });
    }
    if tokens.is_empty() {
        return Err(LoadError::NoTokens {
            path: path.to_path_buf(),
        });
    }
    Ok(tokens)
}

/// Reads PEM certificates.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|source| LoadError::ReadCerts {
            path: path.to_path_buf(),
            source,
        })?
        .collect::<Result<_, _>>()
        .map_err(|source| LoadError::ParseCerts {
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(LoadError::NoCerts {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// Reads a PEM private key.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, LoadError> {
    PrivateKeyDer::from_pem_file(path).map_err(|source| LoadError::ReadKey {
        path: path.to_path_buf(),
        source,
    })
}

fn verifier_for(
    roots: &[CertificateDer<'static>],
) -> Result<Arc<dyn ClientCertVerifier>, LoadError> {
    let mut store = RootCertStore::empty();
    for c in roots {
        store
            .add(c.clone())
            .map_err(|source| LoadError::ClientCa { source })?;
    }
    WebPkiClientVerifier::builder(Arc::new(store))
        .allow_unauthenticated()
        .build()
        .map_err(|source| LoadError::Verifier { source })
}

impl Credentials {
    /// Credentials from optional token and CA files.
    pub fn load(
        token_file: Option<&Path>,
        client_ca: Option<&Path>,
    ) -> Result<Credentials, LoadError> {
        let mut c = Credentials::default();
        if let Some(p) = token_file {
            c.tokens = load_tokens(p)?
                .into_iter()
                .map(|t| TokenEntry {
                    digest: Sha256::digest(t.token.as_bytes()).into(),
                    cluster: t.cluster,
                })
                .collect();
        }
        if let Some(p) = client_ca {
            c.roots = load_certs(p)?;
            c.verifier = Some(verifier_for(&c.roots)?);
        }
        Ok(c)
    }

    /// Binds each client certificate to the cluster named in its subject.
    pub fn with_cert_cluster(mut self, field: Option<CertClusterField>) -> Credentials {
        self.cert_cluster = field;
        self
    }

    /// Whether some token is bound to a cluster.
    pub fn has_bound_tokens(&self) -> bool {
        self.tokens.iter().any(|t| t.cluster.is_some())
    }

    /// Whether any credential is configured (otherwise everyone is allowed).
    pub fn is_configured(&self) -> bool {
        !self.tokens.is_empty() || self.verifier.is_some()
    }

    /// Whether the client CA is configured.
    pub fn has_client_ca(&self) -> bool {
        self.verifier.is_some()
    }

    /// CA certificates for the TLS handshake.
    pub fn client_roots(&self) -> &[CertificateDer<'static>] {
        &self.roots
    }

    /// Whether a request with this bearer token and peer chain may proceed.
    pub fn allows(&self, bearer: Option<&str>, peer: &PeerCerts) -> bool {
        self.authenticate(bearer, peer).is_ok()
    }

    /// Who sent a request with this bearer token and peer chain, or why it
    /// is refused.
    pub fn authenticate(
        &self,
        bearer: Option<&str>,
        peer: &PeerCerts,
    ) -> Result<Principal, AuthError> {
        if !self.is_configured() {
            return Ok(Principal::default());
        }
        if let Some(t) = bearer {
            let d: [u8; 32] = Sha256::digest(t.as_bytes()).into();
            // Digest comparison: equal-length inputs, no early exit on the secret's prefix.
            if let Some(entry) = self.tokens.iter().find(|x| {
                x.digest
                    .iter()
                    .zip(d.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
            }) {
                return Ok(Principal {
                    cluster: entry.cluster.clone(),
                });
            }
        }
        if let (Some(v), Some(chain)) = (&self.verifier, &peer.0)
            && let Some((end, rest)) = chain.split_first()
        {
            if v.verify_client_cert(end, rest, UnixTime::now()).is_err() {
                return Err(AuthError::Unauthenticated);
            }
            let cluster = match self.cert_cluster {
                None => None,
                Some(field) => Some(cert_cluster(end, field)?),
            };
            return Ok(Principal { cluster });
        }
        Err(AuthError::Unauthenticated)
    }
}

/// Why a request is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No valid token or certificate.
    #[error("needs a valid bearer token or client certificate")]
    Unauthenticated,
    /// A valid certificate whose subject names no usable cluster.
    #[error(
        "the client certificate's subject {field} is {value:?}, which is not a cluster name (--cluster-from-cert): {reason}"
    )]
    CertCluster {
        /// `CN` or `O`.
        field: &'static str,
        /// What the subject holds (empty when missing).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The cluster named by a verified client certificate's subject.
fn cert_cluster(cert: &CertificateDer<'_>, field: CertClusterField) -> Result<String, AuthError> {
    let name = match field {
        CertClusterField::CommonName => "CN",
        CertClusterField::Organization => "O",
    };
    let refuse = |value: String, reason: String| AuthError::CertCluster {
        field: name,
        value,
        reason,
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| refuse(String::new(), e.to_string()))?;
    let subject = parsed.subject();
    let value = match field {
        CertClusterField::CommonName => subject.iter_common_name().next(),
        CertClusterField::Organization => subject.iter_organization().next(),
    }
    .and_then(|a| a.as_str().ok())
    .unwrap_or_default()
    .to_string();
    audit_api::fields::validate_cluster_name(&value)
        .map_err(|e| refuse(value.clone(), e.to_string()))?;
    Ok(value)
}

/// The TLS server configuration: our certificate, and optional client
/// certificates verified against the union of the ingest and search CAs
/// (each request is then checked against its own CA).
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_roots: &[CertificateDer<'static>],
) -> Result<rustls::ServerConfig, LoadError> {
    let certs = load_certs(cert)?;
    let key_der = load_key(key)?;
    let builder = rustls::ServerConfig::builder();
    let builder = if client_roots.is_empty() {
        builder.with_no_client_auth()
    } else {
        builder.with_client_cert_verifier(verifier_for(client_roots)?)
    };
    let mut cfg =
        builder
            .with_single_cert(certs, key_der)
            .map_err(|source| LoadError::CertKey {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
                source,
            })?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}
