//! Replays the inputs of the `catalog` and `merge` fuzz targets through the
//! same checks the fuzzers assert (`tests/support/fuzz_checks.rs`): their
//! seeds (`fuzz/seeds/<target>/`) and every input a fuzzer found a bug with
//! (`tests/fuzz-regressions/<target>/`, when there is one).

#[path = "support/fuzz_checks.rs"]
mod fuzz_checks;

use std::path::{Path, PathBuf};

fn replay(target: &str, check: &dyn Fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = [
        root.join("tests/fuzz-regressions").join(target),
        root.join("../../fuzz/seeds").join(target),
    ];
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter(|d| d.is_dir())
        .flat_map(|d| std::fs::read_dir(d).expect("readable directory"))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs for {target}");
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
fn catalog_inputs() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    replay("catalog", &|input| fuzz_checks::catalog(input, &examples));
}

#[test]
fn merge_inputs() {
    replay("merge", &fuzz_checks::merge);
}
