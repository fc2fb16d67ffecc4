//! Kubeconfigs for service accounts, with a short-lived token from the
//! TokenRequest API (`POST …/serviceaccounts/NAME/token`) and the cluster and
//! CA of the current context.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kubectl_kit::{KitError, KubeFlags, Resolved, api_error};
use serde_json::{Map, Value, json};

/// The shortest token lifetime the API server accepts.
pub const MIN_DURATION: Duration = Duration::from_secs(600);

/// What to ask for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The service account's name.
    pub name: String,
    /// Requested token lifetime (the server may shorten it).
    pub duration: Duration,
    /// Create a Secret and bind the token to it: deleting the Secret revokes the token.
    pub bound_to_secret: bool,
    /// Audiences of the token (the API server's when empty).
    pub audiences: Vec<String>,
}

/// The outcome: a kubeconfig and facts about its token.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The kubeconfig document.
    pub kubeconfig: Map<String, Value>,
    /// When the token expires.
    pub expires: jiff::Timestamp,
    /// The namespace of the service account.
    pub namespace: String,
    /// The Secret the token is bound to, when asked for.
    pub bound_secret: Option<String>,
}

/// A `--duration` the API server would not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenDurationError {
    /// Not a duration.
    #[error(transparent)]
    Invalid(#[from] kubectl_kit::DurationError),
    /// Below the API server's minimum.
    #[error("duration {input:?} is shorter than the API server's minimum of 10m")]
    TooShort {
        /// The text given.
        input: String,
    },
}

/// Why no service account kubeconfig could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceAccountError {
    /// Reading the kubeconfig, reaching the cluster, or an API call failed
    /// (the API server's `Status` is kept).
    #[error(transparent)]
    Kube(#[from] KitError),
    /// The TokenRequest was answered without the token.
    #[error(
        "the API server answered the TokenRequest for serviceaccount {account:?} without a status"
    )]
    NoTokenStatus {
        /// The service account.
        account: String,
    },
    /// The current context's cluster has no `server`.
    #[error("cluster {cluster:?} of the current context has no server URL")]
    NoServer {
        /// The cluster's name in the kubeconfig.
        cluster: String,
    },
    /// The cluster's `certificate-authority` file could not be read.
    #[error("cannot read certificate-authority {path} of cluster {cluster:?}")]
    ReadCertificateAuthority {
        /// The file named in the kubeconfig.
        path: String,
        /// The cluster's name in the kubeconfig.
        cluster: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Parses `--duration` (`1h`, `30m`, `1h30m`, `3600`, `2d`) with the one
/// duration parser, and checks the API server's minimum.
pub fn parse_duration(text: &str) -> Result<Duration, TokenDurationError> {
    let d = kubectl_kit::parse_flag_duration(text)?;
    if d < MIN_DURATION {
        return Err(TokenDurationError::TooShort {
            input: text.to_string(),
        });
    }
    Ok(d)
}

/// Requests a token for the service account and builds a kubeconfig around it.
pub async fn issue(flags: &KubeFlags, request: &Request) -> Result<Issued, ServiceAccountError> {
    let resolved = flags.resolve()?;
    let client = flags.client_for(&resolved).await?;
    let ns = resolved.namespace.clone();
    let accounts: kube::Api<ServiceAccount> = kube::Api::namespaced(client.clone(), &ns);

    let mut bound_secret = None;
    let mut bound_ref = None;
    if request.bound_to_secret {
        let secrets: kube::Api<Secret> = kube::Api::namespaced(client.clone(), &ns);
        let secret_name = format!("{}-kubeconfig-{}", request.name, random_suffix());
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(secret_name.clone()),
                namespace: Some(ns.clone()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_string(),
                    "kubectl-kubeconfig".to_string(),
                )])),
                annotations: Some(BTreeMap::from([(
                    "kubext.io/bound-token-for".to_string(),
                    request.name.clone(),
                )])),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        let created = secrets
            .create(&PostParams::default(), &secret)
            .await
            .map_err(|e| {
                api_error(
                    e,
                    &format!(
                        "create secret {secret_name:?} in namespace {ns:?} to bind the token to"
                    ),
                )
            })?;
        bound_ref = Some(BoundObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Secret".into()),
            name: Some(secret_name.clone()),
            uid: created.metadata.uid.clone(),
        });
        bound_secret = Some(secret_name);
    }

    let token_request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: request.audiences.clone(),
            expiration_seconds: Some(request.duration.as_secs() as i64),
            bound_object_ref: bound_ref,
        },
        ..Default::default()
    };
    let what = format!(
        "request a token for serviceaccount {:?} in namespace {ns:?}",
        request.name
    );
    let issued = accounts
        .create_token_request(&request.name, &PostParams::default(), &token_request)
        .await
        .map_err(|e| api_error(e, &what))?;
    let status = issued
        .status
        .ok_or_else(|| ServiceAccountError::NoTokenStatus {
            account: request.name.clone(),
        })?;
    let kubeconfig = kubeconfig_for(&resolved, &ns, &request.name, &status.token)?;
    Ok(Issued {
        kubeconfig,
        expires: status.expiration_timestamp.0,
        namespace: ns,
        bound_secret,
    })
}

fn random_suffix() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A self-contained kubeconfig: the current context's cluster (CA embedded),
/// a token user, and one context in the service account's namespace.
pub fn kubeconfig_for(
    resolved: &Resolved,
    namespace: &str,
    account: &str,
    token: &str,
) -> Result<Map<String, Value>, ServiceAccountError> {
    let c = &resolved.cluster;
    let mut cluster = Map::new();
    let server = c
        .server
        .clone()
        .ok_or_else(|| ServiceAccountError::NoServer {
            cluster: resolved.cluster_name.clone(),
        })?;
    cluster.insert("server".into(), json!(server));
    if let Some(data) = &c.certificate_authority_data {
        cluster.insert("certificate-authority-data".into(), json!(data));
    } else if let Some(path) = &c.certificate_authority {
        let pem = std::fs::read(path).map_err(|source| {
            ServiceAccountError::ReadCertificateAuthority {
                path: path.clone(),
                cluster: resolved.cluster_name.clone(),
                source,
            }
        })?;
        cluster.insert(
            "certificate-authority-data".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(pem)),
        );
    }
    if let Some(name) = &c.tls_server_name {
        cluster.insert("tls-server-name".into(), json!(name));
    }
    if let Some(proxy) = &c.proxy_url {
        cluster.insert("proxy-url".into(), json!(proxy));
    }
    if c.insecure_skip_tls_verify == Some(true) {
        cluster.insert("insecure-skip-tls-verify".into(), json!(true));
    }
    let user = format!("system:serviceaccount:{namespace}:{account}");
    let context = format!("{account}@{}", resolved.cluster_name);
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": resolved.cluster_name, "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": resolved.cluster_name, "user": user, "namespace": namespace}}],
        "current-context": context,
    });
    Ok(doc.as_object().cloned().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        let short = parse_duration("5m").unwrap_err().to_string();
        assert!(short.contains("minimum of 10m"), "{short}");
        let bad = parse_duration("soon").unwrap_err().to_string();
        assert!(bad.contains("invalid duration"), "{bad}");
        assert!(parse_duration("-1h").is_err());
        assert!(parse_duration("9999999999999w").is_err());
    }
}
