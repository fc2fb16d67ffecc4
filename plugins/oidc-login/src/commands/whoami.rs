//! `whoami`: what the cached token of the current context says.

use anyhow::anyhow;
use kubectl_kit::OutputFormat;
use serde::Serialize;

use crate::cli::{CacheStorage, WhoamiArgs};
use crate::commands::{current_context, format_time, now};
use crate::settings::{self, Settings};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    context: String,
    user: String,
    subject: Option<String>,
    email: Option<String>,
    groups: Vec<String>,
    issuer: Option<String>,
    audience: Vec<String>,
    expires_at: Option<String>,
    expires_in_seconds: Option<i64>,
    expired: bool,
    cache: String,
    claims: serde_json::Value,
}

/// Runs `whoami`.
pub fn run(args: &WhoamiArgs) -> anyhow::Result<()> {
    let format = args.output.require(&[
        OutputFormat::Table,
        OutputFormat::Wide,
        OutputFormat::Json,
        OutputFormat::Yaml,
    ])?;
    let login = current_context::resolve(&args.kube)?;
    let settings = Settings::from_args(&login.args.provider, &login.args.login)?;
    let cache = settings::token_cache(&login.args.cache);
    let key = settings.cache_key();
    let entry = cache.load(&key)?.ok_or_else(|| {
        anyhow!(
            "no cached token for user {:?} (context {:?}) in {}: run a kubectl command (or `kubectl oidc-login get-token` \
             with the kubeconfig's flags) to log in first",
            login.user,
            login.context,
            cache.dir().display()
        )
    })?;
    let claims = crate::adapters::jwt::decode_claims(&entry.id_token).unwrap_or_default();
    let all_claims = crate::adapters::jwt::decode_claims_json(&entry.id_token)
        .unwrap_or(serde_json::Value::Null);
    let exp = entry.expiry();
    let now = now();
    let identity = Identity {
        context: login.context,
        user: login.user,
        subject: claims.sub.clone(),
        email: claims.email.clone(),
        groups: claims.group_list(),
        issuer: claims.iss.clone(),
        audience: claims.audiences(),
        expires_at: exp.map(format_time),
        expires_in_seconds: exp.map(|e| e.saturating_sub(now)),
        expired: exp.is_some_and(|e| e <= now),
        cache: match login.args.cache.token_cache_storage {
            CacheStorage::Keyring => "keyring".to_string(),
            _ => cache.entry_path(&key).display().to_string(),
        },
        claims: all_claims,
    };
    match format {
        OutputFormat::Json => kubectl_kit::output::print_json(&identity)?,
        OutputFormat::Yaml => kubectl_kit::output::print_yaml(&identity)?,
        _ => {
            let expires = match (exp, identity.expired) {
                (Some(e), true) => format!(
                    "expired {} ago ({})",
                    kubectl_kit::output::human_duration(std::time::Duration::from_secs(
                        now.saturating_sub(e).max(0) as u64
                    )),
                    format_time(e)
                ),
                (Some(e), false) => format!(
                    "in {} ({})",
                    kubectl_kit::output::human_duration(std::time::Duration::from_secs(
                        e.saturating_sub(now).max(0) as u64
                    )),
                    format_time(e)
                ),
                (None, _) => "unknown".to_string(),
            };
            let mut headers = vec!["SUBJECT", "EMAIL", "GROUPS", "ISSUER", "EXPIRES"];
            let mut row = vec![
                identity.subject.clone().unwrap_or_default(),
                identity.email.clone().unwrap_or_default(),
                identity.groups.join(","),
                identity.issuer.clone().unwrap_or_default(),
                expires,
            ];
            if format == OutputFormat::Wide {
                headers.extend(["CONTEXT", "USER", "AUDIENCE"]);
                row.extend([
                    identity.context.clone(),
                    identity.user.clone(),
                    identity.audience.join(","),
                ]);
            }
            let mut table = kubectl_kit::output::Table::new(headers);
            table.row(row);
            table.print()?;
        }
    }
    Ok(())
}
