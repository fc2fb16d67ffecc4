//! Secrets never land in the audit store: events with Secret data and tokens
//! in every position the apiserver writes them, sent through the webhook and
//! through `audit-sink import`, leave no byte of a secret value under the data
//! directory, in `/v1/search` answers or in the follow stream; the key names
//! and the hashes that replace the values are there.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// Secret values: lower-case letters and digits, so that the full-text
/// index would hold them verbatim as words if they got that far.
const VALUES: &[&str] = &[
    "dbpasswordvalue001",
    "stringdatavalue002",
    "lastappliedvalue003",
    "listitemvalue004",
    "mergepatchvalue005",
    "jsonpatchvalue006",
    "tokenrequestvalue007",
    "tokenreviewvalue008",
    "configmapvalue009",
    "mixedlistvalue010",
    "deadletterevent011",
    "deadletterbody012",
];

fn event(n: u32, verb: &str, resource: &str, extra: Value) -> Value {
    let mut e = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": format!("00000000-0000-0000-0000-{n:012}"), "stage": "ResponseComplete",
        "requestURI": format!("/api/v1/namespaces/prod/{resource}/db"), "verb": verb,
        "user": {"username": "alice", "groups": ["dev"]},
        "objectRef": {"resource": resource, "namespace": "prod", "name": "db", "apiVersion": "v1"},
        "responseStatus": {"metadata": {}, "code": 200},
        "requestReceivedTimestamp": format!("2024-05-01T10:00:{n:02}.000000Z"),
        "stageTimestamp": format!("2024-05-01T10:00:{n:02}.100000Z"),
    });
    for (k, v) in extra.as_object().unwrap() {
        if k == "objectRef" {
            for (k2, v2) in v.as_object().unwrap() {
                e["objectRef"][k2] = v2.clone();
            }
        } else {
            e[k] = v.clone();
        }
    }
    e
}

fn secret(data: Value, string_data: Value, annotations: Value) -> Value {
    json!({"kind": "Secret", "apiVersion": "v1",
           "metadata": {"name": "db", "namespace": "prod", "annotations": annotations},
           "data": data, "stringData": string_data, "type": "Opaque"})
}

/// Events holding every value of [`VALUES`] but the dead-letter ones.
fn events() -> Vec<Value> {
    let v = VALUES;
    let last_applied =
        json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": v[2]}}).to_string();
    let created = secret(
        json!({"password": v[0]}),
        json!({"username": v[1]}),
        json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied}),
    );
    vec![
        event(
            1,
            "create",
            "secrets",
            json!({"requestObject": created, "responseObject": created}),
        ),
        event(
            2,
            "get",
            "secrets",
            json!({"responseObject": secret(json!({"password": v[0]}), Value::Null, json!({}))}),
        ),
        event(
            3,
            "list",
            "secrets",
            json!({
            "objectRef": {"name": null},
            "responseObject": {"kind": "SecretList", "apiVersion": "v1", "items": [
                secret(json!({"password": v[0], "extra": v[3]}), Value::Null, json!({}))]}}),
        ),
        event(
            4,
            "patch",
            "secrets",
            json!({"requestObject": {"data": {"password": v[4]}}}),
        ),
        event(
            5,
            "patch",
            "secrets",
            json!({"requestObject": [
            {"op": "replace", "path": "/data/password", "value": v[5]},
            {"op": "add", "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
             "value": json!({"data": {"password": v[5]}}).to_string()}]}),
        ),
        event(
            6,
            "create",
            "serviceaccounts",
            json!({
            "objectRef": {"subresource": "token"},
            "requestObject": {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"audiences": ["api"]}},
            "responseObject": {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                               "status": {"token": v[6], "expirationTimestamp": "2024-05-01T11:00:00Z"}}}),
        ),
        event(
            7,
            "create",
            "tokenreviews",
            json!({
            "objectRef": {"apiGroup": "authentication.k8s.io", "apiVersion": "v1", "namespace": null, "name": null},
            "requestObject": {"kind": "TokenReview", "spec": {"token": v[7]}},
            "responseObject": {"kind": "TokenReview", "spec": {"token": v[7]}, "status": {"authenticated": true}}}),
        ),
        event(
            8,
            "update",
            "configmaps",
            json!({
            "requestObject": {"kind": "ConfigMap", "apiVersion": "v1", "data": {"db.conf": v[8]}}}),
        ),
        event(
            9,
            "list",
            "things",
            json!({
            "objectRef": {"apiGroup": "example.com", "name": null},
            "responseObject": {"kind": "List", "items": [
                {"kind": "Secret", "apiVersion": "v1", "data": {"nested": v[9]}}]}}),
        ),
    ]
}

/// Every file under `dir`, as bytes.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn assert_no_value(what: &str, bytes: &[u8]) {
    for v in VALUES {
        assert!(
            !bytes.windows(v.len()).any(|w| w == v.as_bytes()),
            "{what} holds the secret value {v}"
        );
    }
}

fn lines(events: &[Value]) -> Vec<String> {
    events.iter().map(Value::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_value_is_stored_searchable_or_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sink = SinkProc::start(&data, &["--redact", "configmaps/prod:data"]);
    let c = client();

    let mut follow = c
        .get(format!("{}/v1/follow", sink.url))
        .send()
        .await
        .unwrap();
    assert_eq!(follow.status(), 200);

    let events = events();
    let r = post_list(&c, &sink.url, &lines(&events)).await;
    assert_eq!(r.status(), 200);
    // An invalid event (no auditID) and a body that is no EventList: dead letters.
    let mut invalid = event(
        20,
        "create",
        "secrets",
        json!({"requestObject": {"data": {"k": VALUES[10]}}}),
    );
    invalid.as_object_mut().unwrap().remove("auditID");
    let r = post_list(&c, &sink.url, &[invalid.to_string()]).await;
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{}/v1/events", sink.url))
        .header("content-type", "application/json")
        .body(format!(r#"{{"kind":"EventList","items":[{{"objectRef":{{"resource":"secrets"}},"requestObject":{{"data":{{"k":"{}"}}"#, VALUES[11]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    wait_total(&c, &sink.url, "", events.len() as u64).await;

    // The follow stream.
    let mut streamed = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while streamed.matches("data: ").count() < events.len() {
        let chunk = tokio::time::timeout_at(deadline, follow.chunk())
            .await
            .expect("the events are streamed")
            .unwrap()
            .unwrap();
        streamed.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_no_value("the follow stream", streamed.as_bytes());

    // Search answers.
    let found = search_all(&c, &sink.url, "", 100).await;
    assert_eq!(found.len(), events.len());
    let answers = serde_json::to_string(&found).unwrap();
    assert_no_value("/v1/search", answers.as_bytes());
    for v in VALUES {
        let r = c
            .get(format!("{}/v1/search", sink.url))
            .query(&[("q", *v)])
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(
            body.contains(r#""events":[]"#),
            "a search for {v} finds: {body}"
        );
    }
    // Key names are kept, values replaced by markers; the same value gives the same marker.
    let by_id = |n: u32| {
        found
            .iter()
            .find(|e| {
                e["auditID"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("{n:012}"))
            })
            .unwrap()
            .clone()
    };
    let created = by_id(1);
    let marker = created["requestObject"]["data"]["password"]
        .as_str()
        .unwrap();
    assert!(marker.starts_with("redacted:sha256:"), "{created}");
    assert_eq!(by_id(2)["responseObject"]["data"]["password"], marker);
    assert_eq!(
        created["requestObject"]["stringData"]["username"]
            .as_str()
            .unwrap()
            .len(),
        marker.len()
    );
    assert_ne!(
        by_id(4)["requestObject"]["data"]["password"],
        marker,
        "another value, another marker"
    );
    let annotation = created["requestObject"]["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    let inner: Value = serde_json::from_str(annotation).unwrap();
    assert!(
        inner["data"]["password"]
            .as_str()
            .unwrap()
            .starts_with("redacted:sha256:")
    );
    assert_eq!(
        by_id(3)["responseObject"]["items"][0]["data"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    assert!(
        by_id(6)["responseObject"]["status"]["token"]
            .as_str()
            .unwrap()
            .starts_with("redacted:")
    );
    assert_eq!(
        by_id(6)["responseObject"]["status"]["expirationTimestamp"],
        "2024-05-01T11:00:00Z"
    );
    assert!(
        by_id(8)["requestObject"]["data"]["db.conf"]
            .as_str()
            .unwrap()
            .starts_with("redacted:")
    );

    // Metrics.
    let m = metrics(&c, &sink.url).await;
    assert!(m.contains("audit_sink_secret_redaction_enabled 1"), "{m}");
    assert!(m.contains("audit_sink_events_redacted_total 11"), "{m}");

    // Nothing under the data directory: log, index, dead letters.
    let dead = Command::new(bin())
        .args(["dead-letters", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(dead.status.success());
    let dead_text = String::from_utf8_lossy(&dead.stdout);
    assert!(
        dead_text.contains("auditID") || dead_text.contains("event"),
        "{dead_text}"
    );
    assert_no_value("audit-sink dead-letters", &dead.stdout);
    drop(follow);
    let mut sink = sink;
    sink.terminate();
    for (path, bytes) in files_under(&data) {
        assert_no_value(&path, &bytes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_redacts_and_no_redact_secrets_is_loud() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("audit.log");
    std::fs::write(&file, lines(&events()).join("\n")).unwrap();
    run_ok(
        Command::new(bin())
            .args([
                "import",
                "--no-progress",
                "--redact",
                "configmaps:data",
                "--data-dir",
            ])
            .arg(&data)
            .arg(&file),
    );
    for (path, bytes) in files_under(&data) {
        assert_no_value(&path, &bytes);
    }
    let sink = SinkProc::start(&data, &[]);
    let c = client();
    wait_total(&c, &sink.url, "", events().len() as u64).await;
    let found = serde_json::to_string(&search_all(&c, &sink.url, "", 100).await).unwrap();
    assert_no_value("/v1/search after import", found.as_bytes());
    assert!(found.contains(r#""password":"redacted:sha256:"#), "{found}");
    drop(sink);

    // Turned off: stored as received, said in the log and in /metrics.
    let off = dir.path().join("off");
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-redact-secrets",
            "--data-dir",
        ])
        .arg(&off)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    assert_eq!(
        post_list(&c, &url, &lines(&events()[..1])).await.status(),
        200
    );
    wait_total(&c, &url, "", 1).await;
    let m = metrics(&c, &url).await;
    assert!(m.contains("audit_sink_secret_redaction_enabled 0"), "{m}");
    let found = serde_json::to_string(&search_all(&c, &url, "", 10).await).unwrap();
    assert!(found.contains(VALUES[0]));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("--no-redact-secrets") && log.contains("WARN"),
        "{log}"
    );
}
