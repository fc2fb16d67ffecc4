//! A kube client built by the kit talks to a real TLS API server: it reads a
//! Secret with a bearer token, and turns 401 and 403 into clear errors that keep
//! the server's own message.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube_test_server::{ExecConfig, KubeTestServer, KubeconfigOpts, User};
use kubectl_kit::{KubeFlags, api_error};

fn secret(ns: &str, name: &str, key: &str, value: &str) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        data: Some([(key.to_string(), ByteString(value.as_bytes().to_vec()))].into()),
        ..Default::default()
    }
}

fn server() -> KubeTestServer {
    let server = KubeTestServer::start();
    server.insert_secret(secret("team-a", "db", "password", "s3cr3t"));
    server.insert_secret(secret("prod", "db", "password", "prod-secret"));
    server.add_token("good-token", User::new("alice").with_groups(["devs"]));
    server.allow("alice", &["get", "list"], &["secrets"], "team-a");
    server
}

fn flags_for(server: &KubeTestServer, dir: &std::path::Path, opts: KubeconfigOpts) -> KubeFlags {
    let path = server.write_kubeconfig(dir, &opts);
    KubeFlags {
        kubeconfig: Some(path),
        ..Default::default()
    }
}

#[tokio::test]
async fn reads_a_secret_over_tls_with_a_bearer_token() {
    kubectl_kit::install_crypto_provider();
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let flags = flags_for(
        &server,
        dir.path(),
        KubeconfigOpts::token("good-token").namespace("team-a"),
    );
    assert_eq!(flags.namespace().unwrap(), "team-a");
    let client = flags.client().await.expect("client");
    let api: Api<Secret> = Api::default_namespaced(client);
    let got = api.get("db").await.expect("get secret");
    assert_eq!(got.data.unwrap()["password"].0, b"s3cr3t");
    let seen = server.requests();
    let last = seen
        .iter()
        .rev()
        .find(|r| r.path.contains("/secrets/db"))
        .expect("request recorded");
    assert_eq!(last.user.as_deref(), Some("alice"));
}

#[tokio::test]
async fn a_wrong_token_is_unauthorised_with_a_hint() {
    kubectl_kit::install_crypto_provider();
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let flags = flags_for(
        &server,
        dir.path(),
        KubeconfigOpts::token("wrong").namespace("team-a"),
    );
    let api: Api<Secret> = Api::default_namespaced(flags.client().await.unwrap());
    let err = api_error(api.get("db").await.unwrap_err(), "get secret \"db\"");
    assert_eq!(err.status_code(), Some(401));
    let text = err.to_string();
    assert!(text.contains("Unauthorized"), "{text}");
    assert!(text.contains("credentials"), "{text}");
}

#[tokio::test]
async fn a_forbidden_namespace_keeps_the_servers_message() {
    kubectl_kit::install_crypto_provider();
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let mut flags = flags_for(&server, dir.path(), KubeconfigOpts::token("good-token"));
    flags.namespace = Some("prod".into());
    let api: Api<Secret> = Api::default_namespaced(flags.client().await.unwrap());
    let err = api_error(api.get("db").await.unwrap_err(), "get secret \"db\"");
    assert_eq!(err.status_code(), Some(403));
    let text = err.to_string();
    assert!(
        text.contains(
            r#"User "alice" cannot get resource "secrets" in API group "" in the namespace "prod""#
        ),
        "{text}"
    );
    assert!(text.contains("RBAC"), "{text}");
}

#[tokio::test]
async fn an_untrusted_server_certificate_is_a_clear_tls_error() {
    kubectl_kit::install_crypto_provider();
    let server = server();
    let other = KubeTestServer::start();
    let dir = tempfile::tempdir().unwrap();
    // A kubeconfig for `server` but carrying the other server's CA.
    let yaml = server
        .kubeconfig_yaml(&KubeconfigOpts::token("good-token"))
        .replace(&b64(&server.ca_pem()), &b64(&other.ca_pem()));
    let path = dir.path().join("config");
    std::fs::write(&path, yaml).unwrap();
    let flags = KubeFlags {
        kubeconfig: Some(path),
        namespace: Some("team-a".into()),
        ..Default::default()
    };
    let api: Api<Secret> = Api::default_namespaced(flags.client().await.unwrap());
    let err = api_error(api.get("db").await.unwrap_err(), "get secret \"db\"").to_string();
    assert!(err.contains("certificate"), "{err}");
}

#[tokio::test]
async fn an_exec_credential_user_is_run_by_the_client() {
    kubectl_kit::install_crypto_provider();
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    // A credential plugin that prints an ExecCredential with the good token.
    let script = dir.path().join("cred.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"good-token\"}}'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exec = ExecConfig::new(script.display().to_string(), Vec::<String>::new());
    let opts = KubeconfigOpts::exec(exec).namespace("team-a");
    let flags = flags_for(&server, dir.path(), opts);
    let api: Api<Secret> = Api::default_namespaced(flags.client().await.unwrap());
    let got = api.get("db").await.expect("exec credential accepted");
    assert_eq!(got.metadata.name.as_deref(), Some("db"));
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
