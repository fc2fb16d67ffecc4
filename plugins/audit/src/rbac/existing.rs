//! `--existing`: what the subject's bindings in the cluster grant, rule by
//! rule, compared with what it was seen doing, to show what could be removed.

use std::collections::BTreeMap;

use kube::Api;
use kube::api::ListParams;
use kubectl_kit::KitError;
use kubectl_kit::k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject as RbacSubject,
};
use serde::Serialize;

use super::Subject;
use super::observed::{Observed, Scope, sorted_verbs};

/// One granted (binding, role, resource) whose listed verbs were never used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unused {
    /// `ClusterRoleBinding/NAME` or `RoleBinding/NS/NAME`.
    pub binding: String,
    /// `ClusterRole/NAME` or `Role/NAME`.
    pub role: String,
    /// Where the grant applies: the binding's namespace, or absent for everywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The API group (`*` for every group); absent for non-resource URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// The resource (`pods/log`, `*`); absent for non-resource URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The rule's resourceNames, if it has any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// The non-resource URL.
    #[serde(rename = "nonResourceURL", skip_serializing_if = "Option::is_none")]
    pub non_resource_url: Option<String>,
    /// Granted verbs never used.
    pub verbs: Vec<String>,
}

/// What the comparison found.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Bindings that name the subject.
    pub bindings: Vec<String>,
    /// Grants never used.
    pub unused: Vec<Unused>,
    /// Roles referenced by a binding that do not exist.
    pub missing_roles: Vec<String>,
}

/// A binding of the subject, resolved to its rules.
struct Grant {
    binding: String,
    role: String,
    namespace: Option<String>,
    rules: Vec<PolicyRule>,
}

/// Lists the cluster's RBAC objects and compares the subject's grants with `observed`.
pub async fn compare(
    client: kube::Client,
    subject: &Subject,
    observed: &Observed,
) -> Result<Comparison, KitError> {
    let list = ListParams::default();
    let crbs = Api::<ClusterRoleBinding>::all(client.clone())
        .list(&list)
        .await
        .map_err(|e| kubectl_kit::api_error(e, "list clusterrolebindings"))?;
    let rbs = Api::<RoleBinding>::all(client.clone())
        .list(&list)
        .await
        .map_err(|e| kubectl_kit::api_error(e, "list rolebindings"))?;
    let cluster_roles: BTreeMap<String, Vec<PolicyRule>> = Api::<ClusterRole>::all(client.clone())
        .list(&list)
        .await
        .map_err(|e| kubectl_kit::api_error(e, "list clusterroles"))?
        .into_iter()
        .map(|r| {
            (
                r.metadata.name.unwrap_or_default(),
                r.rules.unwrap_or_default(),
            )
        })
        .collect();
    let roles: BTreeMap<(String, String), Vec<PolicyRule>> = Api::<Role>::all(client)
        .list(&list)
        .await
        .map_err(|e| kubectl_kit::api_error(e, "list roles"))?
        .into_iter()
        .map(|r| {
            (
                (
                    r.metadata.namespace.unwrap_or_default(),
                    r.metadata.name.unwrap_or_default(),
                ),
                r.rules.unwrap_or_default(),
            )
        })
        .collect();

    let mut comparison = Comparison::default();
    let mut grants = Vec::new();
    let mut resolve = |binding: String, namespace: Option<String>, role_ref: &RoleRef| {
        let rules = match (role_ref.kind.as_str(), &namespace) {
            ("ClusterRole", _) => cluster_roles.get(&role_ref.name).cloned(),
            ("Role", Some(ns)) => roles.get(&(ns.clone(), role_ref.name.clone())).cloned(),
            _ => None,
        };
        let role = format!("{}/{}", role_ref.kind, role_ref.name);
        comparison.bindings.push(binding.clone());
        match rules {
            Some(rules) => grants.push(Grant {
                binding,
                role,
                namespace,
                rules,
            }),
            None => comparison
                .missing_roles
                .push(format!("{role} (bound by {binding})")),
        }
    };
    for b in &crbs {
        if binds(b.subjects.as_deref(), subject, None) {
            let name = b.metadata.name.clone().unwrap_or_default();
            resolve(format!("ClusterRoleBinding/{name}"), None, &b.role_ref);
        }
    }
    for b in &rbs {
        let ns = b.metadata.namespace.clone().unwrap_or_default();
        if binds(b.subjects.as_deref(), subject, Some(&ns)) {
            let name = b.metadata.name.clone().unwrap_or_default();
            resolve(format!("RoleBinding/{ns}/{name}"), Some(ns), &b.role_ref);
        }
    }
    for grant in &grants {
        comparison.unused.extend(unused_in(grant, observed));
    }
    comparison.unused.sort();
    comparison.bindings.sort();
    comparison.missing_roles.sort();
    Ok(comparison)
}

/// Whether a binding's subjects name `subject` directly (a ServiceAccount
/// subject without a namespace takes the binding's, as the authorizer does).
fn binds(subjects: Option<&[RbacSubject]>, subject: &Subject, binding_ns: Option<&str>) -> bool {
    subjects.unwrap_or_default().iter().any(|s| match subject {
        Subject::User(name) => s.kind == "User" && &s.name == name,
        Subject::Group(name) => s.kind == "Group" && &s.name == name,
        Subject::ServiceAccount { namespace, name } => {
            s.kind == "ServiceAccount"
                && &s.name == name
                && s.namespace.as_deref().or(binding_ns) == Some(namespace.as_str())
        }
    })
}

fn listed(values: &[String], value: &str) -> bool {
    values.iter().any(|v| v == "*" || v == value)
}

/// Whether a rule's resource entry covers `resource` (`pods`, `pods/log`):
/// exact, `*`, `pods/*` or `*/log`, as the authorizer matches.
fn resource_matches(granted: &str, resource: &str) -> bool {
    if granted == "*" || granted == resource {
        return true;
    }
    match (granted.split_once('/'), resource.split_once('/')) {
        (Some((g_res, "*")), Some((res, _))) => g_res == res,
        (Some(("*", g_sub)), Some((_, sub))) => g_sub == sub,
        _ => false,
    }
}

fn url_matches(granted: &str, url: &str) -> bool {
    granted == "*"
        || granted == url
        || granted
            .strip_suffix('*')
            .is_some_and(|prefix| url.starts_with(prefix))
}

/// The grant's (resource, verb) pairs no observed request used.
fn unused_in(grant: &Grant, observed: &Observed) -> Vec<Unused> {
    let mut unused = Vec::new();
    for rule in &grant.rules {
        let names = rule.resource_names.clone().unwrap_or_default();
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                let verbs: Vec<String> = rule
                    .verbs
                    .iter()
                    .filter(|verb| !resource_used(grant, observed, group, resource, verb, &names))
                    .cloned()
                    .collect();
                if !verbs.is_empty() {
                    unused.push(Unused {
                        binding: grant.binding.clone(),
                        role: grant.role.clone(),
                        namespace: grant.namespace.clone(),
                        api_group: Some(group.clone()),
                        resource: Some(resource.clone()),
                        resource_names: names.clone(),
                        non_resource_url: None,
                        verbs: sorted_verbs(&verbs),
                    });
                }
            }
        }
        // Non-resource URLs are granted only cluster-wide.
        if grant.namespace.is_none() {
            for url in rule.non_resource_urls.iter().flatten() {
                let verbs: Vec<String> = rule
                    .verbs
                    .iter()
                    .filter(|verb| {
                        !observed.non_resource.iter().any(|(seen, verbs)| {
                            url_matches(url, seen)
                                && verbs.keys().any(|v| verb.as_str() == "*" || v == *verb)
                        })
                    })
                    .cloned()
                    .collect();
                if !verbs.is_empty() {
                    unused.push(Unused {
                        binding: grant.binding.clone(),
                        role: grant.role.clone(),
                        namespace: None,
                        api_group: None,
                        resource: None,
                        resource_names: Vec::new(),
                        non_resource_url: Some(url.clone()),
                        verbs: sorted_verbs(&verbs),
                    });
                }
            }
        }
    }
    unused
}

fn resource_used(
    grant: &Grant,
    observed: &Observed,
    group: &str,
    resource: &str,
    verb: &str,
    names: &[String],
) -> bool {
    observed.resources.iter().any(|(scope, resources)| {
        let in_scope = match (&grant.namespace, scope) {
            (None, _) => true,
            (Some(ns), Scope::Namespace(seen)) => ns == seen,
            (Some(_), Scope::Cluster) => false,
        };
        in_scope
            && resources.iter().any(|(key, verbs)| {
                (group == "*" || group == key.api_group)
                    && resource_matches(resource, &key.resource)
                    && verbs.iter().any(|(v, used)| {
                        (verb == "*" || verb == v)
                            && (names.is_empty() || used.names.iter().any(|n| listed(names, n)))
                    })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_the_authorizer_matches() {
        assert!(resource_matches("*", "pods/log"));
        assert!(resource_matches("pods/*", "pods/log"));
        assert!(!resource_matches("pods/*", "pods"));
        assert!(resource_matches("*/scale", "deployments/scale"));
        assert!(!resource_matches("pods", "pods/log"));
        assert!(url_matches("/healthz*", "/healthz/etcd"));
        assert!(!url_matches("/healthz", "/healthz/etcd"));
    }

    #[test]
    fn service_accounts_take_the_bindings_namespace() {
        let sa = Subject::ServiceAccount {
            namespace: "ci".into(),
            name: "deployer".into(),
        };
        let s = RbacSubject {
            kind: "ServiceAccount".into(),
            name: "deployer".into(),
            ..Default::default()
        };
        assert!(binds(Some(std::slice::from_ref(&s)), &sa, Some("ci")));
        assert!(!binds(Some(&[s]), &sa, Some("prod")));
    }
}
