//! What goes wrong ends with a clear message and a non-zero exit, and nothing
//! on stdout.

mod common;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

fn expect_failure(args: &[String], exec_info: &str, needles: &[&str]) -> String {
    let out = run(args, exec_info);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "stdout stays empty on failure");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
    stderr
}

fn replace_flag(args: &mut [String], prefix: &str, value: String) {
    let arg = args.iter_mut().find(|a| a.starts_with(prefix)).unwrap();
    *arg = value;
}

#[test]
fn wrong_issuer_wrong_ca_and_unreachable_issuer() {
    let setup = Setup::new(OidcProvider::builder());
    // The provider's own address under another name: its discovery names another issuer.
    let mut args = setup.password_args();
    let other_name = setup.provider.issuer().replace("127.0.0.1", "localhost");
    replace_flag(
        &mut args,
        "--oidc-issuer-url=",
        format!("--oidc-issuer-url={other_name}"),
    );
    expect_failure(
        &args,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["says its issuer is", "--oidc-issuer-url"],
    );

    // A CA that did not sign the provider's certificate.
    let other_ca = OidcProvider::builder().start().unwrap();
    let mut args = setup.password_args();
    replace_flag(
        &mut args,
        "--certificate-authority=",
        format!(
            "--certificate-authority={}",
            other_ca.ca_file().unwrap().display()
        ),
    );
    expect_failure(
        &args,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["cannot reach the provider", "certificate"],
    );

    // Nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = setup.password_args();
    replace_flag(
        &mut args,
        "--oidc-issuer-url=",
        format!("--oidc-issuer-url=https://127.0.0.1:{port}"),
    );
    expect_failure(
        &args,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["cannot reach the provider", &port.to_string()],
    );
    assert_eq!(setup.provider.stats().unwrap().token_requests_total(), 0);
}

#[test]
fn denied_consent_is_reported() {
    let setup = Setup::new(OidcProvider::builder());
    expect_failure(
        &setup.authcode_args(&["--deny"]),
        EXEC_INFO_V1_NONINTERACTIVE,
        &["denied", "access_denied"],
    );
    assert!(setup.cache_files().is_empty());
}

#[test]
fn expired_device_code_is_reported() {
    let setup = Setup::new(OidcProvider::builder().http().device_code_ttl(2));
    let mut args = setup.args();
    // Nobody approves the login; the code runs out.
    args.extend([
        "--grant-type=device-code".to_string(),
        "--skip-open-browser".to_string(),
    ]);
    expect_failure(
        &args,
        EXEC_INFO_V1_INTERACTIVE,
        &["device code expired", "run the command again"],
    );
}

/// A token endpoint that takes the device-code poll and never answers must
/// not hang the login (kubectl would wait forever): the plugin gives up and
/// names the endpoint and the timeout, without retrying.
#[test]
fn a_device_poll_that_gets_no_answer_ends_with_an_error() {
    let setup = Setup::new(OidcProvider::builder().http().silent_token_endpoint());
    let mut args = setup.args();
    args.extend([
        "--grant-type=device-code".to_string(),
        "--skip-open-browser".to_string(),
    ]);
    // Hang detection only: far above the plugin's 30 s request timeout.
    let out = assert_cmd::Command::from_std(plugin(&args, EXEC_INFO_V1_INTERACTIVE))
        .timeout(std::time::Duration::from_secs(180))
        .output()
        .expect("the plugin runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "stdout stays empty on failure");
    let token_endpoint = format!("{}/token", setup.provider.issuer());
    for needle in [token_endpoint.as_str(), "no answer within 30 s"] {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
    assert_eq!(
        setup.provider.stats().unwrap().unanswered_token_requests,
        1,
        "one poll, not retried until the code expires: {stderr}"
    );
}

#[test]
fn tampered_id_token_is_refused_at_login_and_at_refresh() {
    let setup = Setup::new(OidcProvider::builder());
    setup.provider.tamper_id_tokens(true).unwrap();
    expect_failure(
        &setup.password_args(),
        EXEC_INFO_V1_NONINTERACTIVE,
        &["signature does not verify"],
    );
    assert!(
        setup.cache_files().is_empty(),
        "nothing unverified is cached"
    );

    setup.provider.tamper_id_tokens(false).unwrap();
    let (first, _) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    setup.provider.tamper_id_tokens(true).unwrap();
    let mut force = setup.password_args();
    force.push("--force-refresh".into());
    // The refresh answer is refused, and so is the fallback login's.
    let stderr = expect_failure(
        &force,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["signature does not verify"],
    );
    assert!(stderr.contains("Could not refresh the token"), "{stderr}");
    setup.provider.tamper_id_tokens(false).unwrap();
    let (again, _) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(
        token_of(&again),
        token_of(&first),
        "the good cached token was kept"
    );
}

#[test]
fn non_interactive_kubectl_gets_an_error_instead_of_a_prompt_or_a_hang() {
    let setup = Setup::new(OidcProvider::builder().http());
    let before = setup.provider.stats().unwrap().requests;
    // Nothing may be read from the terminal: keyboard flow, password prompt.
    let mut keyboard = setup.args();
    keyboard.push("--grant-type=authcode-keyboard".into());
    expect_failure(
        &keyboard,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["non-interactively", "authcode-keyboard"],
    );
    let mut password = setup.args();
    password.extend(["--grant-type=password".into(), "--username=alice".into()]);
    expect_failure(
        &password,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["non-interactively", "password", "--password"],
    );
    // No browser command, no $BROWSER, no desktop session: no browser can appear.
    let mut authcode = setup.args();
    authcode.push("--listen-address=127.0.0.1:0".into());
    expect_failure(
        &authcode,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["non-interactively", "--browser-command"],
    );
    let mut device = setup.args();
    device.push("--grant-type=device-code".into());
    expect_failure(
        &device,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["non-interactively", "device-code"],
    );
    // A kubeconfig of kubelogin's v1beta1 era without spec.interactive, run without a terminal.
    expect_failure(
        &authcode,
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{}}"#,
        &["non-interactively"],
    );
    assert_eq!(
        setup.provider.stats().unwrap().requests,
        before,
        "not even discovery"
    );
}

#[test]
fn no_browser_when_non_interactive_makes_browser_logins_fail_but_keeps_refresh() {
    let setup = Setup::new(OidcProvider::builder().http().id_token_ttl(4));
    let before = setup.provider.stats().unwrap().requests;
    let mut args = setup.authcode_args(&[]);
    args.push("--token-refresh-margin=0s".into());
    let mut strict = args.clone();
    strict.push("--no-browser-when-non-interactive".into());
    // A browser command is given, yet kubectl said non-interactive: refused at once.
    expect_failure(
        &strict,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["--no-browser-when-non-interactive", "interactiveMode"],
    );
    let mut strict_device = strict.clone();
    replace_flag(
        &mut strict_device,
        "--grant-type=",
        "--grant-type=device-code".into(),
    );
    expect_failure(
        &strict_device,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["device-code", "--no-browser-when-non-interactive"],
    );
    assert_eq!(
        setup.provider.stats().unwrap().requests,
        before,
        "no request at all"
    );

    // Interactive kubectl: the browser opens as usual, with or without the flag.
    let (first, _) = get_token(&strict, EXEC_INFO_V1_INTERACTIVE);
    assert_eq!(setup.provider.stats().unwrap().authorization_requests(), 1);

    // Non-interactive again: a cached token and a refresh need no browser.
    let (hit, _) = get_token(&strict, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(token_of(&hit), token_of(&first));
    let exp = claims(&token_of(&first))["exp"].as_i64().unwrap();
    while jiff::Timestamp::now().as_second() < exp {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (refreshed, _) = get_token(&strict, EXEC_INFO_V1_NONINTERACTIVE);
    assert_ne!(token_of(&refreshed), token_of(&first));
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.grants_for("refresh_token"), 1);
    assert_eq!(stats.authorization_requests(), 1, "no second login");

    // Without the flag, the default: non-interactive kubectl plus a browser command logs in.
    let other_cache = tempfile::tempdir().unwrap();
    let default: Vec<String> = args
        .into_iter()
        .map(|a| {
            if a.starts_with("--token-cache-dir=") {
                format!("--token-cache-dir={}", other_cache.path().display())
            } else {
                a
            }
        })
        .collect();
    let (credential, _) = get_token(&default, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], "alice");
    assert_eq!(setup.provider.stats().unwrap().authorization_requests(), 2);
}

#[test]
fn usage_errors_exit_2_and_name_the_flag() {
    let out = run(
        &[
            "get-token".into(),
            "--oidc-issuer-url=https://i".into(),
            "--oidc-clientid=x".into(),
        ],
        EXEC_INFO_V1_NONINTERACTIVE,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--oidc-clientid"),
        "{}",
        stderr_of(&out)
    );

    let out = run(
        &["get-token".into(), "--oidc-issuer-url=https://i".into()],
        EXEC_INFO_V1_NONINTERACTIVE,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--oidc-client-id is missing"),
        "{}",
        stderr_of(&out)
    );

    let out = run(
        &[
            "get-token".into(),
            "--oidc-issuer-url=https://i".into(),
            "--oidc-client-id=c".into(),
        ],
        r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("v1alpha1"), "{}", stderr_of(&out));

    let out = run(
        &[
            "get-token".into(),
            "--oidc-issuer-url=https://i".into(),
            "--oidc-client-id=c".into(),
            "--grant-type=implicit".into(),
        ],
        EXEC_INFO_V1_NONINTERACTIVE,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("implicit"), "{}", stderr_of(&out));
}

#[test]
fn a_ca_file_without_certificates_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let args = vec![
        "get-token".to_string(),
        "--oidc-issuer-url=https://127.0.0.1:9".to_string(),
        "--oidc-client-id=c".to_string(),
        format!("--token-cache-dir={}", dir.path().join("cache").display()),
        format!("--certificate-authority={}", empty.display()),
        "--username=alice".to_string(),
        "--password=p".to_string(),
    ];
    expect_failure(
        &args,
        EXEC_INFO_V1_NONINTERACTIVE,
        &["holds no PEM certificate", "empty.pem"],
    );
}

#[test]
fn a_token_response_that_does_not_parse_is_reported_without_its_body() {
    let setup = Setup::new(OidcProvider::builder().malformed_token_responses());
    // The fixture really answers with tokens in a body that does not parse.
    let response = setup
        .provider
        .password_grant(setup.provider.public_client_id(), None, ALICE, "openid")
        .unwrap();
    assert_eq!(response["token_type"], 42, "{response}");
    let canary = response["access_token"].as_str().unwrap().to_string();
    assert!(canary.starts_with("leak-canary-"), "{response}");
    assert!(response["id_token"].is_string(), "{response}");

    // Neither the message nor the most verbose log holds the body's tokens.
    for verbosity in [None, Some("-v=9")] {
        let mut args = setup.password_args();
        args.extend(verbosity.map(str::to_string));
        let stderr = expect_failure(
            &args,
            EXEC_INFO_V1_NONINTERACTIVE,
            &["is not what OAuth 2.0 specifies", "token_type"],
        );
        assert!(!stderr.contains("leak-canary-"), "{stderr}");
        assert!(!stderr.contains("eyJ"), "an id_token in: {stderr}");
    }
}
