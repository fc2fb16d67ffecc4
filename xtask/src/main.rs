//! `cargo xtask`: kubext's build automation (the alias is in `.cargo/config.toml`).
//!
//! - `dist`: release binaries → `target/dist/*.tar.gz` + `.sha256`, then the krew manifests;
//! - `krew-manifests`: the manifests again from the archives already in `target/dist`;
//! - `completions`: `completions/` from each binary's `completion SHELL`, and the kubectl helpers;
//! - `check`: every checked-in generated file is fresh and the index passes krew's rules;
//! - `publish-index`: `krew-index/` of HEAD as the root of a branch (the custom index);
//! - `test`, `install`: what the README's set-up section runs;
//! - `corpus`, `bench`, `soak`: the audit corpus, the benchmarks of BENCHMARKS.md and the soak/fault runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use xtask::workspace::{self, Profile, Workspace};
use xtask::{bench, binaries, ci, completions, corpus, dist, krew, publish, soak};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "kubext's build automation", version)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build release archives and their sha256 into target/dist, then write krew-index/plugins/*.yaml.
    Dist {
        /// Build with the dev profile (quick, for trying things; never publish these).
        #[arg(long)]
        dev: bool,
        /// Rust target triple to build for (repeatable); default: this machine.
        #[arg(long = "target", value_name = "TRIPLE")]
        targets: Vec<String>,
        /// Where to write the archives (default: target/dist).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Do not write the krew manifests.
        #[arg(long)]
        no_index: bool,
    },
    /// Write krew-index/plugins/*.yaml from the archives already in target/dist.
    KrewManifests {
        /// Where the archives are (default: target/dist).
        #[arg(long, value_name = "DIR")]
        dist: Option<PathBuf>,
    },
    /// Regenerate completions/ (builds the binaries with the dev profile first).
    Completions {
        /// Only report whether completions/ is stale (exit 1 when it is).
        #[arg(long)]
        check: bool,
    },
    /// Check that the generated files are fresh and the index passes krew's rules.
    Check {
        /// Also check each manifest's sha256 against the archives in this folder (e.g. target/dist).
        #[arg(long, value_name = "DIR")]
        dist: Option<PathBuf>,
    },
    /// Commit krew-index/ of HEAD as the root of a branch: the repository `kubectl krew index add` reads.
    PublishIndex {
        /// The branch to update.
        #[arg(long, default_value = "krew-index")]
        branch: String,
    },
    /// Install what the tests need (npm fixture, chromium as root) and run every crate's tests.
    Test {
        /// Passed to `cargo test --workspace` (e.g. `-- --nocapture`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write a deterministic audit-log corpus (JSON lines) from the real events in ../shared/data/audit.
    Corpus(corpus::Args),
    /// Run the benchmarks reported in BENCHMARKS.md.
    Bench(bench::Args),
    /// Soak and fault runs against the audit sink, bounded in time.
    Soak(soak::Args),
    /// `cargo install` every binary, plus the kubectl completion helpers beside them.
    Install {
        /// Install under this folder (its bin/), as `cargo install --root`.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn report(problems: &[String]) -> Result<()> {
    for problem in problems {
        eprintln!("  {problem}");
    }
    if !problems.is_empty() {
        bail!("{} problem(s)", problems.len());
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    let ws = Workspace::locate()?;
    match cli.command {
        Task::Dist {
            dev,
            targets,
            out,
            no_index,
        } => {
            let out_dir = out.unwrap_or_else(|| dist::default_out_dir(&ws));
            let options = dist::DistOptions {
                profile: if dev { Profile::Dev } else { Profile::Release },
                targets,
                out_dir: out_dir.clone(),
            };
            for archive in dist::build_archives(&ws, &options)? {
                println!("{}  {}", archive.sha256, archive.path.display());
            }
            if !no_index {
                write_manifests(&ws, &out_dir)?;
            }
        }
        Task::KrewManifests { dist } => {
            write_manifests(&ws, &dist.unwrap_or_else(|| dist::default_out_dir(&ws)))?;
        }
        Task::Completions { check } => {
            let bin_dir = ws.build(&ws.present(binaries::BINARIES), Profile::Dev, None)?;
            let generated = completions::generate(&ws, &bin_dir)?;
            for bin in &generated.unsupported {
                eprintln!("warning: {bin} has no `completion` subcommand yet: no scripts for it");
            }
            let dir = ws.root.join("completions");
            if check {
                report(&completions::stale(&dir, &generated)?)?;
            } else {
                completions::write(&dir, &generated)?;
                println!(
                    "wrote {} files under {}",
                    generated.files.len(),
                    dir.display()
                );
            }
        }
        Task::Check { dist } => {
            let mut problems = xtask::stale_manifests(&ws)?;
            problems.extend(xtask::validate_index(
                &ws.root.join("krew-index"),
                dist.as_deref(),
            )?);
            report(&problems)?;
            println!("krew-index is fresh and valid");
        }
        Task::PublishIndex { branch } => match publish::publish(&ws.root, &branch)? {
            publish::Published::Committed(commit) => println!(
                "{branch} is now {commit}.\nkrew clones an index repository's default branch: push it as one, e.g.\n  git push git@github.com:kubext/krew-index.git {branch}:main\nthen users run: kubectl krew index add kubext https://github.com/kubext/krew-index.git"
            ),
            publish::Published::Unchanged(commit) => {
                println!("{branch} ({commit}) already holds this index")
            }
        },
        Task::Test { args } => ci::test(&ws, &args)?,
        Task::Install { root } => ci::install(&ws, root.as_deref())?,
        Task::Corpus(args) => corpus::run(&ws, args)?,
        Task::Bench(args) => bench::run(&ws, args)?,
        Task::Soak(args) => soak::run(&ws, args)?,
    }
    Ok(())
}

fn write_manifests(ws: &Workspace, dist_dir: &std::path::Path) -> Result<()> {
    let archives = dist::find_archives(dist_dir, workspace::VERSION)?;
    if archives.is_empty() {
        bail!(
            "no archive of v{} in {}: run `cargo xtask dist` first",
            workspace::VERSION,
            dist_dir.display()
        );
    }
    let written = krew::write_manifests(&ws.root, workspace::VERSION, &dist::by_binary(&archives))
        .context("writing the krew manifests")?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
