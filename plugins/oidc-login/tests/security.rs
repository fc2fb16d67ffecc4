//! Security properties against the real fixture: no redirect is followed on
//! a request that carries credentials, the CA flags replace the system
//! roots, an unverified token is never served to a verifying configuration,
//! plain-http issuers are refused unless they are on this machine, and
//! another plugin's exec arguments are never printed.

mod common;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

#[test]
fn a_redirecting_token_endpoint_is_not_followed() {
    let setup = Setup::new(OidcProvider::builder().redirecting_token_endpoint());
    let out = run(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    let stderr = stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("307") && stderr.contains("redirects are not followed"),
        "{stderr}"
    );
    assert!(!stderr.contains(ALICE.password), "{stderr}");
    assert_eq!(
        setup.provider.stats().unwrap().redirect_target,
        0,
        "the password never went to the redirect's target"
    );
}

/// The device flow polls with oauth2's loop, which would retry a failed
/// request until the code expires: a redirect must end the login at once.
#[test]
fn a_redirecting_token_endpoint_ends_the_device_flow_at_once() {
    let setup = Setup::new(OidcProvider::builder().redirecting_token_endpoint());
    let mut args = setup.args();
    args.extend([
        "--grant-type=device-code".to_string(),
        "--browser-command=true".to_string(),
    ]);
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let stderr = stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("307") && stderr.contains("redirects are not followed"),
        "{stderr}"
    );
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.device_authorization_requests(), 1);
    assert_eq!(
        stats.redirect_target, 0,
        "the device code never went to the redirect's target"
    );
}

#[test]
fn the_certificate_authority_replaces_the_system_roots() {
    let setup = Setup::new(OidcProvider::builder());
    let other = OidcProvider::builder().start().unwrap();
    let mut args: Vec<String> = setup
        .password_args()
        .into_iter()
        .filter(|a| !a.starts_with("--certificate-authority="))
        .collect();
    args.push(format!(
        "--certificate-authority={}",
        other.ca_file().unwrap().display()
    ));
    // The system roots (SSL_CERT_FILE) trust the provider, the flag does not.
    let out = plugin(&args, EXEC_INFO_V1_NONINTERACTIVE)
        .env("SSL_CERT_FILE", setup.provider.ca_file().unwrap())
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert_eq!(setup.provider.stats().unwrap().token_requests_total(), 0);
}

#[test]
fn a_token_fetched_without_verification_is_not_served_to_a_verifying_configuration() {
    let setup = Setup::new(OidcProvider::builder());
    let verifying: Vec<String> = setup
        .password_args()
        .into_iter()
        .filter(|a| !a.starts_with("--certificate-authority="))
        .collect();
    let mut insecure = verifying.clone();
    insecure.push("--insecure-skip-tls-verify".into());
    let (credential, _) = get_token(&insecure, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);

    // Same flags but verifying (the test CA is nowhere trusted): no cache hit.
    let out = run(&verifying, EXEC_INFO_V1_NONINTERACTIVE);
    let stderr = stderr_of(&out);
    assert!(
        !out.status.success(),
        "the unverified token was served: {stderr}"
    );
    assert!(stderr.contains("certificate"), "{stderr}");
}

#[test]
fn plain_http_issuers_are_refused_unless_on_this_machine() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "get-token".into(),
            "--oidc-issuer-url=http://idp.example.com".into(),
            "--oidc-client-id=kubernetes".into(),
            format!("--token-cache-dir={}", cache.path().display()),
        ],
        EXEC_INFO_V1_NONINTERACTIVE,
    );
    let stderr = stderr_of(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("http://idp.example.com") && stderr.contains("https://"),
        "{stderr}"
    );

    // A provider on 127.0.0.1 over plain http still works.
    let setup = Setup::new(OidcProvider::builder().http());
    let (credential, _) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
}

#[test]
fn another_plugins_arguments_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "aws"}}],
        "current-context": "dev",
        "users": [{"name": "aws", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "some-plugin",
            "args": ["token", "--secret=s3cr3t-value"],
        }}}],
    });
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, config.to_string()).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["whoami", &format!("--kubeconfig={}", path.display())])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(stderr.contains("some-plugin"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-value"), "{stderr}");
}
