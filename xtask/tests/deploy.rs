//! `deploy/`: `kubectl kustomize deploy/` (the real kubectl) renders objects that
//! each parse as their k8s-openapi type with no field left over, that fit
//! together (selectors, ports, secret keys, volumes), and the apiserver-side
//! files (webhook kubeconfig, audit policy) say what the README promises.
//! `deploy/overlays/ha` renders a 3-node NATS JetStream cluster and sink
//! replicas in fleet mode, with disruption budgets, anti-affinity and TLS
//! plus a token on every NATS connection.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
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

/// `kubectl kustomize DIR`, one JSON value per object.
fn kustomize(dir: &Path) -> Vec<Value> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl is on PATH");
    assert!(
        output.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    serde_saphyr::from_multiple(&text).unwrap()
}

fn render() -> Rendered {
    let docs = kustomize(&deploy_dir());
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
fn every_yaml_file_of_the_base_is_a_kustomization_resource() {
    let dir = deploy_dir().join("base");
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
                "deploy/base/{name} is not in the kustomization"
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

/// The objects of `deploy/overlays/ha`, each parsed as its type.
struct Fleet {
    stateful_sets: BTreeMap<String, StatefulSet>,
    services: BTreeMap<String, Service>,
    budgets: BTreeMap<String, PodDisruptionBudget>,
    policies: BTreeMap<String, NetworkPolicy>,
    secrets: BTreeMap<String, Secret>,
    config_maps: BTreeMap<String, ConfigMap>,
}

fn render_ha() -> Fleet {
    let docs = kustomize(&deploy_dir().join("overlays/ha"));
    let mut fleet = Fleet {
        stateful_sets: BTreeMap::new(),
        services: BTreeMap::new(),
        budgets: BTreeMap::new(),
        policies: BTreeMap::new(),
        secrets: BTreeMap::new(),
        config_maps: BTreeMap::new(),
    };
    for doc in &docs {
        let kind = doc["kind"].as_str().expect("every object has a kind");
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        if kind != "Namespace" {
            assert_eq!(doc["metadata"]["namespace"], NAMESPACE, "{kind} {name}");
        }
        match kind {
            "StatefulSet" => drop(fleet.stateful_sets.insert(name, typed(doc))),
            "Service" => drop(fleet.services.insert(name, typed(doc))),
            "PodDisruptionBudget" => drop(fleet.budgets.insert(name, typed(doc))),
            "NetworkPolicy" => drop(fleet.policies.insert(name, typed(doc))),
            "Secret" => drop(fleet.secrets.insert(name, typed(doc))),
            "ConfigMap" => drop(fleet.config_maps.insert(name, typed(doc))),
            "Namespace" => drop(typed::<Namespace>(doc)),
            "ServiceAccount" => drop(typed::<ServiceAccount>(doc)),
            "Role" => drop(typed::<Role>(doc)),
            "RoleBinding" => drop(typed::<RoleBinding>(doc)),
            other => panic!("unexpected kind {other} in deploy/overlays/ha"),
        }
    }
    fleet
}

fn pod_labels(sts: &StatefulSet) -> BTreeMap<String, String> {
    let spec = sts.spec.as_ref().unwrap();
    let labels = spec
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .clone()
        .unwrap();
    let selector = spec.selector.match_labels.clone().unwrap();
    assert!(selector.iter().all(|(k, v)| labels.get(k) == Some(v)));
    labels
}

fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let wanted = selector.match_labels.as_ref().unwrap();
    !wanted.is_empty() && wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Pods of `sts` may never share a node.
fn spread_over_nodes(sts: &StatefulSet) {
    let labels = pod_labels(sts);
    let pod = sts.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    let terms = pod
        .affinity
        .as_ref()
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .unwrap_or_else(|| panic!("{:?} has no required pod anti-affinity", sts.metadata.name));
    assert!(
        terms
            .iter()
            .any(|t| t.topology_key == "kubernetes.io/hostname"
                && t.label_selector
                    .as_ref()
                    .is_some_and(|s| selects(s, &labels))),
        "{:?}: one pod per node",
        sts.metadata.name
    );
}

/// The budget that covers the pods of `sts`.
fn budget_for<'a>(fleet: &'a Fleet, sts: &StatefulSet) -> &'a PodDisruptionBudget {
    let labels = pod_labels(sts);
    fleet
        .budgets
        .values()
        .find(|b| selects(b.spec.as_ref().unwrap().selector.as_ref().unwrap(), &labels))
        .unwrap_or_else(|| panic!("no PodDisruptionBudget for {:?}", sts.metadata.name))
}

#[test]
fn the_ha_overlay_runs_a_three_node_nats_cluster() {
    let fleet = render_ha();
    let nats = &fleet.stateful_sets["nats"];
    let spec = nats.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(3));
    spread_over_nodes(nats);
    assert_eq!(
        budget_for(&fleet, nats)
            .spec
            .as_ref()
            .unwrap()
            .min_available,
        Some(IntOrString::Int(2)),
        "a drain keeps a quorum of two"
    );

    // Headless service naming each node, published before it is ready (routes form first).
    let service_name = spec.service_name.clone().unwrap();
    let service = fleet.services[&service_name].spec.as_ref().unwrap();
    assert_eq!(service.cluster_ip.as_deref(), Some("None"));
    assert_eq!(service.publish_not_ready_addresses, Some(true));
    assert!(
        service
            .selector
            .as_ref()
            .unwrap()
            .iter()
            .all(|(k, v)| pod_labels(nats).get(k) == Some(v))
    );

    // JetStream on the PVC; the config from the ConfigMap.
    let pod = spec.template.spec.as_ref().unwrap();
    let container = &pod.containers[0];
    let mounts = container.volume_mounts.clone().unwrap();
    let claims = spec.volume_claim_templates.as_ref().unwrap();
    let data = mounts
        .iter()
        .find(|m| {
            claims
                .iter()
                .any(|c| c.metadata.name.as_deref() == Some(m.name.as_str()))
        })
        .expect("the PVC is mounted");
    let config_arg = container.args.as_ref().unwrap()[0]
        .strip_prefix("--config=")
        .expect("nats-server --config=FILE")
        .to_string();
    let config_volume = pod
        .volumes
        .as_ref()
        .unwrap()
        .iter()
        .find(|v| v.config_map.is_some())
        .unwrap();
    let config_mount = mounts
        .iter()
        .find(|m| m.name == config_volume.name)
        .unwrap();
    let config_map = &fleet.config_maps[&config_volume.config_map.as_ref().unwrap().name];
    let file = config_arg
        .strip_prefix(&format!("{}/", config_mount.mount_path))
        .unwrap();
    let conf = &config_map.data.as_ref().unwrap()[file];
    assert!(
        conf.contains(&format!("store_dir: {}/", data.mount_path)),
        "JetStream stores on the volume:\n{conf}"
    );

    // Routes to every node by its stable name, TLS verified both ways.
    for i in 0..3 {
        let route = format!("tls://nats-{i}.{service_name}.{NAMESPACE}.svc:6222");
        assert!(conf.contains(&route), "no route {route}:\n{conf}");
    }
    let cluster = &conf[conf.find("cluster {").expect("a cluster block")..];
    assert!(cluster.contains("verify: true"), "{cluster}");
    // Clients: TLS and a token from the Secret; no way in without them.
    let top = &conf[..conf.find("cluster {").unwrap()];
    assert!(
        top.contains("tls {") && top.contains("token: $NATS_TOKEN"),
        "{top}"
    );
    for insecure in ["no_auth_user", "allow_non_tls", "insecure", "verify: false"] {
        assert!(!conf.contains(insecure), "{insecure} in nats.conf");
    }
    let env = container.env.clone().unwrap();
    let token = env.iter().find(|e| e.name == "NATS_TOKEN").unwrap();
    let key = token
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert!(
        fleet.secrets[&key.name]
            .string_data
            .as_ref()
            .unwrap()
            .contains_key(&key.key)
    );

    // Ready when the monitoring port says so.
    let probe = container
        .readiness_probe
        .as_ref()
        .unwrap()
        .http_get
        .as_ref()
        .unwrap();
    let monitor = container
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| probe.port == IntOrString::String(p.name.clone().unwrap()))
        .expect("the readiness probe names a container port");
    assert!(conf.contains(&format!("http_port: {}", monitor.container_port)));
    assert!(probe.path.as_deref().unwrap().starts_with("/healthz"));

    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(
        pod.security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
}

#[test]
fn the_ha_overlay_runs_sink_replicas_on_the_nats_stream() {
    let fleet = render_ha();
    let sink = &fleet.stateful_sets["audit-sink"];
    let spec = sink.spec.as_ref().unwrap();
    assert!(spec.replicas.unwrap() >= 2, "two or more replicas");
    spread_over_nodes(sink);
    let budget = budget_for(&fleet, sink).spec.clone().unwrap();
    assert!(
        budget.min_available == Some(IntOrString::Int(1))
            || budget.max_unavailable == Some(IntOrString::Int(1)),
        "a drain keeps one replica serving: {budget:?}"
    );

    let pod = spec.template.spec.as_ref().unwrap();
    let container = &pod.containers[0];
    let args = container.args.clone().unwrap();
    let flag = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{name}=")))
            .unwrap_or_else(|| panic!("--{name} is not among {args:?}"))
            .to_string()
    };
    // Every NATS node, over TLS, by the headless service's names.
    let nats = &fleet.stateful_sets["nats"];
    let nats_service = nats.spec.as_ref().unwrap().service_name.clone().unwrap();
    let urls: Vec<String> = flag("nats").split(',').map(str::to_string).collect();
    let expected: Vec<String> = (0..3)
        .map(|i| format!("tls://nats-{i}.{nats_service}.{NAMESPACE}.svc:4222"))
        .collect();
    assert_eq!(urls, expected);
    assert_eq!(flag("nats-replicas"), "3");

    // The replica is named after its pod.
    assert_eq!(flag("replica-name"), "$(POD_NAME)");
    let env = container.env.clone().unwrap();
    let pod_name = env.iter().find(|e| e.name == "POD_NAME").unwrap();
    assert_eq!(
        pod_name
            .value_from
            .as_ref()
            .unwrap()
            .field_ref
            .as_ref()
            .unwrap()
            .field_path,
        "metadata.name"
    );

    // The CA and the token files are keys of the NATS Secret, mounted.
    let mounts = container.volume_mounts.clone().unwrap();
    for name in ["nats-ca", "nats-token-file"] {
        let file = flag(name);
        let (dir, key) = file.rsplit_once('/').unwrap();
        let mount = mounts
            .iter()
            .find(|m| m.mount_path == dir)
            .unwrap_or_else(|| panic!("--{name}={file}: nothing is mounted at {dir}"));
        let volume = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == mount.name)
            .unwrap();
        let secret = volume.secret.as_ref().unwrap();
        let secret_key = secret
            .items
            .as_ref()
            .and_then(|items| items.iter().find(|i| i.path == key).map(|i| i.key.clone()))
            .unwrap_or_else(|| key.to_string());
        let data = fleet.secrets[secret.secret_name.as_ref().unwrap()]
            .string_data
            .clone()
            .unwrap();
        assert!(
            data.contains_key(&secret_key),
            "--{name}: no key {secret_key}"
        );
    }
    for arg in &args {
        assert!(!arg.contains("insecure"), "{arg}");
    }

    // The sinks may reach the NATS client port, and nothing else but DNS.
    let policy = fleet.policies["audit-sink"].spec.clone().unwrap();
    let egress = policy.egress.unwrap();
    let nats_labels = pod_labels(nats);
    assert!(egress.iter().any(|rule| {
        rule.to.as_ref().unwrap().iter().any(|peer| {
            peer.pod_selector
                .as_ref()
                .is_some_and(|s| selects(s, &nats_labels))
        }) && rule
            .ports
            .as_ref()
            .unwrap()
            .iter()
            .all(|p| p.port == Some(IntOrString::Int(4222)))
    }));
    for rule in &egress {
        for port in rule.ports.as_ref().expect("egress names its ports") {
            assert!(
                [Some(IntOrString::Int(4222)), Some(IntOrString::Int(53))].contains(&port.port),
                "{port:?}"
            );
        }
    }
    // And NATS takes clients only from the sinks.
    let nats_policy = fleet.policies["nats"].spec.clone().unwrap();
    let sink_labels = pod_labels(sink);
    let client_rule = nats_policy
        .ingress
        .unwrap()
        .into_iter()
        .find(|r| {
            r.ports
                .as_ref()
                .unwrap()
                .iter()
                .any(|p| p.port == Some(IntOrString::Int(4222)))
        })
        .unwrap();
    assert!(client_rule.from.unwrap().iter().all(|peer| {
        peer.pod_selector
            .as_ref()
            .is_some_and(|s| selects(s, &sink_labels))
    }));
}

#[test]
fn the_ha_overlay_files_are_all_used() {
    let dir = deploy_dir().join("overlays/ha");
    let kustomization = fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            assert!(
                kustomization.contains(&format!("- {name}"))
                    || kustomization.contains(&format!("path: {name}")),
                "deploy/overlays/ha/{name} is not in the kustomization"
            );
        }
    }
}

#[test]
fn the_ha_sink_flags_are_accepted_by_the_sink() {
    let ws = common::workspace();
    let sink = xtask::binaries::BINARIES
        .iter()
        .find(|b| b.bin == "audit-sink")
        .unwrap();
    let dir = ws
        .build(&[sink], xtask::workspace::Profile::Dev, None)
        .unwrap();
    let fleet = render_ha();
    let sts = &fleet.stateful_sets["audit-sink"];
    let args: Vec<String> = sts
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .args
        .clone()
        .unwrap()
        .into_iter()
        .map(|a| a.replace("$(POD_NAME)", "audit-sink-0"))
        .collect();
    // The flags parse together (clap would exit 2 naming a conflict); the
    // sink then stops because the mounted files are not on this machine.
    let out = Command::new(dir.join("audit-sink"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/etc/"), "{stderr}");
}
