//! `deploy/components/aggregated-api`: rendered by the real `kubectl
//! kustomize` on top of deploy/ (as an overlay of the user's would), every
//! object parses as its k8s-openapi type, and the pieces fit: the APIService
//! reaches the sink's API port through the Service with a caBundle, the sink
//! gets the flags it has and the permissions an extension apiserver needs,
//! and the reader roles grant exactly read access to auditevents and
//! aggregate into no default role.

mod common;

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::de::DeserializeOwned;
use serde_json::Value;

const NAMESPACE: &str = "kubext-audit";

/// The objects of deploy/ with the component, as `kubectl kustomize` renders them.
fn render() -> Vec<Value> {
    let deploy = common::workspace().root.join("deploy");
    let overlay = tempfile::tempdir().unwrap();
    // Kustomize takes relative paths only, and no overlay inside its base.
    let up = "../".repeat(overlay.path().components().count() - 1);
    let base = format!("{up}{}", deploy.strip_prefix("/").unwrap().display());
    std::fs::write(
        overlay.path().join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {base}\ncomponents:\n  - {base}/components/aggregated-api\n"
        ),
    )
    .unwrap();
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(overlay.path())
        .output()
        .expect("kubectl is on PATH");
    assert!(
        output.status.success(),
        "kubectl kustomize with components/aggregated-api failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_saphyr::from_multiple(&String::from_utf8(output.stdout).unwrap()).unwrap()
}

/// The one object of `kind` named `name`, parsed with no field lost.
fn one<T: DeserializeOwned + serde::Serialize>(docs: &[Value], kind: &str, name: &str) -> T {
    let doc = docs
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"));
    let object: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{e}: {doc:#}"));
    let back = serde_json::to_value(&object).unwrap();
    if kind != "StatefulSet" {
        assert_eq!(&back, doc, "fields were lost parsing {kind} {name}");
    }
    object
}

#[test]
fn the_apiservice_reaches_the_sinks_api_port_with_a_ca_bundle() {
    let docs = render();
    let api: APIService = one(&docs, "APIService", "v1alpha1.audit.kubext.io");
    let spec = api.spec.unwrap();
    assert_eq!(
        (spec.group.as_deref(), spec.version.as_deref()),
        (Some("audit.kubext.io"), Some("v1alpha1"))
    );
    assert_eq!(
        spec.insecure_skip_tls_verify, None,
        "the aggregator verifies the sink"
    );
    assert!(spec.ca_bundle.is_some_and(|b| !b.0.is_empty()));
    let target = spec.service.unwrap();
    assert_eq!(target.namespace.as_deref(), Some(NAMESPACE));
    assert!(
        api.metadata.namespace.is_none(),
        "APIService is cluster-scoped"
    );

    let service: Service = one(&docs, "Service", target.name.as_deref().unwrap());
    let port = service
        .spec
        .unwrap()
        .ports
        .unwrap()
        .into_iter()
        .find(|p| Some(p.port) == target.port)
        .expect("the Service has the APIService's port");
    let sts: StatefulSet = one(&docs, "StatefulSet", "audit-sink");
    let pod = sts.spec.unwrap().template.spec.unwrap();
    let container = &pod.containers[0];
    let container_port = container
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| port.target_port == Some(IntOrString::String(p.name.clone().unwrap())))
        .expect("the Service's API port names a container port");
    let args = container.args.clone().unwrap();
    let flag = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("--{name} is not among {args:?}"))
            .to_string()
    };
    assert_eq!(
        flag("api-listen"),
        format!("0.0.0.0:{}", container_port.container_port)
    );
    // The serving certificate is the one of the Service's DNS name.
    assert_eq!(flag("api-tls-cert"), flag("tls-cert"));
    assert_eq!(flag("api-tls-key"), flag("tls-key"));
    // In-cluster credentials for the SubjectAccessReviews.
    assert_eq!(pod.automount_service_account_token, Some(true));
    let account: ServiceAccount = one(&docs, "ServiceAccount", "audit-sink");
    assert_eq!(account.automount_service_account_token, Some(true));

    let policy: NetworkPolicy = one(&docs, "NetworkPolicy", "audit-sink");
    let policy = policy.spec.unwrap();
    let ingress_ports: Vec<_> = policy.ingress.unwrap()[0].ports.clone().unwrap();
    assert!(
        ingress_ports
            .iter()
            .any(|p| p.port == Some(IntOrString::Int(container_port.container_port)))
    );
    assert!(
        !policy.egress.unwrap().is_empty(),
        "the sink reaches the kube-apiserver"
    );
}

#[test]
fn the_sink_may_delegate_and_readers_are_granted_explicitly() {
    let docs = render();
    let delegator: ClusterRoleBinding = one(
        &docs,
        "ClusterRoleBinding",
        "kubext-audit-sink:system:auth-delegator",
    );
    assert_eq!(delegator.role_ref.name, "system:auth-delegator");
    let sa = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
        let s = &subjects.as_ref().unwrap()[0];
        (s.kind.clone(), s.name.clone(), s.namespace.clone())
    };
    let sink = (
        "ServiceAccount".to_string(),
        "audit-sink".to_string(),
        Some(NAMESPACE.to_string()),
    );
    assert_eq!(sa(&delegator.subjects), sink);
    let reader: RoleBinding = one(
        &docs,
        "RoleBinding",
        "kubext-audit-sink:extension-apiserver-authentication-reader",
    );
    assert_eq!(reader.metadata.namespace.as_deref(), Some("kube-system"));
    assert_eq!(
        (reader.role_ref.kind.as_str(), reader.role_ref.name.as_str()),
        ("Role", "extension-apiserver-authentication-reader")
    );
    assert_eq!(sa(&reader.subjects), sink);

    for name in ["kubext-audit-reader", "kubext-audit-namespace-reader"] {
        let role: ClusterRole = one(&docs, "ClusterRole", name);
        let labels = role.metadata.labels.clone().unwrap_or_default();
        assert!(
            !labels
                .keys()
                .any(|k| k.starts_with("rbac.authorization.k8s.io/aggregate-to-")),
            "{name} must not aggregate into a default role: {labels:?}"
        );
        assert!(role.aggregation_rule.is_none());
        let rules = role.rules.unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(
            rules[0].api_groups.as_deref(),
            Some(&["audit.kubext.io".to_string()][..])
        );
        assert_eq!(
            rules[0].resources.as_deref(),
            Some(&["auditevents".to_string()][..])
        );
        assert_eq!(
            rules[0].verbs,
            ["get", "list", "watch"].map(String::from).to_vec()
        );
    }
}

#[test]
fn the_component_passes_flags_the_sink_has() {
    let ws = common::workspace();
    let sink = xtask::binaries::BINARIES
        .iter()
        .find(|b| b.bin == "audit-sink")
        .unwrap();
    let dir = ws
        .build(&[sink], xtask::workspace::Profile::Dev, None)
        .unwrap();
    let help = Command::new(dir.join("audit-sink"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let text = std::fs::read_to_string(
        Path::new(&common::workspace().root)
            .join("deploy/components/aggregated-api/kustomization.yaml"),
    )
    .unwrap();
    let flags: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("value: --"))
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert_eq!(flags.len(), 3);
    for flag in flags {
        assert!(
            help.contains(&format!("--{flag} ")),
            "audit-sink serve has no --{flag}"
        );
    }
}
