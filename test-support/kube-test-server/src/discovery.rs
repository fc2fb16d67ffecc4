//! Legacy (unaggregated) discovery documents: `/version`, `/api`, `/api/v1`,
//! `/apis` and `/apis/{group}/{version}`. Clients that ask for aggregated
//! discovery (`as=APIGroupDiscoveryList`) get these with `application/json` and
//! fall back, as they do against servers without aggregated discovery.
//! Groups of APIServices that delegate to a backend are listed too; their
//! versions' resource lists come from the backend (see `aggregator`).

use serde_json::{Value, json};

use crate::store::ResourceType;

/// The version the server reports.
pub const GIT_VERSION: &str = "v1.33.4";

pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-08-12T18:06:00Z",
        "goVersion": "go1.24.5",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

/// Built-in groups served besides those of registered resources.
const FIXED_GROUPS: &[&str] = &["authentication.k8s.io", "authorization.k8s.io"];

/// The (group, version) pairs served: fixed, registered, then `aggregated`.
pub(crate) fn groups(
    types: &[ResourceType],
    aggregated: &[(String, String)],
) -> Vec<(String, String)> {
    let mut groups: Vec<(String, String)> = FIXED_GROUPS
        .iter()
        .map(|g| (g.to_string(), "v1".to_string()))
        .collect();
    for t in types {
        if !t.group.is_empty() && !groups.iter().any(|(g, v)| *g == t.group && *v == t.version) {
            groups.push((t.group.clone(), t.version.clone()));
        }
    }
    for gv in aggregated {
        if !groups.contains(gv) {
            groups.push(gv.clone());
        }
    }
    groups
}

fn group_json(name: &str, versions: &[&String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": versions.clone(), "preferredVersion": versions[0].clone()})
}

pub(crate) fn api_group_list(types: &[ResourceType], aggregated: &[(String, String)]) -> Value {
    let all = groups(types, aggregated);
    let mut names: Vec<&String> = Vec::new();
    for (g, _) in &all {
        if !names.contains(&g) {
            names.push(g);
        }
    }
    let groups: Vec<Value> = names
        .iter()
        .map(|name| {
            let versions: Vec<&String> = all
                .iter()
                .filter(|(g, _)| g == *name)
                .map(|(_, v)| v)
                .collect();
            group_json(name, &versions)
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(crate) fn api_group(
    types: &[ResourceType],
    aggregated: &[(String, String)],
    group: &str,
) -> Option<Value> {
    let all = groups(types, aggregated);
    let versions: Vec<&String> = all
        .iter()
        .filter(|(g, _)| g == group)
        .map(|(_, v)| v)
        .collect();
    if versions.is_empty() {
        return None;
    }
    let mut v = group_json(group, &versions);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

fn resource_json(t: &ResourceType) -> Value {
    let mut r = json!({
        "name": t.plural,
        "singularName": t.singular,
        "namespaced": t.namespaced,
        "kind": t.kind,
        "verbs": t.verbs,
    });
    if !t.short_names.is_empty() {
        r["shortNames"] = json!(t.short_names);
    }
    r
}

fn subresource(
    name: &str,
    namespaced: bool,
    group_kind: (&str, &str, &str),
    verbs: &[&str],
) -> Value {
    let (group, version, kind) = group_kind;
    let mut r = json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs});
    if !group.is_empty() {
        r["group"] = json!(group);
        r["version"] = json!(version);
    }
    r
}

pub(crate) fn api_resource_list(
    types: &[ResourceType],
    group: &str,
    version: &str,
) -> Option<Value> {
    let mut resources: Vec<Value> = types
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .map(resource_json)
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    match (group, version) {
        ("", "v1") => {
            resources.push(subresource(
                "serviceaccounts/token",
                true,
                ("authentication.k8s.io", "v1", "TokenRequest"),
                &["create"],
            ));
            resources.push(subresource(
                "services/proxy",
                true,
                ("", "", "ServiceProxyOptions"),
                &["create", "delete", "get", "patch", "update"],
            ));
        }
        ("authentication.k8s.io", "v1") => {
            resources.push(json!({"name": "selfsubjectreviews", "singularName": "selfsubjectreview", "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]}));
            resources.push(json!({"name": "tokenreviews", "singularName": "tokenreview", "namespaced": false, "kind": "TokenReview", "verbs": ["create"]}));
        }
        ("authorization.k8s.io", "v1") => {
            resources.push(json!({"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview", "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]}));
            resources.push(json!({"name": "subjectaccessreviews", "singularName": "subjectaccessreview", "namespaced": false, "kind": "SubjectAccessReview", "verbs": ["create"]}));
        }
        _ => {}
    }
    if resources.is_empty() {
        return None;
    }
    resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let mut list =
        json!({"kind": "APIResourceList", "groupVersion": group_version, "resources": resources});
    // The legacy core group's list (/api/v1) is sent without apiVersion.
    if !group.is_empty() {
        list["apiVersion"] = json!("v1");
    }
    Some(list)
}
