//! The body of `POST /v1/events`, decoded exactly as the sink does it
//! (`audit_api::event::decode_batch`: the list, then each item on its own).
//! The properties asserted are in `audit-api/tests/support/fuzz_checks.rs`,
//! shared with the regression tests that replay what this target found.
#![no_main]

#[allow(dead_code)]
#[path = "../../audit-api/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

libfuzzer_sys::fuzz_target!(|body: &[u8]| fuzz_checks::event_list(body));
