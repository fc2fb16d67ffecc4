//! Streaming, importing, credentials and the service proxy, against a real
//! `audit-sink`: `tail` sees an event posted after it started, `search
//! --follow` prints the page then what arrives, `import` sends log files
//! (plain and gzip'd) in batches without duplicates, the sink's 401 names the
//! credential used, and the whole thing works through `kube-test-server`'s
//! service proxy with kubeconfig credentials.

mod common;

use std::io::Write;
use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use common::{SinkProcess, audit, event, line_reader, ok, run, seed_events, seed_lines};
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};
use serde_json::Value;

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(
    args: &[&str],
    extra: impl FnOnce(&mut std::process::Command),
) -> (Running, Receiver<String>) {
    let mut cmd = std::process::Command::new(cargo_bin("kubectl-audit"));
    cmd.args(args)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBECTL_AUDIT_SERVER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    extra(&mut cmd);
    let mut child = cmd.spawn().expect("start kubectl-audit");
    let rx = line_reader(&mut child);
    (Running(child), rx)
}

/// Posts a fresh event for `user` every 300 ms until the stream prints a line
/// (the stream may still be connecting when the first ones go out); returns
/// the event printed and the IDs posted.
fn post_until_seen(sink: &SinkProcess, rx: &Receiver<String>, user: &str) -> (Value, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut posted = Vec::new();
    let mut i = 0;
    while Instant::now() < deadline {
        let id = format!("{user}-{i}");
        i += 1;
        let wanted = event(&id, &now(), user, "get", "secrets", Some("prod"), "db", 200);
        let noise = event(
            &format!("noise-{id}"),
            &now(),
            "someone-else",
            "get",
            "secrets",
            Some("prod"),
            "db",
            200,
        );
        let (status, body) = sink.post(&[noise, wanted]);
        assert_eq!(status, 200, "{body}");
        posted.push(id);
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            return (v, posted);
        }
    }
    panic!(
        "the stream printed nothing in 30 s; sink log:\n{}",
        sink.log()
    );
}

#[test]
fn tail_sees_an_event_posted_after_it_started() {
    let sink = SinkProcess::start();
    let (_tail, rx) = spawn(
        &[
            "tail", "--server", &sink.url, "-o", "jsonl", "--user", "tailer",
        ],
        |_| {},
    );
    let (got, posted) = post_until_seen(&sink, &rx, "tailer");
    assert_eq!(got["user"]["username"], "tailer", "{got}");
    assert!(
        posted.contains(&got["auditID"].as_str().unwrap().to_string()),
        "{got}"
    );
}

#[test]
fn search_follow_prints_the_page_oldest_first_then_new_events() {
    let sink = SinkProcess::start();
    let old = vec![
        event(
            "old-2",
            "2024-05-01T10:02:00Z",
            "follower",
            "get",
            "secrets",
            Some("prod"),
            "db",
            200,
        ),
        event(
            "old-1",
            "2024-05-01T10:01:00Z",
            "follower",
            "get",
            "secrets",
            Some("prod"),
            "db",
            200,
        ),
    ];
    assert_eq!(sink.post(&old).0, 200);
    sink.wait_for("user:follower", 2);
    let (_follow, rx) = spawn(
        &[
            "search", "--follow", "--server", &sink.url, "-o", "json", "--user", "follower",
        ],
        |_| {},
    );
    let first: Vec<String> = (0..2)
        .map(|_| rx.recv_timeout(Duration::from_secs(20)).expect("the page"))
        .collect();
    let ids: Vec<String> = first
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["auditID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["old-1", "old-2"]);
    let (got, posted) = post_until_seen(&sink, &rx, "follower");
    assert!(
        posted.contains(&got["auditID"].as_str().unwrap().to_string()),
        "{got}"
    );
}

#[test]
fn import_sends_plain_and_gzipped_logs_in_batches_without_duplicates() {
    let sink = SinkProcess::start();
    let dir = tempfile::tempdir().unwrap();
    // The captured events (with the invalid placeholder) plus a line that is not JSON.
    let plain = dir.path().join("audit.log");
    let mut text = seed_lines().join("\n");
    text.push_str("\nthis is not json\n");
    std::fs::write(&plain, text).unwrap();
    // 900 generated events, gzip'd as logrotate leaves them.
    let generated: Vec<String> = (0..900)
        .map(|i| {
            let t = jiff::Timestamp::from_second(1_714_557_600 + i)
                .unwrap()
                .to_string();
            event(
                &format!("gen-{i}"),
                &t,
                "importer",
                "list",
                "pods",
                Some("batch"),
                "",
                200,
            )
        })
        .collect();
    let gz = dir.path().join("audit-2024-05-01.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(generated.join("\n").as_bytes()).unwrap();
    enc.finish().unwrap();

    let seeds = seed_events().len();
    let valid_lines = seed_lines()
        .iter()
        .filter(|l| audit_api::Event::from_json(l).is_ok())
        .count();
    // The invalid placeholder and the line that is not JSON.
    let invalid_lines = seed_lines().len() - valid_lines + 1;
    let repeated = valid_lines - seeds;

    let (code, stdout, stderr) = run(audit()
        .args(["import", "--server", &sink.url, "-o", "json"])
        .arg(&plain)
        .arg(&gz));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("audit.log:") && stderr.contains("not JSON"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    // Each event is sent once; what is not an event is reported, not sent.
    let sent = seeds + 900;
    assert_eq!(summary["files"], 2);
    assert_eq!(summary["sent"], sent);
    assert_eq!(summary["skipped"], invalid_lines);
    assert_eq!(summary["rejected"], 0);
    assert_eq!(summary["accepted"], sent);
    // A batch holds the events of one file.
    assert_eq!(
        summary["batches"],
        seeds.div_ceil(400) + 900_usize.div_ceil(400)
    );
    let files = summary["perFile"].as_array().unwrap();
    assert_eq!(files[0]["format"], "apiserver");
    assert_eq!(files[0]["stored"], seeds);
    assert_eq!(files[0]["duplicates"], repeated);
    assert_eq!(files[0]["deadLetters"]["invalid-event"], invalid_lines - 1);
    assert_eq!(files[0]["deadLetters"]["malformed"], 1);
    assert_eq!(files[1]["stored"], 900);
    sink.wait_for("", seeds + 900);

    // Again: the sink keeps one copy of each event.
    let stdout = ok(audit()
        .args(["import", "--server", &sink.url])
        .arg(&plain)
        .arg(&gz));
    assert!(
        stdout.contains(&format!("Imported {sent} events from 2 file(s)")),
        "{stdout}"
    );
    assert!(stdout.starts_with("FILE "), "{stdout}");
    std::thread::sleep(Duration::from_secs(2));
    sink.wait_for("", seeds + 900);
    sink.wait_for("user:importer", 900);
}

#[test]
fn the_sink_refusing_a_credential_says_which_one_without_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("search-tokens");
    std::fs::write(&tokens, "right-search-token\n").unwrap();
    let tokens_arg = tokens.to_str().unwrap().to_string();
    let sink = SinkProcess::start_with(&["--search-token-file", &tokens_arg]);

    let (code, _, stderr) = run(audit().args(["search", "--server", &sink.url]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("refused the request (401) made with no credentials"),
        "{stderr}"
    );
    assert!(stderr.contains("--token-file"), "{stderr}");

    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "wrong-token-value\n").unwrap();
    let (code, _, stderr) = run(audit()
        .args(["search", "--server", &sink.url, "--token-file"])
        .arg(&wrong));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the bearer token from --token-file {}",
            wrong.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-token-value"), "{stderr}");

    let (code, _, stderr) = run(audit()
        .args(["stats", "--server", &sink.url])
        .env("KUBECTL_AUDIT_TOKEN", "env-token-value"));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("$KUBECTL_AUDIT_TOKEN") && !stderr.contains("env-token-value"),
        "{stderr}"
    );

    let right = dir.path().join("right");
    std::fs::write(&right, "right-search-token\n").unwrap();
    let (code, stdout, stderr) = run(audit()
        .args(["search", "--server", &sink.url, "--token-file"])
        .arg(&right));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.is_empty() && stderr.contains("No events found in everything the sink holds"),
        "{stderr}"
    );
}

#[test]
fn through_the_api_servers_service_proxy_with_kubeconfig_credentials() {
    let sink = SinkProcess::seeded();
    let cluster = KubeTestServer::start();
    cluster.add_token("alice-token", User::new("alice"));
    cluster.allow("alice", &["get", "create"], &["services/proxy"], "audit");
    cluster.add_service_proxy("audit", "audit-sink", 9470, sink.addr.clone());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = cluster.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token"));
    let via = |cmd: &mut std::process::Command| {
        cmd.args(["--service", "audit/audit-sink:9470", "--kubeconfig"])
            .arg(&kubeconfig);
    };

    let mut cmd = audit();
    cmd.args(["search", "--limit", "1000", "-o", "json"]);
    via(&mut cmd);
    let events: Vec<Value> = serde_json::from_str(&ok(&mut cmd)).unwrap();
    assert_eq!(events.len(), seed_events().len());

    let mut cmd = audit();
    cmd.args(["stats", "--by", "verb", "-o", "json"]);
    via(&mut cmd);
    let stats: Value = serde_json::from_str(&ok(&mut cmd)).unwrap();
    assert_eq!(stats["total"], seed_events().len());

    let mut cmd = audit();
    cmd.args([
        "who",
        "deploy/nginx-deployment",
        "-n",
        "default",
        "-o",
        "name",
    ]);
    via(&mut cmd);
    assert_eq!(ok(&mut cmd).lines().count(), 2);

    // The context's extension names the service when no flag does.
    let mut config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
    config["contexts"][0]["context"]["extensions"] = serde_json::json!([{"name": "kubext.io/audit-service", "extension": "audit/audit-sink:9470"}]);
    let with_ext = dir.path().join("with-extension.json");
    std::fs::write(&with_ext, config.to_string()).unwrap();
    let stdout = ok(audit()
        .args(["search", "--verb", "delete", "-o", "name"])
        .env("KUBECONFIG", &with_ext));
    let deletes = seed_events()
        .iter()
        .filter(|e| e["verb"] == "delete")
        .count();
    assert_eq!(stdout.lines().count(), deletes);

    // The live stream through the proxy.
    let (_tail, rx) = spawn(
        &[
            "tail",
            "--service",
            "audit/audit-sink:9470",
            "-o",
            "jsonl",
            "--user",
            "proxied",
        ],
        |cmd| {
            cmd.arg("--kubeconfig").arg(&kubeconfig);
        },
    );
    let (got, _) = post_until_seen(&sink, &rx, "proxied");
    assert_eq!(got["user"]["username"], "proxied");

    // Imports go through the proxy too.
    let log = dir.path().join("one.log");
    std::fs::write(
        &log,
        event(
            "via-proxy",
            &now(),
            "importer",
            "get",
            "pods",
            Some("x"),
            "p",
            200,
        ),
    )
    .unwrap();
    let mut cmd = audit();
    cmd.arg("import").arg(&log);
    via(&mut cmd);
    assert!(ok(&mut cmd).contains("1 accepted"));
    sink.wait_for("auditid:via-proxy", 1);

    // Every request went through the API server as alice.
    let proxied: Vec<_> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/services/audit-sink:9470/proxy/"))
        .collect();
    assert!(!proxied.is_empty());
    assert!(
        proxied.iter().all(|r| r.user.as_deref() == Some("alice")),
        "{proxied:?}"
    );
}

#[cfg(feature = "index")]
#[test]
fn index_mode_reads_a_copied_data_directory_without_a_server() {
    let sink = SinkProcess::seeded();
    let data = sink.dir.path().join("data");
    let copy = tempfile::tempdir().unwrap();
    // Copy it while the sink runs, as one would copy evidence off a live node.
    copy_dir(&data, copy.path());
    let stdout = ok(audit()
        .args(["search", "--limit", "1000", "-o", "json", "--index"])
        .arg(copy.path()));
    let events: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(events.len(), seed_events().len());
    let stdout = ok(audit()
        .args(["stats", "--by", "user", "-o", "json", "--index"])
        .arg(copy.path()));
    let stats: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stats["total"], seed_events().len());
    let (code, _, stderr) = run(audit().args(["tail", "--index"]).arg(copy.path()));
    assert_eq!(code, 2, "{stderr}");
}

#[cfg(feature = "index")]
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
