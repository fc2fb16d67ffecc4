//! The `completion SHELL` subcommand every plugin offers, as `kubectl completion` does.

use std::io;

use clap::Args;
use clap_complete::Shell;

/// Arguments of a plugin's `completion` subcommand.
#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell to print a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script of `cmd` for `shell` to stdout.
pub fn print(mut cmd: clap::Command, bin_name: &str, shell: Shell) -> io::Result<()> {
    let mut out = crate::output::stdout();
    clap_complete::generate(shell, &mut cmd, bin_name, &mut out);
    Ok(())
}
