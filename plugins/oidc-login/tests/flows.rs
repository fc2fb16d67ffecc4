//! Every grant type end to end against the real `oidc-provider` fixture over
//! HTTPS with a test CA, through the real binary.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::Stdio;

use common::*;
use oidc_test_provider::{ALICE, BOB, HTTPS_LOOPBACK_CLIENT_ID, KeyAlg, OidcProvider};

#[test]
fn password_grant_answers_the_exec_credential_and_the_cache_hit_stays_offline() {
    let setup = Setup::new(OidcProvider::builder());
    let (credential, _) = get_token(&setup.password_args(), EXEC_INFO_V1BETA1);
    assert_eq!(
        credential["apiVersion"],
        "client.authentication.k8s.io/v1beta1"
    );
    assert_eq!(credential["kind"], "ExecCredential");
    let token = token_of(&credential);
    let claims = claims(&token);
    assert_eq!(claims["sub"], ALICE.id);
    assert_eq!(claims["email"], ALICE.email);
    assert_eq!(claims["groups"], serde_json::json!(ALICE.groups));
    assert_eq!(claims["iss"], setup.provider.issuer());
    let exp = claims["exp"].as_i64().unwrap();
    let expected = jiff::Timestamp::from_second(exp)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(
        credential["status"]["expirationTimestamp"],
        expected.as_str()
    );

    // Private files in a private directory.
    let files = setup.cache_files();
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(setup.cache_dir())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }

    // A cache hit: same token, not one request to the provider.
    let before = setup.provider.stats().unwrap();
    for _ in 0..3 {
        let (again, stderr) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
        assert_eq!(token_of(&again), token);
        assert_eq!(again["apiVersion"], "client.authentication.k8s.io/v1");
        assert!(
            stderr.is_empty(),
            "a cache hit prints nothing on stderr: {stderr}"
        );
    }
    let after = setup.provider.stats().unwrap();
    assert_eq!(
        after.requests, before.requests,
        "a cache hit must not contact the provider"
    );
}

#[test]
fn authcode_flow_with_pkce_through_the_loopback_listener() {
    let setup = Setup::new(OidcProvider::builder().key_alg(KeyAlg::Es256));
    // kubectl says non-interactive, but a browser command is given: the browser flow runs.
    let (credential, stderr) = get_token(&setup.authcode_args(&[]), EXEC_INFO_V1_NONINTERACTIVE);
    assert!(
        stderr.contains("Please visit the following URL"),
        "{stderr}"
    );
    assert!(stderr.contains("code_challenge_method=S256"), "{stderr}");
    let claims = claims(&token_of(&credential));
    assert_eq!(claims["sub"], ALICE.id);
    assert!(
        claims["nonce"].is_string(),
        "the id_token carries our nonce"
    );
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.authorization_requests(), 1);
    assert_eq!(stats.grants_for("authorization_code"), 1);

    // The provider enforces PKCE for the public client: without it, a clear refusal.
    let cache2 = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = setup
        .authcode_args(&[])
        .into_iter()
        .filter(|a| !a.starts_with("--token-cache-dir="))
        .collect();
    args.push("--oidc-pkce-method=no".into());
    args.push(format!("--token-cache-dir={}", cache2.path().display()));
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(stderr.contains("PKCE"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing but the credential ever goes to stdout"
    );
}

#[test]
fn authcode_flow_with_an_https_loopback_listener() {
    let setup = Setup::new(OidcProvider::builder());
    let (cert, key) = setup.provider.tls_cert_and_key_files().unwrap();
    // The fixture's web client accepts only https://localhost:<port>/ redirects.
    let https_client: Vec<String> = setup
        .authcode_args(&[])
        .into_iter()
        .map(|a| {
            if a.starts_with("--oidc-client-id=") {
                format!("--oidc-client-id={HTTPS_LOOPBACK_CLIENT_ID}")
            } else {
                a
            }
        })
        .collect();
    let mut args = https_client.clone();
    args.extend([
        format!("--local-server-cert={}", cert.display()),
        format!("--local-server-key={}", key.display()),
    ]);
    let (credential, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(
        stderr.contains("redirect_uri=https%3A%2F%2Flocalhost%3A"),
        "the redirect goes to the HTTPS listener: {stderr}"
    );
    let claims = claims(&token_of(&credential));
    assert_eq!(claims["sub"], ALICE.id);
    assert_eq!(claims["aud"], HTTPS_LOOPBACK_CLIENT_ID);
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.grants_for("authorization_code"), 1);

    // The same client with a plain-HTTP listener: the provider refuses the redirect.
    let cache2 = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = https_client
        .into_iter()
        .filter(|a| {
            !a.starts_with("--token-cache-dir=") && !a.starts_with("--authentication-timeout-sec=")
        })
        .collect();
    args.push(format!("--token-cache-dir={}", cache2.path().display()));
    args.push("--authentication-timeout-sec=5".into());
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let stderr = stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("never came back"),
        "the browser stopped at the provider's error page: {stderr}"
    );
    assert_eq!(
        setup
            .provider
            .stats()
            .unwrap()
            .grants_for("authorization_code"),
        1,
        "no second code was issued"
    );
}

#[test]
fn login_hint_keeps_two_accounts_of_one_issuer_apart() {
    let setup = Setup::new(OidcProvider::builder().http());
    let mut alice = setup.authcode_args(&[]);
    alice.push("--login-hint=alice".into());
    let mut bob = setup.authcode_args(&[]);
    bob.push("--login-hint=bob".into());
    let (a, _) = get_token(&alice, EXEC_INFO_V1_NONINTERACTIVE);
    let (b, _) = get_token(&bob, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&a))["sub"], ALICE.id);
    assert_eq!(claims(&token_of(&b))["sub"], BOB.id);
    assert_eq!(setup.cache_files().len(), 2);
    // Both stay cached.
    let before = setup.provider.stats().unwrap().requests;
    assert_eq!(
        token_of(&get_token(&alice, EXEC_INFO_V1_NONINTERACTIVE).0),
        token_of(&a)
    );
    assert_eq!(
        token_of(&get_token(&bob, EXEC_INFO_V1_NONINTERACTIVE).0),
        token_of(&b)
    );
    assert_eq!(setup.provider.stats().unwrap().requests, before);
}

#[test]
fn authcode_keyboard_takes_the_pasted_code() {
    let setup = Setup::new(OidcProvider::builder());
    let mut args = setup.args();
    args.push("--grant-type=authcode-keyboard".into());
    let mut child = plugin(&args, EXEC_INFO_V1_INTERACTIVE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("Please visit the following URL in your browser: ")
        .unwrap_or_else(|| panic!("unexpected prompt: {line}"))
        .to_string();
    assert!(
        url.contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"),
        "{url}"
    );
    // The person opens the URL; the provider ends on the out-of-band page with the code.
    let browsed = setup.provider.browse(&url, &["--stop-outside"]).unwrap();
    let landing = String::from_utf8(browsed.stdout).unwrap();
    let code = url::Url::parse(landing.trim())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(out.status.success(), "{rest}");
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
}

#[test]
fn device_code_grant_polls_until_the_page_is_approved() {
    let setup = Setup::new(OidcProvider::builder());
    let script = setup
        .provider
        .browser_script("device-browser.sh", &[])
        .unwrap();
    let mut args = setup.args();
    args.extend([
        "--grant-type=device-code".to_string(),
        format!("--browser-command={}", script.display()),
    ]);
    let (credential, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(
        stderr.contains("/device?user_code="),
        "the URL is shown: {stderr}"
    );
    assert_eq!(claims(&token_of(&credential))["email"], ALICE.email);
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.device_authorization_requests(), 1);
    assert_eq!(
        stats.grants_for("urn:ietf:params:oauth:grant-type:device_code"),
        1
    );
}

#[test]
fn client_credentials_hand_out_the_access_token() {
    let setup = Setup::new(OidcProvider::builder());
    let (id, secret) = setup.provider.confidential_client();
    let mut args = vec![
        "get-token".to_string(),
        format!("--oidc-issuer-url={}", setup.provider.issuer()),
        format!("--oidc-client-id={id}"),
        format!("--oidc-client-secret={secret}"),
        format!("--token-cache-dir={}", setup.cache_dir().display()),
        format!(
            "--certificate-authority-data={}",
            setup.provider.ca_data_base64().unwrap()
        ),
        "--grant-type=client-credentials".to_string(),
    ];
    // Without --oidc-use-access-token there is no id_token to hand out: a clear error.
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("--oidc-use-access-token"),
        "{}",
        stderr_of(&out)
    );

    args.push("--oidc-use-access-token".into());
    let (credential, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let claims = claims(&token_of(&credential));
    assert_eq!(claims["sub"], id);
    assert_eq!(claims["aud"], id);
    assert_eq!(
        setup
            .provider
            .stats()
            .unwrap()
            .grants_for("client_credentials"),
        2,
        "the provider granted both requests; the first answer had no id_token to use"
    );
}

#[test]
fn request_headers_reach_the_provider() {
    let setup = Setup::new(OidcProvider::builder().http());
    let mut args = setup.password_args();
    args.push("--oidc-request-header=Origin=http://localhost".into());
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let stats = setup.provider.stats().unwrap();
    assert_eq!(
        stats.token_request_origins.get("http://localhost"),
        Some(&1)
    );
}

#[test]
fn browser_command_with_arguments() {
    let setup = Setup::new(OidcProvider::builder().http());
    let script = setup.provider.browser_script("plain.sh", &[]).unwrap();
    let mut args = setup.args();
    args.extend([
        "--listen-address=127.0.0.1:0".to_string(),
        // `sh -c 'exec "$0" "$1"' SCRIPT URL`: a command with arguments and quotes.
        format!(
            "--browser-command=sh -c 'exec \"$0\" \"$1\"' {}",
            script.display()
        ),
    ]);
    let (credential, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
}

#[test]
fn eddsa_and_ps256_id_tokens_are_accepted() {
    for alg in [KeyAlg::EdDsa, KeyAlg::Ps256] {
        let setup = Setup::new(OidcProvider::builder().http().key_alg(alg));
        let (credential, _) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
        assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id, "{alg:?}");
    }
}

#[test]
fn es512_id_tokens_are_verified() {
    // P-521, which ring lacks: the provider signs with a fresh P-521 key.
    let setup = Setup::new(OidcProvider::builder().http().key_alg(KeyAlg::Es512));
    let (credential, _) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    let token = token_of(&credential);
    assert_eq!(claims(&token)["sub"], ALICE.id);
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES512");

    // The signature is really checked: an altered token is refused, at the
    // refresh as at a login.
    setup.provider.tamper_id_tokens(true).unwrap();
    let mut force = setup.password_args();
    force.push("--force-refresh".into());
    let out = run(&force, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("signature does not verify"),
        "{}",
        stderr_of(&out)
    );
    setup.provider.tamper_id_tokens(false).unwrap();

    // ES512 access tokens (JWTs signed with the same key) verify too.
    let mut access = setup.password_args();
    access.extend(["--oidc-use-access-token".into(), "--force-refresh".into()]);
    let (credential, _) = get_token(&access, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(!token_of(&credential).is_empty());
}

#[test]
fn password_prompt_needs_a_terminal_and_says_so() {
    let setup = Setup::new(OidcProvider::builder().http());
    let mut args = setup.args();
    args.extend([
        "--grant-type=password".to_string(),
        "--username=alice".to_string(),
    ]);
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("non-interactively") && stderr.contains("--password"),
        "{stderr}"
    );
    assert_eq!(setup.provider.stats().unwrap().token_requests_total(), 0);
}

#[test]
fn device_code_polling_honours_the_interval_and_slow_down() {
    let setup = Setup::new(OidcProvider::builder().device_slow_down());
    // The person approves after 2 s: the first poll (after the 1 s interval)
    // is pending and answered `slow_down`, so the next one waits 1 + 5 s.
    let browser = setup
        .provider
        .browser_script("device-browser.sh", &[])
        .unwrap();
    let slow = setup.provider.scratch_dir().join("slow-browser.sh");
    write_executable(
        &slow,
        &format!("#!/bin/sh\nsleep 2\nexec '{}' \"$@\"\n", browser.display()),
    );
    let mut args = setup.args();
    args.extend([
        "--grant-type=device-code".to_string(),
        format!("--browser-command={}", slow.display()),
    ]);
    let (credential, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
    let polls = setup.provider.stats().unwrap().device_polls;
    let results: Vec<&str> = polls.iter().map(|p| p.result.as_str()).collect();
    assert_eq!(results, ["slow_down", "tokens"], "{polls:?}");
    let gap = polls[1].at_ms - polls[0].at_ms;
    assert!(
        gap >= 5_900,
        "after slow_down the interval grows by 5 s (waited {gap} ms)"
    );
}
