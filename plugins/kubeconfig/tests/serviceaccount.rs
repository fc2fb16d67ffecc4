//! `serviceaccount` against kube-test-server: the TokenRequest token in the
//! generated kubeconfig authenticates, and its expiry is reported.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

fn server_with_account() -> KubeTestServer {
    let server = KubeTestServer::start();
    server.add_token(
        "admin-token",
        User::new("admin").with_groups(["system:masters"]),
    );
    server.insert_namespace("ci");
    server.insert_service_account(ServiceAccount {
        metadata: ObjectMeta {
            name: Some("deployer".into()),
            namespace: Some("ci".into()),
            ..Default::default()
        },
        ..Default::default()
    });
    server
}

#[test]
fn the_issued_kubeconfig_authenticates_as_the_service_account() {
    let server = server_with_account();
    let home = tempfile::tempdir().unwrap();
    let admin = server.write_kubeconfig(home.path(), &KubeconfigOpts::token("admin-token"));
    let out_file = home.path().join("deployer.yaml");
    let started = jiff::Timestamp::now();
    let out = plugin(home.path())
        .args([
            "serviceaccount",
            "deployer",
            "-n",
            "ci",
            "--duration",
            "2h",
            "-f",
        ])
        .arg(&out_file)
        .arg("--kubeconfig")
        .arg(&admin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("token for serviceaccount ci/deployer expires at "),
        "{err}"
    );
    assert!(
        err.contains("(in 120m)") || err.contains("(in 119m)"),
        "{err}"
    );
    let stamp = err
        .split("expires at ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap();
    let expires: jiff::Timestamp = stamp.parse().unwrap();
    let lifetime = expires.as_second() - started.as_second();
    assert!((7100..=7300).contains(&lifetime), "lifetime {lifetime}s");

    let doc = read(&out_file);
    assert_eq!(doc["current-context"], "deployer@kube-test-server");
    assert_eq!(
        entry(&doc, "contexts", "deployer@kube-test-server")["context"]["namespace"],
        "ci"
    );
    assert!(
        entry(&doc, "clusters", "kube-test-server")["cluster"]["certificate-authority-data"]
            .is_string()
    );

    let whoami = kubectl(&out_file, home.path(), None)
        .args(["auth", "whoami", "-o", "json"])
        .output()
        .unwrap();
    assert!(whoami.status.success(), "{}", stderr(&whoami));
    let review = parse(&stdout(&whoami));
    assert_eq!(
        review["status"]["userInfo"]["username"],
        "system:serviceaccount:ci:deployer"
    );
    let version = kubectl(&out_file, home.path(), None)
        .args(["get", "--raw", "/version"])
        .output()
        .unwrap();
    assert!(version.status.success(), "{}", stderr(&version));
}

#[test]
fn a_token_can_be_bound_to_a_secret() {
    let server = server_with_account();
    let home = tempfile::tempdir().unwrap();
    let admin = server.write_kubeconfig(
        home.path(),
        &KubeconfigOpts::token("admin-token").namespace("ci"),
    );
    let out = plugin(home.path())
        .args([
            "serviceaccount",
            "deployer",
            "--bound-to-secret",
            "-o",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(&admin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let secret = err
        .split("bound to secret ci/")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .unwrap_or_else(|| panic!("{err}"))
        .to_string();
    assert!(secret.starts_with("deployer-kubeconfig-"), "{secret}");
    let stored: Secret = server.get("ci", &secret).expect("the secret exists");
    assert_eq!(
        stored.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "kubectl-kubeconfig"
    );
    let doc = parse(&stdout(&out));
    let token = entry(&doc, "users", "system:serviceaccount:ci:deployer")["user"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token.split('.').count(), 3, "a JWT");
}

#[test]
fn errors_say_what_to_do() {
    let server = server_with_account();
    let home = tempfile::tempdir().unwrap();
    let admin = server.write_kubeconfig(home.path(), &KubeconfigOpts::token("admin-token"));
    let out = plugin(home.path())
        .args(["serviceaccount", "nobody", "-n", "ci"])
        .arg("--kubeconfig")
        .arg(&admin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("serviceaccounts \"nobody\" not found"),
        "{}",
        stderr(&out)
    );

    let out = plugin(home.path())
        .args(["serviceaccount", "deployer", "-n", "ci", "--duration", "1m"])
        .arg("--kubeconfig")
        .arg(&admin)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a too short duration is a usage error"
    );
    assert!(stderr(&out).contains("minimum of 10m"), "{}", stderr(&out));

    let limited = server.write_kubeconfig(
        home.path(),
        &KubeconfigOpts::token("bob-token").context("bob"),
    );
    server.add_token("bob-token", User::new("bob"));
    let out = plugin(home.path())
        .args(["serviceaccount", "deployer", "-n", "ci"])
        .arg("--kubeconfig")
        .arg(&limited)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("forbidden") && err.contains("RBAC"), "{err}");
}
