//! The real binary in a pseudo-terminal: the interactive key and secret
//! pickers, and values interpreted by default on a terminal.

mod common;

use std::time::Duration;

use common::Fixture;
use expectrl::session::OsSession as Session;
use expectrl::{Eof, Expect};

const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";

fn spawn(f: &Fixture, args: &[&str]) -> Session {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin(common::BIN));
    cmd.arg("--kubeconfig")
        .arg(&f.alice)
        .args(args)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("HOME", f.dir.path())
        .env_remove("KUBECONFIG")
        .env_remove("RUST_LOG");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

/// Everything the program still prints until it exits, and its exit status.
fn finish(mut session: Session) -> (String, bool) {
    let rest = session.expect(Eof).expect("the program ends");
    let mut text = String::from_utf8_lossy(rest.get(0).unwrap_or_default()).into_owned();
    let status = session.get_process().wait().expect("wait");
    let ok = matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0));
    if !ok {
        text.push_str(&format!("\n[exit: {status:?}]"));
    }
    (text, ok)
}

#[test]
fn the_key_picker_shows_the_chosen_key() {
    let f = Fixture::new();
    let mut session = spawn(&f, &["db-credentials"]);
    session.expect("has 2 keys: choose one").unwrap();
    session.expect("username").unwrap();
    session.send(DOWN).unwrap();
    session.send(ENTER).unwrap();
    let (text, ok) = finish(session);
    assert!(ok, "{text}");
    assert!(text.contains("admin"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn the_key_picker_offers_all_keys() {
    let f = Fixture::new();
    let mut session = spawn(&f, &["db-credentials"]);
    session.expect("(all keys)").unwrap();
    session.send(DOWN).unwrap();
    session.send(DOWN).unwrap();
    session.send(ENTER).unwrap();
    let (text, ok) = finish(session);
    assert!(ok, "{text}");
    assert!(text.contains("password='hunter2'"), "{text}");
    assert!(text.contains("username='admin'"), "{text}");
}

#[test]
fn without_a_name_a_secret_is_picked_first() {
    let f = Fixture::new();
    let mut session = spawn(&f, &[]);
    session.expect("secrets: choose one").unwrap();
    session.expect("api-key").unwrap();
    // api-key is first (sorted) and has a single key.
    session.send(ENTER).unwrap();
    let (text, ok) = finish(session);
    assert!(ok, "{text}");
    assert!(text.contains("tok-123456"), "{text}");
}

#[test]
fn a_terminal_gets_certificates_and_binary_values_explained() {
    let f = Fixture::new();
    let session = spawn(&f, &["app-tls", "tls.crt"]);
    let (text, ok) = finish(session);
    assert!(ok, "{text}");
    assert!(text.contains("Certificate 1 of 2 (leaf)"), "{text}");
    assert!(text.contains("Chain order: ok"), "{text}");
    assert!(!text.contains("BEGIN CERTIFICATE"), "{text}");

    let session = spawn(&f, &["blob", "keystore.p12"]);
    let (text, ok) = finish(session);
    assert!(ok, "{text}");
    assert!(text.contains("binary value, 8 bytes"), "{text}");

    let session = spawn(&f, &["app-tls", "tls.crt", "--raw"]);
    let (text, _) = finish(session);
    assert!(text.contains("BEGIN CERTIFICATE"), "{text}");
}
