//! `check` against kube-test-server: each failure kind is told apart.

mod common;

use std::net::TcpListener;

use common::*;
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

/// A kubeconfig with five contexts: working, untrusted CA, wrong token,
/// nothing listening, and a server that never answers.
fn kubeconfig(server: &KubeTestServer, other: &KubeTestServer, silent: &TcpListener) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    format!(
        r#"apiVersion: v1
kind: Config
current-context: good
clusters:
- name: test
  cluster:
    server: {url}
    certificate-authority-data: {ca}
- name: wrong-ca
  cluster:
    server: {url}
    certificate-authority-data: {other_ca}
- name: silent
  cluster:
    server: https://127.0.0.1:{silent_port}
    certificate-authority-data: {ca}
- name: closed
  cluster:
    server: https://127.0.0.1:{closed_port}
    certificate-authority-data: {ca}
users:
- name: alice
  user:
    token: alice-token
- name: mallory
  user:
    token: not-a-known-token
contexts:
- name: good
  context: {{cluster: test, user: alice}}
- name: bad-ca
  context: {{cluster: wrong-ca, user: alice}}
- name: wrong-token
  context: {{cluster: test, user: mallory}}
- name: unreachable
  context: {{cluster: closed, user: alice}}
- name: no-answer
  context: {{cluster: silent, user: alice}}
"#,
        url = server.url(),
        silent_port = silent.local_addr().unwrap().port(),
        ca = b64(&server.ca_pem()),
        other_ca = b64(&other.ca_pem()),
    )
}

#[test]
fn each_failure_kind_is_reported() {
    let server = KubeTestServer::start();
    let other = KubeTestServer::start();
    server.add_token(
        "alice-token",
        User::new("alice").with_groups(["devs", "oncall"]),
    );
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config");
    // Accepts connections (the kernel does) but never answers the TLS handshake.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    std::fs::write(&file, kubeconfig(&server, &other, &silent)).unwrap();

    let out = plugin(home.path())
        .args(["check", "--timeout", "2s", "--kubeconfig"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "failures make the exit code 1");
    assert!(
        stderr(&out).contains("4 of 5 contexts failed the check"),
        "{}",
        stderr(&out)
    );
    let table = stdout(&out);
    println!("{table}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CONTEXT"), "{table}");
    for header in ["SERVER", "VERSION", "USER", "GROUPS", "RESULT"] {
        assert!(lines[0].contains(header), "{table}");
    }
    let row = |name: &str| -> String {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row {name} in\n{table}"))
            .to_string()
    };
    let good = row("good");
    assert!(
        good.contains("v1.33.4") && good.contains("alice") && good.contains("devs,oncall"),
        "{good}"
    );
    assert!(good.trim_end().ends_with("ok"), "{good}");
    assert!(row("bad-ca").contains("TLS error: "), "{table}");
    assert!(row("wrong-token").contains("unauthorised: "), "{table}");
    assert!(row("unreachable").contains("unreachable: "), "{table}");
    assert!(
        row("no-answer").contains("unreachable: no answer within 2s"),
        "{table}"
    );

    // JSON output carries the kind and the reason separately.
    let out = plugin(home.path())
        .args(["check", "-o", "json", "--kubeconfig"])
        .arg(&file)
        .args(["good", "wrong-token"])
        .output()
        .unwrap();
    let doc = parse(&stdout(&out));
    let results = doc.as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["context"], "good");
    assert_eq!(results[0]["result"], "ok");
    assert_eq!(results[0]["groups"][1], "oncall");
    assert_eq!(results[1]["result"], "unauthorised");
    assert!(
        results[1]["reason"]
            .as_str()
            .unwrap()
            .contains("Unauthorized"),
        "{doc}"
    );
    assert!(
        results[1]["version"].is_null(),
        "a rejected credential is rejected on /version too: {doc}"
    );
}

#[test]
fn only_working_contexts_exit_zero() {
    let server = KubeTestServer::start();
    server.add_token("t", User::new("carol"));
    let home = tempfile::tempdir().unwrap();
    let file = server.write_kubeconfig(home.path(), &KubeconfigOpts::token("t"));
    let out = plugin(home.path())
        .args(["check", "--progress", "--kubeconfig"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("carol"), "{}", stdout(&out));
    assert_eq!(
        stderr(&out),
        "",
        "no progress bar when stderr is not a terminal"
    );

    let out = plugin(home.path())
        .args(["check", "missing", "--kubeconfig"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("context \"missing\" is not in the kubeconfig"),
        "{}",
        stderr(&out)
    );
}
