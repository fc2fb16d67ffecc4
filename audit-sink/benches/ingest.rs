//! Ingest and search benchmark (a bench binary, not criterion: each figure
//! is one long run, not a statistical sample of a micro-operation).
//!
//! ```text
//! cargo bench -p audit-sink --bench ingest -- [EVENTS] [CLIENTS]
//! ```
//!
//! For each audit level (Metadata, RequestResponse):
//! 1. tantivy alone: the same events, already parsed, through the sink's
//!    document builder and index writers, one commit at the end (no HTTP,
//!    no write-ahead log) — the ceiling;
//! 2. end to end: an in-process sink on loopback, CLIENTS concurrent HTTP
//!    clients posting EventLists of 400, fsync before every 200, timed until
//!    the last event is searchable.
//!
//! Then search latency (p50/p99 over 200 runs) for field, time-range,
//! full-text and code-range queries over the combined corpus, and the
//! process's peak RSS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use audit_api::Event;
use audit_sink::auth::Credentials;
use audit_sink::index::{Partitions, Writers, prepare};
use audit_sink::pipeline::SinkOptions;
use audit_sink::server::{DEFAULT_MAX_BODY, ServeOptions};
use audit_sink::testgen::{self, Level};

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let clients: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4);
    let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serve_dir = dir.path().join("served");
    println!("events per level: {n}, HTTP clients: {clients}, batch: 400");

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let opts = ServeOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        ingest: Credentials::default(),
        search: Credentials::default(),
        insecure: false,
        max_body: DEFAULT_MAX_BODY,
        sink: SinkOptions::new(&serve_dir),
    };
    let server = rt.spawn(async move {
        audit_sink::server::serve(
            opts,
            async {
                let _ = stop_rx.await;
            },
            move |_, a| {
                let _ = addr_tx.send(a);
            },
        )
        .await
        .unwrap();
    });
    let addr = addr_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let url = format!("http://{addr}");
    let client = reqwest::Client::new();
    let mut total = 0u64;

    for (i, level) in [Level::Metadata, Level::RequestResponse]
        .into_iter()
        .enumerate()
    {
        let events = testgen::events(100 + i as u64, n, level, start, 2_000 + i as i64);
        let avg = events.iter().map(String::len).sum::<usize>() / events.len();

        // 1. tantivy alone
        let alone_dir = dir.path().join(format!("alone-{i}"));
        let parts = Arc::new(Partitions::open(&alone_dir).unwrap());
        let parsed: Vec<Event> = events
            .iter()
            .map(|e| Event::from_json(e).unwrap())
            .collect();
        let t = Instant::now();
        let mut writers = Writers::new(parts.clone(), 128 * 1024 * 1024, 2, 2);
        for (e, raw) in parsed.iter().zip(&events) {
            writers
                .add(prepare(e, raw.as_bytes(), &parts.fields).unwrap())
                .unwrap();
        }
        writers.close().unwrap();
        let alone = n as f64 / t.elapsed().as_secs_f64();
        drop(parsed);

        // 2. end to end over HTTP with durability
        let bodies: Vec<String> = events.chunks(400).map(testgen::event_list).collect();
        drop(events);
        total += n as u64;
        let t = Instant::now();
        let e2e = rt.block_on(async {
            let queue = Arc::new(std::sync::Mutex::new(bodies));
            let mut tasks = Vec::new();
            for _ in 0..clients {
                let queue = queue.clone();
                let client = client.clone();
                let url = url.clone();
                tasks.push(tokio::spawn(async move {
                    loop {
                        let Some(body) = queue.lock().unwrap().pop() else {
                            return;
                        };
                        loop {
                            let r = client
                                .post(format!("{url}/v1/events"))
                                .body(body.clone())
                                .send()
                                .await
                                .unwrap();
                            match r.status().as_u16() {
                                200 => break,
                                429 | 503 => tokio::time::sleep(Duration::from_millis(100)).await,
                                s => panic!("status {s}"),
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let acked = t.elapsed();
            loop {
                let s: audit_api::StatsResponse = client
                    .get(format!("{url}/v1/stats"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if s.total >= total {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (acked, t.elapsed())
        });
        let rate = n as f64 / e2e.1.as_secs_f64();
        println!(
            "{level:?} (~{avg} B/event): tantivy alone {alone:.0} ev/s; HTTP+WAL+fsync end to end {rate:.0} ev/s \
             (all acked after {:.2}s, searchable after {:.2}s); ratio {:.0}%",
            e2e.0.as_secs_f64(),
            e2e.1.as_secs_f64(),
            100.0 * rate / alone
        );
    }

    // 3. search latency over the combined corpus
    let t0 = start.to_string();
    let t1 = jiff::Timestamp::from_second(start.as_second() + 60)
        .unwrap()
        .to_string();
    let queries: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "field: user:alice verb:get",
            vec![("q", "user:alice verb:get".into()), ("limit", "100".into())],
        ),
        (
            "field: resource:secrets ns:prod code:403",
            vec![
                ("q", "resource:secrets ns:prod code:403".into()),
                ("limit", "100".into()),
            ],
        ),
        (
            "time range: 1 minute",
            vec![
                ("since", t0.clone()),
                ("until", t1.clone()),
                ("limit", "100".into()),
            ],
        ),
        (
            "full text: registry",
            vec![("q", "registry".into()), ("limit", "100".into())],
        ),
        (
            "code range: code:>=400 -user:system:*",
            vec![
                ("q", "code:>=400 -user:system:*".into()),
                ("limit", "100".into()),
            ],
        ),
    ];
    for (name, params) in &queries {
        let mut lat: Vec<Duration> = rt.block_on(async {
            let mut v = Vec::new();
            for _ in 0..200 {
                let t = Instant::now();
                let r = client
                    .get(format!("{url}/v1/search"))
                    .query(params)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let _ = r.bytes().await.unwrap();
                v.push(t.elapsed());
            }
            v
        });
        lat.sort();
        println!(
            "search {name}: p50 {:.2} ms, p99 {:.2} ms over {total} events",
            lat[lat.len() / 2].as_secs_f64() * 1e3,
            lat[lat.len() * 99 / 100].as_secs_f64() * 1e3
        );
    }
    let _ = stop_tx.send(());
    rt.block_on(server).unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(hwm) = status.lines().find(|l| l.starts_with("VmHWM")) {
        println!(
            "peak RSS (sink + clients + ceiling runs in one process): {}",
            hwm.trim_start_matches("VmHWM:").trim()
        );
    }
}
