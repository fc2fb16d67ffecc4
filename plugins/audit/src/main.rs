//! `kubectl audit`: search, follow and summarise the Kubernetes audit events
//! held by `audit-sink`, and import apiserver audit log files into it.
//!
//! The sink is reached directly over HTTP(S) (`--server`), through the
//! Kubernetes API server's service proxy with the kubeconfig's credentials
//! (`--service`), or — in a build with the `index` feature — by opening a
//! copied index directory read-only (`--index`). Friendly flags (`--user`,
//! `--verb`, `--resource deploy`, `--status 4xx`, …) build a query in the
//! sink's language, which is checked locally with the shared parser from
//! `audit-api` before any request. Exit codes: 0 success, 1 error, 2 usage.

mod cli;
mod client;
mod completion;
mod export;
mod filters;
mod merge;
mod rbac;
mod render;
mod resources;
mod search;
mod stats;
mod upload;
mod who;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};

fn main() -> std::process::ExitCode {
    if let Some(code) = kubectl_kit::completion::handle(Cli::command, completion::dynamic) {
        return code;
    }
    let cli = Cli::parse();
    cli.verbosity.init_logging();
    kubectl_kit::run(|| dispatch(cli))
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Search(args) => search::search(&cli, args).await,
        Command::Tail(args) => search::tail(&cli, args).await,
        Command::Stats(args) => stats::stats(&cli, args).await,
        Command::Who(args) => who::who(&cli, args).await,
        Command::Rbac(args) => rbac::rbac(&cli, args).await,
        Command::Import(args) => upload::import(&cli, args).await,
        Command::Completion(args) => {
            kubectl_kit::completion::print(Cli::command(), "kubectl-audit", args.shell)?;
            Ok(())
        }
    }
}
