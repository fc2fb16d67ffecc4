//! The sink as a Kubernetes extension apiserver: the API group
//! `audit.kubext.io/v1alpha1` with the namespaced, read-only resource
//! `auditevents` (kind `AuditEvent`), served over TLS on its own listener
//! (`--api-listen`) for the kube-apiserver's aggregator, so `kubectl get
//! auditevents -n team-a` works with the caller's Kubernetes identity and RBAC.
//!
//! A request goes: TLS with the aggregator's front-proxy client certificate
//! → [`auth`] (the certificate verifies against the request-header CA, its CN
//! is allowed; the user comes from `X-Remote-*` headers) → [`authz`] (a
//! SubjectAccessReview for that user, cached) → `resource` (the sink's
//! search, answered as AuditEvents, a Table, or a watch stream).

// Handlers' helpers return the ready error `Response` as their `Err`.
#![allow(clippy::result_large_err)]

pub mod auth;
pub mod authz;
mod discovery;
mod field_selector;
mod history;
mod object;
mod refresh;
mod resource;
mod status;
mod table;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

use crate::auth::PeerCerts;
use crate::pipeline::Shared;
use auth::{Identity, RequestHeaderAuth, RequestHeaderError, RequestHeaderSettings};
use authz::Authorizer;

/// The API group.
pub const GROUP: &str = "audit.kubext.io";
/// Its one version.
pub const VERSION: &str = "v1alpha1";
/// `GROUP/VERSION`.
pub const API_VERSION: &str = "audit.kubext.io/v1alpha1";
/// The resource.
pub const RESOURCE: &str = "auditevents";
/// Its kind.
pub const KIND: &str = "AuditEvent";

/// Connections served at once on the API listener.
const MAX_CONNECTIONS: usize = 1024;
/// Time for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the request-header settings come from.
#[derive(Debug, Clone)]
pub enum RequestHeaderSource {
    /// `--requestheader-client-ca-file` and the other `--requestheader-*` flags.
    Given(RequestHeaderSettings),
    /// ConfigMap `kube-system/extension-apiserver-authentication`, read
    /// with `--authentication-kubeconfig` (in-cluster when `None`).
    Cluster(Option<PathBuf>),
}

/// How the aggregated API is served (`audit-sink serve --api-listen …`).
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Address of the API listener.
    pub listen: SocketAddr,
    /// Serving certificate chain (PEM), which the APIService's caBundle verifies.
    pub tls_cert: PathBuf,
    /// Its key (PEM).
    pub tls_key: PathBuf,
    /// Who may assert identities.
    pub request_header: RequestHeaderSource,
    /// Kubeconfig for SubjectAccessReviews (in-cluster when `None`).
    pub authorization_kubeconfig: Option<PathBuf>,
    /// How long an allowed answer is cached.
    pub authorized_ttl: Duration,
    /// How long a denied answer is cached.
    pub unauthorized_ttl: Duration,
    /// Called with the bound address (e.g. to print it).
    pub on_listening: Option<ListeningHook>,
}

/// What to do once the API listener is bound.
#[derive(Clone)]
pub struct ListeningHook(pub Arc<dyn Fn(SocketAddr) + Send + Sync>);

impl std::fmt::Debug for ListeningHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListeningHook")
    }
}

/// Failing errors' messages with their causes, for logs and 500 bodies.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Why the aggregated API cannot be set up. Each names the flag and file
/// or address involved.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A kubeconfig cannot be read.
    #[error("reading {flag} {}", path.display())]
    ReadKubeconfig {
        /// `--authentication-kubeconfig` or `--authorization-kubeconfig`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// A kubeconfig cannot be turned into a client configuration.
    #[error("using {flag} {}", path.display())]
    UseKubeconfig {
        /// `--authentication-kubeconfig` or `--authorization-kubeconfig`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// No kubeconfig given, and not in a pod.
    #[error(
        "no {flag} given and not running in a cluster (no service account token): give {flag} FILE{}",
        if *flag == "--authentication-kubeconfig" {
            ", or the request-header settings with --requestheader-client-ca-file"
        } else {
            ""
        }
    )]
    NotInCluster {
        /// `--authentication-kubeconfig` or `--authorization-kubeconfig`.
        flag: &'static str,
        /// The cause.
        #[source]
        source: kube::config::InClusterError,
    },
    /// The client cannot be built from the configuration.
    #[error("building the client of {flag}")]
    Client {
        /// `--authentication-kubeconfig` or `--authorization-kubeconfig`.
        flag: &'static str,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// The request-header settings cannot be read or used.
    #[error(transparent)]
    RequestHeader(#[from] RequestHeaderError),
    /// The serving certificate cannot be read.
    #[error("--api-tls-cert")]
    TlsCert {
        /// The cause (it names the file).
        #[source]
        source: crate::auth::LoadError,
    },
    /// The serving key cannot be read.
    #[error("--api-tls-key")]
    TlsKey {
        /// The cause (it names the file).
        #[source]
        source: crate::auth::LoadError,
    },
    /// The serving certificate and key do not go together.
    #[error("--api-tls-cert and --api-tls-key do not match or are unsupported")]
    CertKey {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// The cause.
        #[source]
        source: rustls::Error,
    },
    /// The API address cannot be listened on.
    #[error(
        "listening on {addr} for the aggregated API; is another process using it? choose another with --api-listen"
    )]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The bound listener has no local address.
    #[error("reading the address of the aggregated API's listener on {addr}")]
    LocalAddr {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A kube client from `kubeconfig`, or the in-cluster configuration.
async fn kube_client(
    kubeconfig: Option<&std::path::Path>,
    flag: &'static str,
) -> Result<kube::Client, ApiError> {
    let config = match kubeconfig {
        Some(p) => {
            let kc = kube::config::Kubeconfig::read_from(p).map_err(|source| {
                ApiError::ReadKubeconfig {
                    flag,
                    path: p.to_path_buf(),
                    source,
                }
            })?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|source| ApiError::UseKubeconfig {
                    flag,
                    path: p.to_path_buf(),
                    source,
                })?
        }
        None => {
            kube::Config::incluster().map_err(|source| ApiError::NotInCluster { flag, source })?
        }
    };
    kube::Client::try_from(config).map_err(|source| ApiError::Client { flag, source })
}

/// The aggregated API, configured and ready to serve.
pub struct ApiServer {
    opts: ApiOptions,
    tls: tokio_rustls::TlsAcceptor,
    authn: RequestHeaderAuth,
    /// Settings and client to read them again, when from the cluster.
    refresh: Option<(RequestHeaderSettings, kube::Client)>,
    authz: Arc<Authorizer>,
}

impl ApiServer {
    /// Loads the serving certificate, the request-header settings (reading
    /// the ConfigMap when they are not given) and the authorizer's client.
    pub async fn prepare(opts: ApiOptions) -> Result<ApiServer, ApiError> {
        let (settings, refresh) = match &opts.request_header {
            RequestHeaderSource::Given(s) => (s.clone(), None),
            RequestHeaderSource::Cluster(kubeconfig) => {
                let client =
                    kube_client(kubeconfig.as_deref(), "--authentication-kubeconfig").await?;
                let s = RequestHeaderSettings::from_cluster(client.clone()).await?;
                (s.clone(), Some((s, client)))
            }
        };
        let authn = RequestHeaderAuth::new(&settings)?;
        // A CA read from the cluster can be rotated: the handshake must not
        // steer clients to the old one's certificates.
        let handshake = if refresh.is_some() {
            authn.handshake_verifier_without_hints()
        } else {
            authn.handshake_verifier()
        };
        let client = kube_client(
            opts.authorization_kubeconfig.as_deref(),
            "--authorization-kubeconfig",
        )
        .await?;
        let authz = Arc::new(Authorizer::new(
            client,
            opts.authorized_ttl,
            opts.unauthorized_ttl,
        ));
        let certs = crate::auth::load_certs(&opts.tls_cert)
            .map_err(|source| ApiError::TlsCert { source })?;
        let key =
            crate::auth::load_key(&opts.tls_key).map_err(|source| ApiError::TlsKey { source })?;
        let mut cfg = rustls::ServerConfig::builder()
            .with_client_cert_verifier(handshake)
            .with_single_cert(certs, key)
            .map_err(|source| ApiError::CertKey {
                cert: opts.tls_cert.clone(),
                key: opts.tls_key.clone(),
                source,
            })?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(ApiServer {
            opts,
            tls: tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
            authn,
            refresh,
            authz,
        })
    }

    /// Binds the API listener and tells `on_listening`.
    pub async fn bind(&self) -> Result<tokio::net::TcpListener, ApiError> {
        let listener = tokio::net::TcpListener::bind(self.opts.listen)
            .await
            .map_err(|source| ApiError::Listen {
                addr: self.opts.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ApiError::LocalAddr {
                addr: self.opts.listen,
                source,
            })?;
        tracing::info!(%addr, "aggregated API ({API_VERSION}) listening");
        if let Some(hook) = &self.opts.on_listening {
            (hook.0)(addr);
        }
        Ok(listener)
    }

    /// Serves on `listener` until `stop` turns true.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shared: Arc<Shared>,
        mut stop: watch::Receiver<bool>,
    ) {
        let history = history::History::start(&shared);
        let authn = match self.refresh {
            Some((settings, client)) => {
                refresh::Authn::refreshing(self.authn, settings, client, stop.clone())
            }
            None => refresh::Authn::fixed(self.authn),
        };
        let app = router(ApiState {
            history,
            shared,
            authn,
            authz: self.authz,
            stop: stop.clone(),
        });
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            if *stop.borrow() {
                break;
            }
            let slot = tokio::select! {
                s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
                _ = stop.changed() => continue,
            };
            let (stream, remote) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "aggregated API: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.changed() => continue,
            };
            let _ = stream.set_nodelay(true);
            let (app, tls, builder, mut stop) =
                (app.clone(), self.tls.clone(), builder.clone(), stop.clone());
            tokio::spawn(async move {
                let _slot = slot;
                let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%remote, error = %e, "aggregated API: TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
                let peer = PeerCerts(
                    tls.get_ref()
                        .1
                        .peer_certificates()
                        .map(|c| Arc::new(c.iter().map(|x| x.clone().into_owned()).collect())),
                );
                let svc =
                    tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(peer.clone());
                        let app = app.clone();
                        async move { Ok::<_, Infallible>(app.oneshot(req).await.into_response()) }
                    });
                let conn = builder.serve_connection_with_upgrades(
                    TokioIo::new(tls),
                    TowerToHyperService::new(svc),
                );
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = async { let _ = stop.wait_for(|s| *s).await; } => {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                    }
                }
            });
        }
    }
}

/// Handler state.
#[derive(Clone)]
pub(crate) struct ApiState {
    shared: Arc<Shared>,
    history: Arc<history::History>,
    authn: Arc<refresh::Authn>,
    authz: Arc<Authorizer>,
    stop: watch::Receiver<bool>,
}

impl ApiState {
    /// The caller as the aggregator names it; 401 otherwise.
    fn authenticate(
        &self,
        headers: &HeaderMap,
        ext: &http::Extensions,
    ) -> Result<Identity, Response> {
        let peer = ext.get::<PeerCerts>().cloned().unwrap_or_default();
        self.authn
            .get()
            .authenticate(&peer, headers)
            .map_err(|why| {
                if why == auth::NOT_SIGNED_BY_CA {
                    self.authn.unverified();
                }
                tracing::info!(reason = why, "aggregated API request unauthenticated");
                status::unauthorized()
            })
    }

    /// Discovery and OpenAPI: open to the trusted front proxy (every
    /// authenticated user may read discovery, as RBAC's `system:discovery`).
    fn proxy_only(&self, ext: &http::Extensions) -> Result<(), Response> {
        let peer = ext.get::<PeerCerts>().cloned().unwrap_or_default();
        self.authn.get().trusted_proxy(&peer).map_err(|why| {
            if why == auth::NOT_SIGNED_BY_CA {
                self.authn.unverified();
            }
            tracing::info!(
                reason = why,
                "aggregated API discovery request unauthenticated"
            );
            status::unauthorized()
        })
    }
}

fn open(
    f: fn() -> Response,
) -> impl Fn(axum::extract::State<ApiState>, http::Extensions) -> std::future::Ready<Response>
+ Clone
+ Send
+ Sync
+ 'static {
    move |axum::extract::State(st): axum::extract::State<ApiState>, ext: http::Extensions| {
        std::future::ready(match st.proxy_only(&ext) {
            Ok(()) => f(),
            Err(r) => r,
        })
    }
}

async fn readyz(axum::extract::State(st): axum::extract::State<ApiState>) -> Response {
    if st.shared.closing() {
        (http::StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else {
        "ok".into_response()
    }
}

fn router(state: ApiState) -> Router {
    let base = format!("/apis/{GROUP}/{VERSION}");
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/version", get(open(discovery::version)))
        .route("/apis", get(open(discovery::apis)))
        .route(&format!("/apis/{GROUP}"), get(open(discovery::api_group)))
        .route(&base, get(open(discovery::resources)))
        .route("/openapi/v2", get(open(discovery::openapi_v2)))
        .route("/openapi/v3", get(open(discovery::openapi_v3_root)))
        .route(
            &discovery::openapi_v3_path(),
            get(open(discovery::openapi_v3)),
        )
        .route(&format!("{base}/{RESOURCE}"), get(resource::list_all))
        .route(
            &format!("{base}/{RESOURCE}/{{name}}"),
            get(resource::get_cluster_scoped),
        )
        .route(
            &format!("{base}/namespaces/{{namespace}}/{RESOURCE}"),
            get(resource::list_namespaced),
        )
        .route(
            &format!("{base}/namespaces/{{namespace}}/{RESOURCE}/{{name}}"),
            get(resource::get),
        )
        .fallback(|| async { status::no_route() })
        .with_state(state)
}
