//! `logout`: revoke the current context's refresh token at the provider,
//! then delete its cache entry.

use std::io::Write as _;

use crate::cli::LogoutArgs;
use crate::commands::{current_context, with_provider};
use crate::settings::{self, Settings};

/// Runs `logout`.
pub fn run(args: &LogoutArgs) -> anyhow::Result<()> {
    let login = current_context::resolve(&args.kube)?;
    let settings = Settings::from_args(&login.args.provider, &login.args.login)?;
    let cache = settings::token_cache(&login.args.cache);
    let key = settings.cache_key();
    let entry = cache.load_or_discard(&key)?;
    let mut err = std::io::stderr();
    if let Some(refresh_token) = entry.as_ref().and_then(|e| e.refresh_token.clone()) {
        let revoked = with_provider(&settings, async |provider| {
            Ok(provider.revoke_refresh_token(&refresh_token).await?)
        });
        match revoked {
            Ok(true) => writeln!(err, "Revoked the refresh token at {}", settings.issuer)?,
            Ok(false) => writeln!(
                err,
                "The provider {} has no revocation endpoint; the refresh token stays valid there until it expires",
                settings.issuer
            )?,
            Err(e) => {
                // Still delete the local copy: logging out locally is what the person asked for.
                cache.remove(&key)?;
                return Err(e.context(format!(
                    "revoking the refresh token at {} failed (the local token cache entry was deleted anyway)",
                    settings.issuer
                )));
            }
        }
    }
    cache.remove(&key)?;
    match entry {
        Some(_) => writeln!(
            err,
            "Deleted the cached token of user {:?} (context {:?})",
            login.user, login.context
        )?,
        None => writeln!(
            err,
            "No cached token for user {:?} (context {:?})",
            login.user, login.context
        )?,
    }
    Ok(())
}
