//! `get-token`: the exec credential use case.
//!
//! 1. Cache hit (the common case, paid on every kubectl command): read the
//!    entry without a lock, check its expiry against the refresh margin,
//!    print the ExecCredential. No async runtime, no TLS, no network.
//! 2. Otherwise take the per-key lock (one process logs in or refreshes; the
//!    others wait), look again (someone may have just done it), refresh with
//!    the refresh token, or log in, then save and print.

use std::io::Write as _;
use std::time::Duration;

use crate::adapters::cache::Entry;
use crate::adapters::exec_credential::{self, ExecInfo};
use crate::cli::GetTokenArgs;
use crate::commands::{format_time, now, with_provider};
use crate::flow::{self, Terminal};
use crate::settings::{self, Settings};

/// The expiry of an entry if it is still good for `margin`. Tokens that live
/// shorter than twice the margin are refreshed at half their life instead, so
/// a short-lived token is still served from the cache.
pub fn fresh_until(entry: &Entry, now: i64, margin: Duration) -> Option<i64> {
    let claims = crate::adapters::jwt::decode_claims(&entry.id_token).ok();
    let exp = claims.as_ref().and_then(|c| c.exp).or(entry.expires_at)?;
    let mut margin = margin.as_secs() as i64;
    if let Some(iat) = claims.as_ref().and_then(|c| c.iat)
        && exp > iat
    {
        margin = margin.min(exp.saturating_sub(iat) / 2);
    }
    (exp.saturating_sub(margin) > now).then_some(exp)
}

fn print_credential(info: &ExecInfo, entry: &Entry) -> anyhow::Result<()> {
    let json = exec_credential::render(info, &entry.id_token, entry.expiry());
    let mut out = kubectl_kit::output::stdout();
    writeln!(out, "{json}")?;
    out.flush()?;
    Ok(())
}

/// Runs `get-token`.
pub fn run(args: &GetTokenArgs) -> anyhow::Result<()> {
    let info =
        ExecInfo::from_env().map_err(|e| anyhow::Error::new(kubectl_kit::KitError::usage(e)))?;
    let settings = Settings::from_args(&args.provider, &args.login)?;
    let cache = settings::token_cache(&args.cache);
    let key = settings.cache_key();
    let margin = args.token_refresh_margin;
    let verbose = args.verbosity > 0;
    if verbose && args.klog.given() {
        eprintln!(
            "note: kubelogin's klog flags (--logtostderr, --alsologtostderr, --log_dir, --log_file, \
             --vmodule) are accepted and ignored: logs always go to stderr, -v sets the verbosity"
        );
    }

    // 1. The fast path.
    let first_look = cache.load(&key).ok().flatten();
    if !args.force_refresh
        && let Some(entry) = &first_look
        && let Some(exp) = fresh_until(entry, now(), margin)
    {
        if verbose {
            eprintln!("Using the cached token, valid until {}", format_time(exp));
        }
        return print_credential(&info, entry);
    }

    // 2. Under the lock.
    let lock_path = cache.dir().join(format!("{}.lock", key.as_str()));
    let _lock = cache.lock(&key, args.token_cache_lock_timeout, || {
        eprintln!(
            "Waiting for another kubectl-oidc_login to finish logging in (lock {})...",
            lock_path.display()
        );
    })?;
    let cached = cache.load_or_discard(&key)?;
    if let Some(entry) = &cached
        && fresh_until(entry, now(), margin).is_some()
        && (!args.force_refresh || first_look.as_ref() != Some(entry))
    {
        // Someone else logged in or refreshed while we waited.
        if verbose {
            eprintln!("Using the token another process just obtained");
        }
        return print_credential(&info, entry);
    }

    let terminal = Terminal {
        may_prompt: info.may_prompt(),
        browser_without_terminal: !args.no_browser_when_non_interactive,
    };
    if cached
        .as_ref()
        .and_then(|e| e.refresh_token.as_ref())
        .is_none()
    {
        // Nothing to refresh with: fail before any network if no login can happen here.
        flow::ensure_login_possible(&settings, terminal)?;
    }
    let tokens = with_provider(&settings, async |provider| {
        if let Some(refresh_token) = cached.as_ref().and_then(|e| e.refresh_token.as_deref()) {
            match flow::refresh(&settings, provider, refresh_token).await {
                Ok(tokens) => {
                    if verbose {
                        eprintln!("Refreshed the token");
                    }
                    return Ok(tokens);
                }
                Err(e) => eprintln!("Could not refresh the token ({e:#}); logging in again"),
            }
        }
        flow::login(&settings, provider, terminal).await
    })?;
    let entry = Entry {
        id_token: tokens.token,
        refresh_token: tokens.refresh_token,
        expires_at: tokens.expires_at,
    };
    let rotated = cached
        .as_ref()
        .and_then(|e| e.refresh_token.as_ref())
        .is_some_and(|old| entry.refresh_token.as_ref().is_some_and(|new| new != old));
    if let Err(e) = cache.save(&key, &entry) {
        if rotated {
            // The provider has invalidated the old refresh token: without
            // the new one, the next call has to log in again.
            return Err(anyhow::Error::new(e).context(format!(
                "the provider replaced the refresh token, but the token cache in {} could not be saved, \
                 so the new refresh token is lost and the next call will have to log in again; \
                 make the cache directory writable (or choose another with --token-cache-dir)",
                cache.dir().display()
            )));
        }
        return Err(anyhow::Error::new(e).context("saving the token cache"));
    }
    print_credential(&info, &entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn entry(claims: serde_json::Value) -> Entry {
        let b64 = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        Entry {
            id_token: format!(
                "{}.{}.sig",
                b64(r#"{"alg":"RS256"}"#.into()),
                b64(claims.to_string())
            ),
            refresh_token: None,
            expires_at: None,
        }
    }

    #[test]
    fn extreme_claim_times_never_overflow() {
        let margin = Duration::from_secs(10);
        let e = entry(serde_json::json!({"exp": i64::MAX, "iat": i64::MIN}));
        assert_eq!(fresh_until(&e, 1_000, margin), Some(i64::MAX));
        let e = entry(serde_json::json!({"exp": i64::MIN}));
        assert_eq!(fresh_until(&e, 1_000, margin), None);
    }

    #[test]
    fn margin_applies_before_expiry() {
        let e = entry(serde_json::json!({"exp": 10_000, "iat": 1_000}));
        assert_eq!(
            fresh_until(&e, 9_000, Duration::from_secs(60)),
            Some(10_000)
        );
        assert_eq!(fresh_until(&e, 9_950, Duration::from_secs(60)), None);
        assert_eq!(fresh_until(&e, 9_950, Duration::ZERO), Some(10_000));
        assert_eq!(fresh_until(&e, 10_000, Duration::ZERO), None);
    }

    #[test]
    fn short_lived_tokens_refresh_at_half_life() {
        let e = entry(serde_json::json!({"exp": 1_030, "iat": 1_000}));
        assert_eq!(fresh_until(&e, 1_010, Duration::from_secs(60)), Some(1_030));
        assert_eq!(fresh_until(&e, 1_016, Duration::from_secs(60)), None);
    }

    #[test]
    fn opaque_tokens_use_the_stored_expiry() {
        let e = Entry {
            id_token: "opaque".into(),
            refresh_token: None,
            expires_at: Some(5_000),
        };
        assert_eq!(fresh_until(&e, 1_000, Duration::from_secs(60)), Some(5_000));
        assert_eq!(fresh_until(&e, 4_990, Duration::from_secs(60)), None);
    }
}
