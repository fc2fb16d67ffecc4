//! The real `kubectl` reading AuditEvents through kube-test-server acting as
//! the aggregator (APIService, front-proxy certificate, X-Remote-* headers),
//! the sink taking its request-header settings from the ConfigMap the
//! aggregator publishes: what a user types and sees.

mod apiserver_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use apiserver_support::*;
use base64::Engine as _;
use kube_test_server::{KubeconfigOpts, User};

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String, String) {
    let o = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("kubectl is on PATH");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn kubeconfig_for(a: &Aggregated, token: &str) -> PathBuf {
    let dir = a.dir.path().join(token);
    std::fs::create_dir_all(&dir).unwrap();
    a.kube.write_kubeconfig(&dir, &KubeconfigOpts::token(token))
}

/// Registers the sink as `v1alpha1.audit.kubext.io` with `kubectl apply`, as an admin.
fn register(a: &Aggregated) -> PathBuf {
    let port = a.api_url.rsplit(':').next().unwrap().to_string();
    a.kube.add_service_proxy(
        "kubext-audit",
        "audit-sink",
        9443,
        format!("127.0.0.1:{port}"),
    );
    a.kube.add_token(
        "admin-token",
        User::new("admin").with_groups(["system:masters"]),
    );
    let admin = kubeconfig_for(a, "admin-token");
    let api_service = serde_json::json!({
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1alpha1.audit.kubext.io"},
        "spec": {
            "group": "audit.kubext.io", "version": "v1alpha1",
            "groupPriorityMinimum": 1000, "versionPriority": 15,
            "service": {"namespace": "kubext-audit", "name": "audit-sink", "port": 9443},
            "caBundle": base64::engine::general_purpose::STANDARD.encode(a.serving_ca.pem()),
        },
    });
    let file = a.dir.path().join("apiservice.json");
    std::fs::write(&file, api_service.to_string()).unwrap();
    let (ok, _, err) = kubectl(&admin, &["apply", "-f", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    admin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_auditevents_prints_the_namespaces_events_as_a_table() {
    let a = Aggregated::start_with(Settings::Aggregator, &[]);
    a.ingest(&test_events()).await;
    let admin = register(&a);
    a.kube
        .add_token("alice-token", User::new("alice").with_groups(["team-prod"]));
    a.kube.allow(
        "team-prod",
        &["get", "list", "watch"],
        &["auditevents"],
        "prod",
    );
    let alice = kubeconfig_for(&a, "alice-token");

    let (ok, out, err) = kubectl(&admin, &["api-resources", "--api-group", "audit.kubext.io"]);
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("auditevents ") && l.contains("AuditEvent")),
        "{out}"
    );

    let (ok, out, err) = kubectl(
        &alice,
        &[
            "get",
            "auditevents",
            "-n",
            "prod",
            "--field-selector",
            "verb=delete",
        ],
    );
    assert!(ok, "{err}");
    let want = a.search_all("ns:prod verb:delete", 100).await;
    assert!(!want.is_empty());
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["TIME", "USER", "VERB", "RESOURCE", "OBJECT", "CODE"]
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    let expected: Vec<Vec<String>> = want
        .iter()
        .map(|e| {
            vec![
                format!(
                    "{}Z",
                    &e["requestReceivedTimestamp"].as_str().unwrap()[..19]
                ),
                e["user"]["username"].as_str().unwrap().to_string(),
                "delete".to_string(),
                e["objectRef"]["resource"].as_str().unwrap().to_string(),
                format!("prod/{}", e["objectRef"]["name"].as_str().unwrap()),
                e["responseStatus"]["code"].to_string(),
            ]
        })
        .collect();
    assert_eq!(rows, expected);

    // -o name and -o json: the names, and the original events.
    let (ok, out, _) = kubectl(
        &alice,
        &[
            "get",
            "auditevents",
            "-n",
            "prod",
            "--field-selector",
            "verb=delete",
            "-o",
            "name",
        ],
    );
    assert!(ok);
    let names: Vec<String> = want
        .iter()
        .map(|e| {
            format!(
                "auditevent.audit.kubext.io/{}.{}",
                e["auditID"].as_str().unwrap(),
                e["stage"].as_str().unwrap().to_lowercase()
            )
        })
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), names);
    let one = names[0].rsplit('/').next().unwrap();
    let (ok, out, err) = kubectl(
        &alice,
        &["get", "auditevents", "-n", "prod", one, "-o", "json"],
    );
    assert!(ok, "{err}");
    let item: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(item["event"], want[0]);

    // Elsewhere: the apiserver's 403, and the field selector's 400.
    let (ok, _, err) = kubectl(&alice, &["get", "auditevents", "-A"]);
    assert!(!ok);
    assert!(
        err.contains("User \"alice\" cannot list resource \"auditevents\" in API group \"audit.kubext.io\" at the cluster scope"),
        "{err}"
    );
    let (ok, _, err) = kubectl(
        &alice,
        &[
            "get",
            "auditevents",
            "-n",
            "prod",
            "--field-selector",
            "colour=red",
        ],
    );
    assert!(!ok);
    assert!(err.contains("field label not supported: colour"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_watch_prints_the_list_then_each_later_event_once() {
    let a = Aggregated::start_with(Settings::Aggregator, &[]);
    let first = test_events();
    a.ingest(&first).await;
    register(&a);
    a.kube
        .add_token("alice-token", User::new("alice").with_groups(["team-prod"]));
    a.kube
        .allow("team-prod", &["list", "watch"], &["auditevents"], "prod");
    let alice = kubeconfig_for(&a, "alice-token");
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&alice)
        .args(["get", "auditevents", "-n", "prod", "-w", "-o", "name"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("kubectl is on PATH");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for l in std::io::BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            let _ = tx.send(l);
        }
    });
    let name_of = |e: &serde_json::Value| {
        format!(
            "auditevent.audit.kubext.io/{}.{}",
            e["auditID"].as_str().unwrap(),
            e["stage"].as_str().unwrap().to_ascii_lowercase()
        )
    };
    let listed: Vec<String> = a
        .search_all("ns:prod", 1000)
        .await
        .iter()
        .map(name_of)
        .collect();
    let mut got = Vec::new();
    // Hang detection only.
    let recv = |got: &mut Vec<String>, n: usize| {
        while got.len() < n {
            got.push(
                rx.recv_timeout(std::time::Duration::from_secs(60))
                    .unwrap_or_else(|_| panic!("{} of {n} lines: {got:?}", got.len())),
            );
        }
    };
    recv(&mut got, listed.len());
    let second = audit_gen::events(
        18,
        100,
        audit_gen::Level::Metadata,
        "2026-01-04T10:00:00Z".parse().unwrap(),
        1_000_000,
    );
    let later: Vec<String> = second
        .iter()
        .map(|s| serde_json::from_str::<serde_json::Value>(s).unwrap())
        .filter(|e| e["objectRef"]["namespace"] == "prod")
        .map(|e| name_of(&e))
        .collect();
    assert!(!later.is_empty());
    let all: Vec<String> = [first, second].concat();
    a.ingest(&all).await;
    recv(&mut got, listed.len() + later.len());
    let _ = child.kill();
    let _ = child.wait();
    // No line more than the events: each printed once.
    while let Ok(l) = rx.try_recv() {
        got.push(l);
    }
    let mut want = [listed, later].concat();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}
