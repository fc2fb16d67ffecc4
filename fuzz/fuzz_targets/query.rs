//! The search query parser (`audit_api::query::parse_query`), as the sink
//! runs it on the `q` parameter of `/v1/search`, `/v1/stats` and `/v1/follow`.
//! The properties asserted (including `parse(display(q)) == q`) are in
//! `audit-api/tests/support/fuzz_checks.rs`, shared with the regression tests.
#![no_main]

#[allow(dead_code)]
#[path = "../../audit-api/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::query(data));
