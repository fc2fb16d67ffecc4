//! `kubectl audit rbac`: generated activity of a user, a service account and
//! the members of a group, sent through a real `audit-sink`; the generated
//! Roles, ClusterRoles and bindings parsed and checked, accepted by the real
//! `kubectl apply --dry-run=client`, applied to the API test server and checked
//! with SubjectAccessReviews, and `--existing` compared with the RBAC
//! objects of the API test server.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{SinkProcess, audit, ok, run, split_cells};
use kube_test_server::{KubeTestServer, KubeconfigOpts};
use kubectl_kit::k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use kubectl_kit::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

/// One request as the apiserver audits it.
struct Req {
    user: &'static str,
    groups: &'static [&'static str],
    verb: &'static str,
    /// `GROUP/RESOURCE[/SUB]` (`/pods` for the core group), or a URL path starting with `/` for
    /// a non-resource request when `url` is set.
    resource: &'static str,
    namespace: Option<&'static str>,
    name: Option<&'static str>,
    code: u16,
    url: bool,
}

const fn req(
    user: &'static str,
    verb: &'static str,
    resource: &'static str,
    namespace: Option<&'static str>,
    name: Option<&'static str>,
) -> Req {
    Req {
        user,
        groups: &["system:authenticated"],
        verb,
        resource,
        namespace,
        name,
        code: 200,
        url: false,
    }
}

impl Req {
    fn code(mut self, code: u16) -> Req {
        self.code = code;
        self
    }
    fn groups(mut self, groups: &'static [&'static str]) -> Req {
        self.groups = groups;
        self
    }
    fn url(user: &'static str, verb: &'static str, path: &'static str) -> Req {
        Req {
            url: true,
            ..req(user, verb, path, None, None)
        }
    }

    /// The events of this request: ResponseComplete, preceded by ResponseStarted
    /// for watches (the same request reported twice).
    fn events(&self, id: usize) -> Vec<String> {
        let time = format!("2026-03-01T10:{:02}:{:02}.000000Z", id / 60, id % 60);
        let decision = if self.code == 403 { "forbid" } else { "allow" };
        let mut event = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": format!("rbac-{id:04}"),
            "stage": "ResponseComplete",
            "verb": self.verb,
            "user": {"username": self.user, "groups": self.groups},
            "sourceIPs": ["10.0.0.7"],
            "userAgent": "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef",
            "responseStatus": {"metadata": {}, "code": self.code},
            "requestReceivedTimestamp": time,
            "stageTimestamp": time,
            "annotations": {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": ""},
        });
        if self.url {
            event["requestURI"] = self.resource.into();
        } else {
            let (group, rest) = self.resource.split_once('/').unwrap();
            let (resource, sub) = match rest.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (rest, None),
            };
            let mut object = json!({"resource": resource, "apiVersion": "v1"});
            if !group.is_empty() {
                object["apiGroup"] = group.into();
            }
            if let Some(sub) = sub {
                object["subresource"] = sub.into();
            }
            if let Some(ns) = self.namespace {
                object["namespace"] = ns.into();
            }
            if let Some(name) = self.name {
                object["name"] = name.into();
            }
            let prefix = if group.is_empty() {
                "/api/v1".to_string()
            } else {
                format!("/apis/{group}/v1")
            };
            let ns = self
                .namespace
                .map(|n| format!("/namespaces/{n}"))
                .unwrap_or_default();
            let name = self.name.map(|n| format!("/{n}")).unwrap_or_default();
            let sub = sub.map(|s| format!("/{s}")).unwrap_or_default();
            event["requestURI"] = format!("{prefix}{ns}/{resource}{name}{sub}").into();
            event["objectRef"] = object;
        }
        let mut events = Vec::new();
        if self.verb == "watch" {
            let mut started = event.clone();
            started["stage"] = "ResponseStarted".into();
            events.push(started.to_string());
        }
        events.push(event.to_string());
        events
    }
}

const SA: &str = "system:serviceaccount:ci:deployer";

/// The activity: alice (a user), ci/deployer (a service account), bob and
/// carol (members of the group devs), and dave (a user outside every subject).
fn activity() -> Vec<Req> {
    vec![
        // alice: namespaced, cluster-scoped, subresources, URLs, and denied requests.
        req(
            "alice",
            "get",
            "apps/deployments",
            Some("prod"),
            Some("web"),
        ),
        req(
            "alice",
            "get",
            "apps/deployments",
            Some("prod"),
            Some("web"),
        ),
        req(
            "alice",
            "update",
            "apps/deployments",
            Some("prod"),
            Some("web"),
        ),
        req("alice", "list", "/pods", Some("prod"), None),
        req("alice", "watch", "/pods", Some("prod"), None),
        req("alice", "get", "/pods/log", Some("prod"), Some("web-1")),
        req(
            "alice",
            "create",
            "/configmaps",
            Some("dev"),
            Some("settings"),
        ),
        req("alice", "get", "/nodes", None, Some("node-1")),
        req("alice", "list", "/namespaces", None, None),
        Req::url("alice", "get", "/healthz"),
        Req::url("alice", "get", "/metrics?format=text"),
        req("alice", "delete", "/secrets", Some("prod"), Some("db")).code(403),
        req(
            "alice",
            "get",
            "/secrets",
            Some("kube-system"),
            Some("admin"),
        )
        .code(403),
        // A get of something missing was still allowed.
        req(
            "alice",
            "get",
            "apps/deployments",
            Some("prod"),
            Some("gone"),
        )
        .code(404),
        // ci/deployer: named secrets, patches, exec.
        req(SA, "get", "/secrets", Some("staging"), Some("db")),
        req(SA, "get", "/secrets", Some("staging"), Some("tls")),
        req(
            SA,
            "patch",
            "apps/deployments",
            Some("staging"),
            Some("api"),
        ),
        req(SA, "get", "apps/deployments", Some("staging"), Some("api")),
        req(SA, "list", "apps/deployments", Some("staging"), None),
        req(SA, "create", "/pods/exec", Some("staging"), Some("api-0")),
        req(
            SA,
            "update",
            "apps/deployments/scale",
            Some("staging"),
            Some("api"),
        ),
        // devs: two members.
        req("bob", "get", "/configmaps", Some("dev"), Some("settings"))
            .groups(&["devs", "system:authenticated"]),
        req("carol", "list", "/services", Some("dev"), None)
            .groups(&["devs", "system:authenticated"]),
        req("carol", "create", "/services", Some("dev"), Some("web"))
            .code(403)
            .groups(&["devs", "system:authenticated"]),
        // Someone else.
        req("dave", "delete", "/namespaces", None, Some("prod")),
    ]
}

/// A sink holding the activity.
fn sink_with_activity() -> SinkProcess {
    let sink = SinkProcess::start();
    let events: Vec<String> = activity()
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.events(i))
        .collect();
    let (status, body) = sink.post(&events);
    assert_eq!(status, 200, "{body}");
    sink.wait_for("", events.len());
    sink
}

/// The YAML documents of `rbac` output.
fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).unwrap_or_else(|e| panic!("not YAML ({e}):\n{yaml}"))
}

fn find<'a>(items: &'a [Value], kind: &str, namespace: Option<&str>) -> &'a Value {
    items
        .iter()
        .find(|i| i["kind"] == kind && i["metadata"]["namespace"].as_str() == namespace)
        .unwrap_or_else(|| panic!("no {kind} in {namespace:?} among {items:#?}"))
}

fn rules(role: &Value) -> Vec<Value> {
    role["rules"].as_array().unwrap().clone()
}

#[test]
fn a_users_allowed_requests_become_roles_and_bindings() {
    let sink = sink_with_activity();
    let yaml = ok(audit().args(["rbac", "--server", &sink.url, "--user", "alice"]));

    // The comment block says what was observed.
    let header: Vec<&str> = yaml.lines().take_while(|l| l.starts_with('#')).collect();
    let header = header.join("\n");
    assert!(header.contains("user \"alice\""), "{header}");
    assert!(
        header.contains(
            "Observed 12 allowed requests between 2026-03-01T10:00:00Z and 2026-03-01T10:00:13Z."
        ),
        "{header}"
    );
    assert!(
        header.contains("2 denied requests are not granted."),
        "{header}"
    );
    // The get of a missing deployment (404) was allowed: it counts.
    assert!(
        header.contains("Requests per verb: get 7, list 2, watch 1, create 1, update 1."),
        "{header}"
    );
    assert!(
        header.contains("namespace prod, deployments.apps: get 3, update 1"),
        "{header}"
    );
    assert!(header.contains("URL /metrics: get 1"), "{header}");

    let items = documents(&yaml);
    let kinds: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let kv = |k: &str, ns: &str| (k.to_string(), ns.to_string());
    assert_eq!(
        kinds,
        [
            kv("ClusterRole", ""),
            kv("ClusterRoleBinding", ""),
            kv("Role", "dev"),
            kv("RoleBinding", "dev"),
            kv("Role", "prod"),
            kv("RoleBinding", "prod"),
        ]
    );
    for item in &items {
        assert_eq!(item["metadata"]["name"], "kubext-rbac:alice");
    }

    let cluster = find(&items, "ClusterRole", None);
    assert_eq!(
        rules(cluster),
        [
            json!({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}),
            json!({"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}),
            json!({"nonResourceURLs": ["/healthz", "/metrics"], "verbs": ["get"]}),
        ]
    );
    let prod = find(&items, "Role", Some("prod"));
    assert_eq!(
        rules(prod),
        [
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]}),
            json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}),
            json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "update"]}),
        ]
    );
    // The denied delete of a secret and get in kube-system are nowhere.
    assert!(
        !yaml.contains("secrets") && !yaml.contains("kube-system"),
        "{yaml}"
    );
    assert_eq!(
        rules(find(&items, "Role", Some("dev"))),
        [json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]})]
    );
    let binding = find(&items, "RoleBinding", Some("prod"));
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kubext-rbac:alice"})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}])
    );
    assert_eq!(
        find(&items, "ClusterRoleBinding", None)["roleRef"]["kind"],
        "ClusterRole"
    );

    // Deterministic: the same again; -o json is the same objects in a v1 List.
    let again = ok(audit().args(["rbac", "--server", &sink.url, "--user", "alice"]));
    assert_eq!(yaml, again);
    let json_out = ok(audit().args([
        "rbac", "--server", &sink.url, "--user", "alice", "-o", "json",
    ]));
    let list: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap(), &items);

    // --cluster-scope: one ClusterRole holding everything; --name renames.
    let yaml = ok(audit().args([
        "rbac",
        "--server",
        &sink.url,
        "--user",
        "alice",
        "--cluster-scope",
        "--name",
        "alice-observed",
    ]));
    let items = documents(&yaml);
    assert_eq!(items.len(), 2, "{yaml}");
    let cluster = find(&items, "ClusterRole", None);
    assert_eq!(cluster["metadata"]["name"], "alice-observed");
    assert_eq!(rules(cluster).len(), 7, "{yaml}");

    // The filters of search narrow what is read.
    let yaml = ok(audit().args([
        "rbac", "--server", &sink.url, "--user", "alice", "-n", "dev",
    ]));
    let items = documents(&yaml);
    assert_eq!(items.len(), 2, "{yaml}");
    assert_eq!(items[0]["kind"], "Role");
}

#[test]
fn service_accounts_get_named_objects_and_groups_all_members() {
    let sink = sink_with_activity();
    let yaml = ok(audit().args([
        "rbac",
        "--server",
        &sink.url,
        "--serviceaccount",
        "ci/deployer",
        "--resource-names",
    ]));
    let items = documents(&yaml);
    assert_eq!(items.len(), 2, "{yaml}");
    let role = find(&items, "Role", Some("staging"));
    assert_eq!(
        role["metadata"]["name"],
        "kubext-rbac:serviceaccount:ci:deployer"
    );
    assert_eq!(
        rules(role),
        [
            json!({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}),
            json!({"apiGroups": [""], "resourceNames": ["db", "tls"], "resources": ["secrets"], "verbs": ["get"]}),
            // list names no object: no resourceNames; get and patch only ever touched api.
            json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}),
            json!({"apiGroups": ["apps"], "resourceNames": ["api"], "resources": ["deployments"], "verbs": ["get", "patch"]}),
            json!({"apiGroups": ["apps"], "resourceNames": ["api"], "resources": ["deployments/scale"], "verbs": ["update"]}),
        ]
    );
    assert_eq!(
        find(&items, "RoleBinding", Some("staging"))["subjects"],
        json!([{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}])
    );
    // The same service account named as its user.
    let as_user = ok(audit().args([
        "rbac",
        "--server",
        &sink.url,
        "--user",
        SA,
        "--resource-names",
    ]));
    assert_eq!(as_user, yaml);

    let yaml = ok(audit().args(["rbac", "--server", &sink.url, "--group", "devs"]));
    let items = documents(&yaml);
    let role = find(&items, "Role", Some("dev"));
    assert_eq!(role["metadata"]["name"], "kubext-rbac:group:devs");
    assert_eq!(
        rules(role),
        [
            json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}),
            json!({"apiGroups": [""], "resources": ["services"], "verbs": ["list"]}),
        ]
    );
    assert_eq!(
        find(&items, "RoleBinding", Some("dev"))["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}])
    );
}

#[test]
fn kubectl_apply_accepts_the_output() {
    let sink = sink_with_activity();
    let server = KubeTestServer::start();
    // kubectl maps kinds through discovery: the RBAC types must exist.
    insert_rbac_types(&server);
    let admin = server.issue_client_cert("admin", &["system:masters"]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.write_kubeconfig(dir.path(), &KubeconfigOpts::client_cert(admin));
    for args in [
        &["--user", "alice"][..],
        &["--serviceaccount", "ci/deployer", "--resource-names"],
        &["--group", "devs", "-o", "json"],
    ] {
        let generated = ok(audit().args(["rbac", "--server", &sink.url]).args(args));
        let mut child = Command::new("kubectl")
            .args([
                "apply",
                "--dry-run=client",
                "--validate=false",
                "-f",
                "-",
                "-o",
                "name",
            ])
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl is on PATH");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(generated.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "kubectl apply refused the output of rbac {args:?}:\n{}\n{generated}",
            String::from_utf8_lossy(&out.stderr)
        );
        let expected = documents(&generated_as_yaml(&generated)).len();
        assert_eq!(stdout.lines().count(), expected, "{stdout}");
        assert!(
            stdout
                .lines()
                .all(|l| l.starts_with("role") || l.starts_with("clusterrole")),
            "{stdout}"
        );
    }
}

/// One object of each RBAC kind, so that the server serves their types.
fn insert_rbac_types(server: &KubeTestServer) {
    let role_ref = |kind: &str| RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: kind.into(),
        name: "placeholder".into(),
    };
    server.insert(ClusterRole {
        metadata: meta("placeholder", None),
        ..Default::default()
    });
    server.insert(ClusterRoleBinding {
        metadata: meta("placeholder", None),
        role_ref: role_ref("ClusterRole"),
        subjects: None,
    });
    server.insert(Role {
        metadata: meta("placeholder", Some("default")),
        rules: None,
    });
    server.insert(RoleBinding {
        metadata: meta("placeholder", Some("default")),
        role_ref: role_ref("Role"),
        subjects: None,
    });
}

/// YAML or JSON output as YAML documents (a JSON List's items).
fn generated_as_yaml(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(list) => list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("---\n{i}\n"))
            .collect(),
        Err(_) => text.to_string(),
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let v = |s: &[&str]| Some(s.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    PolicyRule {
        api_groups: v(groups),
        resources: v(resources),
        verbs: v(verbs).unwrap(),
        ..Default::default()
    }
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(str::to_string),
        ..Default::default()
    }
}

fn user(name: &str) -> Subject {
    Subject {
        kind: "User".into(),
        api_group: Some("rbac.authorization.k8s.io".into()),
        name: name.into(),
        namespace: None,
    }
}

#[test]
fn existing_grants_never_used_are_shown() {
    let sink = sink_with_activity();
    let server = KubeTestServer::start();
    // alice's grants: a ClusterRole bound cluster-wide, a Role in prod, and
    // the built-in view ClusterRole bound in dev; bob's binding is not hers.
    server.insert(ClusterRole {
        metadata: meta("node-reader", None),
        rules: Some(vec![
            rule(&[""], &["nodes"], &["get", "list", "watch"]),
            PolicyRule {
                non_resource_urls: Some(vec!["/healthz".into(), "/version".into()]),
                verbs: vec!["get".into()],
                ..Default::default()
            },
        ]),
        ..Default::default()
    });
    server.insert(ClusterRoleBinding {
        metadata: meta("alice-nodes", None),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: "node-reader".into(),
        },
        subjects: Some(vec![user("alice")]),
    });
    server.insert(Role {
        metadata: meta("deployer", Some("prod")),
        rules: Some(vec![
            rule(&["apps"], &["deployments"], &["get", "update", "delete"]),
            rule(&[""], &["pods", "pods/log"], &["*"]),
            rule(&[""], &["secrets"], &["get"]),
        ]),
    });
    server.insert(RoleBinding {
        metadata: meta("alice-deployer", Some("prod")),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "deployer".into(),
        },
        subjects: Some(vec![user("alice"), user("bob")]),
    });
    server.insert(RoleBinding {
        metadata: meta("bob-deployer", Some("dev")),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "deployer".into(),
        },
        subjects: Some(vec![user("bob")]),
    });
    let admin = server.issue_client_cert("admin", &["system:masters"]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.write_kubeconfig(dir.path(), &KubeconfigOpts::client_cert(admin));

    let rbac = || {
        let mut cmd = audit();
        cmd.args([
            "rbac",
            "--server",
            &sink.url,
            "--user",
            "alice",
            "--existing",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig);
        cmd
    };
    let table = ok(&mut rbac());
    let rows: Vec<Vec<String>> = table.lines().map(split_cells).collect();
    assert_eq!(
        rows,
        [
            vec!["BINDING", "ROLE", "NAMESPACE", "RESOURCE", "UNUSED VERBS"],
            vec![
                "ClusterRoleBinding/alice-nodes",
                "ClusterRole/node-reader",
                "*",
                "/version",
                "get"
            ],
            vec![
                "ClusterRoleBinding/alice-nodes",
                "ClusterRole/node-reader",
                "*",
                "nodes",
                "list,watch"
            ],
            vec![
                "RoleBinding/prod/alice-deployer",
                "Role/deployer",
                "prod",
                "secrets",
                "get"
            ],
            vec![
                "RoleBinding/prod/alice-deployer",
                "Role/deployer",
                "prod",
                "deployments.apps",
                "delete"
            ],
        ]
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .collect::<Vec<_>>(),
        "{table}"
    );

    let json_out = ok(rbac().args(["-o", "json"]));
    let v: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(
        v["bindings"],
        json!([
            "ClusterRoleBinding/alice-nodes",
            "RoleBinding/prod/alice-deployer"
        ])
    );
    assert_eq!(v["unused"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["unused"][3],
        json!({"binding": "RoleBinding/prod/alice-deployer", "role": "Role/deployer",
               "namespace": "prod", "apiGroup": "apps", "resource": "deployments", "verbs": ["delete"]})
    );

    // Someone with no binding.
    let (code, stdout, stderr) = run(audit()
        .args([
            "rbac",
            "--server",
            &sink.url,
            "--group",
            "devs",
            "--existing",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("No RoleBinding or ClusterRoleBinding in the cluster names group \"devs\""),
        "{stderr}"
    );
}

#[test]
fn bad_subjects_are_usage_errors() {
    let sink = sink_with_activity();
    for (args, says) in [
        (&[][..], "name one subject"),
        (&["--user", "alice", "--group", "devs"], "name one subject"),
        (&["--user", "alice,bob"], "name one subject"),
        (&["--user", "system:serviceaccount:ci:*"], "no wildcards"),
        (&["--serviceaccount", "deployer"], "NAMESPACE/NAME"),
        (&["--user", "alice", "--name", "a/b"], "cannot name a Role"),
        (
            &["--user", "alice", "-o", "wide"],
            "-o yaml (default) or -o json",
        ),
    ] {
        let (code, _, stderr) = run(audit().args(["rbac", "--server", &sink.url]).args(args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // Nobody by that name: an empty result that says where it looked.
    let (code, stdout, stderr) = run(audit().args([
        "rbac", "--server", &sink.url, "--user", "nobody", "--since", "1h",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("No allowed requests of user \"nobody\""),
        "{stderr}"
    );
    assert!(stderr.contains("--since"), "{stderr}");
    assert!(documents(&stdout).is_empty(), "{stdout}");
}

/// Runs kubectl with `input` on stdin; returns stdout, failing the test on an error.
fn kubectl(kubeconfig: &std::path::Path, args: &[&str], input: &str) -> String {
    let mut child = Command::new("kubectl")
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl is on PATH");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?} failed:\n{}\ninput:\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A SubjectAccessReview of one resource request.
fn review(r: &Req) -> Value {
    let (group, rest) = r.resource.split_once('/').unwrap();
    let (resource, sub) = rest.split_once('/').unwrap_or((rest, ""));
    json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": r.user,
            "groups": r.groups,
            "resourceAttributes": {
                "verb": r.verb, "group": group, "resource": resource, "subresource": sub,
                "namespace": r.namespace.unwrap_or(""), "name": r.name.unwrap_or(""),
            },
        },
    })
}

#[test]
fn applied_rules_allow_what_was_observed_and_nothing_else() {
    let sink = sink_with_activity();
    let server = KubeTestServer::start();
    let admin = server.issue_client_cert("admin", &["system:masters"]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.write_kubeconfig(dir.path(), &KubeconfigOpts::client_cert(admin));
    // As in a cluster, Roles go into namespaces that exist.
    for ns in ["prod", "dev", "staging"] {
        server.insert_namespace(ns);
    }
    for args in [
        &["--user", "alice"][..],
        &["--serviceaccount", "ci/deployer", "--resource-names"],
        &["--group", "devs", "-o", "json"],
    ] {
        let generated = ok(audit().args(["rbac", "--server", &sink.url]).args(args));
        // The test server serves no OpenAPI schemas to validate against.
        kubectl(
            &kubeconfig,
            &["apply", "--validate=false", "-f", "-"],
            &generated,
        );
    }

    // Every allowed resource request of the three subjects is allowed again.
    let subjects = ["alice", SA, "bob", "carol"];
    let observed: Vec<Req> = activity()
        .into_iter()
        .filter(|r| !r.url && r.code != 403 && subjects.contains(&r.user))
        .collect();
    // Requests nobody made: denied ones, other verbs, names, namespaces and resources.
    let g: &'static [&'static str] = &["system:authenticated"];
    let devs: &'static [&'static str] = &["devs", "system:authenticated"];
    let unobserved = vec![
        req("alice", "delete", "/secrets", Some("prod"), Some("db")),
        req(
            "alice",
            "get",
            "/secrets",
            Some("kube-system"),
            Some("admin"),
        ),
        req(
            "alice",
            "delete",
            "apps/deployments",
            Some("prod"),
            Some("web"),
        ),
        req(
            "alice",
            "patch",
            "apps/deployments",
            Some("prod"),
            Some("web"),
        ),
        req("alice", "get", "apps/deployments", Some("dev"), Some("web")),
        req("alice", "list", "/pods", Some("dev"), None),
        req("alice", "create", "/pods/exec", Some("prod"), Some("web-1")),
        req("alice", "list", "/nodes", None, None),
        req("alice", "delete", "/namespaces", None, Some("prod")),
        req("alice", "get", "/configmaps", Some("dev"), Some("settings")),
        req(SA, "get", "/secrets", Some("staging"), Some("other")),
        req(SA, "list", "/secrets", Some("staging"), None),
        req(
            SA,
            "delete",
            "apps/deployments",
            Some("staging"),
            Some("api"),
        ),
        req(
            SA,
            "patch",
            "apps/deployments",
            Some("staging"),
            Some("web"),
        ),
        req(SA, "get", "apps/deployments", Some("prod"), Some("api")),
        req("carol", "create", "/services", Some("dev"), Some("web")).groups(devs),
        req(
            "bob",
            "delete",
            "/configmaps",
            Some("dev"),
            Some("settings"),
        )
        .groups(devs),
        req("bob", "get", "/configmaps", Some("dev"), Some("settings")).groups(g),
        req("dave", "delete", "/namespaces", None, Some("prod")),
    ];
    let all: Vec<&Req> = observed.iter().chain(&unobserved).collect();
    let reviews: String = all
        .iter()
        .map(|r| format!("---\n{}\n", review(r)))
        .collect();
    // One JSON object per review, in order.
    let answer = kubectl(
        &kubeconfig,
        &["create", "--validate=false", "-f", "-", "-o", "json"],
        &reviews,
    );
    let items: Vec<Value> = serde_json::Deserializer::from_str(&answer)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(items.len(), all.len());
    for (i, (r, item)) in all.iter().zip(&items).enumerate() {
        let expected = i < observed.len();
        assert_eq!(
            item["status"]["allowed"].as_bool().unwrap_or(false),
            expected,
            "{} {} {} in {:?} named {:?}: expected allowed={expected}",
            r.user,
            r.verb,
            r.resource,
            r.namespace,
            r.name
        );
    }
}
