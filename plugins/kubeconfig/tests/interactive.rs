//! The interactive multi-select of `generate`, driven through a real
//! pseudo-terminal (util-linux `script`), and its absence off a terminal.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn on_a_terminal_the_contexts_are_chosen_interactively() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out_file = home.path().join("chosen.yaml");
    let bin = assert_cmd::cargo::cargo_bin("kubectl-kubeconfig");
    let command = format!(
        "env NO_COLOR=1 HOME='{}' '{}' generate --catalog '{}' -f '{}'",
        home.path().display(),
        bin.display(),
        examples().join("catalog.yaml").display(),
        out_file.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // space selects the first context, two arrows down, space selects the
    // third, enter confirms.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b" \x1b[B\x1b[B \r")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("Contexts to generate"), "{screen}");
    let doc = read(&out_file);
    assert_eq!(
        names(&doc, "contexts"),
        ["prod-eu-1-payments", "staging-payments"]
    );
}

#[test]
fn off_a_terminal_everything_is_generated() {
    let home = tempfile::tempdir().unwrap();
    let out = plugin(home.path())
        .env("ACME_CI_CLIENT_SECRET", "x")
        .args(["generate", "-o", "json", "--catalog"])
        .arg(examples().join("catalog.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names(&parse(&stdout(&out)), "contexts").len(), 9);
}
