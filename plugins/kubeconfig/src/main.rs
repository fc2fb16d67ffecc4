//! `kubectl kubeconfig`: company-standard kubeconfigs from a catalog,
//! service-account kubeconfigs, safe merges and context checks.
//!
//! This file parses the command line and hands each subcommand to its
//! function in `commands.rs`; the work lives in the library modules.
//! Exit codes: 0 success, 1 error (including an invalid catalog or a failed
//! check), 2 usage error.

mod commands;

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};
use kubectl_kit::{KubeFlags, OutputFlags, Verbosity};

/// Company-standard kubeconfigs from a catalog, service-account kubeconfigs, safe merges.
#[derive(Parser, Debug)]
#[command(name = "kubectl kubeconfig", bin_name = "kubectl kubeconfig", version)]
struct Cli {
    #[command(flatten)]
    verbosity: Verbosity,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
struct CatalogArgs {
    /// The catalog: a file (`-` for stdin) or an https:// URL.
    #[arg(
        long,
        value_name = "FILE|URL",
        required_unless_present = "from_configmap"
    )]
    catalog: Option<String>,
    /// Read the catalog from a ConfigMap in the cluster instead.
    #[arg(long, value_name = "NAMESPACE/NAME", conflicts_with = "catalog")]
    from_configmap: Option<String>,
    /// The ConfigMap key holding the catalog (default: its only key, else catalog.yaml).
    #[arg(long, value_name = "KEY", requires = "from_configmap")]
    configmap_key: Option<String>,
    /// A CA bundle (PEM) to trust for an https:// catalog, besides the system's.
    #[arg(long, value_name = "FILE")]
    catalog_certificate_authority: Option<PathBuf>,
    /// Kubeconfig used to read --from-configmap.
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// Context used to read --from-configmap.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    #[command(flatten)]
    output: OutputFlags,
}

#[derive(Args, Debug)]
struct GenerateArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// Only this team's contexts (repeatable).
    #[arg(long = "team", value_name = "TEAM", value_delimiter = ',')]
    teams: Vec<String>,
    /// Only these catalog clusters (repeatable, or comma-separated).
    #[arg(long = "cluster", value_name = "CLUSTER", value_delimiter = ',', num_args = 1..)]
    clusters: Vec<String>,
    /// Write the kubeconfig to this file (mode 0600) instead of stdout.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "output_dir"
    )]
    file: Option<PathBuf>,
    /// Write one kubeconfig per team, DIR/TEAM.yaml.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Generate everything without asking, even on a terminal.
    #[arg(long)]
    all: bool,
    /// Show a progress bar (only on a terminal).
    #[arg(long)]
    progress: bool,
    #[command(flatten)]
    output: OutputFlags,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// The kubeconfig to merge in (`-` for stdin).
    #[arg(value_name = "SRC")]
    source: PathBuf,
    /// The kubeconfig to merge into (default: first file of $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    into: Option<PathBuf>,
    /// Replace entries that have the same name and different content.
    #[arg(long)]
    overwrite: bool,
    /// Show what would change and write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args, Debug)]
struct ServiceAccountArgs {
    /// The service account's name.
    #[arg(value_name = "NAME")]
    name: String,
    #[command(flatten)]
    kube: KubeFlags,
    /// How long the token is valid (at least 10m).
    #[arg(long, default_value = "1h", value_parser = kubectl_kubeconfig::serviceaccount::parse_duration)]
    duration: std::time::Duration,
    /// Create a Secret and bind the token to it: deleting the Secret revokes the token.
    #[arg(long)]
    bound_to_secret: bool,
    /// Audience of the token (repeatable; default: the API server's).
    #[arg(long = "audience", value_name = "AUDIENCE")]
    audiences: Vec<String>,
    /// Write the kubeconfig to this file (mode 0600) instead of stdout.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    output: OutputFlags,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Contexts to check (default: --context, else every context of the kubeconfig).
    #[arg(value_name = "CONTEXT")]
    contexts: Vec<String>,
    #[command(flatten)]
    kube: KubeFlags,
    /// How long each context may take.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    timeout: std::time::Duration,
    /// How many contexts are checked at once.
    #[arg(long, default_value_t = 8)]
    parallel: usize,
    /// Show a progress bar (only on a terminal).
    #[arg(long)]
    progress: bool,
    #[command(flatten)]
    output: OutputFlags,
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

fn main() -> std::process::ExitCode {
    if let Some(code) = kubectl_kit::completion::handle(Cli::command, commands::complete) {
        return code;
    }
    let cli = Cli::parse();
    cli.verbosity.init_logging();
    kubectl_kit::run(|| async move {
        match cli.command {
            Command::Validate(args) => commands::validate(args).await,
            Command::Generate(args) => commands::generate(args).await,
            Command::Merge(args) => commands::merge(args),
            Command::Serviceaccount(args) => commands::serviceaccount(args).await,
            Command::Check(args) => commands::check(args).await,
            Command::Completion(args) => {
                kubectl_kit::completion::print(Cli::command(), "kubectl-kubeconfig", args.shell)?;
                Ok(())
            }
        }
    })
}
