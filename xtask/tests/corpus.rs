//! `cargo xtask corpus`: the same seed gives byte-identical files, another seed
//! a different one, and every line is an audit event the sink accepts, built
//! from the real events of `testdata/audit`.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

fn corpus(dir: &Path, name: &str, seed: &str, events: &str) -> Vec<u8> {
    let out = dir.join(name);
    let ws = common::workspace();
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&ws.root)
        .args(["corpus", "--events", events, "--seed", seed, "--out"])
        .arg(&out)
        .output()
        .expect("run xtask corpus");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The one invalid real event is skipped, and said so.
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("fal_01_003.json"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(out).expect("corpus written")
}

#[test]
fn same_seed_same_bytes_and_every_line_is_a_valid_event() {
    let dir = tempfile::tempdir().unwrap();
    let a = corpus(dir.path(), "a.jsonl", "7", "4000");
    let b = corpus(dir.path(), "b.jsonl", "7", "4000");
    let c = corpus(dir.path(), "c.jsonl", "8", "4000");
    assert!(a == b, "the same seed must give byte-identical corpora");
    assert!(a != c, "another seed must give another corpus");

    let text = String::from_utf8(a).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4000);
    let mut keys = HashSet::new();
    let mut users = HashSet::new();
    let mut namespaces = HashSet::new();
    let mut previous = String::new();
    let mut forbidden = 0;
    for line in &lines {
        let e = audit_api::Event::from_json(line)
            .unwrap_or_else(|err| panic!("invalid event ({err}): {line}"));
        assert!(keys.insert(e.dedup_key()), "duplicate key: {line}");
        users.insert(e.user.username.clone());
        if let Some(ns) = e.object_ref.as_ref().and_then(|o| o.namespace.clone()) {
            namespaces.insert(ns);
        }
        if e.code() == Some(403) {
            forbidden += 1;
        }
        // Written in time order, as an apiserver's log is.
        let received = e.request_received_timestamp.clone().unwrap();
        assert!(received >= previous, "out of order: {line}");
        previous = received;
        // The rare word lives only inside requestObject.
        if line.contains(xtask::corpus::RARE_WORD) {
            let obj = e
                .request_object
                .as_ref()
                .expect("requestObject")
                .to_string();
            assert!(obj.contains(xtask::corpus::RARE_WORD), "{line}");
        }
    }
    assert!(users.len() >= 20, "users vary: {users:?}");
    assert!(namespaces.len() >= 15, "namespaces vary: {namespaces:?}");
    assert!(
        (10..200).contains(&forbidden),
        "about 1% answered 403: {forbidden}"
    );
}
