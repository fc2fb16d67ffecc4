//! The API calls: get a Secret, list names for suggestions, search namespaces.

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ListParams};
use kubectl_kit::{KitError, KubeFlags, api_error};

use crate::suggest;

/// Builds a client from the kubectl flags, impersonating `as_user`/`as_groups` when given.
pub async fn client(
    flags: &KubeFlags,
    as_user: Option<&str>,
    as_groups: &[String],
) -> Result<kube::Client, KitError> {
    if as_user.is_none() {
        return flags.client().await;
    }
    let mut config = flags.config().await?;
    config.auth_info.impersonate = as_user.map(str::to_string);
    if !as_groups.is_empty() {
        config.auth_info.impersonate_groups = Some(as_groups.to_vec());
    }
    kube::Client::try_from(config).map_err(|e| KitError::Connection {
        what: "connect to the cluster".into(),
        message: e.to_string(),
        hint: None,
    })
}

/// Why a Secret could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No Secret of that name.
    #[error("secret {name:?} not found in namespace {namespace:?}{}", suggestions(.similar, .namespace))]
    NotFound {
        /// The name asked for.
        name: String,
        /// Where we looked.
        namespace: String,
        /// Names in that namespace that look alike.
        similar: Vec<String>,
    },
    /// The API said no, or could not be reached.
    #[error(transparent)]
    Api(#[from] KitError),
}

fn suggestions(similar: &[String], namespace: &str) -> String {
    if similar.is_empty() {
        format!(
            "\n  hint: list them with `kubectl get secrets -n {namespace}`, or search every namespace with `kubectl view-secret -A PREFIX`"
        )
    } else {
        format!("\n  did you mean: {}?", similar.join(", "))
    }
}

/// Gets the Secret `name` in `namespace`. On 404, looks for similar names to suggest.
pub async fn get_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<Secret, LookupError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    match api.get(name).await {
        Ok(secret) => Ok(secret),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            let names = secret_names(client, namespace).await.unwrap_or_default();
            let similar = suggest::similar(name, &names, 5)
                .into_iter()
                .map(str::to_string)
                .collect();
            Err(LookupError::NotFound {
                name: name.to_string(),
                namespace: namespace.to_string(),
                similar,
            })
        }
        Err(e) => Err(api_error(
            e,
            &format!("get secret {name:?} in namespace {namespace:?}"),
        )
        .into()),
    }
}

/// The Secrets of `namespace`, sorted by name.
pub async fn list_secrets(client: &kube::Client, namespace: &str) -> Result<Vec<Secret>, KitError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut items = api
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error(e, &format!("list secrets in namespace {namespace:?}")))?
        .items;
    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(items)
}

/// The names of the Secrets in `namespace`.
pub async fn secret_names(client: &kube::Client, namespace: &str) -> Result<Vec<String>, KitError> {
    Ok(list_secrets(client, namespace)
        .await?
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect())
}

/// What a search across namespaces found.
#[derive(Debug, Default)]
pub struct Search {
    /// Matching Secrets, sorted by namespace then name.
    pub found: Vec<Secret>,
    /// Namespaces whose Secrets we may not list.
    pub forbidden: Vec<String>,
}

/// Finds Secrets whose names start with `prefix` in every namespace the user
/// can read: one cluster-wide list when allowed, otherwise namespace by
/// namespace, noting the forbidden ones.
pub async fn search_all_namespaces(
    client: &kube::Client,
    prefix: &str,
) -> Result<Search, KitError> {
    let matches = |s: &Secret| {
        s.metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with(prefix))
    };
    let all: Api<Secret> = Api::all(client.clone());
    let mut search = Search::default();
    match all.list(&ListParams::default()).await {
        Ok(list) => {
            search.found = list.items.into_iter().filter(matches).collect();
        }
        Err(kube::Error::Api(status)) if status.code == 403 => {
            tracing::info!(
                "listing secrets across all namespaces is forbidden; searching namespace by namespace"
            );
            let namespaces: Api<Namespace> = Api::all(client.clone());
            let names: Vec<String> = namespaces
                .list(&ListParams::default())
                .await
                .map_err(|e| {
                    api_error(
                        e,
                        "list secrets in all namespaces (forbidden), then list namespaces to search them one by one",
                    )
                })?
                .items
                .into_iter()
                .filter_map(|ns| ns.metadata.name)
                .collect();
            let mut tasks = tokio::task::JoinSet::new();
            for ns in names {
                let client = client.clone();
                tasks.spawn(async move {
                    let api: Api<Secret> = Api::namespaced(client, &ns);
                    (ns, api.list(&ListParams::default()).await)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                let Ok((ns, result)) = joined else { continue };
                match result {
                    Ok(list) => search.found.extend(list.items.into_iter().filter(matches)),
                    Err(kube::Error::Api(status)) if status.code == 403 => {
                        search.forbidden.push(ns)
                    }
                    Err(e) => {
                        return Err(api_error(e, &format!("list secrets in namespace {ns:?}")));
                    }
                }
            }
        }
        Err(e) => return Err(api_error(e, "list secrets in all namespaces")),
    }
    search.found.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    search.forbidden.sort();
    Ok(search)
}
