//! The loopback redirect listener of the authorization code flow: binds the
//! first free address, answers the one redirect whose `state` matches (with
//! the code or an error), and closes.
//!
//! Each connection is served on its own task, with a TLS-handshake and a
//! read timeout, so an idle connection (a browser's preconnect, any local
//! process) never holds up the real redirect. A redirect with another
//! `state` gets a 400 page and the login keeps waiting; other requests (a
//! favicon) get a 404.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How long a connection may take for its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound listener.
pub struct Loopback {
    listeners: Vec<TcpListener>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// The bound port.
    pub port: u16,
    /// The host to write in the redirect URI: `localhost` when both
    /// 127.0.0.1 and ::1 are bound on the port (whatever the browser resolves
    /// `localhost` to reaches us), else the bound address itself.
    pub host: String,
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
    /// Binds the first address of `addresses` that is free. A loopback
    /// address is paired with the other family's loopback address on the
    /// same port when that one is free too (RFC 8252 §8.3), so that the
    /// redirect URI can name `localhost`.
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
                    let mut listeners = vec![listener];
                    let host = match pair_of(local) {
                        Some(other) => match TcpListener::bind(other).await {
                            Ok(second) => {
                                listeners.push(second);
                                "localhost".to_string()
                            }
                            Err(_) => url_host(local.ip()),
                        },
                        None if local.ip().is_unspecified() => "localhost".to_string(),
                        None => url_host(local.ip()),
                    };
                    return Ok(Loopback {
                        port: local.port(),
                        listeners,
                        tls,
                        host,
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

    /// Waits for the redirect to `path` whose `state` is `state`, and
    /// answers it. `after` is where the browser goes on success
    /// (`--open-url-after-authentication`).
    pub async fn wait_for_redirect(
        self,
        path: &str,
        state: &str,
        after: Option<&str>,
    ) -> anyhow::Result<Redirect> {
        let (found, mut redirects) = mpsc::channel::<Redirect>(1);
        let expected = Arc::new(Expected {
            path: path.to_string(),
            state: state.to_string(),
            after: after.map(str::to_string),
        });
        let mut tasks = tokio::task::JoinSet::new();
        let (accepted, mut connections) = mpsc::channel::<anyhow::Result<TcpStream>>(16);
        for listener in self.listeners {
            let accepted = accepted.clone();
            tasks.spawn(async move {
                loop {
                    let next = listener
                        .accept()
                        .await
                        .map(|(stream, _)| stream)
                        .context("accepting the browser's connection");
                    let failed = next.is_err();
                    if accepted.send(next).await.is_err() || failed {
                        return;
                    }
                }
            });
        }
        drop(accepted);
        let outcome = loop {
            tokio::select! {
                redirect = redirects.recv() => match redirect {
                    Some(redirect) => break Ok(redirect),
                    None => break Err(anyhow!("the redirect listener stopped")),
                },
                stream = connections.recv() => match stream {
                    Some(Ok(stream)) => {
                        let (tls, expected, found) = (self.tls.clone(), expected.clone(), found.clone());
                        tasks.spawn(async move {
                            let redirect = match tls {
                                Some(acceptor) => {
                                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                        Ok(Ok(tls)) => serve(tls, &expected).await,
                                        _ => return,
                                    }
                                }
                                None => serve(stream, &expected).await,
                            };
                            if let Ok(Some(redirect)) = redirect {
                                let _ = found.send(redirect).await;
                            }
                        });
                    }
                    Some(Err(e)) => break Err(e),
                    None => break Err(anyhow!("the redirect listener stopped")),
                },
            }
        };
        // Stopping the tasks closes the listeners and any other connection.
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        outcome
    }
}

/// The other loopback address on the same port: ::1 for 127.0.0.1 and back.
fn pair_of(local: SocketAddr) -> Option<SocketAddr> {
    match local.ip() {
        IpAddr::V4(ip) if ip == Ipv4Addr::LOCALHOST => {
            Some(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), local.port()))
        }
        IpAddr::V6(ip) if ip == Ipv6Addr::LOCALHOST => {
            Some(SocketAddr::new(Ipv4Addr::LOCALHOST.into(), local.port()))
        }
        _ => None,
    }
}

fn url_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// What ends the wait.
struct Expected {
    path: String,
    state: String,
    after: Option<String>,
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

/// Handles one connection: `Ok(Some)` for the redirect with the expected
/// state, `Ok(None)` for anything else (answered with a 404 or a 400 page).
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    expected: &Expected,
) -> anyhow::Result<Option<Redirect>> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
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
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Ok(None),
    };
    let head = String::from_utf8_lossy(&head);
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
        && url.path() == expected.path
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
    if redirect.get("state") != Some(expected.state.as_str()) {
        respond(
            &mut stream,
            "400 Bad Request",
            "text/html; charset=utf-8",
            &error_page(
                "this redirect does not belong to the login in progress (its state parameter differs); \
                 the login is still waiting for the right one",
            ),
            None,
        )
        .await?;
        return Ok(None);
    }
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
    } else if let Some(location) = &expected.after {
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

/// Reads up to the end of the request head; `Ok(None)` when it is too large.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 32 * 1024 {
            return Ok(None);
        }
    }
    Ok(Some(buf))
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
        let server = tokio::spawn(lb.wait_for_redirect("/", "xyz", None));
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        // Another state: a 400 page, and the wait goes on.
        let page = get(port, "/?code=forged&state=other").await;
        assert!(page.starts_with("HTTP/1.1 400"), "{page}");
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

    /// RFC 8252 §7.3, §8.3: the redirect URI names `localhost` only when
    /// both loopback families listen on the port, whichever the browser
    /// resolves `localhost` to; otherwise it names the address bound.
    #[tokio::test]
    async fn localhost_is_written_only_when_both_loopback_families_listen() {
        let lb = Loopback::bind(&["127.0.0.1:0".to_string()], None)
            .await
            .unwrap();
        let port = lb.port;
        if std::net::TcpListener::bind("[::1]:0").is_err() {
            // No IPv6 loopback on this machine: the bound address it is.
            assert_eq!(lb.host, "127.0.0.1");
            return;
        }
        assert_eq!(lb.host, "localhost");
        // The redirect arriving over ::1 ends the wait too.
        let server = tokio::spawn(lb.wait_for_redirect("/", "xyz", None));
        let mut s = tokio::net::TcpStream::connect(("::1", port)).await.unwrap();
        s.write_all(b"GET /?code=abc&state=xyz HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut page = String::new();
        s.read_to_string(&mut page).await.unwrap();
        assert!(page.contains("Logged in"), "{page}");
        assert_eq!(server.await.unwrap().unwrap().get("code"), Some("abc"));

        // ::1 taken on the port: the redirect URI names 127.0.0.1, not localhost.
        let v6 = std::net::TcpListener::bind("[::1]:0").unwrap();
        let port = v6.local_addr().unwrap().port();
        if let Ok(lb) = Loopback::bind(&[format!("127.0.0.1:{port}")], None).await {
            assert_eq!(lb.host, "127.0.0.1");
            assert_eq!(lb.port, port);
        }
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
