//! Shared pieces of the ingest and sustained-load benches: the real
//! `audit-sink serve` process, HTTP senders, RSS sampling.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// `--name value` from the bench's arguments (cargo adds `--bench`).
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string))
        })
}

/// The machine and its load, for the report header.
pub fn machine() -> String {
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .map(|l| l.trim_start_matches("MemTotal:").trim().to_string())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{} cores, MemTotal {mem}, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// `/proc/loadavg`'s 1-minute figure.
pub fn load1() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .to_string()
}

/// A running `audit-sink serve` (the real binary), stopped on drop.
pub struct SinkProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its data directory.
    pub data_dir: PathBuf,
}

impl SinkProcess {
    /// Starts the sink on a free loopback port over `data_dir` with `extra` flags.
    ///
    /// `AUDIT_SINK_BIN` names another `audit-sink` binary to measure (a copy
    /// built from an earlier commit, for a before/after ratio in one run);
    /// by default the one cargo built beside the bench.
    pub fn start(data_dir: &Path, extra: &[String]) -> SinkProcess {
        let bin = std::env::var_os("AUDIT_SINK_BIN").map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_audit-sink")),
            PathBuf::from,
        );
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting audit-sink serve");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("reading the sink's stdout");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the sink: {line:?}"))
            .to_string();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        SinkProcess {
            child,
            url,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (VmRSS, VmHWM) in KiB.
    pub fn rss(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        (kib("VmRSS:"), kib("VmHWM:"))
    }

    /// CPU time (user + system) used so far.
    pub fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<u64> = after
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command.
        let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        Duration::from_millis(ticks * 10)
    }

    /// SIGTERM (graceful shutdown: final commit, merges finish) and wait.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Counters of a send run.
#[derive(Default)]
pub struct SendCounters {
    /// Events answered 200.
    pub acked: AtomicU64,
    /// 429/503 answers (retried).
    pub retried: AtomicU64,
}

/// Posts one EventList body until it is answered 200 (429/503: wait, retry).
pub async fn post_until_ok(
    client: &reqwest::Client,
    url: &str,
    body: Bytes,
    events: u64,
    c: &SendCounters,
) {
    loop {
        let r = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("posting a batch");
        match r.status().as_u16() {
            200 => {
                c.acked.fetch_add(events, Relaxed);
                return;
            }
            429 | 503 => {
                c.retried.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            s => panic!(
                "ingest answered {s}: {}",
                r.text().await.unwrap_or_default()
            ),
        }
    }
}

/// Sends every body once with `senders` concurrent senders; returns when all are acked.
pub async fn send_all(
    client: &reqwest::Client,
    url: &str,
    bodies: Arc<Vec<(Bytes, u64)>>,
    senders: usize,
    c: Arc<SendCounters>,
) {
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{url}/v1/events");
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (client, url, bodies, next, c) = (
            client.clone(),
            url.clone(),
            bodies.clone(),
            next.clone(),
            c.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Relaxed);
                let Some((body, n)) = bodies.get(i) else {
                    return;
                };
                post_until_ok(&client, &url, body.clone(), *n, &c).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
}

/// Committed (searchable) events, from `GET /v1/stats`.
pub async fn searchable(client: &reqwest::Client, url: &str) -> u64 {
    let s: audit_api::StatsResponse = client
        .get(format!("{url}/v1/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats body");
    s.total
}

/// Waits until at least `n` events are searchable; returns when.
pub async fn wait_searchable(client: &reqwest::Client, url: &str, n: u64) -> Instant {
    loop {
        if searchable(client, url).await >= n {
            return Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
