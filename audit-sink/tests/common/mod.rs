//! Test harness: runs the real `audit-sink` binary on a free loopback port.
#![allow(dead_code)]

pub mod clusters;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use audit_api::api::StatsResponse;

pub struct SinkProc {
    pub child: Child,
    pub url: String,
    pub data: PathBuf,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_audit-sink")
}

impl SinkProc {
    pub fn start(data: &Path, extra: &[&str]) -> SinkProc {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(if extra.contains(&"--commit-interval") {
                &[][..]
            } else {
                &["--commit-interval", "100ms"][..]
            })
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start audit-sink");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("audit-sink printed its address");
        let url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        SinkProc {
            child,
            url,
            data: data.to_path_buf(),
        }
    }

    /// SIGKILL: no chance to flush or commit anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the graceful exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait")
    }
}

impl Drop for SinkProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every line of the real audit events in testdata/audit, by file name.
pub fn real_event_lines() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/audit/falco_k8s_audit");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            if !line.trim().is_empty() {
                out.push((name.clone(), line.to_string()));
            }
        }
    }
    out
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub async fn post_list(c: &reqwest::Client, url: &str, items: &[String]) -> reqwest::Response {
    c.post(format!("{url}/v1/events"))
        .header("content-type", "application/json")
        .body(audit_gen::event_list(items))
        .send()
        .await
        .expect("post")
}

/// `GET /readyz`: its status and the reason it gives.
pub async fn readyz(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(format!("{url}/readyz")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Waits at most `within` until `/readyz` answers 200.
pub async fn wait_ready(c: &reqwest::Client, url: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let (status, why) = readyz(c, url).await;
        if status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz still {status} after {within:?}: {why}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The status of `GET /v1/search` for the first 5 events matching `q`.
pub async fn search_status(c: &reqwest::Client, url: &str, q: &str) -> u16 {
    c.get(format!("{url}/v1/search"))
        .query(&[("q", q), ("limit", "5")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The sink's Prometheus text from `/metrics`.
pub async fn metrics(c: &reqwest::Client, url: &str) -> String {
    let r = c.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

pub async fn stats(c: &reqwest::Client, url: &str, q: &str) -> StatsResponse {
    let r = c
        .get(format!("{url}/v1/stats"))
        .query(&[("q", q)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "stats {q}: {}", r.text().await.unwrap());
    r.json().await.unwrap()
}

/// Waits until `q` matches exactly `n` events.
pub async fn wait_total(c: &reqwest::Client, url: &str, q: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = stats(c, url, q).await.total;
        if t == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "query {q:?}: {t} events, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// All events matching `q`, paging with the cursor; returns them as JSON values.
pub async fn search_all(
    c: &reqwest::Client,
    url: &str,
    q: &str,
    page: usize,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("q", q.to_string()), ("limit", page.to_string())];
        if let Some(cur) = &cursor {
            params.push(("cursor", cur.clone()));
        }
        let r = c
            .get(format!("{url}/v1/search"))
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        out.extend(v["events"].as_array().unwrap().iter().cloned());
        match v["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => return out,
        }
    }
}

/// Runs `cmd`, which must succeed (else its standard error says why);
/// returns its standard output.
pub fn run_ok(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `audit-sink dead-letters -o json`: the dead-letter log in `data`, a
/// value a letter.
pub fn dead_letters(data: &Path) -> Vec<serde_json::Value> {
    let out = run_ok(
        Command::new(bin())
            .args(["dead-letters", "-o", "json", "--data-dir"])
            .arg(data),
    );
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
