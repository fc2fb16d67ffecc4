//! A sink killed with acknowledged events not yet in its index serves again
//! at once after a restart: it listens, answers `/healthz`, searches and new
//! batches while it indexes the log the previous run left, and `/readyz`
//! says so until that is done.

mod common;

use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_sink_serves_while_it_indexes_the_log_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let c = client();
    let start: jiff::Timestamp = "2025-07-01T00:00:00Z".parse().unwrap();

    // A commit interval far away: everything acknowledged stays in the log only.
    let mut sink = SinkProc::start(&data, &["--commit-interval", "1h"]);
    let batches = 50;
    for b in 0..batches {
        let t = jiff::Timestamp::from_microsecond(start.as_microsecond() + b * 400_000).unwrap();
        let level = if b % 5 == 0 {
            Level::RequestResponse
        } else {
            Level::Metadata
        };
        let items = testgen::events(7_000 + b as u64, 400, level, t, 1_000);
        assert_eq!(post_list(&c, &sink.url, &items).await.status(), 200);
    }
    assert_eq!(
        stats(&c, &sink.url, "").await.total,
        0,
        "nothing committed yet"
    );
    sink.kill9();

    let restarted = Instant::now();
    let sink = SinkProc::start(&data, &[]);
    let listening_after = restarted.elapsed();
    let health = c.get(format!("{}/healthz", sink.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let (status, body) = readyz(&c, &sink.url).await;
    assert_eq!(status, 503, "/readyz during the replay: {body}");
    assert!(body.contains("write-ahead log"), "{body}");

    // Searches answer from what is committed; a new batch is taken and
    // indexed after the old log.
    assert_eq!(search_status(&c, &sink.url, "verb:get").await, 200);
    let late = testgen::events(
        9_999,
        400,
        Level::Metadata,
        "2025-07-01T06:00:00Z".parse().unwrap(),
        1_000,
    );
    assert_eq!(post_list(&c, &sink.url, &late).await.status(), 200);

    let total = (batches as u64 + 1) * 400;
    wait_total(&c, &sink.url, "", total).await;
    wait_ready(&c, &sink.url, Duration::from_secs(30)).await;
    let m = metrics(&c, &sink.url).await;
    let indexed: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("audit_sink_events_indexed_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no audit_sink_events_indexed_total in {m}"));
    assert_eq!(indexed, total, "each event indexed once");
    eprintln!(
        "listening {listening_after:?} after the restart, all {total} events searchable after {:?}",
        restarted.elapsed()
    );
}
