//! The server itself: the background thread with its own tokio runtime, the
//! accept loop and TLS (with optional client certificates).

use std::sync::{Arc, Mutex};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use rustls::server::WebPkiClientVerifier;
use tokio::sync::watch;

use crate::error::ServerError;
use crate::pki::Pki;
use crate::state::{Inner, Shared};
use crate::store::ResourceType;

pub(crate) struct Running {
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) thread: Option<std::thread::JoinHandle<()>>,
}

fn tls_config(pki: &Pki) -> Result<rustls::ServerConfig, ServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(pki.client_ca_der.clone())
        .map_err(ServerError::Tls)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(ServerError::ClientVerifier)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ServerError::Tls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.server_chain.clone(), pki.server_key())
        .map_err(ServerError::Tls)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

pub(crate) fn start(tls: bool) -> Result<Running, ServerError> {
    let pki = Pki::generate().map_err(ServerError::Certificates)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(ServerError::Listen)?;
    listener
        .set_nonblocking(true)
        .map_err(ServerError::Listen)?;
    let addr = listener.local_addr().map_err(ServerError::Listen)?;

    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| ServerError::SigningKey("generating"))?;
    let sa_key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| ServerError::SigningKey("loading"))?;

    let upstream = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ServerError::UpstreamClient)?;

    let acceptor = if tls {
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(&pki)?)))
    } else {
        None
    };

    let inner = Inner {
        types: ResourceType::defaults(),
        ..Default::default()
    };
    let shared = Arc::new(Shared {
        inner: Mutex::new(inner),
        pki,
        addr,
        tls,
        upstream,
        sa_key,
        sa_key_id: crate::store::new_uid(),
        rng,
    });

    let (shutdown, mut shutdown_rx) = watch::channel(false);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kube-test-server")
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let thread_shared = shared.clone();
    let thread = std::thread::Builder::new()
        .name("kube-test-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("kube-test-server: cannot listen: {e}");
                        return;
                    }
                };
                loop {
                    tokio::select! {
                        _ = shutdown_rx.changed() => break,
                        accepted = listener.accept() => {
                            let Ok((tcp, _)) = accepted else { continue };
                            let shared = thread_shared.clone();
                            let acceptor = acceptor.clone();
                            tokio::spawn(serve_connection(shared, acceptor, tcp));
                        }
                    }
                }
            });
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
        })
        .map_err(ServerError::Runtime)?;

    Ok(Running {
        shared,
        shutdown,
        thread: Some(thread),
    })
}

async fn serve_connection(
    shared: Arc<Shared>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    tcp: tokio::net::TcpStream,
) {
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    match acceptor {
        Some(acceptor) => {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let identity = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| crate::pki::identity_from_cert(leaf))
                .map(Arc::new);
            let service = service_fn(move |req| {
                let shared = shared.clone();
                let identity = identity.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        crate::api::handle(shared, identity, req).await,
                    )
                }
            });
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        }
        None => {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(crate::api::handle(shared, None, req).await)
                }
            });
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                .await;
        }
    }
}
