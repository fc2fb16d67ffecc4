//! `kubectl-oidc_login`: an OpenID Connect exec credential plugin for kubectl,
//! a drop-in replacement for int128/kubelogin (same binary name, subcommands
//! and flags) that answers a cached token in about a millisecond.
//!
//! kubectl runs `kubectl-oidc_login get-token …` before each request (the
//! kubeconfig user's `exec` stanza); we print an `ExecCredential` with an
//! id_token from the cache, refreshed or obtained through one of the login
//! flows when needed. `setup`, `whoami`, `clean` and `logout` are for people.
//!
//! Exit codes: 0 success, 1 error, 2 usage error.
//!
//! Layout, with dependencies pointing one way: `commands` (one use case per
//! subcommand) use `flow` (the login grants), `settings` and `adapters`;
//! `settings` turns the `cli` flags into the resolved configuration; the
//! `adapters` (provider, JWT, cache, loopback, browser, ExecCredential) see
//! neither the command line nor the commands.

mod adapters;
mod cli;
mod commands;
mod flow;
mod settings;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    if let Some(code) =
        kubectl_kit::completion::handle(Cli::command, kubectl_kit::completion::no_dynamic)
    {
        return code;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                kubectl_kit::EXIT_USAGE
            } else {
                kubectl_kit::EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let Some(command) = &cli.command else {
        eprintln!(
            "kubectl oidc-login needs a command. kubectl runs `kubectl oidc-login get-token ...` from \
             the exec section of your kubeconfig; to write that section, run \
             `kubectl oidc-login setup --oidc-issuer-url=ISSUER --oidc-client-id=ID`. kubelogin's \
             standalone mode (writing a token into the kubeconfig) is not supported: the exec \
             plugin refreshes tokens itself. See `kubectl oidc-login --help`."
        );
        return ExitCode::from(kubectl_kit::EXIT_USAGE);
    };
    kubectl_kit::run_sync(|| match command {
        Command::Version => {
            println!("kubectl-oidc_login version v{}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::GetToken(args) => commands::get_token::run(args),
        Command::Setup(args) => {
            let raw: Vec<String> = std::env::args()
                .skip_while(|a| a != "setup")
                .skip(1)
                .collect();
            commands::setup::run(args, &raw)
        }
        Command::Whoami(args) => commands::whoami::run(args),
        Command::Clean(args) => commands::clean::run(args),
        Command::Logout(args) => commands::logout::run(args),
        Command::Completion(args) => Ok(kubectl_kit::completion::print(
            Cli::command(),
            "kubectl-oidc_login",
            args.shell,
        )?),
    })
}
