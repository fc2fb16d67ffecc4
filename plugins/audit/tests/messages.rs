//! What `kubectl audit` tells people when there is nothing to show or
//! something to look at elsewhere: the range it searched and how to widen
//! it, and the sink command that shows rejected events.

mod common;

use common::{SinkProcess, audit, run, seed_lines, sink_binary};

#[test]
fn no_result_names_the_range_searched_and_how_to_widen_it() {
    let sink = SinkProcess::seeded();
    // The captured events are from 2018: nothing in the last 2 hours.
    let (code, stdout, stderr) = run(audit().args([
        "search", "--server", &sink.url, "--since", "2h", "-n", "default",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("No events found in namespace default in the last 2h (since "),
        "{stderr}"
    );
    assert!(stderr.contains("--since 6h"), "{stderr}");

    let (code, _, stderr) = run(audit().args([
        "search",
        "--server",
        &sink.url,
        "--from",
        "2018-01-01T00:00:00Z",
        "--to",
        "2018-02-01T00:00:00Z",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("between 2018-01-01T00:00:00Z and 2018-02-01T00:00:00Z")
            && stderr.contains("--since")
            && stderr.contains("--until"),
        "{stderr}"
    );

    // Widening as told finds the events.
    let (code, stdout, stderr) = run(audit().args([
        "search", "--server", &sink.url, "--since", "3650d", "-n", "default", "-o", "name",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.is_empty(), "{stderr}");

    // Machine-readable output stays machine-readable: an empty array, no prose on stdout.
    let (code, stdout, _) = run(audit().args([
        "search", "--server", &sink.url, "--since", "2h", "-o", "json",
    ]));
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), "[]");
}

#[test]
fn import_summaries_keep_and_name_the_dead_letters() {
    let sink = SinkProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    // The seed lines hold one invalid placeholder (`{"kind": 0}`).
    std::fs::write(&file, seed_lines().join("\n")).unwrap();

    // kubectl audit import: the placeholder is not sent; the warning says why and
    // --dead-letters keeps it verbatim.
    let kept = dir.path().join("dead.jsonl");
    let (code, stdout, stderr) = run(audit()
        .args([
            "import",
            "--server",
            &sink.url,
            "--no-progress",
            "--dead-letters",
        ])
        .arg(&kept)
        .arg(&file));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("not stored, invalid-event") && stdout.contains("1 record(s) not sent"),
        "{stdout}{stderr}"
    );
    let kept = std::fs::read_to_string(&kept).unwrap();
    assert_eq!(kept.lines().count(), 1, "{kept}");
    assert!(
        kept.contains("invalid-event") && kept.contains("kind"),
        "{kept}"
    );

    // audit-sink import keeps it in the data directory's dead-letter log and
    // names the command that shows it; that command exists and shows it.
    let data = dir.path().join("data");
    let out = std::process::Command::new(sink_binary())
        .args(["import", "--no-progress", "--data-dir"])
        .arg(&data)
        .arg(&file)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(all.contains("(audit-sink dead-letters)"), "{all}");
    let out = std::process::Command::new(sink_binary())
        .args(["dead-letters", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("kind"),
        "the rejected placeholder is shown: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
