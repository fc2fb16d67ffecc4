//! Ingest edge cases and access control, against the real binary.

mod common;

use std::io::Write as _;
use std::process::Command;
use std::time::Duration;

use audit_gen::{self as testgen, Level};
use common::*;

fn generated(seed: u64, n: usize) -> Vec<String> {
    testgen::events(
        seed,
        n,
        Level::Metadata,
        "2025-01-10T12:00:00Z".parse().unwrap(),
        1_000_000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_bad_events_bad_bodies_gzip_and_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sink = SinkProc::start(&data, &["--max-body-bytes", "200000"]);
    let c = client();

    // A resent batch creates no duplicates.
    let batch = generated(1, 100);
    for _ in 0..3 {
        assert_eq!(post_list(&c, &sink.url, &batch).await.status(), 200);
    }
    wait_total(&c, &sink.url, "", 100).await;

    // One malformed event: the good ones are stored, the bad one dead-lettered, 200.
    let mut mixed = generated(2, 10);
    mixed[4] = r#"{"auditID":"x","verb":"get","stage":"ResponseComplete","requestReceivedTimestamp":"not a time"}"#.to_string();
    let r = post_list(&c, &sink.url, &mixed).await;
    assert_eq!(r.status(), 200);
    let body: audit_api::api::IngestResponse = r.json().await.unwrap();
    assert_eq!((body.accepted, body.rejected), (9, 1));
    wait_total(&c, &sink.url, "", 109).await;

    // Not JSON at all: 400, and kept verbatim.
    let r = c
        .post(format!("{}/v1/events", sink.url))
        .body("this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: audit_api::ErrorBody = r.json().await.unwrap();
    assert_eq!(e.reason, "bad_request");

    // Gzip-encoded body, sent to another path (the webhook kubeconfig may name any).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(testgen::event_list(&generated(3, 50)).as_bytes())
        .unwrap();
    let r = c
        .post(format!("{}/audit/webhook", sink.url))
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_total(&c, &sink.url, "", 159).await;

    // Over the body limit: 413, also for a gzip body that inflates beyond it.
    let big = generated(4, 400);
    let r = post_list(&c, &sink.url, &big).await;
    assert_eq!(r.status(), 413);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(testgen::event_list(&big).as_bytes()).unwrap();
    let r = c
        .post(format!("{}/v1/events", sink.url))
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // Health, readiness, metrics.
    assert_eq!(
        c.get(format!("{}/healthz", sink.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(readyz(&c, &sink.url).await.0, 200);
    let m = metrics(&c, &sink.url).await;
    assert!(m.contains("audit_sink_events_duplicate_total 200"), "{m}");
    assert!(
        m.contains("audit_sink_events_rejected_total{reason=\"invalid_event\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("audit_sink_events_rejected_total{reason=\"bad_body\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("audit_sink_events_rejected_total{reason=\"too_large\"} 2"),
        "{m}"
    );

    // The dead-letter command shows both rejections with their reasons, verbatim.
    let lines = dead_letters(&data);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["scope"], "event");
    assert_eq!(lines[0]["body"].as_str().unwrap(), mixed[4]);
    assert!(
        lines[0]["reason"]
            .as_str()
            .unwrap()
            .contains("requestReceivedTimestamp")
    );
    assert_eq!(lines[1]["scope"], "body");
    assert_eq!(lines[1]["body"], "this is not json");
    let out = Command::new(bin())
        .args(["dead-letters", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table.contains("this is not json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_is_idempotent_with_the_webhook_path() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let events = generated(9, 1000);
    // a plain log file and a gzip'd rotated one, overlapping by 200 events
    let plain = dir.path().join("audit.log");
    std::fs::write(&plain, events[..600].join("\n") + "\n{broken\n").unwrap();
    let rotated = dir.path().join("audit-2025-01-10T12-00-00.log.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&rotated).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all((events[400..].join("\n") + "\n").as_bytes())
        .unwrap();
    gz.finish().unwrap();

    let stdout = run_ok(
        Command::new(bin())
            .arg("import")
            .args(["-o", "json"])
            .arg(&plain)
            .arg(&rotated)
            .arg("--data-dir")
            .arg(&data),
    );
    let summary: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    // Per file: what it stored, what the sink already had, what it refused and why.
    assert_eq!(summary[0]["format"], "apiserver", "{summary}");
    assert_eq!(summary[0]["stored"], 600, "{summary}");
    assert_eq!(summary[0]["duplicates"], 0, "{summary}");
    assert_eq!(summary[0]["deadLetters"]["malformed"], 1, "{summary}");
    assert_eq!(summary[1]["stored"], 400, "{summary}");
    assert_eq!(summary[1]["duplicates"], 200, "{summary}");
    assert_eq!(
        summary[1]["deadLetters"],
        serde_json::json!({}),
        "{summary}"
    );

    // The same events over the webhook add nothing.
    let sink = SinkProc::start(&data, &[]);
    let c = client();
    wait_total(&c, &sink.url, "", 1000).await;
    for b in events.chunks(400) {
        assert_eq!(post_list(&c, &sink.url, b).await.status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_total(&c, &sink.url, "", 1000).await;

    // Importing while the server holds the data directory is refused clearly.
    let out = Command::new(bin())
        .arg("import")
        .arg(&plain)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another audit-sink"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_search_need_their_own_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let ingest_tokens = dir.path().join("ingest-tokens");
    let search_tokens = dir.path().join("search-tokens");
    std::fs::write(&ingest_tokens, "# apiserver\ningest-secret\n").unwrap();
    std::fs::write(&search_tokens, "search-secret\n").unwrap();
    let sink = SinkProc::start(
        &dir.path().join("data"),
        &[
            "--token-file",
            ingest_tokens.to_str().unwrap(),
            "--search-token-file",
            search_tokens.to_str().unwrap(),
        ],
    );
    let c = client();
    let body = testgen::event_list(&generated(5, 5));
    let post = |token: Option<&'static str>| {
        let mut r = c.post(format!("{}/v1/events", sink.url)).body(body.clone());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("search-secret")).await.unwrap().status(), 401);
    assert_eq!(post(Some("ingest-secret")).await.unwrap().status(), 200);
    let search = |token: Option<&'static str>, path: &'static str| {
        let mut r = c.get(format!("{}{path}", sink.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    for path in ["/v1/search", "/v1/stats", "/v1/follow"] {
        assert_eq!(search(None, path).await.unwrap().status(), 401, "{path}");
        assert_eq!(
            search(Some("ingest-secret"), path).await.unwrap().status(),
            401,
            "{path}"
        );
    }
    assert_eq!(
        search(Some("search-secret"), "/v1/search")
            .await
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn refuses_non_loopback_without_auth() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0 without authentication"),
        "{err}"
    );
    assert!(err.contains("--insecure"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_streams_new_matching_events() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkProc::start(&dir.path().join("data"), &[]);
    let c = client();
    let mut resp = c
        .get(format!("{}/v1/follow", sink.url))
        .query(&[("q", "code:403")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = generated(6, 40);
    let forbidden: Vec<String> = events
        .iter()
        .filter(|e| e.contains(r#""code":403"#))
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!forbidden.is_empty());
    assert_eq!(post_list(&c, &sink.url, &events).await.status(), 200);
    let mut seen = Vec::new();
    let mut buf = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < forbidden.len() {
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("events arrive")
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            for line in frame.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    let v: serde_json::Value = serde_json::from_str(data).unwrap();
                    assert_eq!(v["responseStatus"]["code"], 403);
                    seen.push(v["auditID"].as_str().unwrap().to_string());
                }
            }
        }
    }
    assert_eq!(seen, forbidden);
}

/// A bad duration flag is refused at start, naming the flag, what was wrong
/// and the forms it takes; bare numbers are seconds, as in kubectl.
#[test]
fn bad_durations_say_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, wanted) in [
        (
            "--commit-interval",
            "5x",
            "write a number with a unit such as 500ms",
        ),
        (
            "--commit-interval",
            "fastms",
            "write a number with a unit such as 500ms",
        ),
        (
            "--retention",
            "1mo",
            "months and years have no fixed length",
        ),
        ("--idle-timeout", "forever", "write a number with a unit"),
        ("--overload-wait", "30s", "at most 10s"),
        (
            "--authorization-webhook-cache-authorized-ttl",
            "ten minutes",
            "write a number with a unit",
        ),
    ] {
        // A value taken by mistake ends in the refusal to listen on all
        // addresses without authentication (exit 1), not in a running sink.
        let out = Command::new(bin())
            .args(["serve", "--listen", "0.0.0.0:0", flag, value, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) && err.contains(value), "{err}");
        assert!(
            err.contains(wanted),
            "{flag} {value}: {wanted:?} missing in {err}"
        );
    }
}
