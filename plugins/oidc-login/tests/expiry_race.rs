//! 50 kubectl processes at once while the cached token expires under them:
//! the first ones are served the cached token, the token's expiry passes while
//! the rest start, and exactly one of them refreshes it (the public client's
//! refresh tokens rotate, so a second refresh would be refused); nobody logs
//! in again, and every process hands out a token that the provider's JWKS
//! verifies and that was still valid when the process started.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

const PROCESSES: usize = 50;
/// Lifetime of the fixture's id_tokens.
const TOKEN_TTL: u64 = 8;
/// Half of the processes start during this last stretch of the token's life.
const SPREAD: Duration = Duration::from_secs(1);
/// ... and stop starting this long before its expiry: one started at the
/// very end, delayed by a loaded machine, would read the cache after the
/// expiry and refresh alone before the others start, leaving no race.
const GUARD: Duration = Duration::from_millis(300);

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Checks an RS256 JWT's signature against the provider's JWKS, its issuer
/// and audience; returns its claims.
fn verify(jwt: &str, jwks: &serde_json::Value, issuer: &str, audience: &str) -> serde_json::Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS in compact form");
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's kid is in the JWKS");
    let component = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    let public = ring::signature::RsaPublicKeyComponents {
        n: component("n"),
        e: component("e"),
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        )
        .expect("the signature verifies against the provider's JWKS");
    let claims = claims(jwt);
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], audience);
    assert_eq!(claims["sub"], ALICE.id);
    claims
}

#[test]
fn fifty_processes_across_the_expiry_refresh_once() {
    let setup = Setup::new(OidcProvider::builder().id_token_ttl(TOKEN_TTL));
    let mut args = setup.password_args();
    // Serve the cached token until its very expiry, so the expiry falls inside the run.
    args.push("--token-refresh-margin=0s".into());
    let (first, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let first_token = token_of(&first);
    let exp_ms = claims(&first_token)["exp"].as_i64().unwrap() * 1000;
    let jwks: serde_json::Value =
        serde_json::from_str(&setup.provider.jwks_json().unwrap()).unwrap();

    let start_ms = exp_ms - SPREAD.as_millis() as i64;
    let now = unix_ms(SystemTime::now());
    assert!(
        start_ms > now,
        "the login took longer than {TOKEN_TTL}s - {SPREAD:?}"
    );
    std::thread::sleep(Duration::from_millis((start_ms - now) as u64));

    let before = setup.provider.stats().unwrap();
    // Half of them one after another during the token's last second (up to
    // GUARD before the expiry), the other half all at once just after its
    // expiry, so that they race for the refresh.
    let gap = (SPREAD - GUARD) / (PROCESSES / 2) as u32;
    let mut children: Vec<(SystemTime, Child)> = Vec::with_capacity(PROCESSES);
    for i in 0..PROCESSES {
        if i < PROCESSES / 2 {
            std::thread::sleep(gap);
        } else if i == PROCESSES / 2 {
            let now = unix_ms(SystemTime::now());
            if now < exp_ms + 20 {
                std::thread::sleep(Duration::from_millis((exp_ms + 20 - now) as u64));
            }
        }
        let started = SystemTime::now();
        let child = plugin(&args, EXEC_INFO_V1_NONINTERACTIVE)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push((started, child));
    }
    let mut tokens: BTreeMap<String, usize> = BTreeMap::new();
    let mut waited = 0;
    for (started, child) in children {
        let out = child.wait_with_output().unwrap();
        let stderr = stderr_of(&out);
        assert!(out.status.success(), "get-token failed: {stderr}");
        assert!(
            !stderr.contains("logging in again"),
            "no refresh failed: {stderr}"
        );
        if stderr.contains("Waiting for another kubectl-oidc_login") {
            waited += 1;
        }
        let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let token = token_of(&credential);
        let claims = verify(
            &token,
            &jwks,
            setup.provider.issuer(),
            setup.provider.public_client_id(),
        );
        // Valid when the process started (exp has second precision).
        let exp = claims["exp"].as_i64().unwrap();
        assert!(
            exp > unix_ms(started) / 1000,
            "a process that started at {} ms got a token that expired at {exp} s",
            unix_ms(started)
        );
        assert_eq!(
            credential["status"]["expirationTimestamp"],
            jiff::Timestamp::from_second(exp).unwrap().to_string()
        );
        *tokens.entry(token).or_default() += 1;
    }

    let after = setup.provider.stats().unwrap();
    let delta = |grant: &str| after.token_requests_for(grant) - before.token_requests_for(grant);
    assert_eq!(
        delta("refresh_token"),
        1,
        "exactly one refresh reached the provider"
    );
    assert_eq!(
        after.grants_for("refresh_token") - before.grants_for("refresh_token"),
        1
    );
    assert_eq!(delta("password"), 0, "no second login");
    assert_eq!(
        after.authorization_requests(),
        before.authorization_requests()
    );
    assert_eq!(
        after.token_requests_total() - before.token_requests_total(),
        1,
        "nothing else at the token endpoint"
    );
    assert_eq!(tokens.len(), 2, "the cached token, then the refreshed one");
    let served_cached = tokens.get(&first_token).copied().unwrap_or(0);
    println!(
        "{served_cached} processes got the cached token, {} the refreshed one; \
         {waited} waited for the refreshing one",
        PROCESSES - served_cached
    );
    assert!(
        served_cached >= 1,
        "some processes began with the valid cached token"
    );
    assert!(
        PROCESSES - served_cached >= 1,
        "some processes began after the expiry"
    );
    assert!(
        waited >= 1,
        "the processes after the expiry raced: some waited for the one refreshing"
    );
}
