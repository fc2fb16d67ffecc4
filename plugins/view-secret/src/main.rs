//! `kubectl view-secret` (binary `kubectl-view_secret`): print a Secret's
//! values decoded — one key, every key, or what a certificate, registry
//! credential or Helm release inside it says — with kubectl's flags and exit
//! codes (0 ok, 1 error, 2 usage). `cli.rs` holds the flags and `view.rs` the
//! command; the decoding and rendering live in the library's modules.

mod cli;
mod view;

use clap::{CommandFactory, Parser};
use kubectl_kit::completion::{self, Candidate, Request, Target};
use kubectl_view_secret::cluster;

use cli::{Cli, Command, compat_args};

const BIN_NAME: &str = "kubectl-view_secret";

fn main() -> std::process::ExitCode {
    if let Some(code) = completion::handle(Cli::command, complete_dynamic) {
        return code;
    }
    let cli = match Cli::try_parse_from(compat_args(std::env::args_os())) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cli.verbosity.init_logging();
    if let Some(Command::Completion(args)) = &cli.command {
        let shell = args.shell;
        return kubectl_kit::run_sync(|| Ok(completion::print(Cli::command(), BIN_NAME, shell)?));
    }
    kubectl_kit::run(|| view::run(cli))
}

/// Secret names for NAME, that secret's keys for KEY.
fn complete_dynamic(request: &Request) -> Option<Vec<Candidate>> {
    let Target::Positional { id, .. } = request.target() else {
        return None;
    };
    let flags = request.kube_flags();
    completion::block_on(async move {
        let client = flags.client().await.ok()?;
        let namespace = flags.namespace().ok()?;
        match id.as_str() {
            "name" => cluster::secret_names(&client, &namespace)
                .await
                .ok()
                .map(|names| names.into_iter().map(Candidate::from).collect()),
            "key" => {
                let name = request.positionals().first()?;
                let secret = cluster::get_secret(&client, &namespace, name).await.ok()?;
                Some(
                    secret
                        .data
                        .unwrap_or_default()
                        .into_keys()
                        .map(Candidate::from)
                        .collect(),
                )
            }
            _ => None,
        }
    })
    .flatten()
}
