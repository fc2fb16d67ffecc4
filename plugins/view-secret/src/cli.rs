//! The command line: kubectl's flags from the kit plus view-secret's own.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};
use kubectl_kit::{KubeFlags, OutputFlags, Verbosity};

const EXAMPLES: &str = "\
Examples:
  # Show a secret's only key, or pick one of its keys
  kubectl view-secret db-credentials

  # Show one key
  kubectl view-secret db-credentials password

  # Show every key as key='value'
  kubectl view-secret db-credentials --all

  # Read a TLS secret's certificate: subject, SANs, validity, chain order
  kubectl view-secret ingress-tls tls.crt

  # Registry credentials, with passwords
  kubectl view-secret regcred --show-passwords

  # A Helm release with its values
  kubectl view-secret sh.helm.release.v1.shop.v4 --values

  # Find secrets whose names start with \"db-\" in every namespace you can read
  kubectl view-secret -A db-

  # The secret with decoded values, as a manifest
  kubectl view-secret db-credentials -o yaml";

/// Decode a Kubernetes Secret: print a key's value, every key, or what a
/// certificate, registry credential or Helm release inside it says.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl view-secret",
    bin_name = "kubectl view-secret",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Other commands.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The view itself.
    #[command(flatten)]
    pub view: ViewArgs,

    /// kubectl's connection flags.
    #[command(flatten)]
    pub kube: KubeFlags,

    /// `-o json|yaml`.
    #[command(flatten)]
    pub output: OutputFlags,

    /// `-v N`.
    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// Subcommands besides viewing a secret.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion(kubectl_kit::completion::CompletionArgs),
}

/// What to show and how.
#[derive(Args, Debug, Clone, Default)]
pub struct ViewArgs {
    /// The secret's name (with -A: a name prefix). Without it, pick a secret or list them.
    pub name: Option<String>,

    /// The key to show. Without it: the only key, or pick one, or list the keys.
    pub key: Option<String>,

    /// Show every key, as key='value' blocks.
    #[arg(short = 'a', long, conflicts_with = "key")]
    pub all: bool,

    /// Drop the informational lines on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Search every namespace you can read for secrets whose names start with NAME.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// Print values exactly as stored: no certificate, registry, Helm or binary interpretation.
    #[arg(long)]
    pub raw: bool,

    /// Interpret values (certificates, registries, Helm releases, hex dumps) even when stdout is not a terminal.
    #[arg(long, conflicts_with = "raw")]
    pub interpret: bool,

    /// Show registry passwords of docker config secrets (hidden otherwise).
    #[arg(long)]
    pub show_passwords: bool,

    /// Show the user-supplied values of a Helm release.
    #[arg(long)]
    pub values: bool,

    /// Username to impersonate for the request (a user or system:serviceaccount:NS:NAME).
    #[arg(long = "as", value_name = "USER")]
    pub as_user: Option<String>,

    /// Group to impersonate for the request; repeat for several groups.
    #[arg(long = "as-group", value_name = "GROUP", requires = "as_user")]
    pub as_group: Vec<String>,
}

/// Accepts the short flags of the view-secret plugin this one replaces:
/// `-c CONTEXT` for `--context` and `-k PATH` for `--kubeconfig`.
pub fn compat_args<I: IntoIterator<Item = OsString>>(args: I) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut literal = false;
    for arg in args {
        if literal {
            out.push(arg);
            continue;
        }
        let text = arg.to_string_lossy();
        let rewritten = match text.as_ref() {
            "--" => {
                literal = true;
                None
            }
            "-c" => Some("--context".to_string()),
            "-k" => Some("--kubeconfig".to_string()),
            t if t.starts_with("-c=") => Some(format!("--context={}", &t[3..])),
            t if t.starts_with("-k=") => Some(format!("--kubeconfig={}", &t[3..])),
            t if t.starts_with("-c") && t.len() > 2 && !t.starts_with("--") => {
                Some(format!("--context={}", &t[2..]))
            }
            t if t.starts_with("-k") && t.len() > 2 && !t.starts_with("--") => {
                Some(format!("--kubeconfig={}", &t[2..]))
            }
            _ => None,
        };
        out.push(rewritten.map(OsString::from).unwrap_or(arg));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(compat_args(
            std::iter::once("kubectl-view_secret")
                .chain(args.iter().copied())
                .map(OsString::from),
        ))
    }

    #[test]
    fn the_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn name_key_and_flags() {
        let cli = parse(&["db", "password", "-n", "prod", "-q", "-o", "json"]).unwrap();
        assert_eq!(cli.view.name.as_deref(), Some("db"));
        assert_eq!(cli.view.key.as_deref(), Some("password"));
        assert!(cli.view.quiet);
        assert_eq!(cli.kube.namespace.as_deref(), Some("prod"));
        assert_eq!(cli.output.format(), kubectl_kit::OutputFormat::Json);
        assert!(cli.command.is_none());
    }

    #[test]
    fn short_context_and_kubeconfig_of_the_old_plugin() {
        let cli = parse(&["db", "-c", "staging", "-k=/tmp/kc", "-a"]).unwrap();
        assert_eq!(cli.kube.context.as_deref(), Some("staging"));
        assert_eq!(
            cli.kube.kubeconfig.as_deref(),
            Some(std::path::Path::new("/tmp/kc"))
        );
        assert!(cli.view.all);
        let cli = parse(&["-cprod", "db"]).unwrap();
        assert_eq!(cli.kube.context.as_deref(), Some("prod"));
        // After `--` nothing is rewritten.
        let cli = parse(&["--", "-c"]).unwrap();
        assert_eq!(cli.view.name.as_deref(), Some("-c"));
    }

    #[test]
    fn conflicting_flags_are_usage_errors() {
        assert!(parse(&["db", "key", "--all"]).is_err());
        assert!(parse(&["db", "--raw", "--interpret"]).is_err());
        assert!(parse(&["-A", "db", "-n", "prod"]).is_err());
        assert!(parse(&["db", "--as-group", "g"]).is_err());
    }

    #[test]
    fn completion_is_a_subcommand_but_a_secret_can_share_its_name() {
        let cli = parse(&["completion", "bash"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Completion(_))));
        let cli = parse(&["help"]).unwrap();
        assert_eq!(cli.view.name.as_deref(), Some("help"));
        let cli = parse(&["--", "completion"]).unwrap();
        assert_eq!(cli.view.name.as_deref(), Some("completion"));
    }
}
