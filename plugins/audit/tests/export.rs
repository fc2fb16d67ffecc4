//! `kubectl audit search --all`: every matching event, each exactly once,
//! newest first, streamed page after page, in every output format.

mod common;

use std::collections::HashSet;
use std::process::Stdio;

use common::{SinkProcess, audit, http, run};

/// Matching events (the issue asks for at least 200 000).
const MATCHING: usize = 200_000;
/// Events the query must leave out.
const OTHERS: usize = 2_000;
/// Events per posted EventList.
const BATCH: usize = 5_000;

/// A small Metadata-level event, one millisecond after the previous one.
fn event(i: usize, verb: &str) -> String {
    let micros = 1_714_557_600_000_000u64 + i as u64 * 1_000;
    let ts = jiff::Timestamp::from_microsecond(micros as i64).unwrap();
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{i:08x}-0000-4000-8000-000000000000","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/pods/web-{i}","verb":"{verb}","user":{{"username":"system:serviceaccount:ci:bot"}},"sourceIPs":["10.0.0.7"],"objectRef":{{"resource":"pods","namespace":"prod","name":"web-{i}","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":200}},"requestReceivedTimestamp":"{ts}","stageTimestamp":"{ts}"}}"#
    )
}

fn ids_of_lines(stdout: &str) -> Vec<String> {
    stdout.lines().map(str::to_string).collect()
}

#[test]
fn all_streams_every_matching_event_exactly_once() {
    let sink = SinkProcess::start();
    let total = MATCHING + OTHERS;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..total {
        // Every hundredth event is a list: the query leaves those out.
        let verb = if i % 101 == 100 && i / 101 < OTHERS {
            "list"
        } else {
            "get"
        };
        batch.push(event(i, verb));
        if batch.len() == BATCH || i + 1 == total {
            let body = format!(r#"{{"kind":"EventList","items":[{}]}}"#, batch.join(","));
            let (status, answer) =
                http(&sink.url, "POST", audit_api::EVENTS_PATH, Some(body)).unwrap();
            assert_eq!(status, 200, "{answer}");
            batch.clear();
        }
    }
    let matching = (0..total)
        .filter(|i| !(i % 101 == 100 && i / 101 < OTHERS))
        .count();
    assert_eq!(matching, MATCHING);
    sink.wait_for("verb:list", OTHERS);

    let search = |format: &str| {
        let out = audit()
            .args([
                "search", "--all", "verb:get", "--server", &sink.url, "-o", format,
            ])
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Not a terminal: no progress line.
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };

    // name: one audit ID per line, each matching event once, newest first.
    let ids = ids_of_lines(&search("name"));
    assert_eq!(ids.len(), MATCHING);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), MATCHING, "an event came twice");
    let numbers: Vec<usize> = ids
        .iter()
        .map(|id| usize::from_str_radix(&id[..8], 16).unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(
        numbers
            .iter()
            .all(|i| !(i % 101 == 100 && i / 101 < OTHERS))
    );

    // jsonl: the events themselves.
    let jsonl = search("jsonl");
    let mut n = 0;
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["verb"], "get");
        n += 1;
    }
    assert_eq!(n, MATCHING);

    // json: one array.
    let json: Vec<serde_json::Value> = serde_json::from_str(&search("json")).unwrap();
    assert_eq!(json.len(), MATCHING);
    assert_eq!(json[0]["auditID"].as_str().unwrap(), ids[0]);

    // --limit keeps its meaning of one page.
    let (code, stdout, _) = run(audit().args([
        "search", "verb:get", "--server", &sink.url, "-o", "name", "--limit", "10",
    ]));
    assert_eq!(code, 0);
    assert_eq!(ids_of_lines(&stdout), ids[..10]);
}

#[test]
fn all_in_yaml_and_a_table_and_nothing_found() {
    let sink = SinkProcess::start();
    let events: Vec<String> = (0..2500).map(|i| event(i, "get")).collect();
    let body = format!(r#"{{"kind":"EventList","items":[{}]}}"#, events.join(","));
    assert_eq!(
        http(&sink.url, "POST", audit_api::EVENTS_PATH, Some(body))
            .unwrap()
            .0,
        200
    );
    sink.wait_for("", 2500);
    let (code, stdout, stderr) =
        run(audit().args(["search", "--all", "--server", &sink.url, "-o", "yaml"]));
    assert_eq!(code, 0, "{stderr}");
    let list: Vec<serde_json::Value> = serde_saphyr::from_str(&stdout).unwrap();
    assert_eq!(list.len(), 2500);
    let (code, stdout, _) = run(audit().args(["search", "--all", "--server", &sink.url]));
    assert_eq!(code, 0);
    assert_eq!(
        stdout.lines().count(),
        2501,
        "a header and one row per event"
    );
    assert!(stdout.starts_with("TIME"));
    let (code, stdout, stderr) =
        run(audit().args(["search", "--all", "verb:delete", "--server", &sink.url]));
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("No events found"), "{stderr}");
    let (_, stdout, _) = run(audit().args([
        "search",
        "--all",
        "verb:delete",
        "--server",
        &sink.url,
        "-o",
        "json",
    ]));
    assert_eq!(stdout, "[]\n");
    // --all pages through everything: --limit and --follow do not go with it.
    let (code, _, stderr) =
        run(audit().args(["search", "--all", "--limit", "5", "--server", &sink.url]));
    assert_eq!(code, 2, "{stderr}");
}
