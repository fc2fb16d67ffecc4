//! `deploy/`: `kubectl kustomize deploy/` (the real kubectl) renders objects that
//! each parse as their k8s-openapi type with no field left over, that fit
//! together (selectors, ports, secret keys, volumes), and the apiserver-side
//! files (webhook kubeconfig, audit policy) say what the README promises.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const NAMESPACE: &str = "kubext-audit";

fn deploy_dir() -> std::path::PathBuf {
    common::workspace().root.join("deploy")
}

/// Parses `value` as `T` and checks that serialising `T` gives the same JSON
/// back: a misspelt or misplaced field would be dropped and caught here.
fn typed<T: DeserializeOwned + serde::Serialize>(value: &Value) -> T {
    let object: T =
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value:#}"));
    let mut back = serde_json::to_value(&object).unwrap();
    // k8s-openapi writes apiVersion/kind into the StatefulSet's PVC templates
    // (they are resources of their own); the API server leaves them out.
    if let Some(claims) = back
        .pointer_mut("/spec/volumeClaimTemplates")
        .and_then(Value::as_array_mut)
    {
        for claim in claims {
            if let Some(claim) = claim.as_object_mut() {
                claim.remove("apiVersion");
                claim.remove("kind");
            }
        }
    }
    assert_eq!(&back, value, "fields were lost parsing {}", value["kind"]);
    object
}

#[derive(Default)]
struct Rendered {
    namespace: Option<Namespace>,
    service_account: Option<ServiceAccount>,
    role: Option<Role>,
    role_binding: Option<RoleBinding>,
    secret: Option<Secret>,
    stateful_set: Option<StatefulSet>,
    service: Option<Service>,
    network_policy: Option<NetworkPolicy>,
}

fn render() -> Rendered {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(deploy_dir())
        .output()
        .expect("kubectl is on PATH");
    assert!(
        output.status.success(),
        "kubectl kustomize deploy/ failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let mut rendered = Rendered::default();
    for doc in &docs {
        let kind = doc["kind"].as_str().expect("every object has a kind");
        match kind {
            "Namespace" => rendered.namespace = Some(typed(doc)),
            "ServiceAccount" => rendered.service_account = Some(typed(doc)),
            "Role" => rendered.role = Some(typed(doc)),
            "RoleBinding" => rendered.role_binding = Some(typed(doc)),
            "Secret" => rendered.secret = Some(typed(doc)),
            "StatefulSet" => rendered.stateful_set = Some(typed(doc)),
            "Service" => rendered.service = Some(typed(doc)),
            "NetworkPolicy" => rendered.network_policy = Some(typed(doc)),
            other => panic!("unexpected kind {other} in deploy/"),
        }
        if kind != "Namespace" {
            assert_eq!(doc["metadata"]["namespace"], NAMESPACE, "{kind}");
        }
    }
    assert_eq!(docs.len(), 8, "one object of each kind");
    rendered
}

#[test]
fn every_object_parses_and_they_fit_together() {
    let r = render();
    let sts = r.stateful_set.unwrap();
    let spec = sts.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(1), "one writer for the WAL and index");
    let pod = spec.template.spec.as_ref().unwrap();
    let labels = spec
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .clone()
        .unwrap();
    let matches = |selector: &BTreeMap<String, String>| {
        selector.iter().all(|(k, v)| labels.get(k) == Some(v))
    };
    assert!(matches(spec.selector.match_labels.as_ref().unwrap()));

    // The container: non-root, read-only, the sink's flags, the image of this version.
    let container = &pod.containers[0];
    assert_eq!(
        container.image.as_deref(),
        Some(format!("kubext/audit-sink:v{}", xtask::workspace::VERSION).as_str()),
        "kustomization.yaml's image tag follows the workspace version"
    );
    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(
        pod.security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
    let args = container.args.clone().unwrap();
    assert_eq!(args[0], "serve");
    let flag = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("--{name} is not among {args:?}"))
            .to_string()
    };
    let port = container.ports.as_ref().unwrap()[0].clone();
    assert_eq!(flag("listen"), format!("0.0.0.0:{}", port.container_port));

    // The data directory is the PVC.
    let mounts = container.volume_mounts.clone().unwrap();
    let data_mount = mounts
        .iter()
        .find(|m| m.mount_path == flag("data-dir"))
        .unwrap();
    let claims = spec.volume_claim_templates.as_ref().unwrap();
    assert!(
        claims
            .iter()
            .any(|c| c.metadata.name.as_deref() == Some(data_mount.name.as_str()))
    );

    // Every credential file the flags name is a key of the Secret mounted there.
    let secret = r.secret.unwrap();
    let keys: BTreeSet<&String> = secret.string_data.as_ref().unwrap().keys().collect();
    let credentials = mounts
        .iter()
        .find(|m| m.mount_path == "/etc/audit-sink")
        .unwrap();
    let volume = pod
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.name == credentials.name)
        .unwrap();
    let secret_volume = volume.secret.as_ref().unwrap();
    assert_eq!(secret_volume.secret_name, secret.metadata.name);
    assert_eq!(secret_volume.default_mode, Some(0o440));
    for name in ["tls-cert", "tls-key", "token-file", "search-token-file"] {
        let file = flag(name);
        let key = file.strip_prefix("/etc/audit-sink/").unwrap().to_string();
        assert!(
            keys.contains(&key),
            "--{name}={file}: no key {key} in the Secret"
        );
    }

    // The Service and the NetworkPolicy reach the pods on the container's port.
    let service = r.service.unwrap();
    let service_spec = service.spec.as_ref().unwrap();
    assert!(matches(service_spec.selector.as_ref().unwrap()));
    assert_eq!(
        spec.service_name.as_deref(),
        service.metadata.name.as_deref()
    );
    let service_port = &service_spec.ports.as_ref().unwrap()[0];
    assert_eq!(
        service_port.target_port,
        Some(
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(
                port.name.clone().unwrap()
            )
        )
    );
    let policy = r.network_policy.unwrap().spec.unwrap();
    assert!(matches(
        policy
            .pod_selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap()
    ));
    let allowed = &policy.ingress.as_ref().unwrap()[0].ports.as_ref().unwrap()[0];
    assert_eq!(
        allowed.port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(port.container_port))
    );
    assert_eq!(policy.egress.as_deref(), Some(&[][..]), "no egress at all");

    // RBAC: the pod's service account exists and has no token; the binding names the role.
    let account = r.service_account.unwrap();
    assert_eq!(pod.service_account_name, account.metadata.name);
    assert_eq!(account.automount_service_account_token, Some(false));
    let role = r.role.unwrap();
    let binding = r.role_binding.unwrap();
    assert_eq!(Some(binding.role_ref.name.clone()), role.metadata.name);
    assert!(role.rules.unwrap().iter().any(|rule| {
        rule.resources
            .as_ref()
            .is_some_and(|r| r.contains(&"services/proxy".to_string()))
    }));
    assert_eq!(
        r.namespace.unwrap().metadata.name.as_deref(),
        Some(NAMESPACE)
    );
}

#[test]
fn every_yaml_file_at_the_top_is_a_kustomization_resource() {
    let dir = deploy_dir();
    let kustomization: Value =
        serde_saphyr::from_str(&fs::read_to_string(dir.join("kustomization.yaml")).unwrap())
            .unwrap();
    let resources: BTreeSet<String> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            assert!(
                resources.contains(&name),
                "deploy/{name} is not in the kustomization"
            );
        }
    }
}

#[test]
fn the_webhook_kubeconfig_points_at_the_service() {
    let path = deploy_dir().join("apiserver/audit-webhook.kubeconfig");
    let kubeconfig: kube::config::Kubeconfig =
        serde_saphyr::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let current = kubeconfig.current_context.clone().unwrap();
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == current)
        .and_then(|c| c.context.clone())
        .unwrap();
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .and_then(|c| c.cluster.clone())
        .unwrap();
    let server = cluster.server.unwrap();
    let service = render().service.unwrap();
    let port = service.spec.unwrap().ports.unwrap()[0].port;
    assert_eq!(server, format!("https://CLUSTER-IP:{port}/v1/events"));
    assert_eq!(
        cluster.tls_server_name.as_deref(),
        Some(format!("{}.{NAMESPACE}.svc", service.metadata.name.unwrap()).as_str())
    );
    let user = kubeconfig
        .auth_infos
        .iter()
        .find(|u| Some(&u.name) == context.user.as_ref())
        .and_then(|u| u.auth_info.clone())
        .unwrap();
    assert!(
        user.token.is_some(),
        "the apiserver authenticates with a bearer token"
    );
}

/// `audit.k8s.io/v1` `Policy`, the fields the apiserver reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Policy {
    api_version: String,
    kind: String,
    #[serde(default)]
    omit_stages: Vec<String>,
    rules: Vec<PolicyRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyRule {
    level: String,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    user_groups: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    resources: Vec<GroupResources>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupResources {
    #[serde(default)]
    group: String,
    #[serde(default)]
    resources: Vec<String>,
}

struct Request<'a> {
    user: &'a str,
    groups: &'a [&'a str],
    verb: &'a str,
    group: &'a str,
    resource: Option<&'a str>,
    path: &'a str,
}

/// The apiserver's policy evaluation: the first rule that matches decides.
fn level(policy: &Policy, r: &Request) -> String {
    for rule in &policy.rules {
        let any = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        if !any(&rule.users, r.user) || !any(&rule.verbs, r.verb) {
            continue;
        }
        if !rule.user_groups.is_empty()
            && !r
                .groups
                .iter()
                .any(|g| rule.user_groups.iter().any(|x| x == g))
        {
            continue;
        }
        let _ = &rule.namespaces;
        match r.resource {
            Some(resource) => {
                if !rule.non_resource_urls.is_empty() {
                    continue;
                }
                if !rule.resources.is_empty()
                    && !rule.resources.iter().any(|gr| {
                        gr.group == r.group
                            && (gr.resources.is_empty()
                                || gr.resources.iter().any(|x| x == resource))
                    })
                {
                    continue;
                }
            }
            None => {
                if !rule.resources.is_empty() {
                    continue;
                }
                if !rule.non_resource_urls.is_empty()
                    && !rule
                        .non_resource_urls
                        .iter()
                        .any(|u| match u.strip_suffix('*') {
                            Some(prefix) => r.path.starts_with(prefix),
                            None => r.path == u,
                        })
                {
                    continue;
                }
            }
        }
        return rule.level.clone();
    }
    "None".into()
}

#[test]
fn the_audit_policy_records_what_the_readme_says() {
    let path = deploy_dir().join("apiserver/audit-policy.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let policy: Policy = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(policy.api_version, "audit.k8s.io/v1");
    assert_eq!(policy.kind, "Policy");
    assert_eq!(policy.omit_stages, ["RequestReceived"]);
    for rule in &policy.rules {
        assert!(
            ["None", "Metadata", "Request", "RequestResponse"].contains(&rule.level.as_str()),
            "{}",
            rule.level
        );
    }
    // Each rule has its own comment.
    let mut commented = false;
    for line in text.lines().skip_while(|l| !l.starts_with("rules:")) {
        let line = line.trim_start();
        if line.starts_with('#') {
            commented = true;
        } else if line.starts_with("- level:") {
            assert!(commented, "a rule without a comment before it: {line}");
            commented = false;
        }
    }

    let alice = |verb: &'static str, group: &'static str, resource: &'static str| Request {
        user: "alice",
        groups: &["system:authenticated"],
        verb,
        group,
        resource: Some(resource),
        path: "",
    };
    let cases = [
        (alice("get", "", "secrets"), "Metadata"),
        (alice("create", "", "secrets"), "Metadata"),
        (alice("update", "", "configmaps"), "Metadata"),
        (alice("delete", "", "secrets"), "Metadata"),
        (alice("create", "apps", "deployments"), "RequestResponse"),
        (alice("patch", "", "pods"), "RequestResponse"),
        (
            alice("delete", "rbac.authorization.k8s.io", "clusterrolebindings"),
            "RequestResponse",
        ),
        (alice("list", "", "pods"), "Metadata"),
        (alice("create", "", "events"), "None"),
        (
            Request {
                user: "system:kube-scheduler",
                groups: &[],
                verb: "update",
                group: "coordination.k8s.io",
                resource: Some("leases"),
                path: "",
            },
            "None",
        ),
        (
            Request {
                user: "system:node:n1",
                groups: &["system:nodes"],
                verb: "patch",
                group: "",
                resource: Some("nodes/status"),
                path: "",
            },
            "None",
        ),
        (
            Request {
                user: "kubelet",
                groups: &[],
                verb: "get",
                group: "",
                resource: None,
                path: "/healthz/ready",
            },
            "None",
        ),
        (
            Request {
                user: "alice",
                groups: &[],
                verb: "get",
                group: "",
                resource: None,
                path: "/metrics",
            },
            "Metadata",
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(
            level(&policy, &request),
            expected,
            "{} {} {:?} {}",
            request.user,
            request.verb,
            request.resource,
            request.path
        );
    }
}

#[test]
fn the_dockerfile_builds_the_sink_into_a_non_root_distroless_image() {
    let root = common::workspace().root;
    let text = fs::read_to_string(root.join("Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(froms.len() >= 2, "multi-stage: {froms:?}");
    let last = froms.last().unwrap();
    assert!(
        last.contains("distroless") || last.contains("scratch"),
        "{last}"
    );
    let user = text.lines().rev().find(|l| l.starts_with("USER ")).unwrap();
    assert!(
        !user.contains("root") && !user.ends_with(" 0") && !user.contains(" 0:"),
        "{user}"
    );
    assert!(text.contains("-p audit-sink"));
    let ignore = fs::read_to_string(root.join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target/"));
    assert!(Path::new(&root.join("LICENSE")).is_file());
}

#[test]
fn the_statefulset_passes_flags_the_sink_has() {
    let ws = common::workspace();
    let sink = xtask::binaries::BINARIES
        .iter()
        .find(|b| b.bin == "audit-sink")
        .unwrap();
    assert!(ws.has(sink), "audit-sink is a workspace member");
    let dir = ws
        .build(&[sink], xtask::workspace::Profile::Dev, None)
        .unwrap();
    let help = Command::new(dir.join("audit-sink"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success(), "{help:?}");
    let help = String::from_utf8(help.stdout).unwrap();
    let sts = render().stateful_set.unwrap();
    let args = sts.spec.unwrap().template.spec.unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert_eq!(args[0], "serve");
    for arg in &args[1..] {
        let flag = arg.split('=').next().unwrap();
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "audit-sink serve has no {flag}:\n{help}"
        );
    }
}
