//! Audit events as a Kubernetes API, end to end: the real `audit-sink` serving
//! `audit.kubext.io/v1alpha1` behind kube-test-server acting as the
//! aggregator (deploy/'s APIService and RBAC applied with `kubectl apply`,
//! front-proxy certificate), read with the real `kubectl` and with `kubectl audit`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use common::{SinkProcess, free_port};
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::{Value, json};

/// The sink's service account, as deploy/ names it.
const SINK_USER: &str = "system:serviceaccount:kubext-audit:audit-sink";

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// Certificate and key (PEM) for the sink's Service name, signed by `issuer`.
fn serving_pem(issuer: &CertifiedIssuer<'static, KeyPair>) -> String {
    let mut p = CertificateParams::new(vec!["audit-sink.kubext-audit.svc".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "audit-sink");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem())
}

fn rbac(kind: &str, name: &str, namespace: Option<&str>) -> Value {
    let mut meta = json!({"name": name});
    if let Some(ns) = namespace {
        meta["namespace"] = json!(ns);
    }
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta})
}

fn binding(
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    role: (&str, &str),
    subject: Value,
) -> Value {
    let mut b = rbac(kind, name, namespace);
    b["roleRef"] = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": role.0, "name": role.1});
    b["subjects"] = json!([subject]);
    b
}

fn user(name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name})
}

/// deploy/components/aggregated-api: the APIService and the RBAC (the
/// sink's delegation rights and the two reader ClusterRoles).
fn deploy_manifests() -> Vec<PathBuf> {
    let dir = common::repo_root().join("deploy/components/aggregated-api");
    vec![dir.join("rbac.yaml"), dir.join("apiservice.yaml")]
}

/// The port deploy/ gives the sink's API on its Service.
const API_SERVICE_PORT: u16 = 9443;

/// Real events, moved into the namespaces the tests read.
fn events() -> Vec<String> {
    let read = |file: &str, ns: Option<&str>| {
        let text = std::fs::read_to_string(common::seed_dir().join(file)).unwrap();
        let mut e: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        if let Some(ns) = ns {
            e["objectRef"]["namespace"] = json!(ns);
        }
        e.to_string()
    };
    vec![
        read("create_deployment.json", Some("team-a")),
        read("delete_deployment.json", Some("team-a")),
        read("create_configmap.json", Some("team-a")),
        read("create_secret.json", Some("team-b")),
        read("delete_secret.json", Some("team-b")),
        read("create_clusterrole.json", None),
    ]
}

struct Cluster {
    kube: KubeTestServer,
    sink: SinkProcess,
    dir: tempfile::TempDir,
    alice: PathBuf,
}

impl Cluster {
    /// kube-test-server as the aggregator, the sink behind it reading its
    /// request-header settings from the cluster, deploy/'s manifests applied, alice
    /// bound to kubext-audit-namespace-reader in team-a, and the events stored.
    fn start() -> Cluster {
        let kube = KubeTestServer::start();
        kube.enable_aggregation();
        for ns in ["team-a", "team-b", "kubext-audit"] {
            kube.insert_namespace(ns);
        }
        kube.add_token(
            "admin-token",
            User::new("admin").with_groups(["system:masters"]),
        );
        kube.add_token("alice-token", User::new("alice").with_groups(["devs"]));
        kube.add_token("bob-token", User::new("bob"));
        kube.add_token("sink-token", User::new(SINK_USER));
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = |who: &str, token: &str| {
            let d = dir.path().join(who);
            std::fs::create_dir_all(&d).unwrap();
            kube.write_kubeconfig(&d, &KubeconfigOpts::token(token))
        };
        let admin = kubeconfig("admin", "admin-token");
        let alice = kubeconfig("alice", "alice-token");
        let sink_kubeconfig = kubeconfig("sink", "sink-token");

        let serving_ca = ca("audit-sink serving CA");
        let serving = dir.path().join("serving.pem");
        std::fs::write(&serving, serving_pem(&serving_ca)).unwrap();
        for manifest in deploy_manifests() {
            stdout_ok(&kubectl(
                &admin,
                dir.path(),
                &["apply", "-f", manifest.to_str().unwrap()],
            ));
        }
        // As deploy/README.md says: the caBundle is the CA of the sink's certificate.
        let ca_bundle = base64::engine::general_purpose::STANDARD.encode(serving_ca.pem());
        stdout_ok(&kubectl(
            &admin,
            dir.path(),
            &[
                "patch",
                "apiservice",
                "v1alpha1.audit.kubext.io",
                "--type=merge",
                "-p",
                &json!({"spec": {"caBundle": ca_bundle}}).to_string(),
            ],
        ));
        let objects = vec![
            binding(
                "RoleBinding",
                "alice-reads-audit",
                Some("team-a"),
                ("ClusterRole", "kubext-audit-namespace-reader"),
                user("alice"),
            ),
            binding(
                "ClusterRoleBinding",
                "bob-reads-all-audit",
                None,
                ("ClusterRole", "kubext-audit-reader"),
                user("bob"),
            ),
        ];
        apply(&admin, dir.path(), &objects);

        let api_port = free_port();
        let sink = SinkProcess::start_with(&[
            "--commit-interval",
            "100ms",
            "--api-listen",
            &format!("127.0.0.1:{api_port}"),
            "--api-tls-cert",
            serving.to_str().unwrap(),
            "--api-tls-key",
            serving.to_str().unwrap(),
            "--authentication-kubeconfig",
            sink_kubeconfig.to_str().unwrap(),
            "--authorization-kubeconfig",
            sink_kubeconfig.to_str().unwrap(),
        ]);
        kube.add_service_proxy(
            "kubext-audit",
            "audit-sink",
            API_SERVICE_PORT,
            format!("127.0.0.1:{api_port}"),
        );
        let (status, body) = sink.post(&events());
        assert_eq!(status, 200, "{body}");
        sink.wait_for("", 6);
        Cluster {
            kube,
            sink,
            dir,
            alice,
        }
    }

    fn kubectl(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        kubectl(kubeconfig, self.dir.path(), args)
    }

    /// The sink's own `/v1/search` answer for `q`: the events as stored.
    fn search(&self, q: &str) -> Vec<Value> {
        let path = format!(
            "{}?limit=1000&q={}",
            audit_api::SEARCH_PATH,
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let (status, body) = common::http(&self.sink.url, "GET", &path, None).unwrap();
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["events"]
            .as_array()
            .unwrap()
            .clone()
    }
}

fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(kubeconfig.parent().unwrap().join("cache"))
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .output()
        .expect("kubectl runs (it is on PATH on this machine)")
}

fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn apply(kubeconfig: &Path, home: &Path, objects: &[Value]) {
    let file = home.join("objects.yaml");
    let docs: Vec<String> = objects.iter().map(|o| format!("---\n{o}\n")).collect();
    std::fs::write(&file, docs.concat()).unwrap();
    stdout_ok(&kubectl(
        kubeconfig,
        home,
        &["apply", "-f", file.to_str().unwrap()],
    ));
}

fn items_events(out: &Output) -> Vec<Value> {
    let list: Value = serde_json::from_str(&stdout_ok(out)).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["kind"], "AuditEvent");
            i["event"].clone()
        })
        .collect()
}

#[test]
fn kubectl_reads_audit_events_of_the_namespaces_rbac_allows() {
    let c = Cluster::start();

    let resources =
        stdout_ok(&c.kubectl(&c.alice, &["api-resources", "--api-group=audit.kubext.io"]));
    let row = resources
        .lines()
        .find(|l| l.starts_with("auditevents "))
        .unwrap_or_else(|| panic!("auditevents not listed:\n{resources}"));
    assert!(
        row.contains("audit.kubext.io/v1alpha1")
            && row.contains("true")
            && row.contains("AuditEvent"),
        "{row}"
    );

    // The table: team-a's events, none of team-b's.
    let table = stdout_ok(&c.kubectl(&c.alice, &["get", "auditevents", "-n", "team-a"]));
    assert!(table.starts_with("TIME"), "{table}");
    assert_eq!(table.lines().count(), 4, "{table}");
    assert!(
        table.contains("team-a/nginx-deployment") && table.contains("team-a/my-config"),
        "{table}"
    );
    assert!(
        !table.contains("team-b") && !table.contains("example-secret"),
        "{table}"
    );

    // -o json: the items hold the events as the sink stored them.
    let listed = items_events(&c.kubectl(
        &c.alice,
        &["get", "auditevents", "-n", "team-a", "-o", "json"],
    ));
    assert_eq!(listed, c.search("ns:team-a"));
    assert_eq!(listed.len(), 3);

    let deletes = items_events(&c.kubectl(
        &c.alice,
        &[
            "get",
            "auditevents",
            "-n",
            "team-a",
            "--field-selector",
            "verb=delete",
            "-o",
            "json",
        ],
    ));
    assert_eq!(deletes, c.search("ns:team-a verb:delete"));
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0]["objectRef"]["name"], "nginx-deployment");
}

#[test]
fn kubectl_gets_the_apiservers_403_outside_the_granted_namespace() {
    let c = Cluster::start();
    let out = c.kubectl(&c.alice, &["get", "auditevents", "-n", "team-b"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (Forbidden): auditevents.audit.kubext.io is forbidden: User \"alice\" cannot list resource \"auditevents\" in API group \"audit.kubext.io\" in the namespace \"team-b\""
    );
    let out = c.kubectl(&c.alice, &["get", "auditevents", "-A"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (Forbidden): auditevents.audit.kubext.io is forbidden: User \"alice\" cannot list resource \"auditevents\" in API group \"audit.kubext.io\" at the cluster scope"
    );

    let can_i = |args: &[&str]| {
        let mut all = vec!["auth", "can-i", "list", "auditevents.audit.kubext.io"];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&c.kubectl(&c.alice, &all).stdout)
            .trim()
            .to_string()
    };
    assert_eq!(can_i(&["-n", "team-a"]), "yes");
    assert_eq!(can_i(&["-n", "team-b"]), "no");
    assert_eq!(can_i(&["-A"]), "no");

    // A cluster-wide reader sees every namespace and cluster-scoped objects.
    let bob_dir = c.dir.path().join("bob");
    std::fs::create_dir_all(&bob_dir).unwrap();
    let bob = c
        .kube
        .write_kubeconfig(&bob_dir, &KubeconfigOpts::token("bob-token"));
    let all = items_events(&c.kubectl(&bob, &["get", "auditevents", "-A", "-o", "json"]));
    assert_eq!(all, c.search(""));
    assert_eq!(all.len(), 6);
}

/// `kubectl-audit` as alice, her kubeconfig the current one.
fn audit_as(kubeconfig: &Path) -> Command {
    let mut cmd = common::audit();
    cmd.env("KUBECONFIG", kubeconfig);
    cmd
}

fn json_out(cmd: &mut Command) -> Value {
    serde_json::from_str(&common::ok(cmd)).expect("kubectl audit printed JSON")
}

#[test]
fn kubectl_audit_reads_through_the_api_the_cluster_serves() {
    let c = Cluster::start();

    // No --server, --service or context extension: the cluster serves
    // audit.kubext.io, so that is where the plugin reads, as alice.
    let found = json_out(audit_as(&c.alice).args(["search", "-n", "team-a", "-o", "json"]));
    assert_eq!(found, json!(c.search("ns:team-a")));

    let stats =
        json_out(audit_as(&c.alice).args(["stats", "--by", "verb", "-n", "team-a", "-o", "json"]));
    let (status, body) = common::http(
        &c.sink.url,
        "GET",
        &format!("{}?q=ns%3Ateam-a&by=verb&top=10", audit_api::STATS_PATH),
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let sink_stats: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["total"], 3);
    assert_eq!(stats["total"], sink_stats["total"]);
    assert_eq!(stats["counts"], sink_stats["counts"]);

    let timeline = json_out(audit_as(&c.alice).args([
        "who",
        "deploy/nginx-deployment",
        "-n",
        "team-a",
        "-o",
        "json",
    ]));
    let verbs: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["verb"].as_str().unwrap())
        .collect();
    assert_eq!(verbs, ["create", "delete"]);

    // RBAC applies: team-b and all namespaces are refused, with what to check.
    let (code, _, stderr) = common::run(audit_as(&c.alice).args(["search", "-n", "team-b"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("User \"alice\" cannot list resource \"auditevents\" in API group \"audit.kubext.io\" in the namespace \"team-b\"")
            && stderr.contains("kubectl auth can-i list auditevents.audit.kubext.io -n team-b"),
        "{stderr}"
    );
    let (code, _, stderr) = common::run(audit_as(&c.alice).args(["search"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("at the cluster scope"), "{stderr}");

    // The API only reads: import says where to send instead.
    let log = c.dir.path().join("one.log");
    std::fs::write(&log, &events()[0]).unwrap();
    let (code, _, stderr) = common::run(audit_as(&c.alice).arg("import").arg(&log));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--server URL or --service"), "{stderr}");

    // --server forces the sink's own endpoint (its own credentials, not RBAC).
    let direct = json_out(audit_as(&c.alice).args([
        "search",
        "--server",
        &c.sink.url,
        "-n",
        "team-b",
        "-o",
        "json",
    ]));
    assert_eq!(direct, json!(c.search("ns:team-b")));
}

#[test]
fn kubectl_audit_tail_watches_through_the_api() {
    let c = Cluster::start();
    let mut child = common::audit()
        .args([
            "tail",
            "--via-api",
            "-n",
            "team-a",
            "-o",
            "jsonl",
            "--kubeconfig",
        ])
        .arg(&c.alice)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = common::line_reader(&mut child);
    // The watch may still be connecting when the first events go out: post a
    // pair (team-b's, then team-a's) until a line comes. Hang detection only.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut got = None;
    let mut i = 0;
    while got.is_none() && std::time::Instant::now() < deadline {
        i += 1;
        let now = jiff::Timestamp::now().to_string();
        let other = common::event(
            &format!("b-{i}"),
            &now,
            "carol",
            "delete",
            "secrets",
            Some("team-b"),
            "db",
            200,
        );
        let ours = common::event(
            &format!("a-{i}"),
            &now,
            "dave",
            "delete",
            "configmaps",
            Some("team-a"),
            "cfg",
            200,
        );
        let (status, body) = c.sink.post(&[other, ours]);
        assert_eq!(status, 200, "{body}");
        got = lines
            .recv_timeout(std::time::Duration::from_millis(500))
            .ok();
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = got.expect("tail printed an event within 60 s");
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["objectRef"]["namespace"], "team-a", "{event}");
    assert_eq!(event["user"]["username"], "dave");
}
