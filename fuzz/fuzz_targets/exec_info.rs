//! The `KUBERNETES_EXEC_INFO` reader and `ExecCredential` writer of
//! `kubectl oidc-login` (`src/exec_credential.rs`, compiled in here as is).
//!
//! Input: the first line is the `KUBERNETES_EXEC_INFO` JSON, the second the
//! token, the next 8 bytes (if any) the expiry in Unix seconds.
//!
//! Asserts: no panic; an accepted ExecInfo answers in v1 or v1beta1; the
//! ExecCredential written is JSON with that apiVersion, the token unchanged
//! and `spec.interactive` as kubectl asked, and kubectl's own reading of it
//! (as KUBERNETES_EXEC_INFO-style JSON) gives back the same version.
#![no_main]

#[allow(dead_code)]
#[path = "../../plugins/oidc-login/src/exec_credential.rs"]
mod exec_credential;

use exec_credential::{ExecInfo, V1, V1BETA1, render};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let info = parts.next().unwrap_or_default();
    let token = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    let (Ok(info), Ok(token)) = (std::str::from_utf8(info), std::str::from_utf8(token)) else {
        return;
    };
    let exp = rest
        .get(..8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")));

    let Ok(parsed) = ExecInfo::parse(info) else {
        return;
    };
    assert!(parsed.api_version == V1 || parsed.api_version == V1BETA1);

    let out = render(&parsed, token, exp);
    let json: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("ExecCredential is not JSON ({e}): {out}"));
    assert_eq!(json["kind"], "ExecCredential");
    assert_eq!(json["apiVersion"], parsed.api_version.as_str());
    assert_eq!(json["status"]["token"], token);
    assert_eq!(
        json["spec"]["interactive"],
        parsed.interactive.unwrap_or(false)
    );
    if let Some(ts) = json["status"].get("expirationTimestamp") {
        let ts = ts.as_str().expect("expirationTimestamp is a string");
        let t: jiff::Timestamp = ts
            .parse()
            .unwrap_or_else(|e| panic!("expirationTimestamp {ts:?} is not RFC 3339: {e}"));
        assert_eq!(Some(t.as_second()), exp, "expirationTimestamp {ts:?}");
    }
    let again = ExecInfo::parse(&out).expect("our own ExecCredential reads back");
    assert_eq!(again.api_version, parsed.api_version);
    assert_eq!(again.interactive, Some(parsed.interactive.unwrap_or(false)));
});
