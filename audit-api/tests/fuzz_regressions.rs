//! Replays every input the fuzz targets under `fuzz/` found a bug with
//! (`tests/fuzz-regressions/<target>/`) through the same checks the fuzzers
//! assert (`tests/support/fuzz_checks.rs`).

#[path = "support/fuzz_checks.rs"]
mod fuzz_checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    for file in files {
        let input = std::fs::read(&file).expect("regression input");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        assert!(outcome.is_ok(), "{} fails again", file.display());
    }
}

#[test]
fn event_list_inputs() {
    replay("event_list", fuzz_checks::event_list);
}

#[test]
fn query_inputs() {
    replay("query", fuzz_checks::query);
}
