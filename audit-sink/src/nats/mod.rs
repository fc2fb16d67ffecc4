//! Fleet mode (`audit-sink serve --nats URL`): a NATS JetStream stream is
//! the log of record instead of the embedded write-ahead log.
//!
//! ```text
//! handler ─▶ publish every event (Nats-Msg-Id = its key) ─▶ all acks ─▶ 200
//!            (a stream of N replicas acks once a quorum stored it)
//! stream ─▶ this replica's durable consumer ─▶ indexer thread: dedup, add,
//!           commit every interval ─▶ ack up to the last committed message
//! ```
//! Every replica consumes the whole stream (or the subjects of
//! `--index-subjects`) and builds its own index, so any replica answers
//! searches; a new replica, or one restarted with an empty data directory,
//! catches up from the stream. The sink implements no replication,
//! consensus or consumer offsets: JetStream does.
//!
//! Events larger than the server's max payload are kept in a JetStream
//! object store of the same replication and referenced from the stream.

mod consume;
mod error;
mod publish;
mod stream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::pipeline::{Sink, SinkOptions};

pub use error::{ConnectError, OpenError, SetupError, SubjectsError};
pub use stream::{StreamSettings, Unusable, subject_for};

/// The subjects the sink publishes to: `kubext.audit.<cluster>`.
pub const SUBJECT_PREFIX: &str = "kubext.audit";
/// Header naming the object that holds an event too large for one message.
pub const OBJECT_HEADER: &str = "Kubext-Object";

/// How to reach and use the NATS cluster (the `--nats*` flags).
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// Server URLs (`nats://host:4222`, `tls://…`).
    pub urls: Vec<String>,
    /// Stream name (`--nats-stream`).
    pub stream: String,
    /// Stream replicas when the sink creates it (`--nats-replicas`).
    pub replicas: usize,
    /// Credentials file (`--nats-creds`).
    pub creds: Option<PathBuf>,
    /// File holding a token (`--nats-token-file`).
    pub token_file: Option<PathBuf>,
    /// CA bundle for TLS (`--nats-ca`); implies TLS.
    pub ca: Option<PathBuf>,
    /// This replica's name: its durable consumer (`--replica-name`).
    pub replica_name: String,
    /// Stream age limit when the sink creates it (`--nats-max-age`).
    pub max_age: Option<Duration>,
    /// Stream size limit when the sink creates it (`--nats-max-bytes`).
    pub max_bytes: Option<i64>,
    /// `/readyz` fails while this replica lags the stream by more (`--max-lag`).
    pub max_lag: Duration,
    /// Subjects this replica indexes (`--index-subjects`; default all).
    pub index_subjects: Vec<String>,
    /// How long a publish may wait for its acknowledgement.
    pub ack_timeout: Duration,
}

impl NatsOptions {
    /// Defaults for `urls`.
    pub fn new(urls: Vec<String>, replica_name: String) -> NatsOptions {
        NatsOptions {
            urls,
            stream: "KUBEXT_AUDIT".into(),
            replicas: 3,
            creds: None,
            token_file: None,
            ca: None,
            replica_name,
            max_age: None,
            max_bytes: None,
            max_lag: Duration::from_secs(10),
            index_subjects: Vec::new(),
            ack_timeout: Duration::from_secs(5),
        }
    }
}

async fn connect(opts: &NatsOptions) -> Result<async_nats::Client, ConnectError> {
    let mut o = async_nats::ConnectOptions::new()
        .name(format!("audit-sink {}", opts.replica_name))
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None);
    if let Some(path) = &opts.creds {
        // async-nats names a missing JWT "cannot parse nkey": say it here.
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.contains("BEGIN NATS USER JWT")
        {
            return Err(ConnectError::CredsWithoutJwt { path: path.clone() });
        }
        o = o
            .credentials_file(path)
            .await
            .map_err(|source| ConnectError::Creds {
                path: path.clone(),
                source,
            })?;
    }
    if let Some(path) = &opts.token_file {
        let token = std::fs::read_to_string(path).map_err(|source| ConnectError::ReadToken {
            path: path.clone(),
            source,
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(ConnectError::EmptyToken { path: path.clone() });
        }
        o = o.token(token.to_string());
    }
    if let Some(path) = &opts.ca {
        if !path.is_file() {
            return Err(ConnectError::Ca { path: path.clone() });
        }
        o = o.add_root_certificates(path.clone()).require_tls(true);
    }
    let addrs: Vec<async_nats::ServerAddr> = opts
        .urls
        .iter()
        .map(|u| {
            u.parse::<async_nats::ServerAddr>()
                .map_err(|source| ConnectError::Url {
                    url: u.clone(),
                    source,
                })
        })
        .collect::<Result<_, _>>()?;
    // Servers still starting are waited for; refused credentials and
    // untrusted certificates are not, and the error says which it was.
    // Once connected, the client reconnects by itself for ever.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let e = match o.clone().connect(addrs.clone()).await {
            Ok(client) => return Ok(client),
            Err(e) => e,
        };
        let at = opts.urls.join(",");
        use async_nats::ConnectErrorKind as K;
        let hint = match e.kind() {
            K::AuthorizationViolation | K::Authentication => {
                Some("the server refused the credentials: check --nats-token-file or --nats-creds")
            }
            K::Tls => Some("TLS set-up failed: check --nats-ca and that the servers speak TLS"),
            _ if is_certificate_error(&e) => Some(
                "the servers' certificate is not trusted: give the CA that signed it with --nats-ca",
            ),
            _ => None,
        };
        if let Some(hint) = hint {
            return Err(ConnectError::Refused {
                urls: at,
                hint,
                source: e,
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ConnectError::Unreachable {
                urls: at,
                source: e,
            });
        }
        tracing::warn!(error = %e, "cannot reach NATS yet; retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether the TLS handshake failed on the server's certificate.
fn is_certificate_error(e: &async_nats::ConnectError) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Connects to NATS, creates or checks the stream and this replica's
/// consumer, and starts the pipeline with the stream as its log of record.
pub async fn open_sink(sink_opts: SinkOptions, opts: NatsOptions) -> Result<Sink, OpenError> {
    // The dead-letter log is opened before the index: the directory must exist.
    std::fs::create_dir_all(&sink_opts.data_dir).map_err(|source| {
        crate::pipeline::OpenError::CreateDir {
            path: sink_opts.data_dir.clone(),
            source,
        }
    })?;
    consume::check_subjects(&opts.index_subjects)?;
    let client = connect(&opts).await?;
    let js = async_nats::jetstream::ContextBuilder::new()
        .timeout(opts.ack_timeout)
        .max_ack_inflight(100_000)
        .backpressure_on_inflight(true)
        .build(client.clone());
    let settings = StreamSettings::from_options(&opts);
    // The cluster may still be electing its leaders right after it starts,
    // and any of the three set-up requests can time out meanwhile.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (objects, consumer) = loop {
        let setup = async {
            let stream = stream::ensure(&js, &settings).await?;
            let objects = stream::ensure_objects(&js, &settings).await?;
            let consumer = consume::durable(&stream, &opts).await?;
            Ok::<_, SetupError>((objects, consumer))
        };
        match setup.await {
            Ok(s) => break s,
            // Asking again will not help.
            Err(SetupError::Unusable(e)) => return Err(e.into()),
            Err(SetupError::Subjects(e)) => return Err(e.into()),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(
                    error = &e as &dyn std::error::Error,
                    "JetStream not ready yet; retrying"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(source) => {
                return Err(OpenError::NotReady {
                    urls: opts.urls.join(","),
                    source,
                });
            }
        }
    };
    let max_payload = client.server_info().max_payload;
    let publisher = Arc::new(
        publish::Publisher::new(
            js.clone(),
            objects.clone(),
            max_payload,
            &sink_opts.data_dir,
        )
        .map_err(|source| crate::pipeline::OpenError::DeadLetters {
            dir: sink_opts.data_dir.clone(),
            source,
        })?,
    );
    let sink = Sink::open_external(sink_opts.clone(), publisher, Some(opts.max_lag))?;
    consume::start(&sink, sink_opts, consumer, objects)
        .map_err(|source| OpenError::Thread { source })?;
    tracing::info!(
        stream = %opts.stream,
        replica = %opts.replica_name,
        "JetStream stream is the log of record"
    );
    Ok(sink)
}
