//! The HTTP(S) server: ingest, search, stats, follow, health and metrics.
//!
//! One accept loop serves plain HTTP or TLS (rustls); with TLS the client
//! certificate chain is attached to each request so ingest and search can
//! check it against their own CA. Shutdown stops accepting, lets in-flight
//! requests finish, ends follow streams, then drains the pipeline.
//!
//! Slow or idle clients cannot pin the sink down ([`Limits`]): at most
//! `max_connections` connections are served at once (more wait in the
//! listen backlog); a connection that has not delivered a request's headers
//! within `header_read_timeout` (the first request, or a request head that
//! started arriving on an idle keep-alive connection) is closed; an ingest
//! body not received within `body_read_timeout` answers 408; a keep-alive
//! connection idle for `idle_timeout` is closed. A small watchdog per
//! connection enforces these from what the connection reads and which
//! requests are in flight (a response streaming to `/v1/follow` counts as
//! in flight).

// Handlers' helpers return the ready error `Response` as their `Err`; it is
// built once per failed request, so its size does not matter.
#![allow(clippy::result_large_err)]
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Semaphore, watch};

use crate::auth::{Credentials, PeerCerts};
use crate::pipeline::{Sink, SinkOptions};

mod caller;
mod firehose;
mod follow;
mod health;
mod ingest;
mod limits;
pub mod pubsub;
mod read;
mod reply;
mod search;
mod stats;
mod store;

pub use caller::RemoteAddr;
pub use limits::Limits;
use limits::{IoStream, serve_connection};
/// Default request body limit (32 MiB): real 400-event batches at
/// RequestResponse level exceed axum's 2 MB default.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;
/// Ingest answers well inside the apiserver's 30 s webhook timeout.
const INGEST_DEADLINE: Duration = Duration::from_secs(20);

/// Everything `audit-sink serve` is configured with.
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// TLS certificate and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Who may ingest.
    pub ingest: Credentials,
    /// Who may search.
    pub search: Credentials,
    /// Verifier of Pub/Sub push OIDC tokens (`--pubsub-audience`).
    pub pubsub: Option<Arc<pubsub::PushAuth>>,
    /// Allow a non-loopback address without authentication.
    pub insecure: bool,
    /// Request body limit in bytes (also applied after gzip decoding).
    pub max_body: usize,
    /// Connection limits and timeouts.
    pub limits: Limits,
    /// Pipeline options.
    pub sink: SinkOptions,
    /// The cluster of events whose credential names none and whose URL
    /// has no `?cluster=` (`--cluster-name`).
    pub cluster_name: String,
    /// Fleet mode: a NATS JetStream stream is the log of record.
    pub nats: Option<crate::nats::NatsOptions>,
    /// The aggregated API (`--api-listen`), served on its own listener.
    pub api: Option<crate::apiserver::ApiOptions>,
}

/// Handler state.
#[derive(Clone)]
pub struct AppState {
    sink: Arc<Sink>,
    ingest: Credentials,
    search: Credentials,
    pubsub: Option<Arc<pubsub::PushAuth>>,
    max_body: usize,
    body_read_timeout: Duration,
    cluster_name: Arc<str>,
    shutdown: watch::Receiver<bool>,
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(audit_api::EVENTS_PATH, post(ingest::ingest))
        .route(firehose::FIREHOSE_PATH, post(firehose::ingest))
        .route(pubsub::PUBSUB_PATH, post(pubsub::ingest))
        .route(audit_api::SEARCH_PATH, get(search::search))
        .route(audit_api::STATS_PATH, get(stats::stats))
        .route(audit_api::FOLLOW_PATH, get(follow::follow))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        // The webhook kubeconfig may name any path: any other POST is ingest.
        .fallback(ingest::fallback)
        .with_state(state)
}

/// A listen/auth combination `serve` refuses.
#[derive(Debug, thiserror::Error)]
pub enum ExposureError {
    /// A non-loopback address without credentials, and no `--insecure`.
    #[error(
        "refusing to listen on {listen} without authentication for {what}: give {flags} (with --tls-cert/--tls-key), or pass --insecure to accept unauthenticated requests"
    )]
    Unauthenticated {
        /// The address.
        listen: SocketAddr,
        /// `ingest` or `search`.
        what: &'static str,
        /// The flags that would configure credentials for it.
        flags: &'static str,
    },
    /// A client CA without TLS.
    #[error(
        "client certificate authentication (--client-ca, --search-client-ca) needs TLS: give --tls-cert and --tls-key"
    )]
    ClientCaWithoutTls,
}

/// Why the server cannot start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen/auth combination is refused.
    #[error(transparent)]
    Exposure(#[from] ExposureError),
    /// The TLS certificate, key or client CAs cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::auth::LoadError),
    /// The aggregated API cannot be set up.
    #[error(transparent)]
    Api(#[from] crate::apiserver::ApiError),
    /// Fleet mode cannot reach or use the NATS cluster.
    #[error(transparent)]
    Nats(#[from] crate::nats::OpenError),
    /// The data directory cannot be opened.
    #[error(transparent)]
    Sink(#[from] crate::pipeline::OpenError),
    /// The task opening the data directory did not finish.
    #[error("opening the sink")]
    OpenTask {
        /// The cause.
        #[source]
        source: tokio::task::JoinError,
    },
    /// The address cannot be listened on.
    #[error("listening on {addr}; is another process using it? choose another with --listen")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The bound listener has no local address.
    #[error("reading the address of the listener on {addr}")]
    LocalAddr {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `--max-connections 0`.
    #[error("--max-connections must be at least 1")]
    NoConnections,
    /// The pipeline did not drain at shutdown.
    #[error("draining the pipeline at shutdown")]
    Shutdown {
        /// The cause.
        #[source]
        source: tokio::task::JoinError,
    },
}

/// Checks the listen/auth combination; returns a clear refusal.
pub fn check_exposure(opts: &ServeOptions) -> Result<(), ExposureError> {
    let loopback = opts.listen.ip().is_loopback();
    if !loopback && !opts.insecure {
        for (what, c, flags) in [
            ("ingest", &opts.ingest, "--token-file or --client-ca"),
            (
                "search",
                &opts.search,
                "--search-token-file or --search-client-ca",
            ),
        ] {
            if !c.is_configured() {
                return Err(ExposureError::Unauthenticated {
                    listen: opts.listen,
                    what,
                    flags,
                });
            }
        }
    }
    if opts.tls.is_none() && (opts.ingest.has_client_ca() || opts.search.has_client_ca()) {
        return Err(ExposureError::ClientCaWithoutTls);
    }
    Ok(())
}

/// Runs the server until `shutdown` resolves. `on_listening` gets the bound
/// address and scheme (e.g. to print it).
pub async fn serve(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
    on_listening: impl FnOnce(&str, SocketAddr),
) -> Result<(), ServeError> {
    check_exposure(&opts)?;
    let tls = match &opts.tls {
        Some((cert, key)) => {
            let mut roots = opts.ingest.client_roots().to_vec();
            roots.extend_from_slice(opts.search.client_roots());
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(
                crate::auth::tls_config(cert, key, &roots)?,
            )))
        }
        None => None,
    };
    let api = match opts.api.clone() {
        Some(a) => Some(crate::apiserver::ApiServer::prepare(a).await?),
        None => None,
    };
    let sink_opts = opts.sink.clone();
    let sink = Arc::new(match opts.nats.clone() {
        Some(nats) => crate::nats::open_sink(sink_opts, nats).await?,
        None => tokio::task::spawn_blocking(move || Sink::open(sink_opts))
            .await
            .map_err(|source| ServeError::OpenTask { source })??,
    });
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: opts.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::LocalAddr {
            addr: opts.listen,
            source,
        })?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    on_listening(scheme, addr);
    tracing::info!(%addr, scheme, "audit-sink listening");
    let (stop_tx, stop_rx) = watch::channel(false);
    if let Some(api) = api {
        let listener = api.bind().await?;
        tokio::spawn(api.serve(listener, sink.shared.clone(), stop_rx.clone()));
    }
    let limits = opts.limits;
    if limits.max_connections == 0 {
        return Err(ServeError::NoConnections);
    }
    let app = router(AppState {
        sink: sink.clone(),
        ingest: opts.ingest,
        search: opts.search,
        pubsub: opts.pubsub,
        max_body: opts.max_body,
        body_read_timeout: limits.body_read_timeout,
        cluster_name: opts.cluster_name.into(),
        shutdown: stop_rx.clone(),
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut full_warned: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A free connection slot first: beyond the limit, new connections
        // wait in the kernel's listen backlog while existing ones are served.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if slots.available_permits() == 0
            && full_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            full_warned = Some(Instant::now());
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit reached; new connections wait until one closes (--max-connections)"
            );
        }
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let builder = builder.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let accepted = Instant::now();
            let (peer, io): (PeerCerts, Box<dyn IoStream>) = match tls {
                Some(acc) => {
                    match tokio::time::timeout(limits.header_read_timeout, acc.accept(stream)).await
                    {
                        Ok(Ok(s)) => {
                            let certs = s.get_ref().1.peer_certificates().map(|c| {
                                Arc::new(c.iter().map(|x| x.clone().into_owned()).collect())
                            });
                            (PeerCerts(certs), Box::new(s))
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%remote, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%remote, "TLS handshake timed out");
                            return;
                        }
                    }
                }
                None => (PeerCerts(None), Box::new(stream)),
            };
            serve_connection(app, builder, io, peer, remote, accepted, limits, stop).await;
        });
    }
    tracing::info!("shutting down: finishing in-flight requests");
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(25), slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 25 s; closing them");
    }
    let s = sink.clone();
    tokio::task::spawn_blocking(move || s.shutdown())
        .await
        .map_err(|source| ServeError::Shutdown { source })?;
    tracing::info!("audit-sink stopped");
    Ok(())
}
