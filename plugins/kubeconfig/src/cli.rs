//! The command line: the subcommands and their flags, kubectl's own from the kit.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use kubectl_kit::{KubeFlags, OutputFlags, Verbosity};

/// Company-standard kubeconfigs from a catalog, service-account kubeconfigs, safe merges.
#[derive(Parser, Debug)]
#[command(name = "kubectl kubeconfig", bin_name = "kubectl kubeconfig", version)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) verbosity: Verbosity,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Check a catalog and report every problem with its place in the document.
    Validate(ValidateArgs),
    /// Generate kubeconfigs whose users log in with `kubectl oidc-login`.
    Generate(GenerateArgs),
    /// Merge a kubeconfig into yours, showing what is added, changed and kept.
    Merge(MergeArgs),
    /// A kubeconfig for a service account, with a short-lived token (TokenRequest).
    #[command(visible_alias = "sa")]
    Serviceaccount(ServiceAccountArgs),
    /// Check that contexts work: reach the API server and ask who we are.
    Check(CheckArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(kubectl_kit::completion::CompletionArgs),
}

/// Where the catalog comes from.
#[derive(Args, Debug, Clone)]
pub(crate) struct CatalogArgs {
    /// The catalog: a file (`-` for stdin) or an https:// URL.
    #[arg(
        long,
        value_name = "FILE|URL",
        required_unless_present = "from_configmap"
    )]
    pub(crate) catalog: Option<String>,
    /// Read the catalog from a ConfigMap in the cluster instead.
    #[arg(long, value_name = "NAMESPACE/NAME", conflicts_with = "catalog")]
    pub(crate) from_configmap: Option<String>,
    /// The ConfigMap key holding the catalog (default: its only key, else catalog.yaml).
    #[arg(long, value_name = "KEY", requires = "from_configmap")]
    pub(crate) configmap_key: Option<String>,
    /// A CA bundle (PEM) to trust for an https:// catalog, besides the system's.
    #[arg(long, value_name = "FILE")]
    pub(crate) catalog_certificate_authority: Option<PathBuf>,
    /// Kubeconfig used to read --from-configmap.
    #[arg(long, value_name = "PATH")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// Context used to read --from-configmap.
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
    #[command(flatten)]
    pub(crate) output: OutputFlags,
}

#[derive(Args, Debug)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
    /// Only this team's contexts (repeatable).
    #[arg(long = "team", value_name = "TEAM", value_delimiter = ',')]
    pub(crate) teams: Vec<String>,
    /// Only these catalog clusters (repeatable, or comma-separated).
    #[arg(long = "cluster", value_name = "CLUSTER", value_delimiter = ',', num_args = 1..)]
    pub(crate) clusters: Vec<String>,
    /// Write the kubeconfig to this file (mode 0600) instead of stdout.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "output_dir"
    )]
    pub(crate) file: Option<PathBuf>,
    /// Write one kubeconfig per team, DIR/TEAM.yaml.
    #[arg(long, value_name = "DIR")]
    pub(crate) output_dir: Option<PathBuf>,
    /// Generate everything without asking, even on a terminal.
    #[arg(long)]
    pub(crate) all: bool,
    /// Show a progress bar (only on a terminal).
    #[arg(long)]
    pub(crate) progress: bool,
    #[command(flatten)]
    pub(crate) output: OutputFlags,
}

#[derive(Args, Debug)]
pub(crate) struct MergeArgs {
    /// The kubeconfig to merge in (`-` for stdin).
    #[arg(value_name = "SRC")]
    pub(crate) source: PathBuf,
    /// The kubeconfig to merge into (default: first file of $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub(crate) into: Option<PathBuf>,
    /// Replace entries that have the same name and different content.
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// Show what would change and write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ServiceAccountArgs {
    /// The service account's name.
    #[arg(value_name = "NAME")]
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) kube: KubeFlags,
    /// How long the token is valid (at least 10m).
    #[arg(long, default_value = "1h", value_parser = kubectl_kubeconfig::serviceaccount::parse_duration)]
    pub(crate) duration: std::time::Duration,
    /// Create a Secret and bind the token to it: deleting the Secret revokes the token.
    #[arg(long)]
    pub(crate) bound_to_secret: bool,
    /// Audience of the token (repeatable; default: the API server's).
    #[arg(long = "audience", value_name = "AUDIENCE")]
    pub(crate) audiences: Vec<String>,
    /// Write the kubeconfig to this file (mode 0600) instead of stdout.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputFlags,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Contexts to check (default: --context, else every context of the kubeconfig).
    #[arg(value_name = "CONTEXT")]
    pub(crate) contexts: Vec<String>,
    #[command(flatten)]
    pub(crate) kube: KubeFlags,
    /// How long each context may take.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub(crate) timeout: std::time::Duration,
    /// How many contexts are checked at once.
    #[arg(long, default_value_t = 8)]
    pub(crate) parallel: usize,
    /// Show a progress bar (only on a terminal).
    #[arg(long)]
    pub(crate) progress: bool,
    #[command(flatten)]
    pub(crate) output: OutputFlags,
}

fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let d: jiff::SignedDuration = text
        .parse()
        .map_err(|_| format!("invalid timeout {text:?}: use e.g. 5s or 1m"))?;
    std::time::Duration::try_from(d)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("invalid timeout {text:?}: it must be positive"))
}
