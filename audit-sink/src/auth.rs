//! Authentication of ingest and search requests: bearer tokens read from
//! files, and client certificates verified against a CA bundle. Ingest and
//! search have separate credentials. Tokens are never logged.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use sha2::{Digest, Sha256};

/// The client certificate chain presented on a TLS connection.
#[derive(Clone, Debug, Default)]
pub struct PeerCerts(pub Option<Arc<Vec<CertificateDer<'static>>>>);

/// Who may use one group of endpoints.
#[derive(Clone, Default)]
pub struct Credentials {
    token_digests: Vec<[u8; 32]>,
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    roots: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("tokens", &self.token_digests.len())
            .field("client_ca", &self.verifier.is_some())
            .finish()
    }
}

/// Reads a token file: one token per line, blank lines and `#` comments ignored.
pub fn load_tokens(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading token file {}", path.display()))?;
    let tokens: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    anyhow::ensure!(
        !tokens.is_empty(),
        "token file {} holds no token (one per line)",
        path.display()
    );
    Ok(tokens)
}

/// Reads PEM certificates.
pub fn load_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading certificates from {}", path.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing PEM certificates in {}", path.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "no PEM certificate in {}",
        path.display()
    );
    Ok(certs)
}

/// Reads a PEM private key.
pub fn load_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .with_context(|| format!("reading a PEM private key from {}", path.display()))
}

fn verifier_for(roots: &[CertificateDer<'static>]) -> anyhow::Result<Arc<dyn ClientCertVerifier>> {
    let mut store = RootCertStore::empty();
    for c in roots {
        store
            .add(c.clone())
            .context("adding a client CA certificate")?;
    }
    WebPkiClientVerifier::builder(Arc::new(store))
        .allow_unauthenticated()
        .build()
        .context("building the client certificate verifier")
}

impl Credentials {
    /// Credentials from optional token and CA files.
    pub fn load(
        token_file: Option<&Path>,
        client_ca: Option<&Path>,
    ) -> anyhow::Result<Credentials> {
        let mut c = Credentials::default();
        if let Some(p) = token_file {
            c.token_digests = load_tokens(p)?
                .iter()
                .map(|t| Sha256::digest(t.as_bytes()).into())
                .collect();
        }
        if let Some(p) = client_ca {
            c.roots = load_certs(p)?;
            c.verifier = Some(verifier_for(&c.roots)?);
        }
        Ok(c)
    }

    /// Whether any credential is configured (otherwise everyone is allowed).
    pub fn is_configured(&self) -> bool {
        !self.token_digests.is_empty() || self.verifier.is_some()
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
        if !self.is_configured() {
            return true;
        }
        if let Some(t) = bearer {
            let d: [u8; 32] = Sha256::digest(t.as_bytes()).into();
            // Digest comparison: equal-length inputs, no early exit on the secret's prefix.
            if self.token_digests.iter().any(|x| {
                x.iter()
                    .zip(d.iter())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
            }) {
                return true;
            }
        }
        if let (Some(v), Some(chain)) = (&self.verifier, &peer.0)
            && let Some((end, rest)) = chain.split_first()
        {
            return v.verify_client_cert(end, rest, UnixTime::now()).is_ok();
        }
        false
    }
}

/// The TLS server configuration: our certificate, and optional client
/// certificates verified against the union of the ingest and search CAs
/// (each request is then checked against its own CA).
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_roots: &[CertificateDer<'static>],
) -> anyhow::Result<rustls::ServerConfig> {
    let certs = load_certs(cert)?;
    let key = load_key(key)?;
    let builder = rustls::ServerConfig::builder();
    let builder = if client_roots.is_empty() {
        builder.with_no_client_auth()
    } else {
        builder.with_client_cert_verifier(verifier_for(client_roots)?)
    };
    let mut cfg = builder
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match or are unsupported")?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}
