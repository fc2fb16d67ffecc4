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

mod browser;
mod cache;
mod cli;
mod current_context;
mod exec_credential;
mod flow;
mod get_token;
mod jwt;
mod logout;
mod loopback;
mod provider;
mod settings;
mod setup;
mod whoami;

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
        Command::GetToken(args) => get_token::run(args),
        Command::Setup(args) => {
            let raw: Vec<String> = std::env::args()
                .skip_while(|a| a != "setup")
                .skip(1)
                .collect();
            setup::run(args, &raw)
        }
        Command::Whoami(args) => whoami::run(args),
        Command::Clean(args) => logout::clean(args),
        Command::Logout(args) => logout::logout(args),
        Command::Completion(args) => Ok(kubectl_kit::completion::print(
            Cli::command(),
            "kubectl-oidc_login",
            args.shell,
        )?),
    })
}
