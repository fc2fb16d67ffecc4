//! `clean`: delete the whole token cache, on disk and in the keyring.

use std::io::Write as _;

use crate::adapters::cache;
use crate::cli::{self, CleanArgs};

/// Runs `clean`.
pub fn run(args: &CleanArgs) -> anyhow::Result<()> {
    let dir = cli::cache_dir(args.token_cache_dir.as_deref());
    let report = cache::clean(&dir)?;
    let mut err = std::io::stderr();
    writeln!(
        err,
        "Deleted the token cache at {} ({} files)",
        dir.display(),
        report.files
    )?;
    if report.keyring_items > 0 {
        writeln!(
            err,
            "Deleted {} token cache items from the keyring",
            report.keyring_items
        )?;
    }
    for problem in &report.keyring_errors {
        writeln!(
            err,
            "warning: could not delete a token cache item from the keyring: {problem}"
        )?;
    }
    Ok(())
}
