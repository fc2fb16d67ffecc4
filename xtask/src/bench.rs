//! `cargo xtask bench`: the benchmarks of BENCHMARKS.md.

use anyhow::{Result, bail};

use crate::workspace::Workspace;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Extra arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Runs `cargo xtask bench`.
pub fn run(_ws: &Workspace, _args: Args) -> Result<()> {
    bail!("`cargo xtask bench` is not implemented yet")
}
