//! kubectl's resource names: short names (`po`, `deploy`), singulars, kinds and
//! plurals, mapped to the plural resource name audit events carry in
//! `objectRef.resource`.

/// A built-in resource kubectl knows by several names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    /// The plural, as in `objectRef.resource` (`deployments`).
    pub plural: &'static str,
    /// The singular (`deployment`).
    pub singular: &'static str,
    /// kubectl's short names (`deploy`).
    pub short: &'static [&'static str],
    /// Whether objects of this resource live in a namespace.
    pub namespaced: bool,
}

const fn r(
    plural: &'static str,
    singular: &'static str,
    short: &'static [&'static str],
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        plural,
        singular,
        short,
        namespaced,
    }
}

/// The built-in resources, with the short names `kubectl api-resources` lists.
pub const RESOURCES: &[ResourceInfo] = &[
    r("pods", "pod", &["po"], true),
    r("services", "service", &["svc"], true),
    r("deployments", "deployment", &["deploy"], true),
    r("replicasets", "replicaset", &["rs"], true),
    r("statefulsets", "statefulset", &["sts"], true),
    r("daemonsets", "daemonset", &["ds"], true),
    r("jobs", "job", &[], true),
    r("cronjobs", "cronjob", &["cj"], true),
    r("configmaps", "configmap", &["cm"], true),
    r("secrets", "secret", &[], true),
    r("serviceaccounts", "serviceaccount", &["sa"], true),
    r("namespaces", "namespace", &["ns"], false),
    r("nodes", "node", &["no"], false),
    r("persistentvolumes", "persistentvolume", &["pv"], false),
    r(
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        &["pvc"],
        true,
    ),
    r("events", "event", &["ev"], true),
    r("endpoints", "endpoints", &["ep"], true),
    r("endpointslices", "endpointslice", &[], true),
    r("ingresses", "ingress", &["ing"], true),
    r("ingressclasses", "ingressclass", &[], false),
    r("networkpolicies", "networkpolicy", &["netpol"], true),
    r("roles", "role", &[], true),
    r("rolebindings", "rolebinding", &[], true),
    r("clusterroles", "clusterrole", &[], false),
    r("clusterrolebindings", "clusterrolebinding", &[], false),
    r(
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        &["hpa"],
        true,
    ),
    r(
        "poddisruptionbudgets",
        "poddisruptionbudget",
        &["pdb"],
        true,
    ),
    r("limitranges", "limitrange", &["limits"], true),
    r("resourcequotas", "resourcequota", &["quota"], true),
    r(
        "replicationcontrollers",
        "replicationcontroller",
        &["rc"],
        true,
    ),
    r("podtemplates", "podtemplate", &[], true),
    r(
        "customresourcedefinitions",
        "customresourcedefinition",
        &["crd", "crds"],
        false,
    ),
    r("storageclasses", "storageclass", &["sc"], false),
    r("volumeattachments", "volumeattachment", &[], false),
    r("csidrivers", "csidriver", &[], false),
    r("csinodes", "csinode", &[], false),
    r("priorityclasses", "priorityclass", &["pc"], false),
    r("runtimeclasses", "runtimeclass", &[], false),
    r("leases", "lease", &[], true),
    r(
        "certificatesigningrequests",
        "certificatesigningrequest",
        &["csr"],
        false,
    ),
    r(
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfiguration",
        &[],
        false,
    ),
    r(
        "validatingwebhookconfigurations",
        "validatingwebhookconfiguration",
        &[],
        false,
    ),
    r("apiservices", "apiservice", &[], false),
    r("componentstatuses", "componentstatus", &["cs"], false),
    r("podsecuritypolicies", "podsecuritypolicy", &["psp"], false),
    r("tokenreviews", "tokenreview", &[], false),
    r("subjectaccessreviews", "subjectaccessreview", &[], false),
    r(
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        &[],
        false,
    ),
    r(
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        &[],
        true,
    ),
];

/// A resource named on the command line, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedResource {
    /// The plural resource name (`deployments`).
    pub plural: String,
    /// The API group when given as `deployments.apps`.
    pub group: Option<String>,
    /// Whether it is namespaced; unknown resources (custom ones) count as namespaced.
    pub namespaced: bool,
    /// Whether the name was one kubectl knows.
    pub known: bool,
}

/// Resolves what a person types after `--resource` or before `/` in `who`:
/// `po`, `pod`, `pods`, `Pod`, `deploy`, `deployments.apps`, or a custom
/// resource's plural (`certificates.cert-manager.io`), kept as typed.
pub fn resolve(input: &str) -> Option<ResolvedResource> {
    let text = input.trim().to_ascii_lowercase();
    if text.is_empty()
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return None;
    }
    let (name, group) = match text.split_once('.') {
        Some((n, g)) if !g.is_empty() => (n.to_string(), Some(g.to_string())),
        Some(_) => return None,
        None => (text.clone(), None),
    };
    let known = RESOURCES
        .iter()
        .find(|r| r.plural == name || r.singular == name || r.short.contains(&name.as_str()));
    Some(match known {
        Some(info) => ResolvedResource {
            plural: info.plural.to_string(),
            group,
            namespaced: info.namespaced,
            known: true,
        },
        None => ResolvedResource {
            plural: name,
            group,
            namespaced: true,
            known: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_singulars_kinds_and_plurals() {
        for (typed, plural) in [
            ("po", "pods"),
            ("pod", "pods"),
            ("Pod", "pods"),
            ("pods", "pods"),
            ("deploy", "deployments"),
            ("svc", "services"),
            ("cm", "configmaps"),
            ("secrets", "secrets"),
            ("secret", "secrets"),
            ("sa", "serviceaccounts"),
            ("ClusterRoleBinding", "clusterrolebindings"),
            ("netpol", "networkpolicies"),
        ] {
            assert_eq!(resolve(typed).unwrap().plural, plural, "{typed}");
        }
        let ns = resolve("ns").unwrap();
        assert!(!ns.namespaced && ns.known);
    }

    #[test]
    fn groups_and_custom_resources() {
        let d = resolve("deployments.apps").unwrap();
        assert_eq!(d.plural, "deployments");
        assert_eq!(d.group.as_deref(), Some("apps"));
        let c = resolve("certificates.cert-manager.io").unwrap();
        assert_eq!(c.plural, "certificates");
        assert_eq!(c.group.as_deref(), Some("cert-manager.io"));
        assert!(!c.known);
        assert!(resolve("").is_none());
        assert!(resolve("pods/exec").is_none());
        assert!(resolve("deploy.").is_none());
    }

    #[test]
    fn short_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in RESOURCES {
            for name in r.short.iter().chain([&r.plural, &r.singular]) {
                // endpoints is its own singular
                if r.plural == r.singular && name == &r.plural {
                    continue;
                }
                assert!(seen.insert(*name), "{name} listed twice");
            }
        }
    }
}
