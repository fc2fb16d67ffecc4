//! `--grant-type=token-exchange` (RFC 8693) against the fixture: a CI job
//! holds a token in a file and trades it for this client's id_token.

mod common;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider, TOKEN_EXCHANGE_GRANT};

fn exchange_args(setup: &Setup, file: &std::path::Path) -> Vec<String> {
    let mut args = setup.args();
    args.extend([
        "--grant-type=token-exchange".to_string(),
        format!("--subject-token-file={}", file.display()),
    ]);
    args
}

#[test]
fn the_subject_token_is_exchanged_for_an_id_token() {
    let setup = Setup::new(OidcProvider::builder());
    let subject = setup
        .provider
        .password_grant(setup.provider.public_client_id(), None, ALICE, "openid")
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let file = setup.provider.scratch_dir().join("subject-token");
    std::fs::write(&file, format!("{subject}\n")).unwrap();

    let (credential, stderr) =
        get_token(&exchange_args(&setup, &file), EXEC_INFO_V1_NONINTERACTIVE);
    let claims = claims(&token_of(&credential));
    assert_eq!(claims["sub"], ALICE.id, "{stderr}");
    assert_eq!(claims["aud"], setup.provider.public_client_id());
    assert_eq!(claims["email"], ALICE.email);
    assert_eq!(
        setup
            .provider
            .stats()
            .unwrap()
            .grants_for(TOKEN_EXCHANGE_GRANT),
        1
    );

    // The next call is a cache hit.
    let before = setup.provider.stats().unwrap();
    let (again, _) = get_token(&exchange_args(&setup, &file), EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(token_of(&again), token_of(&credential));
    assert_eq!(setup.provider.stats().unwrap().requests, before.requests);
}

#[test]
fn a_refused_or_missing_subject_token_is_a_clear_error() {
    let setup = Setup::new(OidcProvider::builder());
    let file = setup.provider.scratch_dir().join("subject-token");
    std::fs::write(&file, "not-a-token-of-this-provider").unwrap();
    let out = run(&exchange_args(&setup, &file), EXEC_INFO_V1_NONINTERACTIVE);
    let stderr = stderr_of(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("token exchange") && stderr.contains("invalid_grant"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-a-token-of-this-provider"), "{stderr}");

    let mut args = setup.args();
    args.push("--grant-type=token-exchange".into());
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--subject-token-file"),
        "{}",
        stderr_of(&out)
    );
}
