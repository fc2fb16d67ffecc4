//! The command line: subcommands, the friendly filter flags, and how to reach the sink.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kubectl_kit::{OutputFlags, Verbosity};

/// Search, follow and summarise Kubernetes audit events held by audit-sink.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl-audit",
    bin_name = "kubectl audit",
    version,
    about = "Search, follow and summarise Kubernetes audit events held by audit-sink",
    after_help = "Examples:\n  \
        kubectl audit search --verb delete --resource deploy -n prod --since 24h\n  \
        kubectl audit search --resource secrets --verb get --verb list -n prod --since 12h\n  \
        kubectl audit search --status 403 --since 1h\n  \
        kubectl audit search --exec -A\n  \
        kubectl audit who deploy/web -n prod\n  \
        kubectl audit stats --by user --since 24h --histogram\n  \
        kubectl audit search --audit-cluster prod-eu --verb delete --since 1h\n  \
        kubectl audit rbac --serviceaccount ci/deployer --since 7d | kubectl apply -f -\n  \
        kubectl audit tail --user 'system:serviceaccount:*'\n  \
        kubectl audit import /var/log/kubernetes/audit.log*\n\n\
        Exit codes: 0 success, 1 error, 2 usage error (bad flag, bad query)."
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,

    /// Where the sink is.
    #[command(flatten)]
    pub sink: SinkFlags,

    /// The kubeconfig used with --service.
    #[command(flatten)]
    pub cluster: ClusterFlags,

    /// `-o/--output`.
    #[command(flatten)]
    pub output: OutputFlags,

    /// `-v`.
    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Search audit events, newest first.
    Search(SearchArgs),
    /// Stream new matching events as they arrive, until Ctrl-C (same as `search --follow`).
    Tail(TailArgs),
    /// Count events grouped by a field (top N with share), optionally with a histogram over time.
    Stats(StatsArgs),
    /// The timeline of every request that touched one object, oldest first.
    Who(WhoArgs),
    /// Least-privilege Roles/ClusterRoles and bindings from the requests a user, service account or group made.
    Rbac(RbacArgs),
    /// Send audit log files (the apiserver's JSON lines, or EKS, GKE or AKS exports; gzip'd too) to the sink.
    Import(ImportArgs),
    /// Print a shell completion script.
    Completion(kubectl_kit::completion::CompletionArgs),
}

/// How to reach the sink. With none of --server, --service or --index, the
/// current kubeconfig context's `kubext.io/audit-service` extension names a
/// service; without one, the sink's default local address is used.
#[derive(Args, Debug, Clone, Default)]
pub struct SinkFlags {
    /// The sink's URL, e.g. https://audit.example.com:9470 (default: http://127.0.0.1:9470, the address `audit-sink serve` listens on).
    /// Repeat it (or separate URLs with commas) to search, follow and count several sinks as one, newest first.
    #[arg(
        long,
        global = true,
        env = "KUBECTL_AUDIT_SERVER",
        value_name = "URL",
        value_delimiter = ',',
        help_heading = "Sink"
    )]
    pub server: Vec<String>,

    /// With several --server URLs: leave out a sink that cannot be reached or answers 5xx, with a warning, instead of failing.
    #[arg(long, global = true, help_heading = "Sink")]
    pub skip_unavailable: bool,

    /// Reach the sink through the Kubernetes API server's service proxy, with the kubeconfig's credentials.
    #[arg(
        long,
        global = true,
        value_name = "NS/NAME[:PORT]",
        help_heading = "Sink"
    )]
    pub service: Option<String>,

    /// Open an index directory read-only, with no server (needs a build with the `index` feature).
    #[arg(long, global = true, value_name = "DIR", help_heading = "Sink")]
    pub index: Option<PathBuf>,

    /// Read through the Kubernetes API (audit.kubext.io/v1alpha1, served by the sink behind the cluster's aggregator) with the kubeconfig's credentials and RBAC; the default when the current context's cluster serves it.
    #[arg(long, global = true, help_heading = "Sink")]
    pub via_api: bool,

    /// PEM file with the CA certificate(s) that signed the sink's TLS certificate (--server https://…).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sink")]
    pub certificate_authority: Option<PathBuf>,

    /// Bearer token for the sink (prefer --token-file: a token on the command line is visible to other users).
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        env = "KUBECTL_AUDIT_TOKEN",
        hide_env_values = true,
        help_heading = "Sink"
    )]
    pub token: Option<String>,

    /// File holding the bearer token for the sink.
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sink")]
    pub token_file: Option<PathBuf>,

    /// PEM client certificate for the sink (with --client-key).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sink")]
    pub client_certificate: Option<PathBuf>,

    /// PEM private key of --client-certificate.
    #[arg(long, global = true, value_name = "PATH", help_heading = "Sink")]
    pub client_key: Option<PathBuf>,
}

/// The kubeconfig flags (for --service). `--user` is the audit filter here,
/// so the kubeconfig user is chosen with `--kube-user`.
#[derive(Args, Debug, Clone, Default)]
pub struct ClusterFlags {
    /// Path to the kubeconfig file to use (instead of $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH", help_heading = "Kubeconfig")]
    pub kubeconfig: Option<PathBuf>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Kubeconfig")]
    pub context: Option<String>,

    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME", help_heading = "Kubeconfig")]
    pub cluster: Option<String>,

    /// The name of the kubeconfig user to use (kubectl's --user; --user filters events here).
    #[arg(long, global = true, value_name = "NAME", help_heading = "Kubeconfig")]
    pub kube_user: Option<String>,

    /// How long to wait for a single request; 0 waits forever (1s, 2m, 3h).
    #[arg(long, global = true, value_name = "DURATION",
          value_parser = kubectl_kit::parse_flag_duration, help_heading = "Kubeconfig")]
    pub request_timeout: Option<Duration>,
}

/// Filters that build a query. Flags combine with AND; repeated flags (and
/// comma-separated values) combine with OR.
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Free text and query terms, e.g. `verb:delete ns:prod nginx` (see the README for the syntax).
    #[arg(value_name = "QUERY")]
    pub query: Vec<String>,

    /// Only requests made by this user (wildcards: 'system:serviceaccount:prod:*').
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub user: Vec<String>,

    /// Only requests by members of this group.
    #[arg(
        long,
        value_name = "GROUP",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub group: Vec<String>,

    /// Only these verbs (repeatable: --verb get --verb list, or --verb get,list).
    #[arg(
        long,
        value_name = "VERB",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub verb: Vec<String>,

    /// Only this resource; kubectl names work: deploy, po, svc, cm, secrets, deployments.apps.
    #[arg(
        long,
        value_name = "RESOURCE",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub resource: Vec<String>,

    /// Only objects with this name (wildcards: 'web-*').
    #[arg(long, value_name = "NAME", help_heading = "Filters")]
    pub name: Option<String>,

    /// Only this subresource, e.g. exec, log, status, scale.
    #[arg(
        long,
        value_name = "SUBRESOURCE",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub subresource: Vec<String>,

    /// exec, attach and port-forward sessions, whatever the verb (kubectl ≥ 1.35 execs with `get`).
    #[arg(long, help_heading = "Filters")]
    pub exec: bool,

    /// Only objects in this namespace (default: all namespaces).
    #[arg(
        short = 'n',
        long,
        value_name = "NAMESPACE",
        conflicts_with = "all_namespaces",
        help_heading = "Filters"
    )]
    pub namespace: Option<String>,

    /// All namespaces (the default; accepted for kubectl muscle memory).
    #[arg(short = 'A', long, help_heading = "Filters")]
    pub all_namespaces: bool,

    /// Only responses with this code or class: 403, 4xx, 5xx (repeatable).
    #[arg(
        long,
        value_name = "CODE",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub status: Vec<String>,

    /// Only this stage: RequestReceived, ResponseStarted, ResponseComplete, Panic.
    #[arg(long, value_name = "STAGE", help_heading = "Filters")]
    pub stage: Option<String>,

    /// Only events from this cluster, as the sink recorded it (wildcards: 'prod-*'; repeatable).
    /// Not --cluster: that is kubectl's kubeconfig flag.
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub audit_cluster: Vec<String>,

    #[command(flatten)]
    pub time: TimeArgs,
}

/// The time range.
#[derive(Args, Debug, Clone, Default)]
pub struct TimeArgs {
    /// Only events received in this recent span (30m, 2h, 7d) or after this RFC 3339 time.
    #[arg(
        long,
        value_name = "DURATION|TIME",
        conflicts_with = "from",
        help_heading = "Time range"
    )]
    pub since: Option<String>,

    /// Only events received before this time (a duration ago, or RFC 3339).
    #[arg(
        long,
        value_name = "DURATION|TIME",
        conflicts_with = "to",
        help_heading = "Time range"
    )]
    pub until: Option<String>,

    /// Start of the range, RFC 3339 (2024-05-01T10:00:00Z).
    #[arg(long, value_name = "TIME", help_heading = "Time range")]
    pub from: Option<String>,

    /// End of the range (exclusive), RFC 3339.
    #[arg(long, value_name = "TIME", help_heading = "Time range")]
    pub to: Option<String>,
}

/// `search`.
#[derive(Args, Debug)]
pub struct SearchArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// How many events to show (one page).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,

    /// Continue where a previous search stopped (printed on stderr after a full page).
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,

    /// After the results, keep streaming new matching events until Ctrl-C.
    #[arg(short = 'f', long)]
    pub follow: bool,

    /// Every matching event, not one page: follows the cursor to the end, streaming (constant memory).
    #[arg(long, conflicts_with_all = ["follow", "limit"])]
    pub all: bool,
}

/// `tail`.
#[derive(Args, Debug)]
pub struct TailArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// Group by this field: user, verb, resource, namespace, code (or any groupable query field).
    #[arg(long, value_name = "FIELD", default_value = "user")]
    pub by: String,

    /// How many groups to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Also show a histogram of matching events over time.
    #[arg(long)]
    pub histogram: bool,

    /// Histogram bucket width (5m, 1h, 1d); default picked from the time range.
    #[arg(long, value_name = "DURATION")]
    pub interval: Option<String>,
}

/// `who`.
#[derive(Args, Debug)]
pub struct WhoArgs {
    /// The object: TYPE/NAME (deploy/web, secret/db, clusterrole/admin) or TYPE NAME.
    #[arg(value_name = "TYPE/NAME", num_args = 1..=2, required = true)]
    pub object: Vec<String>,

    /// The object's namespace (default: the kubeconfig context's, else "default").
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// Only events from this cluster, as the sink recorded it (wildcards: 'prod-*'; repeatable).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub audit_cluster: Vec<String>,

    #[command(flatten)]
    pub time: TimeArgs,

    /// At most this many events (the oldest are kept).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub limit: usize,
}

/// `rbac`. The subject is `--user` or `--group` (the filters of `search`)
/// or `--serviceaccount`; `--name` names the generated objects, so the
/// object-name filter is `--object-name` here.
#[derive(Args, Debug)]
#[command(
    mut_arg("name", |a| a.long("object-name")),
    mut_arg("user", |a| a.help("The user whose requests to read (its exact name)").help_heading("Subject")),
    mut_arg("group", |a| a.help("The group whose members' requests to read (its exact name)").help_heading("Subject"))
)]
pub struct RbacArgs {
    #[command(flatten)]
    pub filters: FilterArgs,

    /// The service account whose requests to read, as NAMESPACE/NAME (the user system:serviceaccount:NAMESPACE:NAME).
    #[arg(long, value_name = "NAMESPACE/NAME", help_heading = "Subject")]
    pub serviceaccount: Option<String>,

    /// Name of the generated Roles, ClusterRole and bindings (default: kubext-rbac:SUBJECT).
    #[arg(long = "name", value_name = "NAME")]
    pub role_name: Option<String>,

    /// Limit rules to the objects named, for verbs only ever used on named objects (never create, list, watch).
    #[arg(long)]
    pub resource_names: bool,

    /// Grant everything cluster-wide in one ClusterRole instead of a Role per namespace.
    #[arg(long)]
    pub cluster_scope: bool,

    /// Compare with what the subject's bindings in the kubeconfig's cluster grant, and show what was never used.
    #[arg(long)]
    pub existing: bool,
}

/// `import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Audit log files: the apiserver's (one JSON event per line) or EKS, GKE or AKS
    /// exports; gzip'd files are decompressed.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Input format: auto (told from each file's content), apiserver, eks, gke or aks.
    #[arg(long, value_name = "FORMAT", default_value = "auto",
          value_parser = ["auto", "apiserver", "eks", "gke", "aks"])]
    pub format: String,

    /// Cluster of the imported events when the file does not name it
    /// (EKS CloudWatch output and S3 exports, the apiserver's log).
    #[arg(long, value_name = "NAME", value_parser = audit_api::fields::parse_cluster_name)]
    pub audit_cluster: Option<String>,

    /// Also write the records that are not stored (with their reason) to this file, as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub dead_letters: Option<PathBuf>,

    /// Events per EventList sent to the sink (the apiserver's webhook default).
    #[arg(long, value_name = "N", default_value_t = audit_api::DEFAULT_BATCH_SIZE,
          value_parser = clap::value_parser!(usize))]
    pub batch_size: usize,

    /// Hide the progress bar (it is hidden anyway when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
}
