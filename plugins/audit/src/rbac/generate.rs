//! From what was observed to RBAC objects: one ClusterRole (cluster-scoped
//! requests, lists across namespaces and non-resource URLs) and one Role per
//! namespace, each with its binding to the subject, in a fixed order.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use kubectl_kit::k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
};
use kubectl_kit::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Subject;
use super::observed::{Observed, ResourceKey, Scope, VerbUse, names_object, sorted_verbs};

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Subresources of interactive sessions: kubectl opens them with a WebSocket
/// `GET` (audited as `get`), and since Kubernetes 1.35 the API server also
/// checks `create` on them, as it always did for SPDY `POST`s.
const SESSION_SUBRESOURCES: &[&str] = &["pods/exec", "pods/attach", "pods/portforward"];

/// How to turn observations into rules.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Name of every generated object.
    pub name: String,
    /// Limit rules to the objects named, where every request named one.
    pub resource_names: bool,
    /// Everything in one ClusterRole.
    pub cluster_scope: bool,
}

/// The generated objects, in apply order.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The ClusterRole and its binding, when anything is cluster-wide.
    pub cluster: Option<(ClusterRole, ClusterRoleBinding)>,
    /// Per namespace, sorted.
    pub namespaced: Vec<(Role, RoleBinding)>,
}

impl Generated {
    /// Every object as JSON, ClusterRole first, then each namespace's Role and RoleBinding.
    pub fn items(&self) -> Vec<serde_json::Value> {
        let mut items = Vec::new();
        if let Some((role, binding)) = &self.cluster {
            items.push(to_value(role));
            items.push(to_value(binding));
        }
        for (role, binding) in &self.namespaced {
            items.push(to_value(role));
            items.push(to_value(binding));
        }
        items
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("k8s-openapi objects serialize")
}

/// Builds the objects that allow exactly what was observed.
pub fn generate(observed: &Observed, subject: &Subject, options: &Options) -> Generated {
    // Scope → resource → verb, with --cluster-scope folding every namespace in.
    let mut by_scope: BTreeMap<Scope, BTreeMap<ResourceKey, BTreeMap<String, VerbUse>>> =
        BTreeMap::new();
    for (scope, resources) in &observed.resources {
        let scope = if options.cluster_scope {
            Scope::Cluster
        } else {
            scope.clone()
        };
        let target = by_scope.entry(scope).or_default();
        for (key, verbs) in resources {
            let target = target.entry(key.clone()).or_default();
            for (verb, used) in verbs {
                let t = target.entry(verb.clone()).or_default();
                t.count += used.count;
                t.names.extend(used.names.iter().cloned());
                t.unnamed |= used.unnamed;
            }
        }
    }

    let mut generated = Generated::default();
    let mut cluster_rules = by_scope
        .get(&Scope::Cluster)
        .map(|r| resource_rules(r, options.resource_names))
        .unwrap_or_default();
    cluster_rules.extend(non_resource_rules(&observed.non_resource));
    if !cluster_rules.is_empty() {
        let role = ClusterRole {
            metadata: meta(&options.name, None, subject),
            rules: Some(cluster_rules),
            ..Default::default()
        };
        let binding = ClusterRoleBinding {
            metadata: meta(&options.name, None, subject),
            role_ref: role_ref("ClusterRole", &options.name),
            subjects: Some(vec![subject.rbac_subject()]),
        };
        generated.cluster = Some((role, binding));
    }
    for (scope, resources) in &by_scope {
        let Scope::Namespace(ns) = scope else {
            continue;
        };
        let role = Role {
            metadata: meta(&options.name, Some(ns), subject),
            rules: Some(resource_rules(resources, options.resource_names)),
        };
        let binding = RoleBinding {
            metadata: meta(&options.name, Some(ns), subject),
            role_ref: role_ref("Role", &options.name),
            subjects: Some(vec![subject.rbac_subject()]),
        };
        generated.namespaced.push((role, binding));
    }
    generated
}

fn meta(name: &str, namespace: Option<&str>, subject: &Subject) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_string(),
            "kubectl-audit".to_string(),
        )])),
        annotations: Some(BTreeMap::from([(
            "audit.kubext.io/generated-for".to_string(),
            subject.reference(),
        )])),
        ..Default::default()
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.into(),
        kind: kind.into(),
        name: name.into(),
    }
}

/// One rule per resource and set of names: verbs used on any object, and
/// (with `resource_names`) verbs only ever used on named objects, limited to those names.
fn resource_rules(
    resources: &BTreeMap<ResourceKey, BTreeMap<String, VerbUse>>,
    resource_names: bool,
) -> Vec<PolicyRule> {
    let mut rules = Vec::new();
    for (key, verbs) in resources {
        // None (no resourceNames) sorts first.
        let mut groups: BTreeMap<Option<BTreeSet<String>>, BTreeSet<String>> = BTreeMap::new();
        for (verb, used) in verbs {
            let names =
                (resource_names && !used.unnamed && !used.names.is_empty() && names_object(verb))
                    .then(|| used.names.clone());
            groups
                .entry(names.clone())
                .or_default()
                .insert(verb.clone());
            if SESSION_SUBRESOURCES.contains(&key.resource.as_str()) && verb == "get" {
                // `create` is never limited by name.
                groups.entry(None).or_default().insert("create".into());
            }
        }
        for (names, verbs) in groups {
            rules.push(PolicyRule {
                api_groups: Some(vec![key.api_group.clone()]),
                resources: Some(vec![key.resource.clone()]),
                verbs: sorted_verbs(&verbs),
                resource_names: names.map(|n| n.into_iter().collect()),
                non_resource_urls: None,
            });
        }
    }
    rules
}

/// Non-resource URLs grouped by the set of verbs used on them.
fn non_resource_rules(urls: &BTreeMap<String, BTreeMap<String, u64>>) -> Vec<PolicyRule> {
    let mut by_verbs: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (url, verbs) in urls {
        by_verbs
            .entry(sorted_verbs(verbs.keys()))
            .or_default()
            .push(url.clone());
    }
    by_verbs
        .into_iter()
        .map(|(verbs, urls)| PolicyRule {
            non_resource_urls: Some(urls),
            verbs,
            ..Default::default()
        })
        .collect()
}

/// The comment block at the top of the YAML: what was observed, when.
pub fn header(observed: &Observed, subject: &Subject, searched: &str) -> String {
    let mut lines = vec![
        format!("Least-privilege RBAC for {subject}, generated by `kubectl audit rbac`"),
        format!("from the audit events {searched}."),
    ];
    match (observed.first, observed.last) {
        (Some(first), Some(last)) => lines.push(format!(
            "Observed {} allowed requests between {first} and {last}.",
            observed.allowed
        )),
        _ => lines.push(format!("Observed {} allowed requests.", observed.allowed)),
    }
    if observed.denied > 0 {
        lines.push(format!(
            "{} denied requests are not granted.",
            observed.denied
        ));
    }
    if observed.impersonating > 0 {
        lines.push(format!(
            "{} requests made while impersonating another user are not granted (they were authorized as that user).",
            observed.impersonating
        ));
    }
    let verbs: Vec<String> = sorted_verbs(observed.verbs.keys())
        .into_iter()
        .map(|v| format!("{v} {}", observed.verbs[&v]))
        .collect();
    if !verbs.is_empty() {
        lines.push(format!("Requests per verb: {}.", verbs.join(", ")));
    }
    lines.push("Requests per resource:".into());
    for (scope, resources) in &observed.resources {
        let place = match scope {
            Scope::Cluster => "cluster-wide".to_string(),
            Scope::Namespace(ns) => format!("namespace {ns}"),
        };
        for (key, verbs) in resources {
            lines.push(format!(
                "  {place}, {}: {}",
                key.display(),
                counts(verbs.iter().map(|(v, u)| (v, u.count)))
            ));
        }
    }
    for (url, verbs) in &observed.non_resource {
        lines.push(format!(
            "  URL {url}: {}",
            counts(verbs.iter().map(|(v, n)| (v, *n)))
        ));
    }
    let mut out = String::new();
    for line in lines {
        out.push_str("# ");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn counts<'a>(verbs: impl Iterator<Item = (&'a String, u64)>) -> String {
    let mut v: Vec<(&String, u64)> = verbs.collect();
    v.sort_by_key(|(verb, _)| super::observed::verb_order(verb));
    v.iter()
        .map(|(verb, n)| format!("{verb} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the objects as YAML documents separated by `---`, after the header.
pub fn write_yaml(
    out: &mut impl Write,
    header: &str,
    items: &[serde_json::Value],
) -> std::io::Result<()> {
    out.write_all(header.as_bytes())?;
    for item in items {
        out.write_all(b"---\n")?;
        let text = kubectl_kit::output::to_yaml(item)?;
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Writes the objects as one `v1` `List`.
pub fn write_json(out: &mut impl Write, items: Vec<serde_json::Value>) -> std::io::Result<()> {
    kubectl_kit::output::write_json(
        out,
        &serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {},
            "items": items,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (verb, namespace, group, resource[/sub], name)
    type Request<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, Option<&'a str>);

    fn observe(events: &[Request]) -> Observed {
        let mut o = Observed::default();
        for (verb, ns, group, resource, name) in events {
            let (res, sub) = match resource.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (*resource, None),
            };
            let e = serde_json::json!({
                "auditID": "x", "stage": "ResponseComplete", "verb": verb,
                "requestURI": "/x", "user": {"username": "alice"},
                "objectRef": {"resource": res, "subresource": sub, "namespace": ns,
                              "name": name, "apiGroup": group},
                "responseStatus": {"code": 200},
            });
            o.add(&serde_json::from_value(e).unwrap());
        }
        o
    }

    fn rules(v: &serde_json::Value) -> Vec<String> {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    #[test]
    fn names_only_where_every_request_named_an_object() {
        let o = observe(&[
            ("get", Some("prod"), "apps", "deployments", Some("web")),
            ("update", Some("prod"), "apps", "deployments", Some("web")),
            ("list", Some("prod"), "apps", "deployments", None),
            ("create", Some("prod"), "", "configmaps", Some("new")),
            ("get", Some("prod"), "", "pods/log", Some("web-1")),
        ]);
        let subject = Subject::User("alice".into());
        let options = Options {
            name: "n".into(),
            resource_names: true,
            cluster_scope: false,
        };
        let g = generate(&o, &subject, &options);
        assert!(g.cluster.is_none());
        let items = g.items();
        assert_eq!(items.len(), 2);
        assert_eq!(
            rules(&items[0]),
            [
                r#"{"apiGroups":[""],"resources":["configmaps"],"verbs":["create"]}"#,
                r#"{"apiGroups":[""],"resourceNames":["web-1"],"resources":["pods/log"],"verbs":["get"]}"#,
                r#"{"apiGroups":["apps"],"resources":["deployments"],"verbs":["list"]}"#,
                r#"{"apiGroups":["apps"],"resourceNames":["web"],"resources":["deployments"],"verbs":["get","update"]}"#,
            ]
        );
        // Without --resource-names: one rule per resource.
        let g = generate(
            &o,
            &subject,
            &Options {
                resource_names: false,
                ..options.clone()
            },
        );
        assert_eq!(
            rules(&g.items()[0])[2],
            r#"{"apiGroups":["apps"],"resources":["deployments"],"verbs":["get","list","update"]}"#
        );
        // --cluster-scope: one ClusterRole.
        let g = generate(
            &o,
            &subject,
            &Options {
                cluster_scope: true,
                ..options
            },
        );
        assert!(g.namespaced.is_empty());
        assert_eq!(g.items()[0]["kind"], "ClusterRole");
    }

    #[test]
    fn exec_over_websocket_also_gets_create() {
        let o = observe(&[("get", Some("prod"), "", "pods/exec", Some("web-1"))]);
        let g = generate(&o, &Subject::User("a".into()), &Options::default());
        assert_eq!(
            rules(&g.items()[0]),
            [r#"{"apiGroups":[""],"resources":["pods/exec"],"verbs":["get","create"]}"#]
        );
    }
}
