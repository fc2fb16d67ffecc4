//! `kubectl audit import` against a real `audit-sink`: the per-file summary
//! counts as duplicates the events the sink already had, not only those seen
//! earlier in the same run, so importing a file again reports all of it as
//! duplicates and stores nothing.

mod common;

use common::{SinkProcess, audit, event, ok};
use serde_json::Value;

fn import_json(sink: &SinkProcess, files: &[&std::path::Path]) -> Value {
    let mut cmd = audit();
    cmd.args([
        "import",
        "--no-progress",
        "--server",
        &sink.url,
        "-o",
        "json",
    ]);
    for f in files {
        cmd.arg(f);
    }
    serde_json::from_str(&ok(&mut cmd)).unwrap()
}

fn write_log(path: &std::path::Path, first: usize, n: usize) {
    let lines: Vec<String> = (first..first + n)
        .map(|i| {
            event(
                &format!("5c9a1d2e-0000-4000-8000-{i:012}"),
                &format!("2024-05-01T10:{:02}:{:02}.000000Z", i / 60 % 60, i % 60),
                "importer",
                "get",
                "pods",
                Some("prod"),
                &format!("web-{i}"),
                200,
            )
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn importing_a_file_again_reports_every_event_as_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkProcess::start();
    let first = dir.path().join("audit-1.log");
    let second = dir.path().join("audit-2.log");
    write_log(&first, 0, 1000);
    // Overlaps the first file by 200 events (a rotated log read twice).
    write_log(&second, 800, 500);

    let summary = import_json(&sink, &[&first]);
    let f = &summary["perFile"][0];
    assert_eq!(f["stored"], 1000, "{summary}");
    assert_eq!(f["duplicates"], 0, "{summary}");
    sink.wait_for("user:importer", 1000);

    // The same file in a new run: the sink already has every event.
    let again = import_json(&sink, &[&first]);
    let f = &again["perFile"][0];
    assert_eq!(f["stored"], 0, "{again}");
    assert_eq!(f["duplicates"], 1000, "{again}");

    // A file that partly overlaps, then the first again in the same run:
    // each file's own counts.
    let both = import_json(&sink, &[&second, &first]);
    let files = both["perFile"].as_array().unwrap();
    assert_eq!(files[0]["stored"], 300, "{both}");
    assert_eq!(files[0]["duplicates"], 200, "{both}");
    assert_eq!(files[1]["stored"], 0, "{both}");
    assert_eq!(files[1]["duplicates"], 1000, "{both}");
    sink.wait_for("user:importer", 1300);

    // The table says the same.
    let table = ok(audit()
        .args(["import", "--no-progress", "--server", &sink.url])
        .arg(&second));
    let row = table
        .lines()
        .find(|l| l.contains("audit-2.log"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells = common::split_cells(row);
    assert_eq!(cells[2..4], ["0", "500"], "{table}");
}
