//! Ingest benchmark (BENCHMARKS.md section 2): events/s over HTTP with durability,
//! beside tantivy alone on the same documents and the disk's fsync limit,
//! and bytes on disk per event. A bench binary, not criterion: each figure is
//! one long run, not a statistical sample of a micro-operation.
//!
//! ```text
//! cargo bench -p audit-sink --bench ingest -- [--events N] [--senders 1,4,16]
//!     [--levels metadata,requestresponse] [--batch 400]
//! ```
//!
//! Per level:
//! - **end to end**: the real `audit-sink serve` binary as its own process
//!   (fresh data directory per run, default flags: 500 ms commit cadence,
//!   WAL fsync'd with group commit before every 200), S concurrent HTTP
//!   senders posting `EventList`s of B events; timed from the first POST
//!   until `GET /v1/stats` counts every event (searchable);
//! - **tantivy alone, commit at end** (ceiling A): in this process, the same
//!   event bytes through the sink's own document builder
//!   (`index::prepare_json`: JSON → validated event → tantivy document) into
//!   the sink's `Writers` with the sink's defaults (128 MiB, 2 indexing
//!   threads), one commit at the end, timed until merges finished — no
//!   HTTP, no WAL, no intermediate commits;
//! - **tantivy alone, commit every 500 ms** (ceiling B): the same, with the
//!   sink's commit cadence;
//! - **disk limit**: the same request bodies appended to one file with
//!   `fdatasync` after each batch, one writer;
//! - **bytes on disk per event**: the index of the last end-to-end run
//!   after the sink's graceful stop and a forced merge into one segment per
//!   day, beside the same events as JSON lines and as gzip'd JSON lines.

mod common;

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use audit_sink::index::{Partitions, Writers, prepare_json};
use axum::body::Bytes;
use common::{SendCounters, SinkProcess, arg, dir_size, machine};

/// CPU time of this process so far.
fn self_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    Duration::from_millis((f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10)
}

/// Tantivy alone: (events/s, CPU use in cores).
fn ceiling(events: &[String], dir: &std::path::Path, commit_every: Option<Duration>) -> (f64, f64) {
    let parts = Arc::new(Partitions::open(dir).unwrap());
    let cpu0 = self_cpu();
    let t = Instant::now();
    let mut writers = Writers::new(parts.clone(), 128 * 1024 * 1024, 2, 2);
    let mut last = Instant::now();
    for raw in events {
        let p = prepare_json(raw.as_bytes(), &parts.fields).unwrap();
        writers.add(p).unwrap();
        if let Some(every) = commit_every
            && last.elapsed() >= every
        {
            writers.commit().unwrap();
            last = Instant::now();
        }
    }
    writers.close().unwrap();
    let secs = t.elapsed().as_secs_f64();
    let cores = (self_cpu() - cpu0).as_secs_f64() / secs;
    assert_eq!(parts.num_docs(), events.len() as u64);
    (events.len() as f64 / secs, cores)
}

/// Appends every body to one file, fdatasync after each: events/s.
fn disk_limit(bodies: &[(Bytes, u64)], path: &std::path::Path) -> f64 {
    let mut f = std::fs::File::create(path).unwrap();
    let n: u64 = bodies.iter().map(|b| b.1).sum();
    let t = Instant::now();
    for (b, _) in bodies {
        f.write_all(b).unwrap();
        f.sync_data().unwrap();
    }
    let r = n as f64 / t.elapsed().as_secs_f64();
    drop(f);
    let _ = std::fs::remove_file(path);
    r
}

/// Merges each day partition under `root` into one segment.
fn merge_all(root: &std::path::Path) {
    let parts = Partitions::open(root).unwrap();
    for p in parts.overlapping(None, None) {
        let mut w: tantivy::IndexWriter = p.index.writer_with_num_threads(1, 50_000_000).unwrap();
        let ids = p.index.searchable_segment_ids().unwrap();
        if ids.len() > 1 {
            w.merge(&ids).wait().unwrap();
        }
        w.garbage_collect_files().wait().unwrap();
        w.wait_merging_threads().unwrap();
    }
}

fn gzip_len(events: &[String]) -> u64 {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for e in events {
        gz.write_all(e.as_bytes()).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    gz.finish().unwrap().len() as u64
}

fn main() {
    let n: usize = arg("--events")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let batch: usize = arg("--batch").and_then(|s| s.parse().ok()).unwrap_or(400);
    let senders: Vec<usize> = arg("--senders")
        .unwrap_or_else(|| "1,4,16".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("--senders: comma-separated numbers")
        })
        .collect();
    let levels: Vec<Level> = arg("--levels")
        .unwrap_or_else(|| "metadata,requestresponse".into())
        .split(',')
        .map(|s| match s.trim().to_ascii_lowercase().as_str() {
            "metadata" => Level::Metadata,
            "requestresponse" => Level::RequestResponse,
            other => panic!("--levels: unknown level {other:?} (metadata, requestresponse)"),
        })
        .collect();
    let sink_args: Vec<String> = arg("--sink-args")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
    let tmp = tempfile::tempdir_in(
        std::env::var_os("BENCH_TMPDIR").unwrap_or_else(|| std::env::temp_dir().into()),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();

    println!(
        "# ingest bench: {n} events per level, batches of {batch}, senders {senders:?}; {}; {}",
        machine(),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC")
    );
    println!();
    println!(
        "| level | B/event | senders | HTTP+WAL+fsync, until searchable | e2e/A | e2e/B | all acked after | 429/503 answers | sink CPU µs/event | sink peak RSS | tantivy alone, commit at end (A) | A CPU µs/event | tantivy alone, commit every 500 ms (B) | B CPU µs/event | fsync per batch (disk limit) | load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut sizes = Vec::new();
    for (li, level) in levels.iter().enumerate() {
        let events = testgen::events(100 + li as u64, n, *level, start, 2_000 + li as i64);
        let avg = events.iter().map(String::len).sum::<usize>() / events.len();
        let bodies: Arc<Vec<(Bytes, u64)>> = Arc::new(
            events
                .chunks(batch)
                .map(|c| (Bytes::from(testgen::event_list(c)), c.len() as u64))
                .collect(),
        );

        let (alone_a, cores_a) = ceiling(&events, &tmp.path().join(format!("alone-a-{li}")), None);
        let (alone_b, cores_b) = ceiling(
            &events,
            &tmp.path().join(format!("alone-b-{li}")),
            Some(Duration::from_millis(500)),
        );
        let disk = disk_limit(&bodies, &tmp.path().join("fsync-limit"));
        eprintln!(
            "{level:?}: ceiling A {alone_a:.0} ev/s ({cores_a:.2} cores), B {alone_b:.0} ev/s ({cores_b:.2} cores), disk {disk:.0} ev/s"
        );

        let mut last_dir = None;
        for &s in &senders {
            let data = tmp.path().join(format!("e2e-{li}-{s}"));
            let sink = SinkProcess::start(&data, &sink_args);
            let load = common::load1();
            let c = Arc::new(SendCounters::default());
            let cpu0 = sink.cpu();
            let t = Instant::now();
            let (acked, done) = rt.block_on(async {
                common::send_all(&client, &sink.url, bodies.clone(), s, c.clone()).await;
                let acked = t.elapsed();
                let done = common::wait_searchable(&client, &sink.url, n as u64).await;
                (acked, done - t)
            });
            let cpu_us = (sink.cpu() - cpu0).as_secs_f64() * 1e6 / n as f64;
            let rate = n as f64 / done.as_secs_f64();
            let (_, hwm) = sink.rss();
            sink.stop();
            println!(
                "| {level:?} | {avg} | {s} | {rate:.0} ev/s | {:.0} % | {:.0} % | {:.2} s | {} | {cpu_us:.0} | {} MiB | {alone_a:.0} ev/s | {:.0} | {alone_b:.0} ev/s | {:.0} | {disk:.0} ev/s | {load} |",
                100.0 * rate / alone_a,
                100.0 * rate / alone_b,
                acked.as_secs_f64(),
                c.retried.load(std::sync::atomic::Ordering::Relaxed),
                hwm / 1024,
                cores_a * 1e6 / alone_a,
                cores_b * 1e6 / alone_b,
            );
            if let Some(old) = last_dir.replace(data) {
                let _ = std::fs::remove_dir_all(old);
            }
        }
        if let Some(dir) = last_dir {
            let index = dir.join("index");
            let as_left = dir_size(&index);
            merge_all(&index);
            let merged = dir_size(&index);
            let wal = dir_size(&dir.join("wal"));
            let lines: u64 = events.iter().map(|e| e.len() as u64 + 1).sum();
            let gz = gzip_len(&events);
            sizes.push((*level, as_left, merged, wal, lines, gz));
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    println!();
    println!(
        "| level | index as the sink left it | index after merge into one segment | WAL left after stop | JSON lines | gzip'd JSON lines (level 6) | index / gzip |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (level, as_left, merged, wal, lines, gz) in sizes {
        let per = |b: u64| format!("{:.0} B/event", b as f64 / n as f64);
        println!(
            "| {level:?} | {} | {} | {} | {} | {} | {:.2} |",
            per(as_left),
            per(merged),
            per(wal),
            per(lines),
            per(gz),
            merged as f64 / gz as f64
        );
    }
}
