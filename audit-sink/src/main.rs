//! `audit-sink`: receive the kube-apiserver's audit webhook batches, keep
//! them durable and searchable, and answer searches (`serve`); import log
//! backend files (`import`); inspect rejected input (`dead-letters`).
//!
//! Exit codes: 0 success, 1 error, 2 usage error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use audit_sink::auth::{CertClusterField, Credentials};
use audit_sink::nats::NatsOptions;
use audit_sink::pipeline::{Sink, SinkOptions};
use audit_sink::server::{DEFAULT_MAX_BODY, Limits, ServeOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "audit-sink",
    version,
    about = "Durable, searchable target for the kube-apiserver's audit webhook"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive audit EventLists over HTTP(S) and answer searches.
    Serve(Box<ServeArgs>),
    /// Import audit log files (JSON lines, optionally gzip'd) into the data directory.
    Import(ImportArgs),
    /// Show what was rejected and why (the dead-letter log).
    DeadLetters(DeadLetterArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion {
        /// The shell to print a completion script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct DataDir {
    /// Data directory: write-ahead log, index, dead-letter log.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "./audit-data",
        env = "AUDIT_SINK_DATA_DIR"
    )]
    data_dir: PathBuf,
}

/// What is redacted before anything is stored.
#[derive(Args)]
struct RedactArgs {
    /// Also redact this JSON path in events about this resource:
    /// RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data (repeatable).
    #[arg(long = "redact", value_name = "RULE")]
    redact: Vec<audit_api::redact::ExtraRule>,
    /// Store Secret data and tokens as received (logged as a warning, and
    /// audit_sink_secret_redaction_enabled is 0 in /metrics).
    #[arg(long)]
    no_redact_secrets: bool,
    /// Key of the value hashes in redaction markers (default: DATA_DIR/redact.key,
    /// created on first start; share it between replicas for equal markers).
    #[arg(long, value_name = "FILE")]
    redact_key_file: Option<PathBuf>,
}

impl RedactArgs {
    fn options(self) -> audit_sink::redaction::RedactOptions {
        audit_sink::redaction::RedactOptions {
            secrets: !self.no_redact_secrets,
            extra: self.redact,
            key_file: self.redact_key_file,
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = audit_api::DEFAULT_LISTEN)]
    listen: SocketAddr,
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    redaction: RedactArgs,
    /// TLS certificate chain (PEM); enables HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA bundle (PEM) for client certificates allowed to ingest.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// File of bearer tokens allowed to ingest: one per line, `TOKEN` or
    /// `TOKEN cluster=NAME` (that token writes only as cluster NAME).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The cluster of events whose credential is bound to none and whose
    /// webhook URL has no ?cluster=NAME.
    #[arg(long, value_name = "NAME", default_value = audit_api::fields::DEFAULT_CLUSTER, value_parser = audit_api::fields::parse_cluster_name)]
    cluster_name: String,
    /// Bind each ingest client certificate to the cluster named by its subject's CN or O.
    #[arg(long, value_name = "cn|o", value_parser = ["cn", "o"], requires = "client_ca")]
    cluster_from_cert: Option<String>,
    /// CA bundle (PEM) for client certificates allowed to search.
    #[arg(long, value_name = "FILE")]
    search_client_ca: Option<PathBuf>,
    /// File of bearer tokens (one per line) allowed to search, stats and follow.
    #[arg(long, value_name = "FILE")]
    search_token_file: Option<PathBuf>,
    /// Accept Pub/Sub push requests whose Google-signed OIDC token has this
    /// audience (the push subscription's --push-auth-token-audience).
    #[arg(long, value_name = "AUDIENCE")]
    pubsub_audience: Option<String>,
    /// Only from this push service account (the token's email claim).
    #[arg(long, value_name = "EMAIL", requires = "pubsub_audience")]
    pubsub_service_account: Option<String>,
    /// Issuer of push tokens.
    #[arg(long, value_name = "URL", default_value = audit_sink::server::pubsub::GOOGLE_ISSUER)]
    pubsub_issuer: String,
    /// Where the issuer's signing keys are (JWKS).
    #[arg(long, value_name = "URL", default_value = audit_sink::server::pubsub::GOOGLE_JWKS)]
    pubsub_jwks_url: String,
    /// Extra CA bundle (PEM) trusted when fetching --pubsub-jwks-url.
    #[arg(long, value_name = "FILE")]
    pubsub_ca: Option<PathBuf>,
    /// Allow listening on a non-loopback address without authentication.
    #[arg(long)]
    insecure: bool,
    /// Largest request body accepted (bytes, also after gzip decoding); larger gets 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    max_body_bytes: usize,
    /// Longest time from 200 to searchable (index commit cadence), e.g. 500ms, 1s.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_interval)]
    commit_interval: Duration,
    /// Drop whole day partitions older than this (e.g. 30d); default: keep everything.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    retention: Option<Duration>,
    /// Acknowledged events waiting for the index writer beyond which ingest
    /// waits for room (--overload-wait), then answers 429.
    #[arg(long, value_name = "N", default_value_t = 25_000)]
    max_pending_events: usize,
    /// How long an ingest request waits for room while the index queue is full
    /// before it is answered 429 with Retry-After, e.g. 0s, 2s.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_wait)]
    overload_wait: Duration,
    /// Index writer memory per open day partition, MiB.
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    writer_memory_mib: usize,
    /// Log format on stderr.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Longest time to receive a request's headers, and the first request on a new
    /// connection (and its TLS handshake); slower connections are closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_interval)]
    header_read_timeout: Duration,
    /// Longest time to receive a whole ingest body; slower uploads get 408 and are closed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_interval)]
    body_read_timeout: Duration,
    /// Close keep-alive connections with no request for this long.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_interval)]
    idle_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// NATS server URLs (comma-separated, nats:// or tls://): a JetStream
    /// stream becomes the log of record instead of the local write-ahead
    /// log, and this process one replica of a fleet.
    #[arg(
        long,
        value_name = "URL[,URL…]",
        value_delimiter = ',',
        help_heading = "Fleet (NATS JetStream)"
    )]
    nats: Vec<String>,
    /// The JetStream stream holding the events (created when missing).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "KUBEXT_AUDIT",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    nats_stream: String,
    /// Replicas of the stream when the sink creates it (a quorum acknowledges each event).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5), requires = "nats", help_heading = "Fleet (NATS JetStream)")]
    nats_replicas: u8,
    /// NATS credentials file (JWT and NKey seed).
    #[arg(
        long,
        value_name = "FILE",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    nats_creds: Option<PathBuf>,
    /// File holding a NATS token.
    #[arg(
        long,
        value_name = "FILE",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    nats_token_file: Option<PathBuf>,
    /// CA bundle (PEM) of the NATS servers' certificates; requires TLS.
    #[arg(
        long,
        value_name = "FILE",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    nats_ca: Option<PathBuf>,
    /// Drop events older than this from the stream when the sink creates it (e.g. 30d).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval, requires = "nats", help_heading = "Fleet (NATS JetStream)")]
    nats_max_age: Option<Duration>,
    /// Size limit of the stream when the sink creates it (oldest events go first).
    #[arg(
        long,
        value_name = "BYTES",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    nats_max_bytes: Option<i64>,
    /// This replica's name, which names its durable consumer (default: the host name).
    #[arg(
        long,
        value_name = "NAME",
        env = "AUDIT_SINK_REPLICA_NAME",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    replica_name: Option<String>,
    /// /readyz answers 503 while this replica's index is further behind the stream.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_interval, help_heading = "Fleet (NATS JetStream)")]
    max_lag: Duration,
    /// Index only these subjects (repeatable), e.g. kubext.audit.prod-eu; default: every cluster.
    #[arg(
        long,
        value_name = "SUBJECT",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    index_subjects: Vec<String>,
    #[command(flatten)]
    api: ApiArgs,
}

/// The aggregated API `audit.kubext.io/v1alpha1` (k8s.io/apiserver's flag names).
#[derive(Args)]
#[command(next_help_heading = "Kubernetes aggregated API (audit.kubext.io)")]
struct ApiArgs {
    /// Serve the API group audit.kubext.io over TLS on this address, for the
    /// kube-apiserver's aggregator (APIService v1alpha1.audit.kubext.io).
    #[arg(long, value_name = "ADDR:PORT", requires_all = ["api_tls_cert", "api_tls_key"])]
    api_listen: Option<SocketAddr>,
    /// Serving certificate chain (PEM) of the API; the APIService's caBundle verifies it.
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    api_tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --api-tls-cert.
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    api_tls_key: Option<PathBuf>,
    /// CA bundle (PEM) of the front-proxy client certificates allowed to name
    /// users in the request headers; default: read from ConfigMap
    /// kube-system/extension-apiserver-authentication.
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    requestheader_client_ca_file: Option<PathBuf>,
    /// Front-proxy certificate CNs allowed (comma-separated); empty: any
    /// certificate signed by the request-header CA.
    #[arg(
        long,
        value_name = "CN[,CN…]",
        value_delimiter = ',',
        requires = "requestheader_client_ca_file"
    )]
    requestheader_allowed_names: Vec<String>,
    /// Request headers naming the user (the first present wins).
    #[arg(
        long,
        value_name = "HEADER[,…]",
        value_delimiter = ',',
        default_value = "X-Remote-User",
        requires = "requestheader_client_ca_file"
    )]
    requestheader_username_headers: Vec<String>,
    /// Request headers naming the user's groups.
    #[arg(
        long,
        value_name = "HEADER[,…]",
        value_delimiter = ',',
        default_value = "X-Remote-Group",
        requires = "requestheader_client_ca_file"
    )]
    requestheader_group_headers: Vec<String>,
    /// Prefixes of request headers carrying the user's extra attributes.
    #[arg(
        long,
        value_name = "PREFIX[,…]",
        value_delimiter = ',',
        default_value = "X-Remote-Extra-",
        requires = "requestheader_client_ca_file"
    )]
    requestheader_extra_headers_prefix: Vec<String>,
    /// Kubeconfig to read ConfigMap kube-system/extension-apiserver-authentication
    /// with, when --requestheader-client-ca-file is not given (default: in-cluster).
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    authentication_kubeconfig: Option<PathBuf>,
    /// Kubeconfig to POST SubjectAccessReviews with (default: in-cluster).
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    authorization_kubeconfig: Option<PathBuf>,
    /// How long an allowed SubjectAccessReview answer is cached.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_ttl)]
    authorization_webhook_cache_authorized_ttl: Duration,
    /// How long a denied SubjectAccessReview answer is cached.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_ttl)]
    authorization_webhook_cache_unauthorized_ttl: Duration,
}

impl ApiArgs {
    fn options(self) -> anyhow::Result<Option<audit_sink::apiserver::ApiOptions>> {
        use audit_sink::apiserver::{ApiOptions, ListeningHook, RequestHeaderSource};
        let Some(listen) = self.api_listen else {
            return Ok(None);
        };
        let (Some(tls_cert), Some(tls_key)) = (self.api_tls_cert, self.api_tls_key) else {
            anyhow::bail!(
                "--api-listen needs --api-tls-cert and --api-tls-key (the certificate the APIService's caBundle verifies)"
            );
        };
        let request_header = match self.requestheader_client_ca_file {
            Some(ca) => RequestHeaderSource::Given(
                audit_sink::apiserver::auth::RequestHeaderSettings::from_file(
                    &ca,
                    self.requestheader_allowed_names,
                    self.requestheader_username_headers,
                    self.requestheader_group_headers,
                    self.requestheader_extra_headers_prefix,
                )?,
            ),
            None => RequestHeaderSource::Cluster(self.authentication_kubeconfig),
        };
        Ok(Some(ApiOptions {
            listen,
            tls_cert,
            tls_key,
            request_header,
            authorization_kubeconfig: self.authorization_kubeconfig,
            authorized_ttl: self.authorization_webhook_cache_authorized_ttl,
            unauthorized_ttl: self.authorization_webhook_cache_unauthorized_ttl,
            on_listening: Some(ListeningHook(std::sync::Arc::new(|addr| {
                use std::io::Write as _;
                let mut out = std::io::stdout();
                let _ = writeln!(out, "aggregated API listening on https://{addr}");
                let _ = out.flush();
            }))),
        }))
    }
}

/// `--authorization-webhook-cache-*-ttl`: a duration, `0` or `0s` for no cache.
fn parse_ttl(s: &str) -> Result<Duration, String> {
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    parse_interval(s)
}

#[derive(Args)]
struct ImportArgs {
    /// Audit log files: the apiserver's log backend, or EKS, GKE or AKS exports (gzip'd or not).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    data: DataDir,
    #[command(flatten)]
    redaction: RedactArgs,
    /// Input format: auto (told from each file's content), apiserver, eks, gke or aks.
    #[arg(long, value_name = "FORMAT", default_value = "auto",
          value_parser = ["auto", "apiserver", "eks", "gke", "aks"])]
    format: String,
    /// Cluster of the imported events when the file does not name it
    /// (EKS CloudWatch output and S3 exports, the apiserver's log).
    #[arg(long, value_name = "NAME", value_parser = audit_api::fields::parse_cluster_name)]
    audit_cluster: Option<String>,
    /// Hide the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Output: table, or json (an array with one summary per file).
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json"])]
    output: String,
}

#[derive(Args)]
struct DeadLetterArgs {
    #[command(flatten)]
    data: DataDir,
    /// Output: table, or json (one object per line, bodies verbatim).
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json"])]
    output: String,
    /// Show only the last N entries.
    #[arg(long, value_name = "N")]
    tail: Option<usize>,
}

/// The fleet flags, when `--nats` is given.
#[allow(clippy::too_many_arguments)]
fn nats_options(
    urls: Vec<String>,
    stream: String,
    replicas: u8,
    creds: Option<PathBuf>,
    token_file: Option<PathBuf>,
    ca: Option<PathBuf>,
    max_age: Option<Duration>,
    max_bytes: Option<i64>,
    replica_name: Option<String>,
    max_lag: Duration,
    index_subjects: Vec<String>,
) -> anyhow::Result<Option<NatsOptions>> {
    if urls.is_empty() {
        return Ok(None);
    }
    let replica_name = match replica_name {
        Some(n) => n,
        None => host_name()
            .context("cannot read the host name for --replica-name; give --replica-name NAME")?,
    };
    anyhow::ensure!(
        !replica_name.trim().is_empty(),
        "--replica-name must not be empty"
    );
    let mut o = NatsOptions::new(urls, replica_name);
    o.stream = stream;
    o.replicas = replicas.into();
    o.creds = creds;
    o.token_file = token_file;
    o.ca = ca;
    o.max_age = max_age;
    o.max_bytes = max_bytes;
    o.max_lag = max_lag;
    o.index_subjects = index_subjects;
    Ok(Some(o))
}

fn host_name() -> anyhow::Result<String> {
    if let Ok(h) = std::env::var("HOSTNAME")
        && !h.trim().is_empty()
    {
        return Ok(h.trim().to_string());
    }
    Ok(std::fs::read_to_string("/proc/sys/kernel/hostname")?
        .trim()
        .to_string())
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("invalid duration {s:?}"));
    }
    let d = audit_api::time::parse_duration(s).map_err(|e| e.to_string())?;
    Ok(Duration::from_secs(d.as_secs() as u64))
}

/// `--overload-wait`: 0s up to 10s, so that with the log's own deadline
/// every ingest is answered within the apiserver's 30 s timeout.
fn parse_wait(s: &str) -> Result<Duration, String> {
    // A bare 0 needs no unit (the duration parser wants one).
    let d = if s == "0" {
        Duration::ZERO
    } else {
        parse_interval(s)?
    };
    if d > Duration::from_secs(10) {
        return Err(format!(
            "{s:?} is too long: at most 10s, so the apiserver (30 s timeout) gets an answer in time"
        ));
    }
    Ok(d)
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve(*a),
        Command::Import(a) => {
            init_logs(false);
            import(a)
        }
        Command::DeadLetters(a) => dead_letters(a),
        Command::Completion { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "audit-sink",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<()> {
    init_logs(a.log_format == "json");
    let search = Credentials::load(
        a.search_token_file.as_deref(),
        a.search_client_ca.as_deref(),
    )?;
    anyhow::ensure!(
        !search.has_bound_tokens(),
        "--search-token-file: `cluster=` binds ingest tokens only; a search token sees every cluster (filter with the query `cluster:NAME`)"
    );
    let opts = ServeOptions {
        listen: a.listen,
        tls: a.tls_cert.zip(a.tls_key),
        ingest: Credentials::load(a.token_file.as_deref(), a.client_ca.as_deref())?
            .with_cert_cluster(match a.cluster_from_cert.as_deref() {
                Some("cn") => Some(CertClusterField::CommonName),
                Some(_) => Some(CertClusterField::Organization),
                None => None,
            }),
        search,
        pubsub: match a.pubsub_audience {
            None => None,
            Some(audience) => {
                let ca = match &a.pubsub_ca {
                    Some(p) => Some(
                        std::fs::read(p)
                            .with_context(|| format!("reading --pubsub-ca {}", p.display()))?,
                    ),
                    None => None,
                };
                Some(std::sync::Arc::new(
                    audit_sink::server::pubsub::PushAuth::new(
                        audience,
                        &a.pubsub_issuer,
                        &a.pubsub_jwks_url,
                        a.pubsub_service_account,
                        ca.as_deref(),
                    )?,
                ))
            }
        },
        insecure: a.insecure,
        max_body: a.max_body_bytes,
        limits: Limits {
            header_read_timeout: a.header_read_timeout,
            body_read_timeout: a.body_read_timeout,
            idle_timeout: a.idle_timeout,
            max_connections: a.max_connections as usize,
        },
        sink: SinkOptions {
            commit_interval: a.commit_interval,
            retention: a.retention,
            max_pending_events: a.max_pending_events,
            overload_wait: a.overload_wait,
            writer_memory: a.writer_memory_mib * 1024 * 1024,
            redact: a.redaction.options(),
            ..SinkOptions::new(a.data.data_dir)
        },
        cluster_name: a.cluster_name,
        nats: nats_options(
            a.nats,
            a.nats_stream,
            a.nats_replicas,
            a.nats_creds,
            a.nats_token_file,
            a.nats_ca,
            a.nats_max_age,
            a.nats_max_bytes,
            a.replica_name,
            a.max_lag,
            a.index_subjects,
        )?,
        api: a.api.options()?,
    };
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(audit_sink::server::serve(
        opts,
        shutdown_signal(),
        |scheme, addr| {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "listening on {scheme}://{addr}");
            let _ = out.flush();
        },
    ))
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}

fn import(a: ImportArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let sink = Sink::open(SinkOptions {
        redact: a.redaction.options(),
        ..SinkOptions::new(&a.data.data_dir)
    })?;
    let output = a.output;
    let progress = !a.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let opts = audit_sink::import::ImportOptions {
        files: a.files,
        batch: audit_api::DEFAULT_BATCH_SIZE,
        progress,
        format: audit_api::envelope::parse_format_flag(&a.format)?,
        cluster: a.audit_cluster,
    };
    let result = audit_sink::import::import(&sink, &opts);
    sink.shutdown();
    let summaries = result?;
    let mut out = std::io::stdout().lock();
    let r = (|| -> std::io::Result<()> {
        if output == "json" {
            serde_json::to_writer_pretty(&mut out, &summaries)?;
            return writeln!(out);
        }
        writeln!(
            out,
            "{:<40}  {:<9}  {:>8}  {:>10}  DEAD LETTERS",
            "FILE", "FORMAT", "STORED", "DUPLICATES"
        )?;
        for s in &summaries {
            writeln!(
                out,
                "{:<40}  {:<9}  {:>8}  {:>10}  {}",
                s.file,
                s.format,
                s.stored,
                s.duplicates,
                s.dead_text()
            )?;
        }
        let dead: u64 = summaries.iter().map(|s| s.dead_total()).sum();
        if dead > 0 {
            writeln!(
                out,
                "{dead} record(s) not stored were kept with their reason in the dead-letter log (audit-sink dead-letters)."
            )?;
        }
        Ok(())
    })();
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn dead_letters(a: DeadLetterArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut all = audit_sink::deadletter::read_all(&a.data.data_dir).with_context(|| {
        format!(
            "reading the dead-letter log in {}",
            a.data.data_dir.display()
        )
    })?;
    if let Some(n) = a.tail {
        let skip = all.len().saturating_sub(n);
        all.drain(..skip);
    }
    let mut out = std::io::stdout().lock();
    let r = (|| -> std::io::Result<()> {
        if a.output == "json" {
            for d in &all {
                serde_json::to_writer(&mut out, d)?;
                writeln!(out)?;
            }
            return Ok(());
        }
        if all.is_empty() {
            writeln!(out, "No dead letters in {}.", a.data.data_dir.display())?;
            return Ok(());
        }
        writeln!(
            out,
            "{:<28}  {:<6}  {:<22}  {:<48}  BODY",
            "TIME", "SCOPE", "SOURCE", "REASON"
        )?;
        for d in &all {
            let body = String::from_utf8_lossy(&d.bytes()).replace(['\n', '\r'], " ");
            let body: String = body.chars().take(60).collect();
            let reason: String = d.reason.chars().take(48).collect();
            writeln!(
                out,
                "{:<28}  {:<6}  {:<22}  {:<48}  {}",
                d.time,
                d.scope,
                d.source.as_deref().unwrap_or("-"),
                reason,
                body
            )?;
        }
        Ok(())
    })();
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
