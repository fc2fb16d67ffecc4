//! `cargo xtask bench search` on a small generated corpus: the real sink
//! (dev build) imports it and answers every question with exactly the events
//! `jq` and `rg` find; the run fails otherwise. Without jq or rg it is skipped
//! on a workstation and fails in CI (`CI=true`), where `cargo xtask test`
//! installs both.

mod common;

use std::process::Command;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

#[test]
fn small_search_bench_agrees_with_jq_and_rg() {
    if !on_path("jq") || !on_path("rg") {
        let why = "needs jq and rg on PATH (apt-get install jq ripgrep; `cargo xtask test` installs them when run as root)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return;
    }
    let ws = common::workspace();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.md");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&ws.root)
        .args([
            "bench",
            "search",
            "--dev",
            "--events",
            "3000",
            "--seed",
            "11",
            "--page-runs",
            "3",
            "--full-runs",
            "2",
            // Some user/hour pair that surely has events at this size.
            "--namespace",
            "default",
        ])
        .arg("--work-dir")
        .arg(dir.path())
        .arg("--report")
        .arg(&report)
        .output()
        .expect("run xtask bench search");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let report = std::fs::read_to_string(&report).expect("report written");
    assert!(report.contains("3000 events"), "{report}");
    let rows: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| query"))
        .collect();
    // One row per question the benchmark asks.
    let asked = xtask::bench::questions("u", "2026-11-04T13", "default", "w")
        .unwrap()
        .len();
    assert_eq!(rows.len(), asked, "{report}");
    // Every question found something at this size, so the comparison had teeth.
    for row in rows {
        let matches: u64 = row.split('|').nth(2).unwrap().trim().parse().unwrap();
        assert!(matches > 0, "no match for {row}");
    }
}
