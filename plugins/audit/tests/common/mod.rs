//! What the integration tests share: the real `audit-sink` binary started on
//! a free loopback port with its own data directory, the seed events from
//! `testdata/audit/`, a small HTTP client to post events, and table
//! normalisation for snapshots.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;

/// The workspace root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// `testdata/audit` in the repository, holding the captured events.
pub fn seed_dir() -> PathBuf {
    let dir = repo_root().join("testdata/audit/falco_k8s_audit");
    assert!(
        dir.is_dir(),
        "the seed events are missing: expected {} (testdata/audit in the repository)",
        dir.display()
    );
    dir
}

/// Every line of every seed file, sorted by file name (the invalid placeholder included).
pub fn seed_lines() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(seed_dir())
        .expect("read the seed directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read a seed file");
        lines.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    lines
}

/// The seed events the sink must store: valid ones, once per
/// (auditID, stage, stageTimestamp), as parsed JSON values.
pub fn seed_events() -> Vec<serde_json::Value> {
    let mut keys = BTreeSet::new();
    let mut events = Vec::new();
    for line in seed_lines() {
        let Ok(event) = audit_api::Event::from_json(&line) else {
            continue;
        };
        if keys.insert(event.dedup_key()) {
            events.push(serde_json::from_str(&line).expect("valid JSON"));
        }
    }
    events
}

/// The `audit-sink` binary next to ours, built once per test process (a
/// no-op when it is up to date).
pub fn sink_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let ours = cargo_bin("kubectl-audit");
            let dir = ours.parent().expect("binary has a directory");
            let sink = dir.join(format!("audit-sink{}", std::env::consts::EXE_SUFFIX));
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "audit-sink", "--bin", "audit-sink"])
                .current_dir(repo_root())
                .stdout(Stdio::null())
                .status()
                .expect("run cargo build -p audit-sink");
            assert!(status.success(), "cargo build -p audit-sink failed");
            assert!(sink.exists(), "{} was not built", sink.display());
            sink
        })
        .clone()
}

/// A running `audit-sink serve`; killed when dropped.
pub struct SinkProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The data directory (and the process's log files).
    pub dir: tempfile::TempDir,
}

impl SinkProcess {
    /// Starts a sink with an empty data directory.
    pub fn start() -> SinkProcess {
        Self::start_with(&[])
    }

    /// Starts a sink with extra `serve` flags, on a port the sink picks
    /// (`--listen 127.0.0.1:0`; it prints `listening on URL` on stdout).
    pub fn start_with(extra: &[&str]) -> SinkProcess {
        let binary = sink_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(&binary)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join("sink.log")).expect("log file"))
            .spawn()
            .expect("start audit-sink");
        let lines = line_reader(&mut child);
        let log = dir.path().join("sink.log");
        let url = loop {
            match lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(url) = line.trim().strip_prefix("listening on ") {
                        break url.to_string();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "audit-sink did not say where it listens; its log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
            }
        };
        let addr = url
            .split_once("://")
            .map(|(_, a)| a.to_string())
            .unwrap_or_else(|| url.clone());
        let sink = SinkProcess {
            child,
            url,
            addr,
            dir,
        };
        // Keep draining stdout so the sink never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        sink
    }

    /// The sink's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sink.log")).unwrap_or_default()
    }

    /// Posts raw event lines as one `EventList`; returns the status and body.
    pub fn post(&self, items: &[String]) -> (u16, String) {
        let body = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
            items.join(",")
        );
        http(&self.url, "POST", audit_api::EVENTS_PATH, Some(body)).expect("post events")
    }

    /// Waits until a search for `q` returns exactly `count` events.
    pub fn wait_for(&self, q: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let path = format!(
            "{}?limit=10000&q={}",
            audit_api::SEARCH_PATH,
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok((200, body)) = http(&self.url, "GET", &path, None) {
                let v: serde_json::Value = serde_json::from_str(&body).expect("search answer");
                let n = v["events"].as_array().map(Vec::len).unwrap_or(0);
                if n == count {
                    return;
                }
                last = format!("{n} events");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "search {q:?} never returned {count} events (last: {last}); sink log:\n{}",
            self.log()
        );
    }

    /// A sink holding the seed events, searchable.
    pub fn seeded() -> SinkProcess {
        let sink = SinkProcess::start();
        let (status, body) = sink.post(&seed_lines());
        assert_eq!(status, 200, "seeding failed: {body}");
        sink.wait_for("", seed_events().len());
        sink
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// One HTTP request with a throwaway runtime (reqwest, as the sink's clients use).
pub fn http(
    base: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = client.request(method, format!("{base}{path}"));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        Ok((status, text))
    })
}

/// `kubectl-audit` with a clean environment: no kubeconfig, no sink address from the environment.
pub fn audit() -> Command {
    let mut cmd = Command::new(cargo_bin("kubectl-audit"));
    cmd.env_remove("KUBECTL_AUDIT_SERVER")
        .env_remove("KUBECTL_AUDIT_TOKEN")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    cmd
}

/// Runs a command; returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run kubectl-audit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command that must succeed; returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(
        code, 0,
        "command failed ({code}):\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// A kubectl-style table with the named column's values replaced by `<age>`
/// (relative times change with the clock), re-aligned as the plugin aligns.
pub fn mask_column(table: &str, column: &str) -> String {
    let rows: Vec<Vec<String>> = table.lines().map(split_cells).collect();
    let Some(index) = rows
        .first()
        .and_then(|h| h.iter().position(|c| c == column))
    else {
        return table.to_string();
    };
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            if i > 0 && index < r.len() {
                r[index] = "<age>".into();
            }
            r
        })
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 3));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Cells of a table line: separated by three or more spaces.
pub fn split_cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut spaces = 0;
    for ch in line.chars() {
        if ch == ' ' {
            spaces += 1;
            continue;
        }
        if spaces >= 3 && !current.is_empty() {
            cells.push(std::mem::take(&mut current));
        } else {
            current.extend(std::iter::repeat_n(' ', spaces));
        }
        spaces = 0;
        current.push(ch);
    }
    if !current.is_empty() {
        cells.push(current);
    }
    cells
}

/// Reads a child's stdout lines on a thread; `recv_timeout` them.
pub fn line_reader(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// An audit event as the apiserver writes it, for tests that need their own.
#[allow(clippy::too_many_arguments)]
pub fn event(
    audit_id: &str,
    time: &str,
    user: &str,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    name: &str,
    code: u16,
) -> String {
    let mut object_ref =
        serde_json::json!({"resource": resource, "name": name, "apiVersion": "v1"});
    if resource == "deployments" {
        object_ref["apiGroup"] = "apps".into();
    }
    if let Some(ns) = namespace {
        object_ref["namespace"] = ns.into();
    }
    serde_json::json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": audit_id,
        "stage": "ResponseComplete",
        "requestURI": format!("/apis/apps/v1/namespaces/{}/{resource}/{name}", namespace.unwrap_or("")),
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"],
        "userAgent": "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef",
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": time,
        "stageTimestamp": time,
        "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""}
    })
    .to_string()
}
