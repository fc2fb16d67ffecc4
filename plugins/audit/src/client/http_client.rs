//! The sink over HTTP(S) (`--server`): a rustls client trusting
//! `--certificate-authority`, presenting `--client-certificate`/`--client-key`
//! or a bearer token (`--token`, `--token-file`, `$KUBECTL_AUDIT_TOKEN`).

use std::time::Duration;

use anyhow::Context as _;
use kubectl_kit::KitError;

use super::error::error_chain;
use super::reply::{Reply, ReplyBody, Upload, retry_after};
use crate::cli::SinkFlags;

/// A client for one sink URL with its credential.
pub(crate) struct HttpClient {
    client: reqwest::Client,
    /// The URL without a trailing `/`.
    pub(crate) base: String,
    token: Option<String>,
    /// Which credential is used (a description, never its value).
    pub(crate) credential: String,
}

impl HttpClient {
    /// Checks the URL and reads the TLS and credential flags.
    pub(crate) fn new(server: &str, flags: &SinkFlags) -> anyhow::Result<HttpClient> {
        let url = url::Url::parse(server).map_err(|e| {
            KitError::usage(format!(
                "--server {server:?} is not a URL ({e}): write it like http://127.0.0.1:9470 or https://audit.example.com"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(KitError::usage(format!(
                "--server {server:?}: only http:// and https:// URLs are supported"
            ))
            .into());
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("kubectl-audit/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &flags.certificate_authority {
            let pem = std::fs::read(ca)
                .with_context(|| format!("cannot read --certificate-authority {}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "--certificate-authority {} holds no PEM certificate: {e}",
                    ca.display()
                )
            })?;
            if certs.is_empty() {
                anyhow::bail!(
                    "--certificate-authority {} holds no PEM certificate",
                    ca.display()
                );
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let mut credential = Vec::new();
        match (&flags.client_certificate, &flags.client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = std::fs::read(cert).with_context(|| {
                    format!("cannot read --client-certificate {}", cert.display())
                })?;
                pem.push(b'\n');
                pem.extend(
                    std::fs::read(key)
                        .with_context(|| format!("cannot read --client-key {}", key.display()))?,
                );
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    anyhow::anyhow!(
                        "--client-certificate {} / --client-key {} are not a PEM certificate and key: {e}",
                        cert.display(),
                        key.display()
                    )
                })?;
                builder = builder.identity(identity);
                credential.push(format!("the client certificate {}", cert.display()));
            }
            (None, None) => {}
            _ => {
                return Err(KitError::usage(
                    "--client-certificate and --client-key go together: give both",
                )
                .into());
            }
        }
        let token = match (&flags.token, &flags.token_file) {
            (Some(_), Some(_)) => {
                return Err(KitError::usage("give --token or --token-file, not both").into());
            }
            (Some(t), None) => {
                let from_env = std::env::var("KUBECTL_AUDIT_TOKEN").is_ok_and(|v| &v == t);
                credential.push(if from_env {
                    "the bearer token from $KUBECTL_AUDIT_TOKEN".to_string()
                } else {
                    "the bearer token from --token".to_string()
                });
                Some(t.trim().to_string())
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --token-file {}", path.display()))?;
                let t = text.trim().to_string();
                if t.is_empty() {
                    anyhow::bail!("--token-file {} is empty", path.display());
                }
                credential.push(format!(
                    "the bearer token from --token-file {}",
                    path.display()
                ));
                Some(t)
            }
            (None, None) => None,
        };
        let client = builder
            .build()
            .context("cannot set up the HTTP client for the sink")?;
        Ok(HttpClient {
            client,
            base: server.trim_end_matches('/').to_string(),
            token,
            credential: if credential.is_empty() {
                "no credentials".into()
            } else {
                credential.join(" and ")
            },
        })
    }

    /// Sends one request; `path` carries the query string, `timeout` bounds
    /// the whole exchange (none for a stream). The error is the transport's,
    /// on one line, without the URL (the caller names the address).
    pub(crate) async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Upload>,
        timeout: Option<Duration>,
    ) -> Result<Reply, String> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            request = request.bearer_auth(t);
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        if let Some(upload) = body {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            if upload.gzip {
                request = request.header(http::header::CONTENT_ENCODING, "gzip");
            }
            request = request.body(upload.bytes);
        }
        let response = request
            .send()
            .await
            .map_err(|e| error_chain(&e.without_url()))?;
        Ok(Reply {
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
            body: ReplyBody::Http(response),
        })
    }
}
