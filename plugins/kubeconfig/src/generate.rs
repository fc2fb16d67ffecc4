//! Kubeconfig generation from a validated [`Catalog`].
//!
//! Each (team, cluster) pair becomes a context. Its cluster entry carries the
//! server, CA, `tls-server-name` and `proxy-url`; its user is an `exec` stanza
//! that runs `kubectl oidc-login get-token` with the identity provider's
//! settings, using int128/kubelogin's flag names so either implementation of
//! the plugin works.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::catalog::{Catalog, IdentityProvider, SecretRef, Team, TeamCluster};
use crate::template::Names;

/// The exec credential API version of generated users.
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1";

/// Which contexts to generate.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these teams (all when empty).
    pub teams: Vec<String>,
    /// Only these catalog clusters (all when empty).
    pub clusters: Vec<String>,
}

/// One context to generate: a team on one of its clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    /// The team.
    pub team: &'a Team,
    /// The cluster entry of the team.
    pub cluster: &'a TeamCluster,
}

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// `--team` named a team the catalog does not have.
    #[error("team {name:?} is not in the catalog (teams: {known})")]
    UnknownTeam {
        /// The name given.
        name: String,
        /// The catalog's teams.
        known: String,
    },
    /// `--cluster` named a cluster the catalog does not have.
    #[error("cluster {name:?} is not in the catalog (clusters: {known})")]
    UnknownCluster {
        /// The name given.
        name: String,
        /// The catalog's clusters.
        known: String,
    },
    /// The selection is empty.
    #[error("no team works on the selected clusters{detail}; check --team and --cluster")]
    NothingSelected {
        /// What was selected.
        detail: String,
    },
    /// A client secret reference could not be resolved.
    #[error("client secret of identity provider {idp:?}: {message}")]
    Secret {
        /// The identity provider.
        idp: String,
        /// What failed.
        message: String,
    },
}

/// The (team, cluster) pairs a selection covers, in catalog order.
pub fn select<'a>(
    catalog: &'a Catalog,
    selection: &Selection,
) -> Result<Vec<Pair<'a>>, GenerateError> {
    for name in &selection.teams {
        if catalog.team(name).is_none() {
            return Err(GenerateError::UnknownTeam {
                name: name.clone(),
                known: names(catalog.teams.iter().map(|t| &t.name)),
            });
        }
    }
    for name in &selection.clusters {
        if catalog.cluster(name).is_none() {
            return Err(GenerateError::UnknownCluster {
                name: name.clone(),
                known: names(catalog.clusters.iter().map(|c| &c.name)),
            });
        }
    }
    let pairs: Vec<Pair<'a>> = catalog
        .teams
        .iter()
        .filter(|t| selection.teams.is_empty() || selection.teams.contains(&t.name))
        .flat_map(|team| {
            team.clusters
                .iter()
                .filter(|c| {
                    selection.clusters.is_empty() || selection.clusters.contains(&c.cluster)
                })
                .map(move |cluster| Pair { team, cluster })
        })
        .collect();
    if pairs.is_empty() {
        let mut detail = String::new();
        if !selection.teams.is_empty() {
            detail.push_str(&format!(" (teams: {})", selection.teams.join(", ")));
        }
        if !selection.clusters.is_empty() {
            detail.push_str(&format!(" (clusters: {})", selection.clusters.join(", ")));
        }
        return Err(GenerateError::NothingSelected { detail });
    }
    Ok(pairs)
}

fn names<'a>(it: impl Iterator<Item = &'a String>) -> String {
    it.map(String::as_str).collect::<Vec<_>>().join(", ")
}

/// Client secrets by identity provider name, resolved from their references.
pub type Secrets = BTreeMap<String, String>;

/// Reads the client secrets the selected pairs need (from environment variables or files).
pub fn resolve_secrets(catalog: &Catalog, pairs: &[Pair<'_>]) -> Result<Secrets, GenerateError> {
    let mut secrets = Secrets::new();
    for pair in pairs {
        let Some(idp) = catalog.identity_provider(&pair.team.identity_provider) else {
            continue;
        };
        if secrets.contains_key(&idp.name) {
            continue;
        }
        let fail = |message: String| GenerateError::Secret {
            idp: idp.name.clone(),
            message,
        };
        let value = match &idp.client_secret {
            None => continue,
            Some(SecretRef::Env(var)) => std::env::var(var).map_err(|_| {
                fail(format!(
                    "environment variable {var} is not set; export it before running generate"
                ))
            })?,
            Some(SecretRef::File(path)) => std::fs::read_to_string(path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
        };
        if value.is_empty() {
            return Err(fail("the secret is empty".into()));
        }
        secrets.insert(idp.name.clone(), value);
    }
    Ok(secrets)
}

/// The names a pair's entries get from the catalog's naming templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryNames {
    /// The context's name.
    pub context: String,
    /// The user's name.
    pub user: String,
    /// The kubeconfig cluster's name.
    pub cluster: String,
}

/// The entry names of one pair.
pub fn entry_names(catalog: &Catalog, pair: &Pair<'_>) -> EntryNames {
    let names = Names {
        cluster: &pair.cluster.cluster,
        team: &pair.team.name,
        idp: &pair.team.identity_provider,
        namespace: pair.cluster.namespace.as_deref().unwrap_or(""),
    };
    EntryNames {
        context: catalog.naming.context.render(&names),
        user: catalog.naming.user.render(&names),
        cluster: catalog.naming.cluster.render(&names),
    }
}

/// A kubeconfig (`apiVersion: v1`, `kind: Config`) for the pairs, as a generic
/// document. `current-context` is the first pair's context.
pub fn kubeconfig(catalog: &Catalog, pairs: &[Pair<'_>], secrets: &Secrets) -> Value {
    let mut clusters: Vec<Value> = Vec::new();
    let mut users: Vec<Value> = Vec::new();
    let mut contexts: Vec<Value> = Vec::new();
    let mut cluster_names = std::collections::HashSet::new();
    let mut user_names = std::collections::HashSet::new();
    for pair in pairs {
        let names = entry_names(catalog, pair);
        let cluster = catalog
            .cluster(&pair.cluster.cluster)
            .expect("validated catalogs only reference defined clusters");
        let idp = catalog
            .identity_provider(&pair.team.identity_provider)
            .expect("validated catalogs only reference defined identity providers");
        if cluster_names.insert(names.cluster.clone()) {
            let mut c = Map::new();
            c.insert("server".into(), json!(cluster.server));
            if let Some(pem) = &cluster.certificate_authority_pem {
                c.insert("certificate-authority-data".into(), json!(b64(pem)));
            }
            if let Some(name) = &cluster.tls_server_name {
                c.insert("tls-server-name".into(), json!(name));
            }
            if let Some(proxy) = &cluster.proxy_url {
                c.insert("proxy-url".into(), json!(proxy));
            }
            clusters.push(json!({"name": names.cluster, "cluster": c}));
        }
        if user_names.insert(names.user.clone()) {
            users.push(json!({
                "name": names.user,
                "user": {"exec": exec_stanza(idp, secrets.get(&idp.name), &catalog.install_hint)},
            }));
        }
        let mut ctx = Map::new();
        ctx.insert("cluster".into(), json!(names.cluster));
        ctx.insert("user".into(), json!(names.user));
        if let Some(ns) = &pair.cluster.namespace {
            ctx.insert("namespace".into(), json!(ns));
        }
        contexts.push(json!({"name": names.context, "context": ctx}));
    }
    let current = contexts
        .first()
        .map(|c| c["name"].clone())
        .unwrap_or(json!(""));
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": current,
    })
}

/// One kubeconfig per team (in catalog order) for the selected pairs.
pub fn kubeconfigs_per_team<'a>(
    catalog: &'a Catalog,
    pairs: &[Pair<'a>],
    secrets: &Secrets,
) -> Vec<(&'a str, Value)> {
    let mut out = Vec::new();
    for team in &catalog.teams {
        let mine: Vec<Pair<'a>> = pairs
            .iter()
            .filter(|p| p.team.name == team.name)
            .cloned()
            .collect();
        if !mine.is_empty() {
            out.push((team.name.as_str(), kubeconfig(catalog, &mine, secrets)));
        }
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The `exec` stanza that runs `kubectl oidc-login get-token` for an identity provider.
pub fn exec_stanza(
    idp: &IdentityProvider,
    client_secret: Option<&String>,
    install_hint: &str,
) -> Value {
    let mut args = vec![
        "oidc-login".to_string(),
        "get-token".to_string(),
        format!("--oidc-issuer-url={}", idp.issuer_url),
        format!("--oidc-client-id={}", idp.client_id),
    ];
    if let Some(secret) = client_secret {
        args.push(format!("--oidc-client-secret={secret}"));
    }
    for scope in &idp.extra_scopes {
        args.push(format!("--oidc-extra-scope={scope}"));
    }
    if let Some(grant) = &idp.grant_type {
        args.push(format!("--grant-type={grant}"));
    }
    if let Some(method) = &idp.pkce_method {
        args.push(format!("--oidc-pkce-method={method}"));
    }
    if let Some(url) = &idp.redirect_url {
        args.push(format!("--oidc-redirect-url={url}"));
    }
    for (key, value) in &idp.auth_request_extra_params {
        args.push(format!("--oidc-auth-request-extra-params={key}={value}"));
    }
    for addr in &idp.listen_addresses {
        args.push(format!("--listen-address={addr}"));
    }
    if idp.use_access_token {
        args.push("--oidc-use-access-token".to_string());
    }
    if let Some(pem) = &idp.certificate_authority_pem {
        args.push(format!("--certificate-authority-data={}", b64(pem)));
    }
    args.extend(idp.extra_args.iter().cloned());
    json!({
        "apiVersion": EXEC_API_VERSION,
        "command": "kubectl",
        "args": args,
        "interactiveMode": "IfAvailable",
        "provideClusterInfo": idp.provide_cluster_info,
        "installHint": install_hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{BaseDir, parse, validate};
    use std::path::PathBuf;

    fn catalog(yaml: &str) -> Catalog {
        let parsed = parse(yaml, "t.yaml").unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
        validate(&parsed, &BaseDir::Dir(dir), "t.yaml").unwrap().0
    }

    const YAML: &str = r#"
apiVersion: kubext.io/v1alpha1
kind: Catalog
installHint: install it
identityProviders:
  - name: corp
    issuerURL: https://login.example
    clientID: k8s
    extraScopes: [email, groups]
    grantType: device-code
    certificateAuthority: {file: ca/acme-root.pem}
  - name: ci
    issuerURL: https://ci.example
    clientID: robot
    clientSecretRef: {env: KC_TEST_SECRET_THAT_IS_UNSET}
    grantType: client-credentials
clusters:
  - {name: a, server: "https://a.example", tlsServerName: api.a, proxyURL: "socks5://p:1080", namespace: kube-public}
  - {name: b, server: "https://b.example", certificateAuthority: {file: ca/acme-root.pem}}
teams:
  - {name: dev, identityProvider: corp, namespace: dev, clusters: [{name: a}, {name: b}]}
  - {name: ops, identityProvider: corp, clusters: [{name: a}]}
  - {name: robots, identityProvider: ci, clusters: [{name: b}]}
"#;

    #[test]
    fn selection_by_team_and_cluster() {
        let c = catalog(YAML);
        let all = select(&c, &Selection::default()).unwrap();
        assert_eq!(all.len(), 4);
        let sel = Selection {
            teams: vec!["dev".into()],
            clusters: vec!["b".into()],
        };
        let pairs = select(&c, &sel).unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].cluster.cluster, "b");
        let by_cluster = select(
            &c,
            &Selection {
                clusters: vec!["a".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let teams: Vec<&str> = by_cluster.iter().map(|p| p.team.name.as_str()).collect();
        assert_eq!(teams, ["dev", "ops"]);
        let err = select(
            &c,
            &Selection {
                teams: vec!["nope".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "team \"nope\" is not in the catalog (teams: dev, ops, robots)"
        );
        let err = select(
            &c,
            &Selection {
                teams: vec!["robots".into()],
                clusters: vec!["a".into()],
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("no team works on the selected clusters"),
            "{err}"
        );
    }

    #[test]
    fn kubeconfig_entries_are_shared_and_complete() {
        let c = catalog(YAML);
        let pairs = select(
            &c,
            &Selection {
                teams: vec!["dev".into(), "ops".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let kc = kubeconfig(&c, &pairs, &Secrets::new());
        let ctx: Vec<&str> = kc["contexts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(ctx, ["a-dev", "b-dev", "a-ops"]);
        assert_eq!(kc["current-context"], "a-dev");
        assert_eq!(
            kc["clusters"].as_array().unwrap().len(),
            2,
            "cluster a is shared"
        );
        assert_eq!(
            kc["users"].as_array().unwrap().len(),
            1,
            "one user per identity provider"
        );
        assert_eq!(
            kc["contexts"][0]["context"]["namespace"], "dev",
            "team namespace wins"
        );
        assert_eq!(
            kc["contexts"][2]["context"]["namespace"], "kube-public",
            "cluster default"
        );
        let a = &kc["clusters"][0]["cluster"];
        assert_eq!(a["tls-server-name"], "api.a");
        assert_eq!(a["proxy-url"], "socks5://p:1080");
        assert!(a.get("certificate-authority-data").is_none());
        let exec = &kc["users"][0]["user"]["exec"];
        assert_eq!(exec["apiVersion"], EXEC_API_VERSION);
        assert_eq!(exec["command"], "kubectl");
        assert_eq!(exec["interactiveMode"], "IfAvailable");
        assert_eq!(exec["installHint"], "install it");
        let args: Vec<&str> = exec["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            &args[..7],
            [
                "oidc-login",
                "get-token",
                "--oidc-issuer-url=https://login.example",
                "--oidc-client-id=k8s",
                "--oidc-extra-scope=email",
                "--oidc-extra-scope=groups",
                "--grant-type=device-code",
            ]
        );
        assert!(
            args[7].starts_with("--certificate-authority-data=LS0t"),
            "{}",
            args[7]
        );
    }

    #[test]
    fn client_secrets_come_from_their_reference() {
        let c = catalog(YAML);
        let pairs = select(
            &c,
            &Selection {
                teams: vec!["robots".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let err = resolve_secrets(&c, &pairs).unwrap_err();
        assert!(
            err.to_string()
                .contains("KC_TEST_SECRET_THAT_IS_UNSET is not set"),
            "{err}"
        );
        let mut secrets = Secrets::new();
        secrets.insert("ci".into(), "s3cret".into());
        let kc = kubeconfig(&c, &pairs, &secrets);
        let args = kc["users"][0]["user"]["exec"]["args"].as_array().unwrap();
        assert!(args.contains(&json!("--oidc-client-secret=s3cret")));
        assert!(args.contains(&json!("--grant-type=client-credentials")));
    }

    #[test]
    fn per_team_files_hold_their_own_contexts() {
        let c = catalog(YAML);
        let pairs = select(&c, &Selection::default()).unwrap();
        let mut secrets = Secrets::new();
        secrets.insert("ci".into(), "x".into());
        let files = kubeconfigs_per_team(&c, &pairs, &secrets);
        let teams: Vec<&str> = files.iter().map(|(t, _)| *t).collect();
        assert_eq!(teams, ["dev", "ops", "robots"]);
        assert_eq!(files[1].1["contexts"].as_array().unwrap().len(), 1);
    }
}
