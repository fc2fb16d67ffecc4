//! RBAC: the stored Roles, ClusterRoles, RoleBindings and ClusterRoleBindings
//! (`rbac.authorization.k8s.io/v1`) decide requests the way the apiserver's RBAC
//! authorizer does: a ClusterRoleBinding grants its ClusterRole's rules
//! everywhere, a RoleBinding grants its Role's (or ClusterRole's) rules in the
//! binding's namespace only. There are only allow rules.

use serde_json::{Value, json};

use crate::auth::{Attributes, User};
use crate::store::{ObjectKey, RBAC_GROUP, Store};

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn subject_matches(subject: &Value, binding_namespace: &str, user: &User) -> bool {
    let name = subject["name"].as_str().unwrap_or("");
    match subject["kind"].as_str().unwrap_or("") {
        "User" => name == user.name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = subject["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or(binding_namespace);
            user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn binds(binding: &Value, user: &User) -> bool {
    let namespace = binding["metadata"]["namespace"].as_str().unwrap_or("");
    binding["subjects"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| subject_matches(s, namespace, user)))
}

/// Whether one PolicyRule allows a resource request (RBAC's `RuleAllows`).
fn rule_allows(rule: &Value, attrs: &Attributes) -> bool {
    let has = |field: &str, value: &str| {
        strings(&rule[field])
            .iter()
            .any(|x| *x == "*" || *x == value)
    };
    let resource_matches = strings(&rule["resources"]).iter().any(|r| {
        *r == "*"
            || *r == attrs.resource
            || attrs
                .resource
                .split_once('/')
                .is_some_and(|(_, sub)| r.strip_prefix("*/") == Some(sub))
    });
    let names = strings(&rule["resourceNames"]);
    has("verbs", &attrs.verb)
        && has("apiGroups", &attrs.group)
        && resource_matches
        && (names.is_empty() || names.contains(&attrs.name.as_str()))
}

fn role_rules(store: &Store, role_ref: &Value, binding_namespace: &str) -> Vec<Value> {
    let name = role_ref["name"].as_str().unwrap_or("");
    let (plural, namespace) = match role_ref["kind"].as_str() {
        Some("ClusterRole") => ("clusterroles", ""),
        Some("Role") => ("roles", binding_namespace),
        _ => return Vec::new(),
    };
    let key = ObjectKey {
        group: RBAC_GROUP.into(),
        plural: plural.into(),
        namespace: namespace.into(),
        name: name.into(),
    };
    store
        .get(&key)
        .and_then(|role| role["rules"].as_array().cloned())
        .unwrap_or_default()
}

/// Whether the stored RBAC objects allow `user` the request `attrs`.
pub(crate) fn allows(store: &Store, user: &User, attrs: &Attributes) -> bool {
    let granted = |binding: &Value, namespace: &str| {
        binds(binding, user)
            && role_rules(store, &binding["roleRef"], namespace)
                .iter()
                .any(|rule| rule_allows(rule, attrs))
    };
    if store
        .list(RBAC_GROUP, "clusterrolebindings", None)
        .iter()
        .any(|b| granted(b, ""))
    {
        return true;
    }
    !attrs.namespace.is_empty()
        && store
            .list(RBAC_GROUP, "rolebindings", Some(&attrs.namespace))
            .iter()
            .any(|b| granted(b, &attrs.namespace))
}

/// The bootstrap roles an extension API server's manifests bind to, as every
/// cluster has them: `cluster-admin`, `system:auth-delegator` (TokenReview and
/// SubjectAccessReview) and, in kube-system, `extension-apiserver-authentication-reader`.
pub(crate) fn bootstrap_roles() -> Vec<(&'static str, Value)> {
    vec![
        (
            "clusterroles",
            json!({
                "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                "rules": [
                    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                    {"nonResourceURLs": ["*"], "verbs": ["*"]}
                ]
            }),
        ),
        (
            "clusterroles",
            json!({
                "metadata": {"name": "system:auth-delegator", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
                "rules": [
                    {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
                    {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]}
                ]
            }),
        ),
        (
            "roles",
            json!({
                "metadata": {
                    "name": "extension-apiserver-authentication-reader",
                    "namespace": "kube-system",
                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}
                },
                "rules": [{
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "resourceNames": ["extension-apiserver-authentication"],
                    "verbs": ["get", "list", "watch"]
                }]
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, group: &str, resource: &str, namespace: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_rule_matches_verb_group_resource_and_names() {
        let rule = json!({"apiGroups": ["audit.kubext.io"], "resources": ["auditevents"], "verbs": ["get", "list"]});
        assert!(rule_allows(
            &rule,
            &attrs("list", "audit.kubext.io", "auditevents", "a", "")
        ));
        assert!(!rule_allows(
            &rule,
            &attrs("watch", "audit.kubext.io", "auditevents", "a", "")
        ));
        assert!(!rule_allows(
            &rule,
            &attrs("list", "", "auditevents", "a", "")
        ));
        let named = json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["x"], "verbs": ["get", "list"]});
        assert!(rule_allows(
            &named,
            &attrs("get", "", "configmaps", "a", "x")
        ));
        // A list names no object, so a rule limited to names does not allow it.
        assert!(!rule_allows(
            &named,
            &attrs("list", "", "configmaps", "a", "")
        ));
        let sub = json!({"apiGroups": [""], "resources": ["*/proxy"], "verbs": ["get"]});
        assert!(rule_allows(
            &sub,
            &attrs("get", "", "services/proxy", "a", "s")
        ));
        assert!(!rule_allows(&sub, &attrs("get", "", "services", "a", "s")));
    }

    #[test]
    fn service_account_subjects_default_to_the_bindings_namespace() {
        let user = User::new("system:serviceaccount:audit:sink");
        let binding = json!({"metadata": {"namespace": "audit"}, "subjects": [{"kind": "ServiceAccount", "name": "sink"}]});
        assert!(binds(&binding, &user));
        let elsewhere = json!({"metadata": {"namespace": "other"}, "subjects": [{"kind": "ServiceAccount", "name": "sink"}]});
        assert!(!binds(&elsewhere, &user));
    }
}
