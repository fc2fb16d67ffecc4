//! `cargo xtask soak`: bounded soak and fault runs against the audit sink.

use anyhow::{Result, bail};

use crate::workspace::Workspace;

/// Arguments of `cargo xtask soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Extra arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

/// Runs `cargo xtask soak`.
pub fn run(_ws: &Workspace, _args: Args) -> Result<()> {
    bail!("`cargo xtask soak` is not implemented yet")
}
