//! Several sinks as one (`--server` repeated or comma-separated), against
//! two real `audit-sink` processes, each fed its own events and both fed the
//! same overlap: search merges newest first with one page token, the
//! overlap is shown once, `--all`, `stats`, `who` and `tail` span both, and
//! a sink that is down fails the command by name unless
//! `--skip-unavailable` is given.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use common::{SinkProcess, audit, event, free_port, line_reader, ok, run};

/// Two sinks: `a-0…a-5` (alice) only in the first, `b-0…b-5` (bob) only in
/// the second, `both-0…both-3` (carol) in both. Times interleave so that a correct merge
/// alternates between them. Returns the sinks and every distinct ID, newest
/// first.
fn two_sinks() -> (SinkProcess, SinkProcess, Vec<String>) {
    let a = SinkProcess::start();
    let b = SinkProcess::start();
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut to_a = Vec::new();
    let mut to_b = Vec::new();
    for i in 0..6 {
        let (ta, tb) = (
            format!("2025-06-01T10:00:{:02}Z", i * 4),
            format!("2025-06-01T10:00:{:02}Z", i * 4 + 1),
        );
        let id_a = format!("a-{i}");
        let id_b = format!("b-{i}");
        to_a.push(event(
            &id_a,
            &ta,
            "alice",
            "delete",
            "deployments",
            Some("prod"),
            "web",
            200,
        ));
        to_b.push(event(
            &id_b,
            &tb,
            "bob",
            "patch",
            "deployments",
            Some("prod"),
            "web",
            200,
        ));
        expected.push((ta, id_a));
        expected.push((tb, id_b));
    }
    for i in 0..4 {
        let t = format!("2025-06-01T10:00:{:02}Z", i * 8 + 2);
        let id = format!("both-{i}");
        let e = event(
            &id,
            &t,
            "carol",
            "get",
            "deployments",
            Some("prod"),
            "web",
            200,
        );
        to_a.push(e.clone());
        to_b.push(e);
        expected.push((t, id));
    }
    for (sink, events, n) in [(&a, &to_a, 10), (&b, &to_b, 10)] {
        let (status, body) = sink.post(events);
        assert_eq!(status, 200, "{body}");
        sink.wait_for("", n);
    }
    expected.sort();
    expected.reverse();
    (a, b, expected.into_iter().map(|(_, id)| id).collect())
}

fn names(stdout: &str) -> Vec<String> {
    stdout.lines().map(str::to_string).collect()
}

/// The token from `More events match: run the same command with --page-token TOKEN`.
fn page_token(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .find_map(|l| l.split("--page-token ").nth(1))
        .map(|t| t.trim().to_string())
}

#[test]
fn search_merges_sinks_newest_first_and_pages_with_one_token() {
    let (a, b, expected) = two_sinks();
    assert_eq!(expected.len(), 16);

    // Repeated --server: everything, newest first, the overlap once.
    let all = ok(audit().args([
        "search", "--server", &a.url, "--server", &b.url, "-o", "name",
    ]));
    assert_eq!(names(&all), expected);

    // Comma-separated, four at a time: one token resumes both sinks.
    let servers = format!("{},{}", a.url, b.url);
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut cmd = audit();
        cmd.args(["search", "--server", &servers, "--limit", "4", "-o", "name"]);
        if let Some(t) = &token {
            cmd.args(["--page-token", t]);
        }
        let (code, stdout, stderr) = run(&mut cmd);
        assert_eq!(code, 0, "{stderr}");
        pages.push(names(&stdout));
        token = page_token(&stderr);
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 10, "paging never ends: {pages:?}");
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 4, 4]);
    assert_eq!(pages.concat(), expected);

    // --all follows the merged token to the end.
    let every = ok(audit().args(["search", "--server", &servers, "--all", "-o", "name"]));
    assert_eq!(names(&every), expected);

    // The same sinks in another order give the same listing.
    let reversed = format!("{},{}", b.url, a.url);
    let all = ok(audit().args(["search", "--server", &reversed, "-o", "name"]));
    assert_eq!(names(&all), expected);
}

#[test]
fn a_finished_sink_stays_finished_and_tokens_belong_to_their_sinks() {
    let a = SinkProcess::start();
    let b = SinkProcess::start();
    // Everything in `a` is newer than everything in `b`.
    let newer: Vec<String> = (0..2)
        .map(|i| {
            let t = format!("2025-06-02T10:00:0{i}Z");
            event(
                &format!("new-{i}"),
                &t,
                "alice",
                "get",
                "pods",
                Some("prod"),
                "x",
                200,
            )
        })
        .collect();
    let older: Vec<String> = (0..4)
        .map(|i| {
            let t = format!("2025-06-01T10:00:0{i}Z");
            event(
                &format!("old-{i}"),
                &t,
                "bob",
                "get",
                "pods",
                Some("prod"),
                "x",
                200,
            )
        })
        .collect();
    assert_eq!(a.post(&newer).0, 200);
    assert_eq!(b.post(&older).0, 200);
    a.wait_for("", 2);
    b.wait_for("", 4);
    let servers = format!("{},{}", a.url, b.url);
    let (code, stdout, stderr) =
        run(audit().args(["search", "--server", &servers, "--limit", "3", "-o", "name"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&stdout), ["new-1", "new-0", "old-3"]);
    let token = page_token(&stderr).expect("a token after a full page");

    // `a` was read to its end: an event that reaches it later, older than
    // the page, is not mixed into this listing.
    let late = event(
        "late",
        "2025-05-01T00:00:00Z",
        "eve",
        "get",
        "pods",
        Some("prod"),
        "x",
        200,
    );
    assert_eq!(a.post(&[late]).0, 200);
    a.wait_for("", 3);
    let rest = ok(audit().args([
        "search",
        "--server",
        &servers,
        "--limit",
        "3",
        "-o",
        "name",
        "--page-token",
        &token,
    ]));
    assert_eq!(names(&rest), ["old-2", "old-1", "old-0"]);

    // A token is for the sinks that made it.
    let other = SinkProcess::start();
    let (code, _, stderr) = run(audit().args([
        "search",
        "--server",
        &format!("{},{}", a.url, other.url),
        "--page-token",
        &token,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&b.url) && stderr.contains("--server"),
        "{stderr}"
    );
    let (code, _, stderr) = run(audit().args([
        "search",
        "--server",
        &servers,
        "--page-token",
        "not-a-token",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--page-token"), "{stderr}");
}

#[test]
fn stats_and_who_span_the_sinks() {
    let (a, b, _) = two_sinks();
    let servers = format!("{},{}", a.url, b.url);
    let stats = ok(audit().args([
        "stats",
        "--server",
        &servers,
        "--by",
        "user",
        "--user",
        "alice,bob",
        "-o",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(v["total"], 12, "{v}");
    let counts: Vec<(String, u64)> = v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("alice".to_string(), 6), ("bob".to_string(), 6)]);

    // `--top 1` is the largest of the sums: carol's 4 events are counted in
    // both sinks (8), though alice (6) and bob (6) lead in their own.
    let top = ok(audit().args([
        "stats", "--server", &servers, "--by", "user", "--top", "1", "-o", "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&top).unwrap();
    assert_eq!(v["total"], 20, "{v}");
    assert_eq!(
        v["counts"],
        serde_json::json!([{"value": "carol", "count": 8}]),
        "{v}"
    );

    // who: the object's whole timeline, oldest first, the overlap once.
    let who = ok(audit().args([
        "who",
        "deploy/web",
        "-n",
        "prod",
        "--server",
        &servers,
        "-o",
        "name",
    ]));
    let mut expected: Vec<String> = names(&ok(
        audit().args(["search", "--server", &servers, "-o", "name"])
    ));
    expected.reverse();
    assert_eq!(names(&who), expected);
}

#[test]
fn a_sink_that_is_down_is_named_or_left_out_on_request() {
    let (a, _b, _) = two_sinks();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let servers = format!("{},{dead}", a.url);
    let (code, stdout, stderr) = run(audit().args(["search", "--server", &servers, "-o", "name"]));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains(&dead) && stderr.contains("cannot reach"),
        "{stderr}"
    );

    let (code, stdout, stderr) = run(audit().args([
        "search",
        "--server",
        &servers,
        "--skip-unavailable",
        "-o",
        "name",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(names(&stdout).len(), 10, "{stdout}");
    assert!(
        stderr.contains("warning") && stderr.contains(&dead) && stderr.contains("missing"),
        "{stderr}"
    );

    // --all ends when the sinks that answer do.
    let every = ok(audit().args([
        "search",
        "--server",
        &servers,
        "--skip-unavailable",
        "--all",
        "-o",
        "name",
    ]));
    assert_eq!(names(&every).len(), 10, "{every}");

    let (code, _, stderr) = run(audit().args(["stats", "--server", &servers]));
    assert_eq!(code, 1);
    assert!(stderr.contains(&dead), "{stderr}");
    let stats = ok(audit().args([
        "stats",
        "--server",
        &servers,
        "--skip-unavailable",
        "-o",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(v["total"], 10, "{v}");

    // Import writes to one sink: several are a usage error.
    let log = a.dir.path().join("one.log");
    std::fs::write(&log, "").unwrap();
    let (code, _, stderr) = run(audit().args(["import", "--server", &servers]).arg(&log));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("one --server"), "{stderr}");
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tail_follows_every_sink_and_shows_an_event_once() {
    let a = SinkProcess::start();
    let b = SinkProcess::start();
    let mut child = std::process::Command::new(cargo_bin("kubectl-audit"))
        .args([
            "tail",
            "--server",
            &format!("{},{}", a.url, b.url),
            "-o",
            "name",
        ])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBECTL_AUDIT_SERVER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kubectl-audit tail");
    let lines = line_reader(&mut child);
    let _tail = Running(child);
    let now = || jiff::Timestamp::now().to_string();
    let ev = |id: &str| event(id, &now(), "tailer", "get", "pods", Some("prod"), "x", 200);

    // The streams may still be connecting: post to each sink until both
    // have been heard from (hang detection only: 30 s).
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0;
    while !(seen.iter().any(|s| s.starts_with("warm-a"))
        && seen.iter().any(|s| s.starts_with("warm-b")))
    {
        assert!(
            Instant::now() < deadline,
            "tail printed only {seen:?} in 30 s"
        );
        assert_eq!(a.post(&[ev(&format!("warm-a-{i}"))]).0, 200);
        assert_eq!(b.post(&[ev(&format!("warm-b-{i}"))]).0, 200);
        i += 1;
        while let Ok(line) = lines.recv_timeout(Duration::from_millis(300)) {
            seen.push(line);
        }
    }

    // The same event reaches both sinks; then one event each, which each
    // sink streams after it: once both are printed, both copies came.
    let shared = ev("shared");
    assert_eq!(a.post(std::slice::from_ref(&shared)).0, 200);
    assert_eq!(b.post(&[shared]).0, 200);
    assert_eq!(a.post(&[ev("after-a")]).0, 200);
    assert_eq!(b.post(&[ev("after-b")]).0, 200);
    let mut after = Vec::new();
    while !(after.contains(&"after-a".to_string()) && after.contains(&"after-b".to_string())) {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => after.push(line),
            Err(_) => panic!("tail printed only {after:?} after the shared event (30 s)"),
        }
    }
    assert_eq!(
        after.iter().filter(|l| *l == "shared").count(),
        1,
        "{after:?}"
    );
}
