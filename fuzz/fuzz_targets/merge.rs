//! The kubeconfig merger of `kubectl kubeconfig merge` (`merge::parse_document`,
//! `merge::plan`) on two arbitrary documents: byte 0 bit 0 is `--overwrite`,
//! the rest is the target and the source split at the first NUL byte. The
//! property asserted (never lose an unrelated entry, …) is in
//! `plugins/kubeconfig/tests/support/fuzz_checks.rs`, shared with the
//! regression tests that replay what this target found.
#![no_main]

#[allow(dead_code)]
#[path = "../../plugins/kubeconfig/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::merge(data));
