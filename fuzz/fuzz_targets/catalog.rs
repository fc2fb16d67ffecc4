//! The catalog reader of `kubectl kubeconfig` (`catalog::parse`,
//! `catalog::validate`), then generation from every catalog that validates.
//! Relative file references resolve in `plugins/kubeconfig/examples`. The
//! properties asserted are in `plugins/kubeconfig/tests/support/fuzz_checks.rs`,
//! shared with the regression tests that replay what this target found.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

#[allow(dead_code)]
#[path = "../../plugins/kubeconfig/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fn examples() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/kubeconfig/examples")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::catalog(data, examples()));
