//! Sustained-load benchmark (BENCHMARKS.md section 4): the real `audit-sink serve`
//! process under continuous ingest at the highest rate it sustains, its RSS
//! sampled every second from `/proc/PID/status`, first with ingest alone,
//! then with a heavy search running concurrently.
//!
//! ```text
//! cargo bench -p audit-sink --bench sustained -- [--minutes 10]
//!     [--senders 4] [--level requestresponse|metadata] [--search-share 0.5]
//! ```
//!
//! Senders post `EventList`s of 400 as fast as the sink answers (a 429/503
//! makes that sender wait 50 ms): the rate is what the sink sustains with
//! durability on. Events are templates of the deterministic generator with
//! a fresh auditID and current timestamps per event, so every event is new
//! and time moves as with a real apiserver. For the last `--search-share` of
//! the run one client loops a broad full-text search (`q=registry`, limit
//! 1000) and a stats query grouped by user with a 1-minute histogram over
//! everything. Output: a markdown table per minute (events/s, VmRSS max) and
//! the peak RSS (VmHWM and max VmRSS) of each phase.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use axum::body::Bytes;
use common::{SendCounters, SinkProcess, arg, machine};

const PLACEHOLDER_TS: &str = "2000-01-01T00:00:00.000000Z";
const PLACEHOLDER_ID: &str = "00000000-0000-4000-8000-000000000000";

/// One batch body with the byte offsets of each event's auditID and timestamps.
struct Template {
    body: Vec<u8>,
    ids: Vec<usize>,
    stamps: Vec<usize>,
}

fn templates(level: Level, batch: usize, count: usize) -> Vec<Template> {
    let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
    let events = testgen::events(42, batch * count, level, start, 1_000);
    events
        .chunks(batch)
        .map(|chunk| {
            let items: Vec<String> = chunk
                .iter()
                .map(|e| {
                    let mut v: serde_json::Value = serde_json::from_str(e).unwrap();
                    v["auditID"] = PLACEHOLDER_ID.into();
                    v["requestReceivedTimestamp"] = PLACEHOLDER_TS.into();
                    v["stageTimestamp"] = PLACEHOLDER_TS.into();
                    v.to_string()
                })
                .collect();
            let body = testgen::event_list(&items).into_bytes();
            let find_all = |needle: &str| -> Vec<usize> {
                let n = needle.as_bytes();
                (0..body.len() - n.len())
                    .filter(|&i| &body[i..i + n.len()] == n)
                    .collect()
            };
            let ids = find_all(PLACEHOLDER_ID);
            let stamps = find_all(PLACEHOLDER_TS);
            assert_eq!(ids.len(), chunk.len());
            assert_eq!(stamps.len(), 2 * chunk.len());
            Template { body, ids, stamps }
        })
        .collect()
}

/// A batch from `t` with unique auditIDs (from `seq`) and the current time.
fn instantiate(t: &Template, seq: u64) -> Bytes {
    let mut body = t.body.clone();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    debug_assert_eq!(now.len(), PLACEHOLDER_TS.len());
    for &at in &t.stamps {
        body[at..at + now.len()].copy_from_slice(now.as_bytes());
    }
    for (i, &at) in t.ids.iter().enumerate() {
        let n = seq * t.ids.len() as u64 + i as u64;
        // Last group of the UUID: 12 hex digits.
        let hex = format!("{n:012x}");
        let off = at + PLACEHOLDER_ID.len() - 12;
        body[off..off + 12].copy_from_slice(hex.as_bytes());
    }
    Bytes::from(body)
}

fn main() {
    let minutes: f64 = arg("--minutes")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let senders: usize = arg("--senders").and_then(|s| s.parse().ok()).unwrap_or(4);
    let search_share: f64 = arg("--search-share")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.5);
    let level = match arg("--level")
        .unwrap_or_else(|| "requestresponse".into())
        .to_ascii_lowercase()
        .as_str()
    {
        "metadata" => Level::Metadata,
        "requestresponse" => Level::RequestResponse,
        other => panic!("--level: unknown level {other:?} (metadata, requestresponse)"),
    };
    let sink_args: Vec<String> = arg("--sink-args")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let total = Duration::from_secs_f64(minutes * 60.0);
    let search_from = total.mul_f64(1.0 - search_share);
    let tmp = tempfile::tempdir_in(
        std::env::var_os("BENCH_TMPDIR").unwrap_or_else(|| std::env::temp_dir().into()),
    )
    .unwrap();
    let templates = Arc::new(templates(level, 400, 16));
    let sink = Arc::new(SinkProcess::start(&tmp.path().join("data"), &sink_args));
    println!(
        "# sustained ingest: {minutes} min, {senders} senders × 400-event batches, {level:?}, heavy search for the last {:.0} %; {}; {}",
        search_share * 100.0,
        machine(),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC")
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let counters = Arc::new(SendCounters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let searching = Arc::new(AtomicBool::new(false));
    let searches = Arc::new(AtomicU64::new(0));
    let search_micros = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let seq = Arc::new(AtomicU64::new(0));

    // RSS sampler: one line per minute, maxima per phase.
    let sampler = {
        let (sink, counters, stop, searching) = (
            sink.clone(),
            counters.clone(),
            stop.clone(),
            searching.clone(),
        );
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut phase_max = [0u64; 2];
            let mut phase_hwm = [0u64; 2];
            let mut minute_max = 0u64;
            let mut last_acked = 0u64;
            let mut last_t = Instant::now();
            let mut rows = Vec::new();
            let mut next_row = Duration::from_secs(60);
            while !stop.load(Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                let (rss, hwm) = sink.rss();
                let phase = usize::from(searching.load(Relaxed));
                phase_max[phase] = phase_max[phase].max(rss);
                phase_hwm[phase] = phase_hwm[phase].max(hwm);
                minute_max = minute_max.max(rss);
                if started.elapsed() >= next_row {
                    next_row += Duration::from_secs(60);
                    let acked = counters.acked.load(Relaxed);
                    let rate = (acked - last_acked) as f64 / last_t.elapsed().as_secs_f64();
                    rows.push(format!(
                        "| {:.0} | {} | {rate:.0} ev/s | {} MiB | {} MiB | {} |",
                        started.elapsed().as_secs_f64() / 60.0,
                        if phase == 1 {
                            "ingest + search"
                        } else {
                            "ingest"
                        },
                        minute_max / 1024,
                        hwm / 1024,
                        common::load1()
                    ));
                    println!("{}", rows.last().unwrap());
                    last_acked = acked;
                    last_t = Instant::now();
                    minute_max = 0;
                }
            }
            (phase_max, phase_hwm)
        })
    };
    println!();
    println!(
        "| minute | phase | events/s acked in the minute | VmRSS max in the minute | VmHWM so far | load (1 min) |"
    );
    println!("|---|---|---|---|---|---|");

    let started = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..senders {
            let (client, url, templates, counters, stop, seq) = (
                client.clone(),
                format!("{}/v1/events", sink.url),
                templates.clone(),
                counters.clone(),
                stop.clone(),
                seq.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while !stop.load(Relaxed) {
                    let s = seq.fetch_add(1, Relaxed);
                    let body = instantiate(&templates[s as usize % templates.len()], s);
                    common::post_until_ok(&client, &url, body, 400, &counters).await;
                }
            }));
        }
        {
            let (client, url, stop, searching, searches, search_micros) = (
                client.clone(),
                sink.url.clone(),
                stop.clone(),
                searching.clone(),
                searches.clone(),
                search_micros.clone(),
            );
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(search_from).await;
                searching.store(true, Relaxed);
                let queries: [(&str, Vec<(&str, &str)>); 2] = [
                    ("search", vec![("q", "registry"), ("limit", "1000")]),
                    ("stats", vec![("by", "user"), ("interval", "1m")]),
                ];
                let mut i = 0usize;
                while !stop.load(Relaxed) {
                    let (path, params) = &queries[i % 2];
                    i += 1;
                    let t = Instant::now();
                    let r = client
                        .get(format!("{url}/v1/{path}"))
                        .query(params)
                        .send()
                        .await
                        .expect("search");
                    assert_eq!(r.status(), 200, "{path}");
                    let _ = r.bytes().await;
                    search_micros
                        .lock()
                        .unwrap()
                        .push(t.elapsed().as_micros() as u64);
                    searches.fetch_add(1, Relaxed);
                }
            }));
        }
        tokio::time::sleep(total).await;
        stop.store(true, Relaxed);
        for t in tasks {
            let _ = t.await;
        }
    });
    let elapsed = started.elapsed();
    let ((phase_max, phase_hwm), acked) = (sampler.join().unwrap(), counters.acked.load(Relaxed));
    let searchable = rt.block_on(async {
        common::wait_searchable(&client, &sink.url, acked).await;
        common::searchable(&client, &sink.url).await
    });
    let (_, hwm) = sink.rss();
    let mut lat = search_micros.lock().unwrap().clone();
    lat.sort_unstable();
    let pct = |p: usize| {
        lat.get(lat.len() * p / 100)
            .map_or(0.0, |v| *v as f64 / 1e3)
    };
    println!();
    println!("| phase | peak VmRSS (sampled each second) | VmHWM at the phase's end |");
    println!("|---|---|---|");
    println!(
        "| ingest alone | {} MiB | {} MiB |",
        phase_max[0] / 1024,
        phase_hwm[0] / 1024
    );
    println!(
        "| ingest + heavy search | {} MiB | {} MiB |",
        phase_max[1] / 1024,
        phase_hwm[1] / 1024
    );
    println!();
    println!(
        "events acked: {acked} in {:.0} s ({:.0} ev/s average), searchable at the end: {searchable}, 429/503 answers: {}, searches: {} (p50 {:.0} ms, p99 {:.0} ms), final VmHWM {} MiB",
        elapsed.as_secs_f64(),
        acked as f64 / elapsed.as_secs_f64(),
        counters.retried.load(Relaxed),
        searches.load(Relaxed),
        pct(50),
        pct(99),
        hwm / 1024
    );
    assert_eq!(
        searchable, acked,
        "every acknowledged event is searchable exactly once"
    );
    match Arc::try_unwrap(sink) {
        Ok(s) => s.stop(),
        Err(_) => panic!("sink still shared"),
    }
}
