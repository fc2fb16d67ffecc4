//! Managed clusters' exports imported with the real `audit-sink import`:
//! the same 10 000 events as apiserver JSON lines and inside each cloud
//! envelope give the same search answers; what is not an event is counted by
//! reason and kept in the dead-letter log, never stored.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use audit_gen as testgen;
use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

const N: usize = 10_000;

/// The generated events, with the success code an apiserver really answers
/// (201 for create, 200 otherwise): GKE carries success only as "OK".
fn events() -> Vec<Value> {
    let start = "2024-05-01T10:00:00Z".parse().unwrap();
    testgen::events(15, N, testgen::Level::Metadata, start, 10_000)
        .iter()
        .map(|s| {
            let mut v: Value = serde_json::from_str(s).unwrap();
            let code = v["responseStatus"]["code"].as_i64().unwrap();
            if code < 300 {
                v["responseStatus"]["code"] = json!(if v["verb"] == "create" { 201 } else { 200 });
            }
            v
        })
        .collect()
}

fn gzip_bytes(b: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b).unwrap();
    gz.finish().unwrap()
}

fn write_apiserver(dir: &Path, events: &[Value]) -> PathBuf {
    let p = dir.join("audit.log");
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&p, text).unwrap();
    p
}

/// CloudWatch Logs subscription payloads as Kinesis delivers them: gzip'd
/// and base64'd, one a line, 500 log events each; plus a CONTROL_MESSAGE and
/// one message cut at 256 KB.
fn write_eks(dir: &Path, events: &[Value]) -> PathBuf {
    let p = dir.join("eks-kinesis-records.txt");
    let mut out = String::new();
    let b64 = |v: &Value| {
        base64::engine::general_purpose::STANDARD.encode(gzip_bytes(v.to_string().as_bytes()))
    };
    out.push_str(&b64(&json!({
        "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "",
        "logStream": "", "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": 1714557600000i64, "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]
    })));
    out.push('\n');
    for (i, chunk) in events.chunks(500).enumerate() {
        let mut log_events: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(j, e)| json!({"id": format!("{i:05}{j:05}"), "timestamp": 1714557600000i64, "message": e.to_string()}))
            .collect();
        if i == 3 {
            let cut = format!("{}[Truncated...]", &chunk[0].to_string()[..200]);
            log_events.push(json!({"id": "cut", "timestamp": 1714557600000i64, "message": cut}));
        }
        out.push_str(&b64(&json!({
            "messageType": "DATA_MESSAGE", "owner": "111122223333",
            "logGroup": "/aws/eks/eks-prod/cluster",
            "logStream": "kube-apiserver-audit-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "subscriptionFilters": ["kubext"], "logEvents": log_events,
        })));
        out.push('\n');
    }
    std::fs::write(&p, out).unwrap();
    p
}

/// A Cloud Storage sink file (gzip'd), one LogEntry per line, with an entry
/// of another Google service.
fn write_gke(dir: &Path, events: &[Value]) -> PathBuf {
    let p = dir.join("cloudaudit.googleapis.com_activity.json.gz");
    let mut out = String::new();
    for e in events {
        let o = &e["objectRef"];
        let group = o["apiGroup"]
            .as_str()
            .filter(|g| !g.is_empty())
            .unwrap_or("core");
        let resource = o["resource"].as_str().unwrap();
        let verb = e["verb"].as_str().unwrap();
        let code = e["responseStatus"]["code"].as_i64().unwrap();
        let grpc = match code {
            200 | 201 => 0,
            403 => 7,
            404 => 5,
            409 => 6,
            _ => 13,
        };
        let mut payload = json!({
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": e["user"]["username"]},
            "methodName": format!("io.k8s.{group}.v1.{resource}.{verb}"),
            "requestMetadata": {"callerIp": e["sourceIPs"][0], "callerSuppliedUserAgent": e["userAgent"]},
            "resourceName": format!("{group}/v1/namespaces/{}/{resource}/{}", o["namespace"].as_str().unwrap(), o["name"].as_str().unwrap()),
            "serviceName": "k8s.io",
            "status": if grpc == 0 { json!({}) } else { json!({"code": grpc, "message": "failed"}) },
        });
        if grpc != 0 {
            payload["response"] = json!({"@type": "core.k8s.io/v1.Status", "kind": "Status", "apiVersion": "v1", "code": code, "status": "Failure"});
        }
        let entry = json!({
            "insertId": format!("ins-{}", e["auditID"].as_str().unwrap()),
            "labels": e["annotations"],
            "logName": "projects/demo-project/logs/cloudaudit.googleapis.com%2Factivity",
            "operation": {"first": true, "last": true, "id": e["auditID"], "producer": "k8s.io"},
            "protoPayload": payload,
            "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-prod", "location": "europe-west1", "project_id": "demo-project"}},
            "timestamp": e["requestReceivedTimestamp"],
            "receiveTimestamp": e["stageTimestamp"],
            "severity": "NOTICE",
        });
        out.push_str(&format!("{entry}\n"));
    }
    out.push_str(&format!("{}\n", json!({
        "insertId": "gce-1", "logName": "projects/demo-project/logs/cloudaudit.googleapis.com%2Factivity",
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "methodName": "v1.compute.instances.insert", "serviceName": "compute.googleapis.com", "resourceName": "projects/demo-project/zones/europe-west1-b/instances/vm-1"},
        "resource": {"type": "gce_instance", "labels": {"project_id": "demo-project"}},
        "timestamp": "2024-05-01T10:00:00Z"
    })));
    std::fs::write(&p, gzip_bytes(out.as_bytes())).unwrap();
    p
}

/// A storage-account blob (`PT1H.json`): one diagnostic record per line,
/// with records of the `guard` category between them.
fn write_aks(dir: &Path, events: &[Value]) -> PathBuf {
    let p = dir.join("PT1H.json");
    let id = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD";
    let mut out = String::new();
    for (i, e) in events.iter().enumerate() {
        let category = if i % 2 == 0 {
            "kube-audit"
        } else {
            "kube-audit-admin"
        };
        out.push_str(&format!("{}\n", json!({
            "time": e["stageTimestamp"], "resourceId": id, "category": category,
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"log": e.to_string(), "stream": "stdout", "pod": "kube-apiserver-7d9f8b6c5-x2x4z"}
        })));
        if i % 5000 == 0 {
            out.push_str(&format!("{}\n", json!({
                "time": e["stageTimestamp"], "resourceId": id, "category": "guard",
                "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
                "properties": {"log": "{\"level\":\"info\",\"msg\":\"authorized\"}", "stream": "stderr", "pod": "guard-1"}
            })));
        }
    }
    std::fs::write(&p, out).unwrap();
    p
}

fn import(data: &Path, file: &Path, extra: &[&str]) -> Value {
    let stdout = run_ok(
        Command::new(bin())
            .args(["import", "--no-progress", "-o", "json", "--data-dir"])
            .arg(data)
            .args(extra)
            .arg(file),
    );
    let v: Value = serde_json::from_slice(&stdout).unwrap();
    v[0].clone()
}

/// What a user compares in a search answer: one row per event.
fn rows(events: &[Value]) -> Vec<String> {
    let mut rows: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {} {}",
                e["auditID"],
                e["user"]["username"],
                e["verb"],
                e["objectRef"]["resource"],
                e["objectRef"]["namespace"],
                e["objectRef"]["name"],
                e["responseStatus"]["code"]
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_envelope_gives_the_same_search_answers_as_the_apiserver_log() {
    let dir = tempfile::tempdir().unwrap();
    let events = events();
    let files = [
        (
            "apiserver",
            write_apiserver(dir.path(), &events),
            vec!["--audit-cluster", "onprem"],
        ),
        ("eks", write_eks(dir.path(), &events), vec![]),
        ("gke", write_gke(dir.path(), &events), vec![]),
        ("aks", write_aks(dir.path(), &events), vec![]),
    ];
    let expected_dead = [
        json!({}),
        json!({"control-message": 1, "truncated": 1}),
        json!({"not-kubernetes": 1}),
        json!({"other-category": 2}),
    ];
    let clusters = ["onprem", "eks-prod", "gke-prod", "aks-prod"];
    let queries = [
        "user:alice",
        "user:system:serviceaccount:*",
        "verb:delete",
        "resource:secrets",
        "ns:prod",
        "name:obj-42",
        "code:403",
        "code:4xx",
        "code:201",
        "verb:create resource:deployments ns:staging",
    ];
    let c = client();
    let mut answers: Vec<Vec<Vec<String>>> = Vec::new();
    for (((format, file, extra), dead), cluster) in files.iter().zip(&expected_dead).zip(clusters) {
        let data = dir.path().join(format!("data-{format}"));
        let summary = import(&data, file, extra);
        assert_eq!(summary["format"], *format, "{summary}");
        assert_eq!(summary["stored"], N, "{format}: {summary}");
        assert_eq!(summary["duplicates"], 0, "{format}: {summary}");
        assert_eq!(summary["deadLetters"], *dead, "{format}: {summary}");

        // Importing again stores nothing twice.
        let again = import(&data, file, extra);
        assert_eq!(again["stored"], 0, "{format}: {again}");
        assert_eq!(again["duplicates"], N, "{format}: {again}");

        // What was not stored is in the dead-letter log with its reason.
        let letters = dead_letters(&data);
        let want: u64 = dead
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(letters.len() as u64, want * 2, "{format}: {letters:?}");
        for (reason, _) in dead.as_object().unwrap() {
            assert!(
                letters
                    .iter()
                    .any(|l| l["reason"].as_str().unwrap().starts_with(reason.as_str())),
                "{format}: no {reason} in {letters:?}"
            );
        }

        let sink = SinkProc::start(&data, &[]);
        wait_total(&c, &sink.url, "", N as u64).await;
        // Every event is attributed to its cluster, and says which cloud it came from.
        assert_eq!(
            stats(
                &c,
                &sink.url,
                &format!("annotation:audit.kubext.io/cluster={cluster}")
            )
            .await
            .total,
            N as u64,
            "{format}"
        );
        if *format != "apiserver" {
            assert_eq!(
                stats(
                    &c,
                    &sink.url,
                    &format!("annotation:audit.kubext.io/cloud={format}")
                )
                .await
                .total,
                N as u64
            );
        }
        let mut per_query = Vec::new();
        for q in queries {
            per_query.push(rows(&search_all(&c, &sink.url, q, 1000).await));
        }
        answers.push(per_query);
    }
    for (i, q) in queries.iter().enumerate() {
        let want = &answers[0][i];
        assert!(
            !want.is_empty(),
            "query {q} matches nothing: the comparison would be empty"
        );
        for (f, a) in files.iter().zip(&answers).skip(1) {
            assert_eq!(
                &a[i], want,
                "{}: answer to {q} differs from the apiserver log's",
                f.0
            );
        }
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/cloud")
            .join(name),
    )
    .unwrap()
}

async fn post_firehose(
    c: &reqwest::Client,
    url: &str,
    query: &str,
    key: &str,
    body: &Value,
) -> (u16, Value) {
    let r = c
        .post(format!("{url}/v1/ingest/firehose{query}"))
        .header("Content-Type", "application/json")
        .header("X-Amz-Firehose-Protocol-Version", "1.0")
        .header(
            "X-Amz-Firehose-Request-Id",
            body["requestId"].as_str().unwrap_or("no-id"),
        )
        .header("X-Amz-Firehose-Access-Key", key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Posts a Firehose delivery that must be answered 200 (else the answer says why).
async fn firehose_stored(c: &reqwest::Client, url: &str, query: &str, key: &str, body: &Value) {
    let (status, answer) = post_firehose(c, url, query, key, body).await;
    assert_eq!(status, 200, "{answer}");
}

async fn post_pubsub(c: &reqwest::Client, url: &str, token: &str, body: &Value) -> u16 {
    c.post(format!("{url}/v1/ingest/pubsub"))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Pushes the non-Kubernetes LogEntry `entry` as Pub/Sub message 77001,
/// which must be answered 200 (acknowledged, kept as a dead letter).
async fn pubsub_stored(c: &reqwest::Client, url: &str, entry: &str) {
    let status = post_pubsub(c, url, "push-token-0123", &pubsub_body(entry, "77001")).await;
    assert_eq!(status, 200);
}

fn pubsub_body(entry: &str, id: &str) -> Value {
    json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(entry),
            "messageId": id,
            "publishTime": "2024-05-01T10:00:01.5Z"
        },
        "subscription": "projects/demo-project/subscriptions/kubext-audit-push"
    })
}

/// Firehose and Pub/Sub retry a request they got no 2xx for (or whose answer
/// was lost) with the same `requestId` / `messageId`: what it held that is not
/// an event is kept in the dead-letter log once, as its events are stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_push_request_does_not_dead_letter_its_records_twice() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "push-token-0123\n").unwrap();
    let data = dir.path().join("data");
    let mut sink = SinkProc::start(&data, &["--token-file", tokens.to_str().unwrap()]);
    let c = client();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(gzip_bytes(b));
    let delivery = json!({
        "requestId": "5f0c3e2a-8d1b-4c6f-9a7e-2b3c4d5e6f70",
        "timestamp": 1714557600000i64,
        "records": [
            {"data": b64(&fixture("eks/subscription-data-message.json"))},
            {"data": b64(&fixture("eks/subscription-control-message.json"))},
            {"data": "not base64 ***"},
        ]
    });
    let gke = String::from_utf8(fixture("gke/storage-sink.json")).unwrap();
    let not_k8s = gke.lines().nth(3).unwrap();
    for _ in 0..2 {
        firehose_stored(&c, &sink.url, "", "push-token-0123", &delivery).await;
        pubsub_stored(&c, &sink.url, not_k8s).await;
    }
    wait_total(&c, &sink.url, "", 3).await;
    // The first request's dead letters: a message cut at 256 KB, the health
    // check, the record that is not base64; the non-Kubernetes LogEntry.
    let letters = dead_letters(&data);
    assert_eq!(letters.len(), 4, "{letters:#?}");

    // A retry after a restart is recognized too.
    sink.terminate();
    let sink = SinkProc::start(&data, &["--token-file", tokens.to_str().unwrap()]);
    firehose_stored(&c, &sink.url, "", "push-token-0123", &delivery).await;
    // A different request with the same records is not a retry.
    let mut other = delivery.clone();
    other["requestId"] = json!("9a8b7c6d-0000-4000-8000-000000000001");
    firehose_stored(&c, &sink.url, "", "push-token-0123", &other).await;
    pubsub_stored(&c, &sink.url, not_k8s).await;
    wait_total(&c, &sink.url, "", 3).await;
    let letters = dead_letters(&data);
    assert_eq!(letters.len(), 7, "{letters:#?}");
}

/// `?cluster=` on the Firehose endpoint URL names the cluster for a key bound
/// to none, replacing the log group's; a key bound to a cluster stores as
/// that cluster whatever the log group says, and naming another is refused,
/// as on the webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_takes_the_cluster_from_the_url_or_the_bound_key_like_the_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "open-key-0123\nbound-key-4567 cluster=eks-bound\n").unwrap();
    let data = dir.path().join("data");
    let sink = SinkProc::start(&data, &["--token-file", tokens.to_str().unwrap()]);
    let c = client();
    // The fixture's events, with auditIDs of their own per request (the
    // cluster is no part of the dedup key).
    let delivery = |id: &str| {
        let mut payload: Value =
            serde_json::from_slice(&fixture("eks/subscription-data-message.json")).unwrap();
        for e in payload["logEvents"].as_array_mut().unwrap() {
            let m = e["message"].as_str().unwrap();
            e["message"] = json!(m.replace("\"auditID\":\"", &format!("\"auditID\":\"{id}-")));
        }
        let bytes = gzip_bytes(payload.to_string().as_bytes());
        json!({
            "requestId": id,
            "timestamp": 1714557600000i64,
            "records": [{"data": base64::engine::general_purpose::STANDARD.encode(bytes)}]
        })
    };
    let cluster_of = |c: &'static str| format!("annotation:audit.kubext.io/cluster={c}");

    // The log group's cluster, with no ?cluster=.
    firehose_stored(&c, &sink.url, "", "open-key-0123", &delivery("r-1")).await;
    wait_total(&c, &sink.url, &cluster_of("prod-eu"), 3).await;

    // ?cluster= replaces it.
    firehose_stored(
        &c,
        &sink.url,
        "?cluster=eks-renamed",
        "open-key-0123",
        &delivery("r-2"),
    )
    .await;
    wait_total(&c, &sink.url, &cluster_of("eks-renamed"), 3).await;

    // A bound key: stored as its cluster, not the log group's.
    firehose_stored(&c, &sink.url, "", "bound-key-4567", &delivery("r-3")).await;
    firehose_stored(
        &c,
        &sink.url,
        "?cluster=eks-bound",
        "bound-key-4567",
        &delivery("r-4"),
    )
    .await;
    wait_total(&c, &sink.url, &cluster_of("eks-bound"), 6).await;

    // A bound key naming another cluster, and a malformed name: refused in
    // Firehose's answer shape, nothing stored.
    let (status, answer) = post_firehose(
        &c,
        &sink.url,
        "?cluster=prod-eu",
        "bound-key-4567",
        &delivery("r-5"),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["requestId"], "r-5");
    let msg = answer["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains("\"eks-bound\"") && msg.contains("\"prod-eu\""),
        "{msg}"
    );
    let (status, answer) = post_firehose(
        &c,
        &sink.url,
        "?cluster=not%20a%20name",
        "open-key-0123",
        &delivery("r-6"),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["errorMessage"]
            .as_str()
            .unwrap()
            .contains("?cluster="),
        "{answer}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    wait_total(&c, &sink.url, "", 12).await;
    wait_total(&c, &sink.url, &cluster_of("prod-eu"), 3).await;
}
