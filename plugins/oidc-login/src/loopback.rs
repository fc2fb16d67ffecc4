//! The loopback redirect listener of the authorization code flow: binds the
//! first free address, answers the one redirect that carries the code (or an
//! error), and closes. Other requests (a favicon) get a 404 and are ignored.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// A bound listener.
pub struct Loopback {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// The bound port.
    pub port: u16,
}

/// What the redirect carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The query parameters.
    pub params: Vec<(String, String)>,
}

impl Redirect {
    /// A parameter's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading --local-server-cert {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("--local-server-cert {} is not PEM", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading --local-server-key {}", key.display()))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("--local-server-cert and --local-server-key do not form a usable certificate")?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

impl Loopback {
    /// Binds the first address of `addresses` that is free.
    pub async fn bind(
        addresses: &[String],
        tls: Option<(&Path, &Path)>,
    ) -> anyhow::Result<Loopback> {
        let tls = match tls {
            Some((cert, key)) => Some(tls_acceptor(cert, key)?),
            None => None,
        };
        let mut errors = Vec::new();
        for address in addresses {
            match TcpListener::bind(address.as_str()).await {
                Ok(listener) => {
                    let local = listener
                        .local_addr()
                        .context("reading the listener's address")?;
                    if !local.ip().is_loopback() {
                        eprintln!(
                            "warning: the redirect listener is bound to {local}, reachable from other machines; \
                             prefer a loopback --listen-address such as 127.0.0.1:8000"
                        );
                    }
                    return Ok(Loopback {
                        port: local.port(),
                        listener,
                        tls,
                    });
                }
                Err(e) => errors.push(format!("{address}: {e}")),
            }
        }
        bail!(
            "cannot start the local server for the login redirect ({}); free one of these ports or pass another --listen-address",
            errors.join("; ")
        )
    }

    /// Waits for the redirect to `path` and answers it. `after` is where the
    /// browser goes on success (`--open-url-after-authentication`).
    pub async fn wait_for_redirect(
        self,
        path: &str,
        after: Option<&str>,
    ) -> anyhow::Result<Redirect> {
        loop {
            let (stream, _) = self
                .listener
                .accept()
                .await
                .context("accepting the browser's connection")?;
            let outcome = match &self.tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => serve(tls, path, after).await,
                    Err(_) => continue,
                },
                None => serve(stream, path, after).await,
            };
            match outcome {
                Ok(Some(redirect)) => return Ok(redirect),
                Ok(None) | Err(_) => continue,
            }
        }
    }
}

const SUCCESS_PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Logged in</title></head>\
<body style=\"font-family:sans-serif;text-align:center;margin-top:4em\"><h1>Logged in</h1>\
<p>You can close this window and return to the terminal.</p></body></html>";

fn error_page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Login failed</title></head>\
<body style=\"font-family:sans-serif;text-align:center;margin-top:4em\"><h1>Login failed</h1><p>{escaped}</p>\
<p>Return to the terminal for details.</p></body></html>"
    )
}

/// Handles one connection: `Ok(Some)` for the redirect, `Ok(None)` for anything else.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    path: &str,
    after: Option<&str>,
) -> anyhow::Result<Option<Redirect>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 32 * 1024 {
            respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "too large",
                None,
            )
            .await?;
            return Ok(None);
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let url = url::Url::parse(&format!("http://localhost{target}"))
        .map_err(|e| anyhow!("bad request target: {e}"))?;
    let params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let is_redirect = method == "GET"
        && url.path() == path
        && params.iter().any(|(k, _)| k == "code" || k == "error");
    if !is_redirect {
        respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            "not found",
            None,
        )
        .await?;
        return Ok(None);
    }
    let redirect = Redirect { params };
    if let Some(error) = redirect.get("error") {
        let description = redirect.get("error_description").unwrap_or("");
        respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            &error_page(&format!("{error}: {description}")),
            None,
        )
        .await?;
    } else if let Some(location) = after {
        respond(&mut stream, "302 Found", "text/plain", "", Some(location)).await?;
    } else {
        respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            SUCCESS_PAGE,
            None,
        )
        .await?;
    }
    Ok(Some(redirect))
}

async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    content_type: &str,
    body: &str,
    location: Option<&str>,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(location) = location {
        head.push_str(&format!("location: {location}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await?;
    let _ = stream.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nhost: localhost\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn ignores_other_paths_and_returns_the_code() {
        let lb = Loopback::bind(&["127.0.0.1:0".to_string()], None)
            .await
            .unwrap();
        let port = lb.port;
        let server = tokio::spawn(lb.wait_for_redirect("/", None));
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let page = get(port, "/?code=abc&state=xyz").await;
        assert!(page.contains("Logged in"), "{page}");
        let redirect = server.await.unwrap().unwrap();
        assert_eq!(redirect.get("code"), Some("abc"));
        assert_eq!(redirect.get("state"), Some("xyz"));
        // Closed after one use.
        assert!(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn first_free_address_wins() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken_addr = taken.local_addr().unwrap().to_string();
        let lb = Loopback::bind(&[taken_addr, "127.0.0.1:0".to_string()], None)
            .await
            .unwrap();
        assert_ne!(lb.port, taken.local_addr().unwrap().port());
        let err = Loopback::bind(&[taken.local_addr().unwrap().to_string()], None)
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("--listen-address"), "{err}");
    }
}
