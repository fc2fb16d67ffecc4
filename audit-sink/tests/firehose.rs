//! `POST /v1/ingest/firehose` driven with requests shaped as Amazon Data
//! Firehose sends them (HTTP endpoint delivery, protocol 1.0), whose records
//! are CloudWatch Logs subscription payloads from an EKS cluster's log group.

mod common;

use std::io::Write as _;
use std::time::Duration;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

const KEY: &str = "firehose-access-key-0123";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/cloud")
            .join(name),
    )
    .unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b).unwrap();
    gz.finish().unwrap()
}

/// A record as CloudWatch Logs hands it to Firehose: the gzip'd payload, base64.
fn record(payload: &[u8]) -> Value {
    json!({"data": base64::engine::general_purpose::STANDARD.encode(gzip(payload))})
}

async fn deliver(
    c: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    request_id: &str,
    body: &Value,
    gzip_body: bool,
) -> (u16, Value) {
    let mut r = c
        .post(format!("{url}/v1/ingest/firehose"))
        .header("Content-Type", "application/json")
        .header("X-Amz-Firehose-Protocol-Version", "1.0")
        .header("X-Amz-Firehose-Request-Id", request_id)
        .header(
            "X-Amz-Firehose-Source-Arn",
            "arn:aws:firehose:eu-west-1:111122223333:deliverystream/eks-audit",
        );
    if let Some(k) = key {
        r = r.header("X-Amz-Firehose-Access-Key", k);
    }
    let bytes = serde_json::to_vec(body).unwrap();
    let r = if gzip_body {
        r.header("Content-Encoding", "gzip").body(gzip(&bytes))
    } else {
        r.body(bytes)
    };
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_deliveries_are_stored_once_and_bad_records_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("{KEY}\n")).unwrap();
    let data = dir.path().join("data");
    let sink = SinkProc::start(&data, &["--token-file", tokens.to_str().unwrap()]);
    let c = client();

    // Three events and one message cut at 256 KB; a health check; a record
    // that is not base64.
    let request_id = "ed4d8e4b-4b1e-4a5c-9a7e-1c1a4f3e2d10";
    let body = json!({
        "requestId": request_id,
        "timestamp": 1714557600000i64,
        "records": [
            record(&fixture("eks/subscription-data-message.json")),
            record(&fixture("eks/subscription-control-message.json")),
            {"data": "this is not base64 ***"},
        ]
    });

    // A wrong or missing key: 401, nothing stored, the answer still names the request.
    for key in [Some("wrong-key"), None] {
        let (status, answer) = deliver(&c, &sink.url, key, request_id, &body, false).await;
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["requestId"], request_id);
        assert!(
            answer["errorMessage"]
                .as_str()
                .unwrap()
                .contains("access key")
        );
    }

    let (status, answer) = deliver(&c, &sink.url, Some(KEY), request_id, &body, false).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["requestId"], request_id);
    assert!(answer["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    wait_total(&c, &sink.url, "", 3).await;

    // Firehose retries with the same request (here gzip'd): nothing is stored twice.
    let (status, answer) = deliver(&c, &sink.url, Some(KEY), request_id, &body, true).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["requestId"], request_id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    wait_total(&c, &sink.url, "", 3).await;

    // Attributed to the cluster of the log group, with where they came from.
    let events = search_all(&c, &sink.url, "", 100).await;
    for e in &events {
        let a = &e["annotations"];
        assert_eq!(a["audit.kubext.io/cluster"], "prod-eu", "{e}");
        assert_eq!(a["audit.kubext.io/cloud"], "eks");
        assert_eq!(a["audit.kubext.io/log-group"], "/aws/eks/prod-eu/cluster");
        assert_eq!(a["audit.kubext.io/account"], "111122223333");
    }
    assert_eq!(
        stats(
            &c,
            &sink.url,
            "verb:delete resource:deployments ns:payments"
        )
        .await
        .total,
        1
    );
    assert_eq!(stats(&c, &sink.url, "code:403").await.total, 1);

    // A body that is not a delivery request: 400 with the reason, kept.
    let (status, answer) = deliver(&c, &sink.url, Some(KEY), "r2", &json!([1, 2]), false).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Firehose delivery request")
    );

    let letters = dead_letters(&data);
    let reasons: Vec<&str> = letters
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    for want in [
        "truncated:",
        "control-message:",
        "malformed: record data is not base64",
        "body is not a Firehose delivery request",
    ] {
        assert!(
            reasons.iter().any(|r| r.starts_with(want)),
            "no {want:?} in {reasons:?}"
        );
    }
    let truncated = letters
        .iter()
        .find(|l| l["reason"].as_str().unwrap().starts_with("truncated"))
        .unwrap();
    assert!(
        truncated["source"]
            .as_str()
            .unwrap()
            .contains(&format!("firehose {request_id}")),
        "{truncated}"
    );
    assert!(
        truncated["source"]
            .as_str()
            .unwrap()
            .contains("records[0] logEvents[3]"),
        "{truncated}"
    );
}
