//! The command line: `serve`, `import`, `dead-letters` and `completion`,
//! their flags, and the conversion of `serve`'s flags into the library's
//! [`ServeOptions`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use audit_api::time::parse_flag_duration;
use audit_sink::auth::{CertClusterField, Credentials};
use audit_sink::nats::NatsOptions;
use audit_sink::pipeline::SinkOptions;
use audit_sink::server::{DEFAULT_MAX_BODY, Limits, ServeOptions};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "audit-sink",
    version,
    about = "Durable, searchable target for the kube-apiserver's audit webhook"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct DataDir {
    /// Data directory: write-ahead log, index, dead-letter log.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "./audit-data",
        env = "AUDIT_SINK_DATA_DIR"
    )]
    pub(crate) data_dir: PathBuf,
}

/// What is redacted before anything is stored.
#[derive(Args)]
pub(crate) struct RedactArgs {
    /// Also redact this JSON path in events about this resource:
    /// RESOURCE[.GROUP][/NAMESPACE]:PATH, e.g. configmaps/prod:data (repeatable).
    #[arg(long = "redact", value_name = "RULE")]
    pub(crate) redact: Vec<audit_api::redact::ExtraRule>,
    /// Store Secret data and tokens as received (logged as a warning, and
    /// audit_sink_secret_redaction_enabled is 0 in /metrics).
    #[arg(long)]
    pub(crate) no_redact_secrets: bool,
    /// Key of the value hashes in redaction markers (default: DATA_DIR/redact.key,
    /// created on first start; share it between replicas for equal markers).
    #[arg(long, value_name = "FILE")]
    pub(crate) redact_key_file: Option<PathBuf>,
}

impl RedactArgs {
    pub(crate) fn options(self) -> audit_sink::redaction::RedactOptions {
        audit_sink::redaction::RedactOptions {
            secrets: !self.no_redact_secrets,
            extra: self.redact,
            key_file: self.redact_key_file,
        }
    }
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = audit_api::DEFAULT_LISTEN)]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) data: DataDir,
    #[command(flatten)]
    pub(crate) redaction: RedactArgs,
    /// TLS certificate chain (PEM); enables HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// CA bundle (PEM) for client certificates allowed to ingest.
    #[arg(long, value_name = "FILE")]
    pub(crate) client_ca: Option<PathBuf>,
    /// File of bearer tokens allowed to ingest: one per line, `TOKEN` or
    /// `TOKEN cluster=NAME` (that token writes only as cluster NAME).
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// The cluster of events whose credential is bound to none and whose
    /// webhook URL has no ?cluster=NAME.
    #[arg(long, value_name = "NAME", default_value = audit_api::fields::DEFAULT_CLUSTER, value_parser = audit_api::fields::parse_cluster_name)]
    pub(crate) cluster_name: String,
    /// Bind each ingest client certificate to the cluster named by its subject's CN or O.
    #[arg(long, value_name = "cn|o", value_parser = ["cn", "o"], requires = "client_ca")]
    pub(crate) cluster_from_cert: Option<String>,
    /// CA bundle (PEM) for client certificates allowed to search.
    #[arg(long, value_name = "FILE")]
    pub(crate) search_client_ca: Option<PathBuf>,
    /// File of bearer tokens (one per line) allowed to search, stats and follow.
    #[arg(long, value_name = "FILE")]
    pub(crate) search_token_file: Option<PathBuf>,
    /// Accept Pub/Sub push requests whose Google-signed OIDC token has this
    /// audience (the push subscription's --push-auth-token-audience).
    #[arg(long, value_name = "AUDIENCE")]
    pub(crate) pubsub_audience: Option<String>,
    /// Only from this push service account (the token's email claim).
    #[arg(long, value_name = "EMAIL", requires = "pubsub_audience")]
    pub(crate) pubsub_service_account: Option<String>,
    /// Issuer of push tokens.
    #[arg(long, value_name = "URL", default_value = audit_sink::server::pubsub::GOOGLE_ISSUER)]
    pub(crate) pubsub_issuer: String,
    /// Where the issuer's signing keys are (JWKS).
    #[arg(long, value_name = "URL", default_value = audit_sink::server::pubsub::GOOGLE_JWKS)]
    pub(crate) pubsub_jwks_url: String,
    /// Extra CA bundle (PEM) trusted when fetching --pubsub-jwks-url.
    #[arg(long, value_name = "FILE")]
    pub(crate) pubsub_ca: Option<PathBuf>,
    /// Allow listening on a non-loopback address without authentication.
    #[arg(long)]
    pub(crate) insecure: bool,
    /// Largest request body accepted (bytes, also after gzip decoding); larger gets 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    pub(crate) max_body_bytes: usize,
    /// Longest time from 200 to searchable (index commit cadence), e.g. 500ms, 1s.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = parse_flag_duration)]
    pub(crate) commit_interval: Duration,
    /// Drop whole day partitions older than this (e.g. 30d); default: keep everything.
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration)]
    pub(crate) retention: Option<Duration>,
    /// Acknowledged events waiting for the index writer beyond which ingest
    /// waits for room (--overload-wait), then answers 429.
    #[arg(long, value_name = "N", default_value_t = 25_000)]
    pub(crate) max_pending_events: usize,
    /// How long an ingest request waits for room while the index queue is full
    /// before it is answered 429 with Retry-After, e.g. 0s, 2s.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_wait)]
    pub(crate) overload_wait: Duration,
    /// Index writer memory per open day partition, MiB.
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub(crate) writer_memory_mib: usize,
    /// Log format on stderr.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) log_format: String,
    /// Longest time to receive a request's headers, and the first request on a new
    /// connection (and its TLS handshake); slower connections are closed.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_flag_duration)]
    pub(crate) header_read_timeout: Duration,
    /// Longest time to receive a whole ingest body; slower uploads get 408 and are closed.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_flag_duration)]
    pub(crate) body_read_timeout: Duration,
    /// Close keep-alive connections with no request for this long.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = parse_flag_duration)]
    pub(crate) idle_timeout: Duration,
    /// Most connections served at once; more wait in the listen backlog until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: u32,
    /// NATS server URLs (comma-separated, nats:// or tls://): a JetStream
    /// stream becomes the log of record instead of the local write-ahead
    /// log, and this process one replica of a fleet.
    #[arg(
        long,
        value_name = "URL[,URL…]",
        value_delimiter = ',',
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) nats: Vec<String>,
    /// The JetStream stream holding the events (created when missing).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "KUBEXT_AUDIT",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) nats_stream: String,
    /// Replicas of the stream when the sink creates it (a quorum acknowledges each event).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5), requires = "nats", help_heading = "Fleet (NATS JetStream)")]
    pub(crate) nats_replicas: u8,
    /// NATS credentials file (JWT and NKey seed).
    #[arg(
        long,
        value_name = "FILE",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) nats_creds: Option<PathBuf>,
    /// File holding a NATS token.
    #[arg(
        long,
        value_name = "FILE",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) nats_token_file: Option<PathBuf>,
    /// CA bundle (PEM) of the NATS servers' certificates; requires TLS.
    #[arg(
        long,
        value_name = "FILE",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) nats_ca: Option<PathBuf>,
    /// Drop events older than this from the stream when the sink creates it (e.g. 30d).
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration, requires = "nats", help_heading = "Fleet (NATS JetStream)")]
    pub(crate) nats_max_age: Option<Duration>,
    /// Size limit of the stream when the sink creates it (oldest events go first).
    #[arg(
        long,
        value_name = "BYTES",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) nats_max_bytes: Option<i64>,
    /// This replica's name, which names its durable consumer (default: the host name).
    #[arg(
        long,
        value_name = "NAME",
        env = "AUDIT_SINK_REPLICA_NAME",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) replica_name: Option<String>,
    /// /readyz answers 503 while this replica's index is further behind the stream.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_flag_duration, help_heading = "Fleet (NATS JetStream)")]
    pub(crate) max_lag: Duration,
    /// Index only these subjects (repeatable), e.g. kubext.audit.prod-eu; default: every cluster.
    #[arg(
        long,
        value_name = "SUBJECT",
        requires = "nats",
        help_heading = "Fleet (NATS JetStream)"
    )]
    pub(crate) index_subjects: Vec<String>,
    #[command(flatten)]
    pub(crate) api: ApiArgs,
}

impl ServeArgs {
    /// The server's options from the flags: credentials and CA files read,
    /// combinations checked.
    pub(crate) fn options(self) -> anyhow::Result<ServeOptions> {
        let search = Credentials::load(
            self.search_token_file.as_deref(),
            self.search_client_ca.as_deref(),
        )?;
        anyhow::ensure!(
            !search.has_bound_tokens(),
            "--search-token-file: `cluster=` binds ingest tokens only; a search token sees every cluster (filter with the query `cluster:NAME`)"
        );
        Ok(ServeOptions {
            listen: self.listen,
            tls: self.tls_cert.zip(self.tls_key),
            ingest: Credentials::load(self.token_file.as_deref(), self.client_ca.as_deref())?
                .with_cert_cluster(match self.cluster_from_cert.as_deref() {
                    Some("cn") => Some(CertClusterField::CommonName),
                    Some(_) => Some(CertClusterField::Organization),
                    None => None,
                }),
            search,
            pubsub: match self.pubsub_audience {
                None => None,
                Some(audience) => {
                    let ca = match &self.pubsub_ca {
                        Some(p) => Some(
                            std::fs::read(p)
                                .with_context(|| format!("reading --pubsub-ca {}", p.display()))?,
                        ),
                        None => None,
                    };
                    Some(std::sync::Arc::new(
                        audit_sink::server::pubsub::PushAuth::new(
                            audience,
                            &self.pubsub_issuer,
                            &self.pubsub_jwks_url,
                            self.pubsub_service_account,
                            ca.as_deref(),
                        )?,
                    ))
                }
            },
            insecure: self.insecure,
            max_body: self.max_body_bytes,
            limits: Limits {
                header_read_timeout: self.header_read_timeout,
                body_read_timeout: self.body_read_timeout,
                idle_timeout: self.idle_timeout,
                max_connections: self.max_connections as usize,
            },
            sink: SinkOptions {
                commit_interval: self.commit_interval,
                retention: self.retention,
                max_pending_events: self.max_pending_events,
                overload_wait: self.overload_wait,
                writer_memory: self.writer_memory_mib * 1024 * 1024,
                redact: self.redaction.options(),
                ..SinkOptions::new(self.data.data_dir)
            },
            cluster_name: self.cluster_name,
            nats: nats_options(
                self.nats,
                self.nats_stream,
                self.nats_replicas,
                self.nats_creds,
                self.nats_token_file,
                self.nats_ca,
                self.nats_max_age,
                self.nats_max_bytes,
                self.replica_name,
                self.max_lag,
                self.index_subjects,
            )?,
            api: self.api.options()?,
        })
    }
}

/// The aggregated API `audit.kubext.io/v1alpha1` (k8s.io/apiserver's flag names).
#[derive(Args)]
#[command(next_help_heading = "Kubernetes aggregated API (audit.kubext.io)")]
pub(crate) struct ApiArgs {
    /// Serve the API group audit.kubext.io over TLS on this address, for the
    /// kube-apiserver's aggregator (APIService v1alpha1.audit.kubext.io).
    #[arg(long, value_name = "ADDR:PORT", requires_all = ["api_tls_cert", "api_tls_key"])]
    pub(crate) api_listen: Option<SocketAddr>,
    /// Serving certificate chain (PEM) of the API; the APIService's caBundle verifies it.
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    pub(crate) api_tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --api-tls-cert.
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    pub(crate) api_tls_key: Option<PathBuf>,
    /// CA bundle (PEM) of the front-proxy client certificates allowed to name
    /// users in the request headers; default: read from ConfigMap
    /// kube-system/extension-apiserver-authentication.
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    pub(crate) requestheader_client_ca_file: Option<PathBuf>,
    /// Front-proxy certificate CNs allowed (comma-separated); empty: any
    /// certificate signed by the request-header CA.
    #[arg(
        long,
        value_name = "CN[,CN…]",
        value_delimiter = ',',
        requires = "requestheader_client_ca_file"
    )]
    pub(crate) requestheader_allowed_names: Vec<String>,
    /// Request headers naming the user (the first present wins).
    #[arg(
        long,
        value_name = "HEADER[,…]",
        value_delimiter = ',',
        default_value = "X-Remote-User",
        requires = "requestheader_client_ca_file"
    )]
    pub(crate) requestheader_username_headers: Vec<String>,
    /// Request headers naming the user's groups.
    #[arg(
        long,
        value_name = "HEADER[,…]",
        value_delimiter = ',',
        default_value = "X-Remote-Group",
        requires = "requestheader_client_ca_file"
    )]
    pub(crate) requestheader_group_headers: Vec<String>,
    /// Prefixes of request headers carrying the user's extra attributes.
    #[arg(
        long,
        value_name = "PREFIX[,…]",
        value_delimiter = ',',
        default_value = "X-Remote-Extra-",
        requires = "requestheader_client_ca_file"
    )]
    pub(crate) requestheader_extra_headers_prefix: Vec<String>,
    /// Kubeconfig to read ConfigMap kube-system/extension-apiserver-authentication
    /// with, when --requestheader-client-ca-file is not given (default: in-cluster).
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    pub(crate) authentication_kubeconfig: Option<PathBuf>,
    /// Kubeconfig to POST SubjectAccessReviews with (default: in-cluster).
    #[arg(long, value_name = "FILE", requires = "api_listen")]
    pub(crate) authorization_kubeconfig: Option<PathBuf>,
    /// How long an allowed SubjectAccessReview answer is cached.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_flag_duration)]
    pub(crate) authorization_webhook_cache_authorized_ttl: Duration,
    /// How long a denied SubjectAccessReview answer is cached.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_flag_duration)]
    pub(crate) authorization_webhook_cache_unauthorized_ttl: Duration,
}

impl ApiArgs {
    pub(crate) fn options(self) -> anyhow::Result<Option<audit_sink::apiserver::ApiOptions>> {
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

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// Audit log files: the apiserver's log backend, or EKS, GKE or AKS exports (gzip'd or not).
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) data: DataDir,
    #[command(flatten)]
    pub(crate) redaction: RedactArgs,
    /// Input format: auto (told from each file's content), apiserver, eks, gke or aks.
    #[arg(long, value_name = "FORMAT", default_value = "auto",
          value_parser = ["auto", "apiserver", "eks", "gke", "aks"])]
    pub(crate) format: String,
    /// Cluster of the imported events when the file does not name it
    /// (EKS CloudWatch output and S3 exports, the apiserver's log).
    #[arg(long, value_name = "NAME", value_parser = audit_api::fields::parse_cluster_name)]
    pub(crate) audit_cluster: Option<String>,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Output: table, or json (an array with one summary per file).
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json"])]
    pub(crate) output: String,
}

#[derive(Args)]
pub(crate) struct DeadLetterArgs {
    #[command(flatten)]
    pub(crate) data: DataDir,
    /// Output: table, or json (one object per line, bodies verbatim).
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json"])]
    pub(crate) output: String,
    /// Show only the last N entries.
    #[arg(long, value_name = "N")]
    pub(crate) tail: Option<usize>,
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

/// `--overload-wait`: 0s up to 10s, so that with the log's own deadline
/// every ingest is answered within the apiserver's 30 s timeout.
fn parse_wait(s: &str) -> Result<Duration, String> {
    let d = parse_flag_duration(s).map_err(|e| e.to_string())?;
    if d > Duration::from_secs(10) {
        return Err(format!(
            "{s:?} is too long: at most 10s, so the apiserver (30 s timeout) gets an answer in time"
        ));
    }
    Ok(d)
}
