//! TokenRequest, SelfSubjectReview and the service proxy, through the kube crate.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use common::{client, secret, status_of};
use k8s_openapi::api::authentication::v1::{
    BoundObjectReference, SelfSubjectReview, TokenRequest, TokenRequestSpec,
};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::PostParams;
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};

fn service_account(namespace: &str, name: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn token_request(expiration: Option<i64>, bound: Option<BoundObjectReference>) -> TokenRequest {
    TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: expiration,
            bound_object_ref: bound,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn admin() -> KubeTestServer {
    let server = KubeTestServer::start();
    server.add_token("admin-token", User::new("admin"));
    server.allow("admin", &["create"], &["serviceaccounts/token"], "ci");
    server
}

#[tokio::test]
async fn token_request_issues_a_working_service_account_token() {
    let server = admin();
    let sa = server.insert_service_account(service_account("ci", "deployer"));
    server.insert_secret(secret("ci", "build", &[("k", "v")]));
    server.allow("system:serviceaccounts:ci", &["get"], &["secrets"], "ci");
    let dir = tempfile::tempdir().unwrap();
    let admin = client(&server, dir.path(), &KubeconfigOpts::token("admin-token")).await;
    let sas: Api<ServiceAccount> = Api::namespaced(admin, "ci");

    let before = jiff::Timestamp::now();
    let issued: TokenRequest = sas
        .create_subresource(
            "token",
            "deployer",
            &PostParams::default(),
            &token_request(Some(1200), None),
        )
        .await
        .unwrap();
    let status = issued.status.unwrap();
    let lifetime = status.expiration_timestamp.0.as_second() - before.as_second();
    assert!((1199..=1201).contains(&lifetime), "lifetime {lifetime}");
    assert_eq!(issued.spec.expiration_seconds, Some(1200));
    assert_eq!(
        issued.spec.audiences,
        vec!["https://kubernetes.default.svc.cluster.local".to_string()]
    );

    // The token is a credential of the service account from now on.
    let sa_client = client(
        &server,
        dir.path(),
        &KubeconfigOpts::token(status.token.clone()).context("sa"),
    )
    .await;
    let review: SelfSubjectReview = Api::<SelfSubjectReview>::all(sa_client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .unwrap();
    let info = review.status.unwrap().user_info.unwrap();
    assert_eq!(
        info.username.as_deref(),
        Some("system:serviceaccount:ci:deployer")
    );
    assert_eq!(info.uid, sa.metadata.uid);
    assert_eq!(
        info.groups.unwrap(),
        [
            "system:serviceaccounts",
            "system:serviceaccounts:ci",
            "system:authenticated"
        ]
    );
    let read = Api::<Secret>::namespaced(sa_client, "ci")
        .get("build")
        .await
        .unwrap();
    assert_eq!(read.metadata.name.as_deref(), Some("build"));
}

#[tokio::test]
async fn token_request_defaults_and_limits() {
    let server = admin();
    server.insert_service_account(service_account("ci", "deployer"));
    let bound_secret = server.insert_secret(secret("ci", "anchor", &[]));
    let dir = tempfile::tempdir().unwrap();
    let admin = client(&server, dir.path(), &KubeconfigOpts::token("admin-token")).await;
    let sas: Api<ServiceAccount> = Api::namespaced(admin, "ci");

    let issued: TokenRequest = sas
        .create_subresource(
            "token",
            "deployer",
            &PostParams::default(),
            &token_request(None, None),
        )
        .await
        .unwrap();
    assert_eq!(issued.spec.expiration_seconds, Some(3600));

    let status = status_of(
        sas.create_subresource::<_, TokenRequest>(
            "token",
            "deployer",
            &PostParams::default(),
            &token_request(Some(60), None),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        status.message,
        r#"TokenRequest.authentication.k8s.io "deployer" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"#
    );

    let status = status_of(
        sas.create_subresource::<_, TokenRequest>(
            "token",
            "nobody",
            &PostParams::default(),
            &token_request(None, None),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(status.code, 404);
    assert_eq!(status.message, r#"serviceaccounts "nobody" not found"#);

    let bound = BoundObjectReference {
        kind: Some("Secret".into()),
        api_version: Some("v1".into()),
        name: Some("anchor".into()),
        uid: None,
    };
    let issued: TokenRequest = sas
        .create_subresource(
            "token",
            "deployer",
            &PostParams::default(),
            &token_request(None, Some(bound)),
        )
        .await
        .unwrap();
    assert_eq!(
        issued.spec.bound_object_ref.unwrap().uid,
        bound_secret.metadata.uid
    );

    // Forbidden for whoever lacks create on serviceaccounts/token.
    server.add_token("viewer-token", User::new("viewer"));
    let viewer = client(
        &server,
        dir.path(),
        &KubeconfigOpts::token("viewer-token").context("viewer"),
    )
    .await;
    let status = status_of(
        Api::<ServiceAccount>::namespaced(viewer, "ci")
            .create_subresource::<_, TokenRequest>(
                "token",
                "deployer",
                &PostParams::default(),
                &token_request(None, None),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(
        status.message,
        r#"serviceaccounts "deployer" is forbidden: User "viewer" cannot create resource "serviceaccounts/token" in API group "" in the namespace "ci""#
    );
}

/// A one-request-at-a-time HTTP/1.1 server that reports each request it gets
/// and answers with a body streamed in two chunks.
fn upstream() -> (String, mpsc::Receiver<String>, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (seen_tx, seen_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut content_length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; content_length];
            reader.read_exact(&mut body).unwrap();
            head.push_str(&String::from_utf8_lossy(&body));
            let _ = seen_tx.send(head);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nx-upstream: yes\r\nconnection: close\r\n\r\n6\r\nfirst\n\r\n",
            );
            let _ = stream.flush();
            // The second chunk only after the test has read the first: the
            // proxy must stream, not buffer.
            let _ = release_rx.recv();
            let _ = stream.write_all(b"7\r\nsecond\n\r\n0\r\n\r\n");
        }
    });
    (addr, seen_rx, release_tx)
}

#[test]
fn service_proxy_forwards_and_streams() {
    let server = KubeTestServer::start();
    server.add_token("alice-token", User::new("alice"));
    server.allow("alice", &["get", "create"], &["services/proxy"], "audit");
    let (addr, seen, release) = upstream();
    server.add_service_proxy("audit", "audit-sink", 8080, addr);

    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca_pem().as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let mut resp = http
        .get(format!(
            "{}/api/v1/namespaces/audit/services/audit-sink:8080/proxy/api/v1/follow?q=verb%3Dget",
            server.url()
        ))
        .bearer_auth("alice-token")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-upstream"], "yes");
    let mut first = [0u8; 6];
    resp.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"first\n");
    release.send(()).unwrap();
    let mut rest = String::new();
    resp.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "second\n");

    let head = seen.recv().unwrap();
    assert!(
        head.starts_with("GET /api/v1/follow?q=verb%3Dget HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("authorization"),
        "{head}"
    );

    // POST with a body, through the https:name:port form.
    let post = http
        .post(format!(
            "{}/api/v1/namespaces/audit/services/audit-sink/proxy/ingest",
            server.url()
        ))
        .bearer_auth("alice-token")
        .body("{\"a\":1}")
        .send()
        .unwrap();
    assert_eq!(post.status(), 200);
    release.send(()).unwrap();
    let head = seen.recv().unwrap();
    assert!(head.starts_with("POST /ingest HTTP/1.1\r\n"), "{head}");
    assert!(head.ends_with("{\"a\":1}"), "{head}");
}

#[test]
fn service_proxy_checks_credentials_and_services() {
    let server = KubeTestServer::start();
    server.add_token("alice-token", User::new("alice"));
    server.add_token("bob-token", User::new("bob"));
    server.allow("alice", &["get"], &["services/proxy"], "audit");
    let (addr, _seen, _release) = upstream();
    server.add_service_proxy("audit", "audit-sink", 8080, addr);
    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca_pem().as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let get = |path: &str, token: Option<&str>| {
        let mut req = http.get(format!("{}{path}", server.url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().unwrap();
        let code = resp.status().as_u16();
        (code, resp.json::<serde_json::Value>().unwrap())
    };

    let (code, body) = get(
        "/api/v1/namespaces/audit/services/audit-sink:8080/proxy/x",
        None,
    );
    assert_eq!(code, 401);
    assert_eq!(body["reason"], "Unauthorized");

    let (code, body) = get(
        "/api/v1/namespaces/audit/services/audit-sink:8080/proxy/x",
        Some("bob-token"),
    );
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        r#"services "audit-sink:8080" is forbidden: User "bob" cannot get resource "services/proxy" in API group "" in the namespace "audit""#
    );

    let (code, body) = get(
        "/api/v1/namespaces/audit/services/nothing:80/proxy/x",
        Some("alice-token"),
    );
    assert_eq!(code, 404);
    assert_eq!(body["message"], r#"services "nothing" not found"#);

    let (code, body) = get(
        "/api/v1/namespaces/audit/services/audit-sink:9999/proxy/x",
        Some("alice-token"),
    );
    assert_eq!(code, 503);
    assert_eq!(body["reason"], "ServiceUnavailable");
}

#[test]
fn plain_http_server_and_anonymous_paths() {
    let server = KubeTestServer::start_plain_http();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();

    let version: serde_json::Value = http
        .get(format!("{}/version", server.url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(version["gitVersion"], kube_test_server::GIT_VERSION);
    let health = http
        .get(format!("{}/healthz", server.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(health, "ok");

    let resp = http
        .get(format!("{}/api/v1/secrets", server.url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(
        resp.text().unwrap(),
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n"
    );

    // An invalid credential is refused even on a public path.
    let resp = http
        .get(format!("{}/version", server.url()))
        .bearer_auth("bogus")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn token_audiences_token_review_and_subject_access_review() {
    use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
    };

    let server = admin();
    server.allow(
        "admin",
        &["create"],
        &["tokenreviews", "subjectaccessreviews"],
        "*",
    );
    server.allow("system:serviceaccounts:ci", &["get"], &["secrets"], "ci");
    server.insert_service_account(service_account("ci", "deployer"));
    let dir = tempfile::tempdir().unwrap();
    let admin = client(&server, dir.path(), &KubeconfigOpts::token("admin-token")).await;

    let mut request = token_request(None, None);
    request.spec.audiences = vec!["vault".into()];
    let issued: TokenRequest = Api::<ServiceAccount>::namespaced(admin.clone(), "ci")
        .create_subresource("token", "deployer", &PostParams::default(), &request)
        .await
        .unwrap();
    let token = issued.status.unwrap().token;

    // A token for another audience is no credential for the API server itself.
    let sa_client = client(
        &server,
        dir.path(),
        &KubeconfigOpts::token(token.clone()).context("sa"),
    )
    .await;
    let status = status_of(
        Api::<Secret>::namespaced(sa_client, "ci")
            .get("x")
            .await
            .unwrap_err(),
    );
    assert_eq!(status.code, 401);

    let reviews: Api<TokenReview> = Api::all(admin.clone());
    let review = |token: String, audiences: Vec<String>| TokenReview {
        spec: TokenReviewSpec {
            token: Some(token),
            audiences: Some(audiences),
        },
        ..Default::default()
    };
    let vault = reviews
        .create(
            &PostParams::default(),
            &review(token.clone(), vec!["vault".into()]),
        )
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(vault.authenticated, Some(true));
    assert_eq!(vault.audiences, Some(vec!["vault".to_string()]));
    assert_eq!(
        vault.user.unwrap().username.as_deref(),
        Some("system:serviceaccount:ci:deployer")
    );
    let api = reviews
        .create(&PostParams::default(), &review(token, vec![]))
        .await
        .unwrap()
        .status
        .unwrap();
    assert_ne!(api.authenticated, Some(true));
    let admin_review = reviews
        .create(
            &PostParams::default(),
            &review("admin-token".into(), vec![]),
        )
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(
        admin_review.user.unwrap().username.as_deref(),
        Some("admin")
    );

    let sars: Api<SubjectAccessReview> = Api::all(admin);
    let ask = |user: &str, groups: &[&str], namespace: &str| SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.into()),
            groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            resource_attributes: Some(ResourceAttributes {
                verb: Some("get".into()),
                resource: Some("secrets".into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let sa = "system:serviceaccount:ci:deployer";
    let allowed = sars
        .create(
            &PostParams::default(),
            &ask(sa, &["system:serviceaccounts:ci"], "ci"),
        )
        .await
        .unwrap();
    assert!(allowed.status.unwrap().allowed);
    let denied = sars
        .create(
            &PostParams::default(),
            &ask(sa, &["system:serviceaccounts:ci"], "prod"),
        )
        .await
        .unwrap();
    assert!(!denied.status.unwrap().allowed);
}

#[test]
fn watch_streams_changes_and_replays_from_a_resource_version() {
    use std::io::BufRead as _;
    let server = KubeTestServer::start();
    server.add_token("t", User::new("alice"));
    server.allow("alice", &["watch", "list", "delete"], &["secrets"], "prod");
    server.insert_secret(secret("prod", "a", &[]));
    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca_pem().as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/namespaces/prod/secrets", server.url()))
        .bearer_auth("t")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    server.insert_secret(secret("prod", "b", &[]));

    // From the list's resourceVersion: "b" (made after it), then live changes.
    let resp = http
        .get(format!(
            "{}/api/v1/namespaces/prod/secrets?watch=true&resourceVersion={rv}&labelSelector=app%20in%20(b,c)",
            server.url()
        ))
        .bearer_auth("t")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut lines = std::io::BufReader::new(resp).lines();
    let mut next =
        || -> serde_json::Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    let first = next();
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("b"))
    );
    assert_eq!(first["object"]["kind"], "Secret");
    server.insert_secret(secret("prod", "a", &[("x", "y")])); // filtered out by the label selector
    server.insert_secret(secret("prod", "c", &[]));
    let second = next();
    assert_eq!(
        (
            second["type"].as_str(),
            second["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("c"))
    );
    let deleted = http
        .delete(format!("{}/api/v1/namespaces/prod/secrets/b", server.url()))
        .bearer_auth("t")
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let third = next();
    assert_eq!(
        (
            third["type"].as_str(),
            third["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("b"))
    );

    // Forbidden without the watch verb.
    server.add_token("lister", User::new("lister"));
    server.allow("lister", &["list"], &["secrets"], "prod");
    let resp = http
        .get(format!(
            "{}/api/v1/namespaces/prod/secrets?watch=true",
            server.url()
        ))
        .bearer_auth("lister")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
}
