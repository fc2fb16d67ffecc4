//! `kubectl kubeconfig`: company-standard kubeconfigs from a catalog,
//! service-account kubeconfigs, safe merges and context checks.
//!
//! This file hands each subcommand (parsed by `cli.rs`) to its function in
//! `commands.rs`; the work lives in the library modules.
//! Exit codes: 0 success, 1 error (including an invalid catalog or a failed
//! check), 2 usage error.

mod cli;
mod commands;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};

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
