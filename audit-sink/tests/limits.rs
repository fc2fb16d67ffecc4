//! Slow clients and connection floods cannot exhaust the sink: a trickled
//! body is cut off with 408, unfinished headers and silent connections are
//! closed, idle keep-alive connections are closed, and beyond
//! `--max-connections` new connections wait while existing ones are served.

mod common;

use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The upper bound of every wait below. The bounds only detect a hang (a
/// timeout that never fires, a client never served): they are far above what
/// the timeouts configured in each test need, so a slow or busy machine does
/// not fail them. How fast the sink answers is measured by the benchmarks.
const HANG: Duration = Duration::from_secs(30);

fn addr(url: &str) -> String {
    url.strip_prefix("http://").unwrap().to_string()
}

/// Reads until the peer closes (or `max` passes); returns what was read and when it closed.
async fn read_until_closed(s: &mut TcpStream, max: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = max.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&out).into_owned(),
                    Some(started.elapsed()),
                );
            }
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), None),
        }
    }
}

fn batch(seed: u64) -> Vec<String> {
    let t: jiff::Timestamp = "2025-08-01T00:00:00Z".parse().unwrap();
    testgen::events(seed, 400, Level::Metadata, t, 1000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkProc::start(
        &dir.path().join("data"),
        &[
            "--header-read-timeout",
            "1s",
            "--body-read-timeout",
            "2s",
            "--idle-timeout",
            "3s",
        ],
    );
    let a = addr(&sink.url);
    let c = client();

    // A body trickled byte by byte: 408 once the body deadline passes.
    let mut trickle = TcpStream::connect(&a).await.unwrap();
    trickle
        .write_all(
            b"POST /v1/events HTTP/1.1\r\nHost: sink\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
        )
        .await
        .unwrap();
    let trickler = tokio::spawn(async move {
        let started = Instant::now();
        let (mut rd, mut wr) = trickle.into_split();
        let writer = tokio::spawn(async move {
            while wr.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut out = Vec::new();
        let _ = tokio::time::timeout(HANG, rd.read_to_end(&mut out)).await;
        writer.abort();
        (
            String::from_utf8_lossy(&out).into_owned(),
            started.elapsed(),
        )
    });
    // Headers that never finish, and a connection that never says anything.
    let mut half = TcpStream::connect(&a).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: sink\r\n")
        .await
        .unwrap();
    let half_headers = tokio::spawn(async move {
        let started = Instant::now();
        let (mut rd, mut wr) = half.into_split();
        let writer = tokio::spawn(async move {
            let mut i = 0;
            while wr
                .write_all(format!("X-{i}: y\r\n").as_bytes())
                .await
                .is_ok()
            {
                i += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let mut out = Vec::new();
        let _ = tokio::time::timeout(HANG, rd.read_to_end(&mut out)).await;
        writer.abort();
        (
            String::from_utf8_lossy(&out).into_owned(),
            started.elapsed(),
        )
    });
    let mut silent = TcpStream::connect(&a).await.unwrap();

    // Meanwhile a normal client is served, more than once (not held up
    // behind the slow ones: HANG only catches a client never served).
    for seed in 0..3 {
        let started = Instant::now();
        assert_eq!(post_list(&c, &sink.url, &batch(seed)).await.status(), 200);
        assert!(
            started.elapsed() < HANG,
            "a normal client waited {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_total(&c, &sink.url, "", 1200).await;

    let (answer, took) = trickler.await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "trickled body: {answer:?}"
    );
    assert!(answer.contains("body-read-timeout"), "{answer}");
    // Not before --body-read-timeout (2 s); the upper bound only detects a hang.
    assert!(
        took >= Duration::from_millis(1800) && took < HANG,
        "trickled body cut after {took:?}"
    );
    let (answer, took) = half_headers.await.unwrap();
    assert!(
        !answer.contains("200 OK"),
        "unfinished headers answered: {answer}"
    );
    // Not before --header-read-timeout (1 s); the upper bound only detects a hang.
    assert!(
        took >= Duration::from_millis(800) && took < HANG,
        "unfinished headers cut after {took:?}"
    );
    let (_, closed) = read_until_closed(&mut silent, HANG).await;
    assert!(closed.is_some(), "a silent connection stays open");

    // A keep-alive connection is closed once idle for --idle-timeout (3 s),
    // not after the header timeout (1 s).
    let mut ka = TcpStream::connect(&a).await.unwrap();
    ka.write_all(b"GET /healthz HTTP/1.1\r\nHost: sink\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = ka.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (_, closed) = read_until_closed(&mut ka, HANG).await;
    let closed = closed.expect("idle keep-alive connection closed");
    // Not before --idle-timeout (3 s); within HANG it was closed at all.
    assert!(
        closed >= Duration::from_millis(2500) && closed < HANG,
        "idle connection closed after {closed:?}"
    );

    // Everything still works, and the sink counted the timed-out body.
    assert_eq!(post_list(&c, &sink.url, &batch(9)).await.status(), 200);
    let m = metrics(&c, &sink.url).await;
    assert!(m.contains("body_timeout"), "{m}");
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_waits_beyond_the_limit_and_the_sink_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkProc::start(
        &dir.path().join("data"),
        &[
            "--max-connections",
            "50",
            "--header-read-timeout",
            "4s",
            "--idle-timeout",
            "60s",
        ],
    );
    let a = addr(&sink.url);
    let pid = sink.child.id();
    // An established keep-alive connection, before the flood.
    let existing = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(HANG)
        .build()
        .unwrap();
    assert_eq!(
        post_list(&existing, &sink.url, &batch(1)).await.status(),
        200
    );
    let fds_before = open_fds(pid);

    // 3000 connections at once that never send anything; those beyond the
    // limit and the listen backlog stay in the kernel's SYN retries.
    let attempts: Vec<_> = (0..3000)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(1500), TcpStream::connect(a))
                    .await
                    .ok()
                    .and_then(Result::ok)
            })
        })
        .collect();
    let mut flood = Vec::new();
    for t in attempts {
        if let Some(s) = t.await.unwrap() {
            flood.push(s);
        }
    }
    eprintln!("flood: {} connections open", flood.len());
    assert!(flood.len() >= 100, "only {} connections", flood.len());
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The sink holds at most 50 of them.
    let fds = open_fds(pid);
    assert!(
        fds <= fds_before + 50,
        "{fds} descriptors open (before the flood: {fds_before})"
    );
    // The existing connection is still served (the new one below is not):
    // HANG, the client's timeout, only catches it never being served.
    assert_eq!(
        post_list(&existing, &sink.url, &batch(2)).await.status(),
        200
    );
    let r = existing
        .get(format!("{}/v1/search?q=verb:get&limit=3", sink.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A new connection waits for a free slot.
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_millis(1000))
        .build()
        .unwrap();
    let waited = fresh.get(format!("{}/healthz", sink.url)).send().await;
    assert!(
        waited.is_err(),
        "a new connection beyond the limit was served at once"
    );

    // After the flood the sink serves new clients normally.
    drop(flood);
    let c = client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ok = tokio::time::timeout(
            Duration::from_secs(2),
            c.get(format!("{}/healthz", sink.url)).send(),
        )
        .await
        .is_ok_and(|r| r.is_ok_and(|r| r.status() == 200));
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "the sink does not recover");
    }
    assert_eq!(post_list(&c, &sink.url, &batch(3)).await.status(), 200);
    wait_total(&c, &sink.url, "", 1200).await;
    assert!(open_fds(pid) <= fds_before + 5);
}
