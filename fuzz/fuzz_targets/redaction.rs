//! Redaction of Secret data and tokens (`audit_api::redact`), as every ingest
//! path of the sink runs it before storing an event. The properties (no
//! secret value survives, whatever the shape the input picks) are in
//! `audit-api/tests/support/fuzz_checks.rs`, shared with the regression tests.
#![no_main]

#[allow(dead_code)]
#[path = "../../audit-api/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::redaction(data));
