//! `cargo xtask corpus`: a deterministic audit-log corpus (JSON lines) built
//! from the real events in `../shared/data/audit`, for benchmarks and soak runs.

use anyhow::{Result, bail};

use crate::workspace::Workspace;

/// Arguments of `cargo xtask corpus`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Extra arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Runs `cargo xtask corpus`.
pub fn run(_ws: &Workspace, _args: Args) -> Result<()> {
    bail!("`cargo xtask corpus` is not implemented yet")
}
