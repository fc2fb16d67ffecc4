//! Registry credentials: `kubernetes.io/dockerconfigjson` (`{"auths": {…}}`)
//! and the legacy `kubernetes.io/dockercfg` (the `auths` map alone).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

/// Why a value could not be read as a docker config.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// Not JSON of the expected shape.
    #[error("not a docker config: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Debug, Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

/// The credentials for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// The registry host (as written in the config).
    pub registry: String,
    /// The user name, from `username` or the decoded `auth`.
    pub username: Option<String>,
    /// The password, from `password` or the decoded `auth`.
    pub password: Option<String>,
    /// `email`, if any.
    pub email: Option<String>,
    /// Whether an identity token (OAuth refresh token) is set instead.
    pub identity_token: bool,
    /// What was wrong with this entry (e.g. `auth` not base64).
    pub problem: Option<String>,
}

/// A docker config, reduced to what people look for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DockerConfig {
    /// One entry per registry, sorted by registry.
    pub registries: Vec<RegistryAuth>,
    /// `credsStore`, if set.
    pub creds_store: Option<String>,
    /// `credHelpers`: registry → helper.
    pub cred_helpers: BTreeMap<String, String>,
}

/// Reads a `.dockerconfigjson` value.
pub fn parse_config_json(value: &[u8]) -> Result<DockerConfig, DockerError> {
    let config: ConfigJson = serde_json::from_slice(value)?;
    Ok(DockerConfig {
        registries: config.auths.into_iter().map(registry_auth).collect(),
        creds_store: config.creds_store,
        cred_helpers: config.cred_helpers,
    })
}

/// Reads a legacy `.dockercfg` value (a map of registry to credentials).
pub fn parse_dockercfg(value: &[u8]) -> Result<DockerConfig, DockerError> {
    let auths: BTreeMap<String, AuthEntry> = serde_json::from_slice(value)?;
    Ok(DockerConfig {
        registries: auths.into_iter().map(registry_auth).collect(),
        ..Default::default()
    })
}

/// Whether `value` has the shape of a `.dockerconfigjson` (a JSON object with `auths`).
pub fn looks_like_config_json(value: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(value)
        .is_ok_and(|v| v.get("auths").is_some_and(|a| a.is_object()))
}

fn registry_auth((registry, entry): (String, AuthEntry)) -> RegistryAuth {
    let mut auth = RegistryAuth {
        registry,
        username: entry.username.filter(|u| !u.is_empty()),
        password: entry.password.filter(|p| !p.is_empty()),
        email: entry.email.filter(|e| !e.is_empty()),
        identity_token: entry.identity_token.is_some_and(|t| !t.is_empty()),
        problem: None,
    };
    if let Some(encoded) = entry.auth.filter(|a| !a.is_empty()) {
        match decode_auth(&encoded) {
            Ok((user, password)) => {
                auth.username.get_or_insert(user);
                auth.password.get_or_insert(password);
            }
            Err(problem) => auth.problem = Some(problem),
        }
    }
    auth
}

/// `auth` is base64 of `user:password`.
fn decode_auth(encoded: &str) -> Result<(String, String), String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| "its auth field is not base64".to_string())?;
    let text =
        String::from_utf8(bytes).map_err(|_| "its auth field is not UTF-8 text".to_string())?;
    match text.split_once(':') {
        Some((user, password)) => Ok((user.to_string(), password.to_string())),
        None => Err("its auth field is not user:password".to_string()),
    }
}

/// What [`render`] produced: the table, and notes for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedConfig {
    /// The table (and helper lines) for stdout.
    pub text: String,
    /// Informational lines for stderr (e.g. how to show passwords).
    pub notes: Vec<String>,
}

/// A table of registries with user names; passwords only when `show_passwords`.
pub fn render(config: &DockerConfig, show_passwords: bool) -> RenderedConfig {
    let mut headers = vec!["registry", "username"];
    if show_passwords {
        headers.push("password");
    }
    headers.push("email");
    let mut table = kubectl_kit::output::Table::new(headers);
    let mut hidden = false;
    let mut problems = Vec::new();
    for r in &config.registries {
        let mut row = vec![
            r.registry.clone(),
            r.username.clone().unwrap_or_else(|| "<none>".into()),
        ];
        if show_passwords {
            row.push(match (&r.password, r.identity_token) {
                (Some(p), _) => p.clone(),
                (None, true) => "<identity token>".into(),
                (None, false) => "<none>".into(),
            });
        } else if r.password.is_some() || r.identity_token {
            hidden = true;
        }
        row.push(r.email.clone().unwrap_or_default());
        table.row(row);
        if let Some(problem) = &r.problem {
            problems.push(format!("registry {}: {problem}", r.registry));
        }
    }
    let mut text = if config.registries.is_empty() {
        "no registry credentials\n".to_string()
    } else {
        table.render()
    };
    if let Some(store) = &config.creds_store {
        text.push_str(&format!("credsStore: {store}\n"));
    }
    for (registry, helper) in &config.cred_helpers {
        text.push_str(&format!("credHelper: {registry} → {helper}\n"));
    }
    let mut notes = problems;
    if hidden {
        notes.push("passwords are hidden: add --show-passwords to show them".to_string());
    }
    RenderedConfig { text, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn config_json_decodes_auth_into_user_and_password() {
        let value = serde_json::json!({
            "auths": {
                "registry.example.com": {"auth": b64("robot$ci:s3cr3t:with:colons"), "email": "ci@example.com"},
                "ghcr.io": {"username": "octo", "password": "ghp_x"},
                "broken.example.com": {"auth": "%%%"}
            }
        });
        let config = parse_config_json(value.to_string().as_bytes()).unwrap();
        let names: Vec<_> = config
            .registries
            .iter()
            .map(|r| r.registry.as_str())
            .collect();
        assert_eq!(
            names,
            ["broken.example.com", "ghcr.io", "registry.example.com"]
        );
        let reg = &config.registries[2];
        assert_eq!(reg.username.as_deref(), Some("robot$ci"));
        assert_eq!(reg.password.as_deref(), Some("s3cr3t:with:colons"));
        assert_eq!(config.registries[1].username.as_deref(), Some("octo"));
        assert!(
            config.registries[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("not base64")
        );
    }

    #[test]
    fn passwords_show_only_when_asked() {
        let value = serde_json::json!({"auths": {"r.io": {"auth": b64("me:pw123")}}});
        let config = parse_config_json(value.to_string().as_bytes()).unwrap();
        let hidden = render(&config, false);
        assert_eq!(hidden.text, "REGISTRY   USERNAME   EMAIL\nr.io       me\n");
        assert!(!hidden.text.contains("pw123"));
        assert_eq!(
            hidden.notes,
            ["passwords are hidden: add --show-passwords to show them"]
        );
        let shown = render(&config, true);
        assert_eq!(
            shown.text,
            "REGISTRY   USERNAME   PASSWORD   EMAIL\nr.io       me         pw123\n"
        );
        assert!(shown.notes.is_empty());
    }

    #[test]
    fn legacy_dockercfg_is_the_auths_map() {
        let value = serde_json::json!({"https://index.docker.io/v1/": {"auth": b64("bob:pw"), "email": "bob@example.com"}});
        let config = parse_dockercfg(value.to_string().as_bytes()).unwrap();
        assert_eq!(config.registries[0].username.as_deref(), Some("bob"));
        assert_eq!(
            config.registries[0].email.as_deref(),
            Some("bob@example.com")
        );
        assert!(!looks_like_config_json(value.to_string().as_bytes()));
        assert!(looks_like_config_json(br#"{"auths":{}}"#));
        assert!(parse_config_json(b"not json").is_err());
    }
}
