//! The subcommands, one use case each: `get-token` (the exec credential),
//! `setup`, `whoami`, `logout` and `clean`. They turn flags into
//! [`crate::settings::Settings`], then drive the login flows
//! ([`crate::flow`]) and the adapters ([`crate::adapters`]).

pub mod clean;
pub mod current_context;
pub mod get_token;
pub mod logout;
pub mod setup;
pub mod whoami;

use anyhow::Context as _;

use crate::adapters::provider::{self, Provider};
use crate::settings::Settings;

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-01-02T03:04:05Z`.
pub fn format_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// Discovers the provider `settings` name (with their HTTP client: CAs,
/// headers, no redirects) and runs `work` with it, on a single-threaded
/// runtime that exists only for this: the cached path never starts one.
pub fn with_provider<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&Provider) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    kubectl_kit::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let http = provider::http_client(&settings.http)?;
        let provider = Provider::discover(
            http,
            &settings.issuer,
            &settings.client_id,
            settings.client_secret.as_deref(),
        )
        .await?;
        work(&provider).await
    });
    runtime.shutdown_background();
    result
}
