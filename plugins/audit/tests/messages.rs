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
fn import_summary_names_the_dead_letters_command_the_sink_has() {
    let sink = SinkProcess::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.log");
    // The seed lines hold one invalid placeholder the sink rejects.
    std::fs::write(&file, seed_lines().join("\n")).unwrap();
    let (code, stdout, stderr) = run(audit()
        .args(["import", "--server", &sink.url, "--no-progress"])
        .arg(&file));
    assert_eq!(code, 0, "{stderr}");
    let all = format!("{stdout}{stderr}");
    let named = all
        .split('`')
        .find(|s| s.starts_with("audit-sink "))
        .unwrap_or_else(|| panic!("no audit-sink command named:\n{all}"));
    let args: Vec<&str> = named.split_whitespace().skip(1).collect();
    // The command exists (its --help succeeds) and reads the sink's data directory.
    let out = std::process::Command::new(sink_binary())
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`{named}` is not an audit-sink command: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(sink_binary())
        .args(&args)
        .arg("--data-dir")
        .arg(sink.dir.path().join("data"))
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
