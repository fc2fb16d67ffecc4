//! `clean` (delete the whole cache) and `logout` (revoke the current
//! context's refresh token at the provider, then delete its entry).

use std::io::Write as _;

use anyhow::Context as _;

use crate::cache::{self, TokenCache};
use crate::cli::{self, CleanArgs, LogoutArgs};
use crate::current_context;
use crate::provider::{self, Provider};
use crate::settings::Settings;

/// Runs `clean`.
pub fn clean(args: &CleanArgs) -> anyhow::Result<()> {
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

/// Runs `logout`.
pub fn logout(args: &LogoutArgs) -> anyhow::Result<()> {
    let login = current_context::resolve(&args.kube)?;
    let settings = Settings::from_args(&login.args.provider, &login.args.login)?;
    let cache = TokenCache::new(
        cli::cache_dir(login.args.cache.token_cache_dir.as_deref()),
        login.args.cache.token_cache_storage,
    );
    let key = settings.cache_key();
    let entry = cache.load_or_discard(&key)?;
    let mut err = std::io::stderr();
    if let Some(refresh_token) = entry.as_ref().and_then(|e| e.refresh_token.clone()) {
        kubectl_kit::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let revoked = runtime.block_on(async {
            let http = provider::http_client(&settings.http)?;
            let provider = Provider::discover(
                http,
                &settings.issuer,
                &settings.client_id,
                settings.client_secret.as_deref(),
            )
            .await?;
            anyhow::Ok(provider.revoke_refresh_token(&refresh_token).await?)
        });
        runtime.shutdown_background();
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
