//! A minimal kubectl plugin for the completion tests: it wires
//! `kubectl_kit::completion` exactly as kubext's plugins do, with a dynamic
//! hook, so `kubectl __complete kubext-demo …` can be checked end to end
//! whatever state the real plugins are in.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use kubectl_kit::completion::{self, Candidate, CompletionArgs, Request, Target};

/// Show demo things.
#[derive(Parser)]
#[command(name = "kubectl-kubext_demo")]
struct Cli {
    #[command(flatten)]
    kube: kubectl_kit::KubeFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show one thing and one of its keys.
    Show {
        /// The thing's name.
        name: String,
        /// One of its keys.
        key: Option<String>,
        /// Print every key.
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// Print a shell completion script.
    Completion(CompletionArgs),
}

/// Things and their keys, standing in for what a real plugin reads from the cluster.
fn dynamic(request: &Request) -> Option<Vec<Candidate>> {
    match request.target() {
        Target::Positional { id, .. } if id == "name" => Some(vec![
            Candidate::with_help("alpha", "the first thing"),
            "beta".into(),
        ]),
        Target::Positional { id, .. } if id == "key" => {
            let thing = request.positionals().first()?;
            Some(vec![
                format!("{thing}-key1").into(),
                format!("{thing}-key2").into(),
            ])
        }
        _ => None,
    }
}

fn main() -> ExitCode {
    if let Some(code) = completion::handle(Cli::command, dynamic) {
        return code;
    }
    kubectl_kit::run_sync(|| {
        let cli = Cli::parse();
        match cli.command {
            Command::Show { name, .. } => println!("{name}"),
            Command::Completion(args) => {
                completion::print(Cli::command(), "kubectl-kubext_demo", args.shell)?
            }
        }
        Ok(())
    })
}
