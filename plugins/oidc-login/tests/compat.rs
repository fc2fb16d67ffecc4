//! kubelogin compatibility of the command line: the `version` subcommand,
//! the root command alone, kubeconfig arguments in pflag's forms (`=true`,
//! repeated flags, klog flags), and provider quirks: `expires_in` as a
//! string, a JWKS with keys that cannot be used, PKCE on the device flow.

mod common;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

#[test]
fn version_subcommand_prints_the_version() {
    let out = std::process::Command::new(BIN)
        .arg("version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "kubectl-oidc_login version v{}",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
}

#[test]
fn the_root_command_alone_says_what_to_run() {
    let out = std::process::Command::new(BIN).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("get-token") && stderr.contains("kubectl oidc-login setup"),
        "{stderr}"
    );
}

#[test]
fn get_token_takes_kubelogin_arguments_as_pflag_reads_them() {
    let setup = Setup::new(OidcProvider::builder());
    let mut args = vec![
        "get-token".to_string(),
        format!("--oidc-issuer-url={}", setup.provider.issuer()),
        // Repeated: the last one counts.
        "--oidc-client-id=someone-else".to_string(),
        format!("--oidc-client-id={}", setup.provider.public_client_id()),
        format!("--token-cache-dir={}", setup.cache_dir().display()),
        format!(
            "--certificate-authority={}",
            setup.provider.ca_file().unwrap().display()
        ),
        "--grant-type=password".to_string(),
        "--username=alice".to_string(),
        "--password=alice-password".to_string(),
        "--skip-open-browser=true".to_string(),
        "--force-refresh=false".to_string(),
        "--oidc-use-access-token=false".to_string(),
        "--insecure-skip-tls-verify=false".to_string(),
        "--logtostderr=true".to_string(),
        "--alsologtostderr".to_string(),
        "--log_dir=/nonexistent".to_string(),
        "--vmodule=oidc=2".to_string(),
    ];
    let (credential, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let claims = claims(&token_of(&credential));
    assert_eq!(claims["sub"], ALICE.id);
    assert_eq!(claims["aud"], setup.provider.public_client_id(), "{stderr}");

    args.push("--force-refresh=maybe".into());
    let out = run(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("not a boolean"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_string_expires_in_and_unusable_jwks_keys_are_accepted() {
    let setup = Setup::new(
        OidcProvider::builder()
            .string_expires_in()
            .jwks_with_unusable_keys(),
    );
    // The fixture really answers that way.
    let response = setup
        .provider
        .password_grant(setup.provider.public_client_id(), None, ALICE, "openid")
        .unwrap();
    assert!(response["expires_in"].is_string(), "{response}");
    let jwks: serde_json::Value =
        serde_json::from_str(&setup.provider.jwks_json().unwrap()).unwrap();
    assert_eq!(jwks["keys"][1]["kty"], 7, "{jwks}");

    let (credential, stderr) = get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id, "{stderr}");
}

#[test]
fn klog_flags_get_a_note_at_v() {
    let setup = Setup::new(OidcProvider::builder());
    let mut args = setup.password_args();
    args.extend(["--log_dir=/nonexistent".to_string(), "-v1".to_string()]);
    let (_, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(
        stderr.contains("klog flags") && stderr.contains("ignored"),
        "{stderr}"
    );
    args.pop();
    let (_, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(!stderr.contains("klog"), "quiet without -v: {stderr}");
}

/// kubelogin#1470: Keycloak clients that require PKCE refuse a device flow
/// without it.
#[test]
fn the_device_flow_sends_pkce_when_the_provider_advertises_it() {
    let setup = Setup::new(OidcProvider::builder().device_pkce_required());
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
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id, "{stderr}");
    assert_eq!(
        setup
            .provider
            .stats()
            .unwrap()
            .grants_for("urn:ietf:params:oauth:grant-type:device_code"),
        1
    );
}
