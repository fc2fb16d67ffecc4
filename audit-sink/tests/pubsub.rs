//! `POST /v1/ingest/pubsub` driven with Pub/Sub push requests whose
//! `Authorization` carries an OIDC token signed by a real identity provider
//! (the `oidc-provider` fixture standing in for Google's issuer and JWKS),
//! each message one GKE audit `LogEntry`.

mod common;

use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use oidc_test_provider::{ALICE, BOB, OidcProvider};
use serde_json::{Value, json};

/// An id_token for `account` with `aud` = the confidential client's id.
fn id_token(p: &OidcProvider, user: &str, password: &str) -> String {
    let (id, secret) = p.confidential_client();
    let v: Value = p
        .http_client()
        .post(format!("{}/token", p.issuer()))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
            ("scope", "openid email"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

fn entries() -> Vec<Value> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/cloud/gke/storage-sink.json"),
    )
    .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn push_body(entry: &Value, id: &str) -> Value {
    json!({
        "message": {
            "attributes": {"logging.googleapis.com/timestamp": entry["timestamp"]},
            "data": base64::engine::general_purpose::STANDARD.encode(entry.to_string()),
            "messageId": id,
            "message_id": id,
            "publishTime": "2024-05-01T10:00:01.5Z",
            "publish_time": "2024-05-01T10:00:01.5Z"
        },
        "subscription": "projects/demo-project/subscriptions/kubext-audit-push"
    })
}

async fn push(c: &reqwest::Client, url: &str, token: Option<&str>, body: &Value) -> (u16, String) {
    let mut r = c
        .post(format!("{url}/v1/ingest/pubsub"))
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.body(body.to_string()).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_requests_need_the_subscription_token_and_store_each_entry_once() {
    let provider = tokio::task::spawn_blocking(|| OidcProvider::builder().start().unwrap())
        .await
        .unwrap();
    let discovery: Value = serde_json::from_str(&provider.discovery_json().unwrap()).unwrap();
    let jwks = discovery["jwks_uri"].as_str().unwrap().to_string();
    let (audience, _) = provider.confidential_client();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sink = SinkProc::start(
        &data,
        &[
            "--pubsub-audience",
            audience,
            "--pubsub-service-account",
            ALICE.email,
            "--pubsub-issuer",
            provider.issuer(),
            "--pubsub-jwks-url",
            &jwks,
            "--pubsub-ca",
            provider.ca_file().unwrap().to_str().unwrap(),
        ],
    );
    let c = client();
    // The provider stays up: the sink fetches its keys when a token arrives.
    let (_provider, alice, bob) = tokio::task::spawn_blocking(move || {
        let alice = id_token(&provider, ALICE.id, ALICE.password);
        let bob = id_token(&provider, BOB.id, BOB.password);
        (provider, alice, bob)
    })
    .await
    .unwrap();
    let entries = entries();
    let body = push_body(&entries[0], "9000000001");

    // No token, a token that is not a JWT, a forged one, another service account: 401.
    let mut forged = alice.clone();
    forged.replace_range(forged.len() - 6.., "AAAAAA");
    for token in [
        None,
        Some("not-a-jwt"),
        Some(forged.as_str()),
        Some(bob.as_str()),
    ] {
        let (status, text) = push(&c, &sink.url, token, &body).await;
        assert_eq!(status, 401, "{token:?}: {text}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stats(&c, &sink.url, "").await.total, 0);

    // The subscription's token: each entry stored; a redelivery stores nothing twice.
    for (i, e) in entries.iter().enumerate() {
        let (status, text) = push(
            &c,
            &sink.url,
            Some(&alice),
            &push_body(e, &format!("90000000{i:02}")),
        )
        .await;
        assert_eq!(status, 200, "{text}");
    }
    let (status, _) = push(&c, &sink.url, Some(&alice), &body).await;
    assert_eq!(status, 200);
    wait_total(&c, &sink.url, "", 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_total(&c, &sink.url, "", 3).await;
    assert_eq!(
        stats(&c, &sink.url, "annotation:audit.kubext.io/cluster=gke-prod")
            .await
            .total,
        3
    );
    assert_eq!(
        stats(
            &c,
            &sink.url,
            "annotation:audit.kubext.io/project=demo-project"
        )
        .await
        .total,
        3
    );
    assert_eq!(
        stats(
            &c,
            &sink.url,
            "verb:delete resource:deployments ns:payments name:api"
        )
        .await
        .total,
        1
    );
    assert_eq!(
        stats(&c, &sink.url, "code:403 subresource:exec")
            .await
            .total,
        1
    );

    // The fourth entry (container.googleapis.com) is not a Kubernetes audit
    // entry: acknowledged, not stored, kept with its reason.
    let out = Command::new(bin())
        .args(["dead-letters", "-o", "json", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let letters = String::from_utf8(out.stdout).unwrap();
    assert!(letters.contains("not-kubernetes"), "{letters}");
    assert!(
        letters.contains("kubext-audit-push 9000000003"),
        "{letters}"
    );
}
