//! Connection limits: how many connections are served at once, and the
//! per-connection watchdog that closes a connection whose request headers do
//! not arrive in time or that stays idle too long (see the [module
//! documentation](super)).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tower::ServiceExt as _;

use super::RemoteAddr;
use crate::auth::PeerCerts;
/// Connection limits and timeouts (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest time to receive a request's headers; also how long a new
    /// connection may stay silent before its first request (and its TLS handshake).
    pub header_read_timeout: Duration,
    /// Longest time to receive a whole ingest request body (answered 408 beyond).
    pub body_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            // longer than the 90 s idle timeout of Go's HTTP clients (the
            // apiserver's), so the client closes first and never races a close
            idle_timeout: Duration::from_secs(120),
            max_connections: 1024,
        }
    }
}

/// What the watchdog of a connection knows about it.
struct ConnState {
    /// Requests whose response has not been fully sent (or dropped).
    in_flight: usize,
    /// Requests received so far.
    requests: u64,
    /// When the last response finished.
    idle_since: Instant,
    /// While idle, when bytes of a next request head started to arrive (HTTP/1).
    head_started: Option<Instant>,
    /// The connection speaks HTTP/2 (frames arrive between requests).
    h2: bool,
}

type SharedConn = Arc<Mutex<ConnState>>;

fn lock(s: &SharedConn) -> std::sync::MutexGuard<'_, ConnState> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts a request in flight until its response body is dropped.
struct InFlight(SharedConn);

impl InFlight {
    fn enter(state: &SharedConn, h2: bool) -> InFlight {
        let mut s = lock(state);
        s.in_flight += 1;
        s.requests += 1;
        s.head_started = None;
        s.h2 |= h2;
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = lock(&self.0);
        s.in_flight -= 1;
        if s.in_flight == 0 {
            s.idle_since = Instant::now();
        }
    }
}

/// A response body that keeps its request counted as in flight.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's byte stream, noting when a request head starts arriving.
struct TrackedIo {
    io: Box<dyn IoStream>,
    state: SharedConn,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let mut s = lock(&self.state);
            if s.in_flight == 0 && s.head_started.is_none() && !s.h2 {
                s.head_started = Some(Instant::now());
            }
        }
        r
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// What the watchdog decides about a connection.
enum Verdict {
    Fine,
    /// A request's headers (or the first request) did not arrive in time.
    HeaderTimeout,
    /// Nothing happened on a keep-alive connection for too long.
    Idle,
}

fn verdict(state: &SharedConn, accepted: Instant, limits: &Limits) -> Verdict {
    let s = lock(state);
    if s.in_flight > 0 {
        Verdict::Fine
    } else if s.requests == 0 {
        if accepted.elapsed() > limits.header_read_timeout {
            Verdict::HeaderTimeout
        } else {
            Verdict::Fine
        }
    } else if s
        .head_started
        .is_some_and(|t| t.elapsed() > limits.header_read_timeout)
    {
        Verdict::HeaderTimeout
    } else if s.idle_since.elapsed() > limits.idle_timeout {
        Verdict::Idle
    } else {
        Verdict::Fine
    }
}

/// Serves one connection under the watchdog until it ends, times out or the
/// server stops.
#[allow(clippy::too_many_arguments)]
pub(super) async fn serve_connection(
    app: Router,
    builder: hyper_util::server::conn::auto::Builder<TokioExecutor>,
    io: Box<dyn IoStream>,
    peer: PeerCerts,
    remote: SocketAddr,
    accepted: Instant,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let state: SharedConn = Arc::new(Mutex::new(ConnState {
        in_flight: 0,
        requests: 0,
        idle_since: accepted,
        head_started: None,
        h2: false,
    }));
    let svc_state = state.clone();
    let svc = tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        let in_flight = InFlight::enter(&svc_state, req.version() == http::Version::HTTP_2);
        req.extensions_mut().insert(peer.clone());
        req.extensions_mut().insert(RemoteAddr(remote));
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await?;
            Ok::<_, Infallible>(res.map(|inner| {
                Body::new(TrackedBody {
                    inner,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let io = TrackedIo {
        io,
        state: state.clone(),
    };
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc));
    tokio::pin!(conn);
    let tick = (limits.header_read_timeout / 4)
        .min(limits.idle_timeout / 4)
        .clamp(Duration::from_millis(20), Duration::from_secs(1));
    // Set once the connection was asked to finish: when, and how long it may take.
    let mut closing: Option<(Instant, Duration)> = None;
    if *stop.borrow() {
        conn.as_mut().graceful_shutdown();
        closing = Some((Instant::now(), Duration::from_secs(25)));
    }
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            r = stop.changed(), if closing.is_none() => {
                if r.is_ok() && *stop.borrow() {
                    conn.as_mut().graceful_shutdown();
                    closing = Some((Instant::now(), Duration::from_secs(25)));
                }
            }
            () = tokio::time::sleep(tick) => {
                if let Some((since, grace)) = closing {
                    if since.elapsed() > grace {
                        return;
                    }
                    continue;
                }
                match verdict(&state, accepted, &limits) {
                    Verdict::Fine => {}
                    Verdict::HeaderTimeout => {
                        tracing::debug!(%remote, "request headers not received in time; closing the connection");
                        return;
                    }
                    Verdict::Idle => {
                        tracing::debug!(%remote, "idle keep-alive connection; closing it");
                        conn.as_mut().graceful_shutdown();
                        closing = Some((Instant::now(), limits.header_read_timeout));
                    }
                }
            }
        }
    }
}

/// A byte stream a connection can be served over (TCP or TLS over TCP).
pub(super) trait IoStream:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static
{
}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> IoStream for T {}
