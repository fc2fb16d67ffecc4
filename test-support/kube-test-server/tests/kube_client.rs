//! The kube crate, over TLS, against the server.

mod common;

use common::{client, secret, status_of};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{ListParams, PostParams};
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

fn seeded() -> KubeTestServer {
    let server = KubeTestServer::start();
    server.insert_secret(secret("prod", "db", &[("password", "hunter2")]));
    server.insert_secret(secret("prod", "api", &[("key", "k")]));
    server.insert_secret(secret("dev", "db", &[("password", "dev")]));
    server.add_token("alice-token", User::new("alice").with_groups(["devs"]));
    server.allow("devs", &["get", "list"], &["secrets"], "prod");
    server
}

#[tokio::test]
async fn reads_a_secret_over_tls_with_a_bearer_token() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path(), &KubeconfigOpts::token("alice-token")).await;
    let secrets: Api<Secret> = Api::namespaced(client, "prod");

    let db = secrets.get("db").await.unwrap();
    assert_eq!(db.data.unwrap()["password"].0, b"hunter2");
    let meta = db.metadata;
    assert!(meta.uid.is_some_and(|u| u.len() == 36));
    assert!(meta.resource_version.is_some());
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(db.type_.as_deref(), Some("Opaque"));

    let list = secrets.list(&ListParams::default()).await.unwrap();
    let names: Vec<_> = list
        .items
        .iter()
        .map(|s| s.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["api", "db"]);
    assert!(list.metadata.resource_version.is_some());

    let selected = secrets
        .list(&ListParams::default().labels("app=db"))
        .await
        .unwrap();
    assert_eq!(selected.items.len(), 1);
    let by_name = secrets
        .list(&ListParams::default().fields("metadata.name=api"))
        .await
        .unwrap();
    assert_eq!(by_name.items[0].metadata.name.as_deref(), Some("api"));

    let seen = server.requests();
    let get = seen
        .iter()
        .find(|r| r.path == "/api/v1/namespaces/prod/secrets/db")
        .unwrap();
    assert_eq!(get.user.as_deref(), Some("alice"));
    assert_eq!(get.bearer_token_seen.as_deref(), Some("alice-token"));
    assert_eq!(get.status, 200);
}

#[tokio::test]
async fn a_wrong_token_gets_401_with_a_status() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path(), &KubeconfigOpts::token("not-a-token")).await;
    let status = status_of(
        Api::<Secret>::namespaced(client, "prod")
            .get("db")
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 401);
    assert_eq!(status.reason, "Unauthorized");
    assert_eq!(status.message, "Unauthorized");
    assert_eq!(
        server.requests()[0].bearer_token_seen.as_deref(),
        Some("not-a-token")
    );
}

#[tokio::test]
async fn a_forbidden_namespace_gets_the_apiservers_403() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path(), &KubeconfigOpts::token("alice-token")).await;

    let dev: Api<Secret> = Api::namespaced(client.clone(), "dev");
    let status = status_of(dev.get("db").await.unwrap_err());
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, "Forbidden");
    assert_eq!(
        status.message,
        r#"secrets "db" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "dev""#
    );

    let status = status_of(dev.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        status.message,
        r#"secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "dev""#
    );

    let all: Api<Secret> = Api::all(client.clone());
    let status = status_of(all.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        status.message,
        r#"secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" at the cluster scope"#
    );

    let namespaces: Api<Namespace> = Api::all(client);
    let status = status_of(namespaces.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(status.code, 403);
}

#[tokio::test]
async fn missing_objects_get_404_and_duplicates_409() {
    let server = seeded();
    server.allow("alice", &["create"], &["secrets"], "prod");
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path(), &KubeconfigOpts::token("alice-token")).await;
    let secrets: Api<Secret> = Api::namespaced(client, "prod");

    let status = status_of(secrets.get("nope").await.unwrap_err());
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(status.message, r#"secrets "nope" not found"#);
    let details = status.details.unwrap();
    assert_eq!(
        (details.name.as_str(), details.kind.as_str()),
        ("nope", "secrets")
    );

    let created = secrets
        .create(
            &PostParams::default(),
            &secret("prod", "new", &[("a", "b")]),
        )
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert_eq!(
        server.get::<Secret>("prod", "new").unwrap().data.unwrap()["a"].0,
        b"b"
    );

    let status = status_of(
        secrets
            .create(&PostParams::default(), &secret("prod", "new", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (409, "AlreadyExists")
    );
    assert_eq!(status.message, r#"secrets "new" already exists"#);
}

#[tokio::test]
async fn client_certificates_authenticate() {
    let server = seeded();
    let cert = server.issue_client_cert("carol", &["ops"]);
    server.allow("ops", &["list"], &["secrets"], "*");
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path(), &KubeconfigOpts::client_cert(cert)).await;
    let all: Api<Secret> = Api::all(client);
    let list = all.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 3);
    assert_eq!(server.requests()[0].user.as_deref(), Some("carol"));
}

#[tokio::test]
async fn no_credential_is_401_except_on_public_paths() {
    let server = seeded();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path(), &KubeconfigOpts::default()).await;
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(version.git_version, kube_test_server::GIT_VERSION);
    let status = status_of(
        Api::<Secret>::namespaced(client, "prod")
            .get("db")
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 401);
}

#[tokio::test]
async fn tokens_stop_working_when_they_expire() {
    let server = seeded();
    let now = std::time::SystemTime::now();
    server.add_token_expiring(
        "old",
        User::new("alice").with_groups(["devs"]),
        now - std::time::Duration::from_secs(1),
    );
    server.add_token_expiring(
        "fresh",
        User::new("alice").with_groups(["devs"]),
        now + std::time::Duration::from_secs(600),
    );
    let dir = tempfile::tempdir().unwrap();
    let old = client(
        &server,
        dir.path(),
        &KubeconfigOpts::token("old").context("old"),
    )
    .await;
    let status = status_of(
        Api::<Secret>::namespaced(old, "prod")
            .get("db")
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 401);
    let fresh = client(
        &server,
        dir.path(),
        &KubeconfigOpts::token("fresh").context("fresh"),
    )
    .await;
    Api::<Secret>::namespaced(fresh, "prod")
        .get("db")
        .await
        .unwrap();

    server.remove_token("fresh");
    let fresh = client(
        &server,
        dir.path(),
        &KubeconfigOpts::token("fresh").context("fresh"),
    )
    .await;
    let status = status_of(
        Api::<Secret>::namespaced(fresh, "prod")
            .get("db")
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 401);
}
