//! The data directory's file system fills up: ingest answers 507 with
//! `Retry-After` (nothing acknowledged), search keeps working, and once space
//! returns the sink takes batches again by itself; every event it answered
//! 200 is searchable exactly once, also after a kill -9 and a replay.
//!
//! Needs a small file system of its own: the test mounts a tmpfs, which takes
//! root (or CAP_SYS_ADMIN). Without that it says why and passes without
//! checking anything.

mod common;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use audit_gen::{self as testgen, Level};
use common::*;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("running mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs(at.to_path_buf()))
    }

    /// Mounts, or says why the test is skipped.
    fn mount_or_skip(at: &Path, size: &str) -> Option<Tmpfs> {
        Tmpfs::mount(at, size)
            .map_err(|why| {
                eprintln!(
                    "SKIPPED: this test needs to mount a small tmpfs (run as root with mount permission): {why}"
                )
            })
            .ok()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` until at most `leave` bytes are free.
fn fill(dir: &Path, leave: u64) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while free_bytes(dir) > leave + chunk.len() as u64 {
        if f.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = f.flush();
    path
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

fn batch(n: u64) -> Vec<String> {
    let start: jiff::Timestamp = "2025-07-01T00:00:00Z".parse().unwrap();
    let t = jiff::Timestamp::from_microsecond(start.as_microsecond() + n as i64 * 400_000).unwrap();
    testgen::events(0xd15c << 16 | n, 400, Level::RequestResponse, t, 1000)
}

fn ids(batch: &[String]) -> Vec<String> {
    batch
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Every acknowledged id is searchable exactly once (waits for the index).
async fn assert_exactly_once(c: &reqwest::Client, url: &str, acked: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut counts: HashMap<String, usize> = HashMap::new();
    loop {
        counts.clear();
        for e in search_all(c, url, "", 10_000).await {
            *counts
                .entry(e["auditID"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        if acked.iter().all(|id| counts.contains_key(id)) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let lost = acked.iter().filter(|id| !counts.contains_key(*id)).count();
    assert_eq!(
        lost,
        0,
        "{lost} of {} acknowledged events lost",
        acked.len()
    );
    let dups = counts.values().filter(|n| **n > 1).count();
    assert_eq!(dups, 0, "{dups} events stored more than once");
    assert_eq!(counts.len(), acked.len(), "events nobody acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_refuses_with_507_keeps_search_and_recovers_losing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let Some(_fs) = Tmpfs::mount_or_skip(&mnt, "40m") else {
        return;
    };
    let data = mnt.join("data");
    let c = client();
    let mut sink = SinkProc::start(&data, &["--writer-memory-mib", "16"]);
    let mut acked: Vec<String> = Vec::new();
    let mut next = 0u64;

    // Room enough: batches are acknowledged and searchable.
    for _ in 0..4 {
        let b = batch(next);
        next += 1;
        assert_eq!(post_list(&c, &sink.url, &b).await.status(), 200);
        acked.extend(ids(&b));
    }
    wait_total(&c, &sink.url, "", acked.len() as u64).await;

    // Leave about one batch of room: the log may take one more batch, then
    // the log or the index commit runs out of space.
    let filler = fill(&mnt, 1_200_000);
    let mut refused = Vec::new();
    let mut statuses = Vec::new();
    let mut not_ready = Vec::new();
    for _ in 0..8 {
        let b = batch(next);
        next += 1;
        let r = post_list(&c, &sink.url, &b).await;
        let status = r.status().as_u16();
        statuses.push(status);
        if status == 200 {
            acked.extend(ids(&b));
        } else {
            assert!(
                matches!(status, 507 | 503 | 429),
                "ingest on a full disk answered {status}"
            );
            assert!(
                r.headers().contains_key("retry-after"),
                "{status} without Retry-After"
            );
            refused.push(b);
        }
        let (status, why) = readyz(&c, &sink.url).await;
        if status != 200 {
            not_ready.push(format!("{status} {why}"));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    eprintln!("answers with the disk full: {statuses:?}; /readyz not ready: {not_ready:?}");
    assert!(
        statuses.contains(&507),
        "no 507 while the disk was full: {statuses:?}"
    );
    // Whether an index commit also hit the full disk in this window depends on
    // the commit cadence (the round below makes it fail on purpose); when
    // /readyz did say not ready, it was a 503 naming the index.
    assert!(
        not_ready.iter().all(|r| r.starts_with("503 ")
            && (r.contains("index writes failing") || r.contains("indexer behind"))),
        "/readyz with the disk full: {not_ready:?}"
    );

    // Search, stats and health keep answering meanwhile.
    assert_eq!(search_status(&c, &sink.url, "verb:get").await, 200);
    assert!(stats(&c, &sink.url, "").await.total >= 1600);
    assert_eq!(
        c.get(format!("{}/healthz", sink.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Space returns: the refused batches go through (the client retries as
    // the apiserver would) without restarting the sink.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    for b in refused {
        loop {
            let status = post_list(&c, &sink.url, &b).await.status().as_u16();
            if status == 200 {
                acked.extend(ids(&b));
                break;
            }
            assert!(
                Instant::now() < deadline,
                "ingest still answers {status} after space returned"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_exactly_once(&c, &sink.url, &acked).await;
    let (status, why) = readyz(&c, &sink.url).await;
    assert_eq!(status, 200, "{why}");

    // The log left behind replays cleanly: kill -9 and restart.
    sink.kill9();
    let mut sink = SinkProc::start(&data, &["--writer-memory-mib", "16"]);
    assert_exactly_once(&c, &sink.url, &acked).await;
    sink.kill9();

    // Now the index commit is what fails: a batch reaches the log, then the
    // disk fills before the (slow) commit. A commit tick can fall between the
    // 200 and the fill on a busy machine; then the batch is already indexed
    // and the round is tried again with a new batch.
    let sink = start_with_commit_interval(&data, "5s");
    let mut filler = None;
    for attempt in 1..=5 {
        let b = batch(next);
        next += 1;
        assert_eq!(post_list(&c, &sink.url, &b).await.status(), 200);
        acked.extend(ids(&b));
        let full = fill(&mnt, 0);
        let deadline = Instant::now() + Duration::from_secs(20);
        let failed = loop {
            let (status, why) = readyz(&c, &sink.url).await;
            if status == 503 {
                eprintln!("/readyz: {why}");
                break true;
            }
            if stats(&c, &sink.url, "").await.total == acked.len() as u64 {
                // Committed before the disk filled: nothing left to fail.
                break false;
            }
            assert!(
                Instant::now() < deadline,
                "the index commit on a full disk did not fail"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if failed {
            filler = Some(full);
            break;
        }
        eprintln!("attempt {attempt}: the batch was committed before the disk filled");
        std::fs::remove_file(&full).unwrap();
    }
    let filler = filler.expect("a commit tick fell between the 200 and the fill five times");
    let b = batch(next);
    let status = post_list(&c, &sink.url, &b).await.status().as_u16();
    assert!(matches!(status, 507 | 503 | 429), "{status}");
    assert_eq!(
        stats(&c, &sink.url, "").await.total,
        acked.len() as u64 - 400
    );

    // Killed in that state and started again on the still full disk: the
    // sink serves searches, takes nothing it cannot log, says it is not
    // ready, and indexes its log by itself once there is space.
    let mut sink = sink;
    sink.kill9();
    let sink = SinkProc::start(&data, &["--writer-memory-mib", "16"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, why) = readyz(&c, &sink.url).await;
        assert_eq!(status, 503, "{why}");
        if why.contains("index writes failing") {
            break;
        }
        assert!(Instant::now() < deadline, "/readyz: {why}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let health = c.get(format!("{}/healthz", sink.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        stats(&c, &sink.url, "").await.total,
        acked.len() as u64 - 400
    );
    std::fs::remove_file(&filler).unwrap();
    assert_exactly_once(&c, &sink.url, &acked).await;
    // Ready again after the recovery.
    wait_ready(&c, &sink.url, Duration::from_secs(20)).await;
    drop(sink);
    let sink = SinkProc::start(&data, &[]);
    assert_exactly_once(&c, &sink.url, &acked).await;
}

/// Like [`SinkProc::start`], with a slow commit cadence.
fn start_with_commit_interval(data: &Path, interval: &str) -> SinkProc {
    SinkProc::start(
        data,
        &["--writer-memory-mib", "16", "--commit-interval", interval],
    )
}

#[test]
fn a_dead_letter_that_does_not_fit_leaves_no_torn_line() {
    use audit_sink::deadletter::{self, DeadLetter, DeadLetterLog};
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let Some(_fs) = Tmpfs::mount_or_skip(&mnt, "1m") else {
        return;
    };
    let mut log = DeadLetterLog::open(&mnt).unwrap();
    log.append(&DeadLetter::new("event", "first", None, b"{\"a\":1}"))
        .unwrap();
    log.sync().unwrap();
    let filler = fill(&mnt, 8 * 1024);
    // Bigger than the room left: the write fails part way.
    let big = vec![b'x'; 64 * 1024];
    log.append(&DeadLetter::new("body", "too big", None, &big))
        .unwrap();
    assert!(log.sync().is_err(), "a 64 KiB entry fitted into 8 KiB");
    std::fs::remove_file(&filler).unwrap();
    log.append(&DeadLetter::new("event", "after", None, b"{\"b\":2}"))
        .unwrap();
    log.sync().unwrap();
    let reasons: Vec<String> = deadletter::read_all(&mnt)
        .unwrap()
        .into_iter()
        .map(|d| d.reason)
        .collect();
    assert_eq!(reasons, ["first", "after"]);
}
