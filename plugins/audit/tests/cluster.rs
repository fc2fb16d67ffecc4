//! Events of several clusters in one sink: `import --audit-cluster`,
//! `--audit-cluster` on search, stats, who, `stats --by cluster`, and the
//! CLUSTER column, against a real `audit-sink`.

mod common;

use common::{SinkProcess, audit, event, ok, run, split_cells};

fn write_log(dir: &std::path::Path, name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn events_of_several_clusters_are_told_apart() {
    let sink = SinkProcess::start();
    let tmp = tempfile::tempdir().unwrap();
    let eu: Vec<String> = (0..3)
        .map(|i| {
            event(
                &format!("eu-{i}"),
                &format!("2025-04-01T10:00:0{i}Z"),
                "alice",
                "delete",
                "deployments",
                Some("prod"),
                "web",
                200,
            )
        })
        .collect();
    let dev: Vec<String> = (0..2)
        .map(|i| {
            event(
                &format!("dev-{i}"),
                &format!("2025-04-01T11:00:0{i}Z"),
                "bob",
                "delete",
                "deployments",
                Some("prod"),
                "web",
                200,
            )
        })
        .collect();
    let eu_log = write_log(tmp.path(), "eu.log", &eu);
    let dev_log = write_log(tmp.path(), "dev.log", &dev);
    for (log, cluster) in [(&eu_log, "prod-eu"), (&dev_log, "dev")] {
        ok(audit()
            .args(["import", "--server", &sink.url, "--audit-cluster", cluster])
            .arg(log));
    }
    sink.wait_for("", 5);

    // Two clusters in the answer: the default table names each row's.
    let table = ok(audit().args(["search", "--server", &sink.url]));
    let mut lines = table.lines();
    assert_eq!(split_cells(lines.next().unwrap())[0], "CLUSTER");
    let clusters: Vec<String> = lines.map(|l| split_cells(l)[0].clone()).collect();
    assert_eq!(clusters, ["dev", "dev", "prod-eu", "prod-eu", "prod-eu"]);

    // One cluster: no CLUSTER column, except in -o wide.
    let table = ok(audit().args([
        "search",
        "--server",
        &sink.url,
        "--audit-cluster",
        "prod-eu",
    ]));
    assert_eq!(table.lines().count(), 4, "{table}");
    assert_eq!(split_cells(table.lines().next().unwrap())[0], "TIME");
    assert!(
        table.lines().skip(1).all(|l| l.contains("alice")),
        "{table}"
    );
    let wide = ok(audit().args([
        "search",
        "--server",
        &sink.url,
        "--audit-cluster",
        "prod-*",
        "-o",
        "wide",
    ]));
    let header = split_cells(wide.lines().next().unwrap());
    assert_eq!(header.last().unwrap(), "CLUSTER");
    assert!(
        wide.lines()
            .skip(1)
            .all(|l| split_cells(l).last().unwrap() == "prod-eu")
    );

    let stats = ok(audit().args([
        "stats", "--server", &sink.url, "--by", "cluster", "-o", "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    let counts: Vec<(String, u64)> = v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["value"].as_str().unwrap().into(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("prod-eu".into(), 3), ("dev".into(), 2)]);

    let who = ok(audit().args([
        "who",
        "deploy/web",
        "-n",
        "prod",
        "--server",
        &sink.url,
        "--audit-cluster",
        "dev",
        "-o",
        "json",
    ]));
    let events: Vec<serde_json::Value> = serde_json::from_str(&who).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["user"]["username"] == "bob"));
    assert!(
        events
            .iter()
            .all(|e| e["annotations"]["audit.kubext.io/cluster"] == "dev")
    );

    // A name that cannot be a cluster is refused before anything is sent.
    let (code, _, err) = run(audit()
        .args([
            "import",
            "--server",
            &sink.url,
            "--audit-cluster",
            "prod.eu",
        ])
        .arg(&eu_log));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("letters, digits"), "{err}");
}
