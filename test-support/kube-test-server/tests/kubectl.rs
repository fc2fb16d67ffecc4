//! The real kubectl against the server.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::secret;
use kube_test_server::{ExecConfig, KubeTestServer, KubeconfigOpts, User};
use serde_json::Value;

fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .output()
        .expect("kubectl runs (it is on PATH on this machine)")
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl printed JSON")
}

fn seeded() -> (KubeTestServer, tempfile::TempDir) {
    let server = KubeTestServer::start();
    server.insert_secret(secret("prod", "db", &[("password", "hunter2")]));
    server.add_token("alice-token", User::new("alice").with_groups(["devs"]));
    server.allow("devs", &["get", "list"], &["secrets"], "prod");
    (server, tempfile::tempdir().unwrap())
}

#[test]
fn kubectl_gets_a_secret_as_json() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let out = kubectl(
        &kc,
        dir.path(),
        &["get", "secret", "db", "-n", "prod", "-o", "json"],
    );
    let secret = stdout_json(&out);
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
}

#[test]
fn kubectl_lists_secrets_in_the_contexts_namespace() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token("alice-token").namespace("prod"),
    );
    let out = kubectl(&kc, dir.path(), &["get", "secrets", "-o", "json"]);
    let list = stdout_json(&out);
    assert_eq!(list["items"][0]["metadata"]["name"], "db");
}

#[test]
fn kubectl_get_raw_version() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let version = stdout_json(&kubectl(&kc, dir.path(), &["get", "--raw", "/version"]));
    assert_eq!(version["gitVersion"], kube_test_server::GIT_VERSION);
}

#[test]
fn kubectl_auth_whoami() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let review = stdout_json(&kubectl(&kc, dir.path(), &["auth", "whoami", "-o", "json"]));
    assert_eq!(review["kind"], "SelfSubjectReview");
    assert_eq!(review["status"]["userInfo"]["username"], "alice");
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        serde_json::json!(["devs", "system:authenticated"])
    );
}

#[test]
fn kubectl_with_a_bad_token_reports_unauthorized() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("wrong"));
    let out = kubectl(&kc, dir.path(), &["get", "secret", "db", "-n", "prod"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // What kubectl prints against a real apiserver: discovery fails first.
    assert!(
        stderr.contains("error: You must be logged in to the server (the server has asked for the client to provide credentials)"),
        "{stderr}"
    );
}

#[test]
fn kubectl_shows_the_forbidden_message() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let out = kubectl(&kc, dir.path(), &["get", "secret", "db", "-n", "dev"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"Error from server (Forbidden): secrets "db" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "dev""#),
        "{stderr}"
    );
}

#[test]
fn kubectl_with_a_client_certificate() {
    let (server, dir) = seeded();
    let cert = server.issue_client_cert("carol", &["devs"]);
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::client_cert(cert));
    let out = kubectl(
        &kc,
        dir.path(),
        &["get", "secret", "db", "-n", "prod", "-o", "json"],
    );
    assert_eq!(stdout_json(&out)["metadata"]["name"], "db");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.user.as_deref() == Some("carol"))
    );
}

#[test]
fn kubectl_prints_tables() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token("alice-token").namespace("prod"),
    );
    let out = kubectl(&kc, dir.path(), &["get", "secrets"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "TYPE", "DATA", "AGE"]);
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["db", "Opaque", "1"]);
}

#[test]
fn kubectl_lists_across_namespaces() {
    let (server, dir) = seeded();
    server.insert_secret(secret("dev", "cache", &[]));
    server.allow("alice", &["list"], &["secrets"], "*");
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let out = kubectl(&kc, dir.path(), &["get", "secrets", "-A"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAMESPACE", "NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(&rows[1][..2], ["dev", "cache"]);
    assert_eq!(&rows[2][..2], ["prod", "db"]);
}
#[test]
fn kubectl_create_token_and_use_it() {
    let (server, dir) = seeded();
    server.insert_service_account(k8s_openapi::api::core::v1::ServiceAccount {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("deployer".into()),
            namespace: Some("prod".into()),
            ..Default::default()
        },
        ..Default::default()
    });
    server.allow("alice", &["create"], &["serviceaccounts/token"], "prod");
    server.allow(
        "system:serviceaccount:prod:deployer",
        &["get"],
        &["secrets"],
        "prod",
    );
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let out = kubectl(
        &kc,
        dir.path(),
        &[
            "create",
            "token",
            "deployer",
            "-n",
            "prod",
            "--duration",
            "20m",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        1200
    );
    assert_eq!(claims["sub"], "system:serviceaccount:prod:deployer");

    let sa_kc = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token(token).context("deployer"),
    );
    let out = kubectl(
        &sa_kc,
        dir.path(),
        &["get", "secret", "db", "-n", "prod", "-o", "json"],
    );
    assert_eq!(stdout_json(&out)["metadata"]["name"], "db");
}

#[test]
fn kubectl_auth_can_i() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let yes = kubectl(
        &kc,
        dir.path(),
        &["auth", "can-i", "get", "secrets", "-n", "prod"],
    );
    assert_eq!(String::from_utf8_lossy(&yes.stdout).trim(), "yes");
    assert!(yes.status.success());
    let no = kubectl(
        &kc,
        dir.path(),
        &["auth", "can-i", "get", "secrets", "-n", "dev"],
    );
    assert_eq!(String::from_utf8_lossy(&no.stdout).trim(), "no");
    assert!(!no.status.success());
}

#[test]
fn kubectl_creates_secrets() {
    let (server, dir) = seeded();
    server.allow("alice", &["create"], &["secrets"], "prod");
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let args = [
        "create",
        "secret",
        "generic",
        "fresh",
        "-n",
        "prod",
        "--from-literal=user=admin",
    ];
    let out = kubectl(&kc, dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored: k8s_openapi::api::core::v1::Secret = server.get("prod", "fresh").unwrap();
    assert_eq!(stored.data.unwrap()["user"].0, b"admin");
    assert_eq!(stored.type_.as_deref(), Some("Opaque"));

    let again = kubectl(&kc, dir.path(), &args);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains(r#"secrets "fresh" already exists"#),
        "{stderr}"
    );
}

#[test]
fn kubectl_runs_the_exec_stanza_of_a_written_kubeconfig() {
    let (server, dir) = seeded();
    let plugin = dir.path().join("credential-plugin");
    std::fs::write(
        &plugin,
        "#!/bin/sh\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$TOKEN_FROM_ENV\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut exec = ExecConfig::new(plugin.display().to_string(), ["get-token"]);
    exec.env = vec![("TOKEN_FROM_ENV".into(), "alice-token".into())];
    exec.interactive_mode = "Never".into();
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::exec(exec).namespace("prod"));
    let out = kubectl(&kc, dir.path(), &["get", "secret", "db", "-o", "json"]);
    assert_eq!(stdout_json(&out)["metadata"]["name"], "db");
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.bearer_token_seen.as_deref() == Some("alice-token")
                && r.user.as_deref() == Some("alice"))
    );
}

#[test]
fn kubectl_reaches_a_service_through_the_proxy() {
    let (server, dir) = seeded();
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = upstream.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let (mut stream, _) = upstream.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        let request_line = String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let body = format!("{{\"seen\":{:?}}}", request_line);
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    });
    server.add_service_proxy("audit", "audit-sink", 8080, addr.to_string());
    server.allow("alice", &["get"], &["services/proxy"], "audit");
    let kc = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let out = kubectl(
        &kc,
        dir.path(),
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/audit/services/audit-sink:8080/proxy/v1/search?q=user%3Dalice",
        ],
    );
    assert_eq!(
        stdout_json(&out)["seen"],
        "GET /v1/search?q=user%3Dalice HTTP/1.1"
    );
}

#[test]
fn kubectl_describes_a_secret() {
    let (server, dir) = seeded();
    let kc = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token("alice-token").namespace("prod"),
    );
    let out = kubectl(&kc, dir.path(), &["describe", "secret", "db"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Name:         db"), "{stdout}");
    assert!(stdout.contains("password:  7 bytes"), "{stdout}");
}

#[test]
fn kubectl_labels_and_patches_a_secret() {
    let (server, dir) = seeded();
    server.allow("devs", &["patch"], &["secrets"], "prod");
    let kc = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token("alice-token").namespace("prod"),
    );
    let out = kubectl(&kc, dir.path(), &["label", "secret", "db", "team=payments"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kubectl(
        &kc,
        dir.path(),
        &[
            "patch",
            "secret",
            "db",
            "--type",
            "json",
            "-p",
            r#"[{"op":"add","path":"/data/extra","value":"eA=="}]"#,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = kubectl(
        &kc,
        dir.path(),
        &[
            "patch",
            "secret",
            "db",
            "-p",
            r#"{"stringData":null,"type":"Opaque"}"#,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let stored: k8s_openapi::api::core::v1::Secret = server.get("prod", "db").unwrap();
    assert_eq!(stored.metadata.labels.unwrap()["team"], "payments");
    let data = stored.data.unwrap();
    assert_eq!(data["extra"].0, b"x");
    assert_eq!(data["password"].0, b"hunter2");
}

#[test]
fn kubectl_watches_secrets() {
    use std::io::BufRead as _;
    let (server, dir) = seeded();
    server.allow("devs", &["watch"], &["secrets"], "prod");
    let kc = server.write_kubeconfig(
        dir.path(),
        &KubeconfigOpts::token("alice-token").namespace("prod"),
    );
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kc)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        // Bounds the test if events never come: the watch ends after 30 s.
        .arg("--request-timeout=30s")
        .args([
            "get",
            "secrets",
            "-w",
            "--output-watch-events",
            "-o",
            "jsonpath={.type} {.object.metadata.name}{\"\\n\"}",
        ])
        .env("HOME", dir.path())
        .env_remove("KUBECONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ADDED db");
    server.insert_secret(secret("prod", "late", &[]));
    server.insert_secret(secret("dev", "elsewhere", &[]));
    server.insert_secret(secret("prod", "late", &[("k", "v")]));
    assert_eq!(lines.next().unwrap().unwrap(), "ADDED late");
    assert_eq!(lines.next().unwrap().unwrap(), "MODIFIED late");
    child.kill().unwrap();
    child.wait().unwrap();
}
