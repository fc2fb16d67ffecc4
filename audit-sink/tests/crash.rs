//! Kill -9 the sink while clients send batches as fast as they can, restart
//! it, and check that every event answered 200 is searchable exactly once.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_gen::{self as testgen, Level};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_kill_9_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let c = client();
    let acked: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let start: jiff::Timestamp = "2025-06-01T00:00:00Z".parse().unwrap();

    // Several kill points: early (first batches in flight), mid-stream, later.
    for (round, kill_after_ms) in [150u64, 600, 1100].into_iter().enumerate() {
        let mut sink = SinkProc::start(&data, &[]);
        let mut clients = Vec::new();
        for client_no in 0..2u64 {
            let url = sink.url.clone();
            let c = c.clone();
            let acked = acked.clone();
            clients.push(tokio::spawn(async move {
                for batch_no in 0u64.. {
                    let seed = (round as u64) << 32 | client_no << 24 | batch_no;
                    let offset = (round as i64 * 1_000_000
                        + client_no as i64 * 500_000
                        + batch_no as i64 * 400)
                        * 1000;
                    let t =
                        jiff::Timestamp::from_microsecond(start.as_microsecond() + offset).unwrap();
                    let level = if batch_no % 2 == 0 {
                        Level::Metadata
                    } else {
                        Level::RequestResponse
                    };
                    let batch = testgen::events(seed, 400, level, t, 1000);
                    match post_list(&c, &url, &batch).await.status().as_u16() {
                        200 => acked.lock().unwrap().push(batch),
                        429 | 503 => tokio::time::sleep(Duration::from_millis(50)).await,
                        other => panic!("unexpected status {other}"),
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        sink.kill9();
        for cl in clients {
            // the clients fail with connection errors once the sink is gone
            let _ = cl.await;
        }
        eprintln!(
            "kill point {kill_after_ms} ms: {} batches acknowledged so far",
            acked.lock().unwrap().len()
        );
    }

    // Restart: the sink listens at once and indexes the log left behind.
    let sink = SinkProc::start(&data, &[]);
    let batches = acked.lock().unwrap().clone();
    let acked_ids: Vec<String> = batches
        .iter()
        .flatten()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        acked_ids.len() >= 400,
        "some batches were acknowledged before the kills"
    );
    // everything acknowledged is searchable once the index commits
    let mut counts: HashMap<String, usize> = HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        counts.clear();
        for e in search_all(&c, &sink.url, "", 10_000).await {
            *counts
                .entry(e["auditID"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        if acked_ids.iter().all(|id| counts.contains_key(id))
            || std::time::Instant::now() > deadline
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing = acked_ids
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged events lost",
        acked_ids.len()
    );
    let dups: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dups.is_empty(),
        "events stored more than once: {:?}",
        &dups[..dups.len().min(5)]
    );

    // Resending acknowledged batches (the apiserver retries) adds nothing:
    // the sink counts every resent event as a duplicate.
    let before = stats(&c, &sink.url, "").await.total;
    let duplicates_before = duplicates(&c, &sink.url).await;
    let resent: Vec<&Vec<String>> = batches.iter().take(20).collect();
    for b in &resent {
        assert_eq!(post_list(&c, &sink.url, b).await.status(), 200);
    }
    let want = duplicates_before + resent.iter().map(|b| b.len() as u64).sum::<u64>();
    // The indexer counts them after the 200; the deadline only detects a hang.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut counted = duplicates(&c, &sink.url).await;
    while counted < want && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        counted = duplicates(&c, &sink.url).await;
    }
    assert_eq!(counted, want, "duplicates counted for the resent batches");
    wait_total(&c, &sink.url, "", before).await;
    assert_eq!(stats(&c, &sink.url, "").await.total, before);
}

/// The value of `audit_sink_events_duplicate_total` on `/metrics`.
async fn duplicates(c: &reqwest::Client, url: &str) -> u64 {
    let m = metrics(c, url).await;
    m.lines()
        .find_map(|l| l.strip_prefix("audit_sink_events_duplicate_total "))
        .unwrap_or_else(|| panic!("no audit_sink_events_duplicate_total in {m}"))
        .trim()
        .parse()
        .expect("a counter value")
}
