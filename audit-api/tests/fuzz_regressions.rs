//! Replays the inputs of the `event_list` and `query` fuzz targets through the
//! same checks the fuzzers assert (`tests/support/fuzz_checks.rs`): every
//! input a fuzzer (or review) found a bug with (`tests/fuzz-regressions/<target>/`)
//! and the targets' seeds (`fuzz/seeds/<target>/`).

#[path = "support/fuzz_checks.rs"]
mod fuzz_checks;

use std::path::{Path, PathBuf};

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let regressions = root.join("tests/fuzz-regressions").join(target);
    let seeds = root.join("../fuzz/seeds").join(target);
    let mut files: Vec<PathBuf> = [&regressions, &seeds]
        .into_iter()
        .filter(|d| d.is_dir())
        .flat_map(|d| std::fs::read_dir(d).expect("readable directory"))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.iter().any(|f| f.starts_with(&regressions)),
        "no regression inputs in {}",
        regressions.display()
    );
    for file in files {
        let input = std::fs::read(&file).expect("input file");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        assert!(
            outcome.is_ok(),
            "{} fails the {target} checks",
            file.display()
        );
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

#[test]
fn redaction_inputs() {
    replay("redaction", fuzz_checks::redaction);
}
