//! Why the server could not start, or could not be configured: each variant
//! keeps the underlying cause (and the path involved) for the test's panic
//! message.

use std::path::PathBuf;

/// The server failed to start ([`KubeTestServer::try_start`](crate::KubeTestServer::try_start))
/// or a setting given to it is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The temporary directory holding the server's files could not be created.
    #[error("creating the server's temporary directory failed")]
    TempDir(#[source] std::io::Error),
    /// A file in the server's temporary directory could not be written.
    #[error("writing {} failed", path.display())]
    WriteFile {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The CAs and certificates could not be generated.
    #[error("generating the server's certificates failed")]
    Certificates(#[source] rcgen::Error),
    /// The TLS configuration was refused by rustls.
    #[error("building the server's TLS configuration failed")]
    Tls(#[source] rustls::Error),
    /// The client certificate verifier could not be built from the client CA.
    #[error("building the client certificate verifier failed")]
    ClientVerifier(#[source] rustls::server::VerifierBuilderError),
    /// The service account token signing key could not be made (ring gives no
    /// further detail).
    #[error("{0} the service account signing key failed")]
    SigningKey(&'static str),
    /// No free port on `127.0.0.1`, or the listener could not be set up.
    #[error("listening on a free port of 127.0.0.1 failed")]
    Listen(#[source] std::io::Error),
    /// The tokio runtime or the server's thread could not be started.
    #[error("starting the server's runtime thread failed")]
    Runtime(#[source] std::io::Error),
    /// The HTTP client used for the service proxy and aggregation could not be built.
    #[error("building the server's upstream HTTP client failed")]
    UpstreamClient(#[source] reqwest::Error),
    /// The `ca_pem` of an [`OidcAuthenticator`](crate::OidcAuthenticator)
    /// holds no PEM certificate, or a broken one.
    #[error(
        "the ca_pem given for the OIDC issuer {issuer} is not a PEM certificate (-----BEGIN CERTIFICATE----- blocks)"
    )]
    OidcCa {
        /// The issuer URL the CA was given for.
        issuer: String,
        /// Why the PEM text was refused.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The HTTP client for an OIDC issuer's discovery could not be built.
    #[error("building the HTTP client for the OIDC issuer {issuer} failed")]
    OidcClient {
        /// The issuer URL.
        issuer: String,
        /// Why reqwest failed.
        #[source]
        source: reqwest::Error,
    },
}
