//! `search`, `stats` and `who` against a real `audit-sink` seeded with the
//! captured events in `testdata/audit/`, in every output format.

mod common;

use std::collections::BTreeSet;

use common::{SinkProcess, audit, event, mask_column, ok, run, seed_events, split_cells};
use serde_json::Value;

fn search(sink: &SinkProcess) -> std::process::Command {
    let mut cmd = audit();
    cmd.args(["search", "--server", &sink.url]);
    cmd
}

/// The seed events matching a predicate, as parsed JSON.
fn expected(pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    seed_events().into_iter().filter(|e| pred(e)).collect()
}

fn audit_ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["auditID"].as_str().unwrap(),
                e["stage"].as_str().unwrap()
            )
        })
        .collect()
}

fn json_array(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(stdout)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}):\n{stdout}"))
}

#[test]
fn search_outputs_every_format() {
    let sink = SinkProcess::seeded();
    let all = seed_events();

    // -o json: one array of the original events, unchanged.
    let stdout = ok(search(&sink).args(["--limit", "1000", "-o", "json"]));
    let got = json_array(&stdout);
    assert_eq!(got.len(), all.len());
    for e in &got {
        assert!(all.contains(e), "an event came back changed: {e}");
    }
    // Newest first.
    let times: Vec<&str> = got
        .iter()
        .map(|e| e["requestReceivedTimestamp"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);

    // -o jsonl: one event per line, the same events.
    let stdout = ok(search(&sink).args(["--limit", "1000", "-o", "jsonl"]));
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, got);

    // -o yaml: a list of the same events.
    let stdout = ok(search(&sink).args(["--limit", "1000", "-o", "yaml"]));
    let yaml: Vec<Value> = serde_saphyr::from_str(&stdout).unwrap();
    assert_eq!(yaml, got);

    // -o name: audit IDs.
    let stdout = ok(search(&sink).args(["--limit", "1000", "-o", "name"]));
    let ids: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        ids,
        got.iter()
            .map(|e| e["auditID"].as_str().unwrap())
            .collect::<Vec<_>>()
    );

    // Table and wide: one row per event plus the header.
    let table = ok(search(&sink).args(["--limit", "1000"]));
    assert_eq!(table.lines().count(), all.len() + 1);
    assert_eq!(
        split_cells(table.lines().next().unwrap()),
        [
            "TIME",
            "USER",
            "VERB",
            "RESOURCE",
            "NAMESPACE/NAME",
            "CODE",
            "SOURCE IP",
            "AGE"
        ]
    );
    let wide = ok(search(&sink).args(["--limit", "1000", "-o", "wide"]));
    assert_eq!(
        split_cells(wide.lines().next().unwrap())[8..],
        ["STAGE", "USER AGENT", "AUDIT ID", "IMPERSONATED", "CLUSTER"]
    );
    assert_eq!(wide.lines().count(), all.len() + 1);
}

#[test]
fn table_snapshots() {
    let sink = SinkProcess::seeded();
    let table = ok(search(&sink).args(["--resource", "deploy", "--verb", "create,delete"]));
    insta::assert_snapshot!(
        "deployments_created_and_deleted",
        mask_column(&table, "AGE")
    );

    let wide = ok(search(&sink).args(["--exec", "-o", "wide"]));
    insta::assert_snapshot!("exec_sessions_wide", mask_column(&wide, "AGE"));

    let stats = ok(audit().args(["stats", "--server", &sink.url, "--by", "user"]));
    insta::assert_snapshot!("stats_by_user", stats);
}

#[test]
fn friendly_flags_select_what_they_say() {
    let sink = SinkProcess::seeded();
    let check = |args: &[&str], want: Vec<Value>| {
        let stdout = ok(search(&sink)
            .args(["--limit", "1000", "-o", "json"])
            .args(args));
        let got = json_array(&stdout);
        // Every flag selects some seed events, so the comparison has teeth.
        assert!(!want.is_empty(), "{args:?} selects no seed event");
        assert_eq!(audit_ids(&got), audit_ids(&want), "{args:?}");
    };
    let obj = |e: &Value, k: &str| e["objectRef"][k].as_str().map(str::to_string);

    check(
        &["--resource", "deploy"],
        expected(|e| obj(e, "resource").as_deref() == Some("deployments")),
    );
    check(
        &["--resource", "cm"],
        expected(|e| obj(e, "resource").as_deref() == Some("configmaps")),
    );
    check(
        &["--resource", "secrets", "--verb", "create"],
        expected(|e| obj(e, "resource").as_deref() == Some("secrets") && e["verb"] == "create"),
    );
    check(
        &["--verb", "delete", "--verb", "patch"],
        expected(|e| e["verb"] == "delete" || e["verb"] == "patch"),
    );
    check(
        &["-n", "kube-system"],
        expected(|e| obj(e, "namespace").as_deref() == Some("kube-system")),
    );
    check(
        &["--user", "system:serviceaccount:*"],
        expected(|e| {
            e["user"]["username"]
                .as_str()
                .unwrap()
                .starts_with("system:serviceaccount:")
        }),
    );
    check(
        &["--group", "system:masters"],
        expected(|e| {
            e["user"]["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|x| x == "system:masters"))
        }),
    );
    check(
        &["--status", "101"],
        expected(|e| e["responseStatus"]["code"] == 101),
    );
    check(
        &["--status", "2xx", "--resource", "clusterroles"],
        expected(|e| {
            let c = e["responseStatus"]["code"].as_i64().unwrap_or(0);
            (200..300).contains(&c) && obj(e, "resource").as_deref() == Some("clusterroles")
        }),
    );
    check(
        &["--exec"],
        expected(|e| {
            matches!(
                obj(e, "subresource").as_deref(),
                Some("exec" | "attach" | "portforward")
            )
        }),
    );
    check(
        &["--subresource", "exec"],
        expected(|e| obj(e, "subresource").as_deref() == Some("exec")),
    );
    check(
        &["--stage", "ResponseStarted"],
        expected(|e| e["stage"] == "ResponseStarted"),
    );
    check(
        &["--name", "nginx-deployment"],
        expected(|e| obj(e, "name").as_deref() == Some("nginx-deployment")),
    );
    // The free-text query is AND-ed with the flags.
    check(
        &[
            "--verb",
            "delete",
            "resource:secrets OR resource:configmaps",
        ],
        expected(|e| {
            e["verb"] == "delete"
                && matches!(
                    obj(e, "resource").as_deref(),
                    Some("secrets" | "configmaps")
                )
        }),
    );
    // Time range on requestReceivedTimestamp.
    let (from, to) = ("2018-10-26T13:00:00Z", "2018-10-26T13:30:00Z");
    check(
        &["--from", from, "--to", to],
        expected(|e| {
            let t = e["requestReceivedTimestamp"].as_str().unwrap();
            t >= from && t < to
        }),
    );
    // Nothing is that recent.
    let (code, stdout, stderr) = run(search(&sink).args(["--since", "1h"]));
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("No events found in the last 1h (since ") && stderr.contains("--since 6h"),
        "{stderr}"
    );
}

#[test]
fn pages_follow_the_page_token() {
    let sink = SinkProcess::seeded();
    let all = seed_events().len();
    let (code, stdout, stderr) = run(search(&sink).args(["--limit", "20", "-o", "jsonl"]));
    assert_eq!(code, 0, "{stderr}");
    let first: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(first.len(), 20);
    let token = stderr
        .split("--page-token ")
        .nth(1)
        .unwrap_or_else(|| panic!("no page token in {stderr:?}"))
        .trim()
        .to_string();
    let mut seen = audit_ids(&first);
    let mut token = Some(token);
    while let Some(t) = token.take() {
        let (code, stdout, stderr) =
            run(search(&sink).args(["--limit", "20", "-o", "jsonl", "--page-token", &t]));
        assert_eq!(code, 0, "{stderr}");
        let page: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for id in audit_ids(&page) {
            assert!(seen.insert(id.clone()), "{id} seen twice");
        }
        token = stderr
            .split("--page-token ")
            .nth(1)
            .map(|s| s.trim().to_string());
    }
    assert_eq!(seen.len(), all);
}

#[test]
fn stats_counts_shares_and_histogram() {
    let sink = SinkProcess::seeded();
    let all = seed_events();
    let stdout = ok(audit().args(["stats", "--server", &sink.url, "--by", "verb", "-o", "json"]));
    let stats: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stats["total"], all.len());
    let deletes = all.iter().filter(|e| e["verb"] == "delete").count();
    let counts = stats["counts"].as_array().unwrap();
    assert!(
        counts
            .iter()
            .any(|c| c["value"] == "delete" && c["count"] == deletes),
        "{stats}"
    );

    let table = ok(audit().args([
        "stats",
        "--server",
        &sink.url,
        "--by",
        "namespace",
        "--top",
        "2",
    ]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(split_cells(lines[0]), ["NAMESPACE", "COUNT", "SHARE"]);
    let default_ns = all
        .iter()
        .filter(|e| e["objectRef"]["namespace"] == "default")
        .count();
    let row = split_cells(lines[1]);
    assert_eq!(row[0], "default");
    assert_eq!(row[1], default_ns.to_string());
    assert_eq!(
        row[2],
        format!("{:.1}%", default_ns as f64 * 100.0 / all.len() as f64)
    );
    assert!(table.contains(&format!("TOTAL   {}", all.len())), "{table}");

    // One day in hourly buckets.
    let out = ok(audit().args([
        "stats",
        "--server",
        &sink.url,
        "--by",
        "resource",
        "--histogram",
        "--interval",
        "1h",
        "--from",
        "2018-10-26T00:00:00Z",
        "--to",
        "2018-10-27T00:00:00Z",
    ]));
    let in_day = all
        .iter()
        .filter(|e| {
            e["requestReceivedTimestamp"]
                .as_str()
                .unwrap()
                .starts_with("2018-10-26")
        })
        .count();
    assert!(out.contains(&format!("TOTAL   {in_day}")), "{out}");
    let bars: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("2018-10-26T"))
        .collect();
    assert!(!bars.is_empty(), "{out}");
    let bucket_sum: usize = bars
        .iter()
        .map(|l| split_cells(l)[1].parse::<usize>().unwrap())
        .sum();
    assert_eq!(bucket_sum, in_day, "{out}");
    assert!(bars.iter().any(|l| l.contains('█')), "{out}");
}

#[test]
fn who_shows_the_life_of_one_object_oldest_first() {
    let sink = SinkProcess::start();
    let web = |id: &str, t: &str, user: &str, verb: &str, code: u16| {
        event(id, t, user, verb, "deployments", Some("prod"), "web", code)
    };
    // Posted out of order; with noise around the object.
    let events = vec![
        web("w-4", "2024-05-01T10:04:00Z", "alice", "delete", 200),
        web("w-1", "2024-05-01T10:01:00Z", "bob", "create", 201),
        web("w-3", "2024-05-01T10:03:00Z", "carol", "get", 200),
        web("w-2", "2024-05-01T10:02:00Z", "ci-bot", "update", 200),
        web("w-0", "2024-05-01T10:00:00Z", "mallory", "create", 403),
        event(
            "n-1",
            "2024-05-01T10:01:30Z",
            "bob",
            "create",
            "deployments",
            Some("staging"),
            "web",
            201,
        ),
        event(
            "n-2",
            "2024-05-01T10:02:30Z",
            "bob",
            "update",
            "deployments",
            Some("prod"),
            "web2",
            200,
        ),
        event(
            "n-3",
            "2024-05-01T10:02:45Z",
            "bob",
            "get",
            "services",
            Some("prod"),
            "web",
            200,
        ),
    ];
    let (status, body) = sink.post(&events);
    assert_eq!(status, 200, "{body}");
    sink.wait_for("", events.len());

    let stdout = ok(audit().args([
        "who",
        "deploy/web",
        "-n",
        "prod",
        "--server",
        &sink.url,
        "-o",
        "json",
    ]));
    let got = json_array(&stdout);
    let ids: Vec<&str> = got.iter().map(|e| e["auditID"].as_str().unwrap()).collect();
    assert_eq!(ids, ["w-0", "w-1", "w-2", "w-3", "w-4"]);

    let table = ok(audit().args([
        "who",
        "deployments.apps",
        "web",
        "-n",
        "prod",
        "--server",
        &sink.url,
    ]));
    insta::assert_snapshot!("who_deploy_web", mask_column(&table, "AGE"));

    // Cluster-scoped and unknown objects.
    let (code, stdout, stderr) =
        run(audit().args(["who", "clusterrole/web", "--server", &sink.url]));
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("No events found for clusterroles/web."),
        "{stderr}"
    );
}
