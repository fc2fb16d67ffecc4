//! The loopback redirect listener against a real login: an idle connection
//! to its port, a redirect with a forged `state`, and `--oidc-redirect-url`
//! naming the port.

mod common;

use std::path::PathBuf;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

/// A `--browser-command` script: runs `before` (bash, with `$port` set to
/// the listener's port taken from the redirect_uri), then the test browser.
fn wrapped_browser(setup: &Setup, name: &str, before: &str) -> PathBuf {
    let browser = setup.provider.browser_script("browse.sh", &[]).unwrap();
    let path = setup.provider.scratch_dir().join(name);
    write_executable(
        &path,
        &format!(
            "#!/bin/bash\nset -e\n\
             port=$(printf '%s' \"$1\" | sed -n 's/.*redirect_uri=https\\?%3A%2F%2F[^&]*%3A\\([0-9]*\\).*/\\1/p')\n\
             test -n \"$port\"\n\
             {before}\n\
             exec '{}' \"$@\"\n",
            browser.display()
        ),
    );
    path
}

fn authcode_args(setup: &Setup, browser: &std::path::Path) -> Vec<String> {
    let mut args = setup.args();
    args.extend([
        "--grant-type=authcode".to_string(),
        "--listen-address=127.0.0.1:0".to_string(),
        format!("--browser-command={}", browser.display()),
        // Only a hang bound: the login takes a second or two.
        "--authentication-timeout-sec=20".to_string(),
    ]);
    args
}

#[test]
fn an_idle_connection_does_not_hold_up_the_redirect() {
    let setup = Setup::new(OidcProvider::builder());
    // The connection stays open, silent, until the browser has finished.
    let browser = wrapped_browser(&setup, "idle.sh", "exec 3<>/dev/tcp/127.0.0.1/$port");
    let (credential, stderr) = get_token(
        &authcode_args(&setup, &browser),
        EXEC_INFO_V1_NONINTERACTIVE,
    );
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id, "{stderr}");
}

#[test]
fn a_redirect_with_another_state_gets_a_400_and_the_login_goes_on() {
    let setup = Setup::new(OidcProvider::builder());
    let status = setup.provider.scratch_dir().join("forged-status");
    let browser = wrapped_browser(
        &setup,
        "forged.sh",
        &format!(
            "exec 4<>/dev/tcp/127.0.0.1/$port\n\
             printf 'GET /?code=forged&state=forged HTTP/1.1\\r\\nhost: localhost\\r\\n\\r\\n' >&4\n\
             head -n 1 <&4 > '{}'\n\
             exec 4<&-",
            status.display()
        ),
    );
    let (credential, _) = get_token(
        &authcode_args(&setup, &browser),
        EXEC_INFO_V1_NONINTERACTIVE,
    );
    let status = std::fs::read_to_string(status).unwrap();
    assert!(status.starts_with("HTTP/1.1 400"), "{status}");
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
    let stats = setup.provider.stats().unwrap();
    assert_eq!(
        stats.grants_for("authorization_code"),
        1,
        "the forged code was never exchanged"
    );
}

#[test]
fn the_redirect_url_port_is_the_one_listened_on() {
    let setup = Setup::new(OidcProvider::builder());
    let browser = setup.provider.browser_script("browse.sh", &[]).unwrap();
    let args = |port: u16| {
        let mut args = authcode_args(&setup, &browser);
        args.push(format!("--oidc-redirect-url=http://127.0.0.1:{port}"));
        args
    };

    // A port someone else holds: a clear failure, no other port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = run(&args(port), EXEC_INFO_V1_NONINTERACTIVE);
    assert!(!out.status.success());
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("names port {port}")) && stderr.contains("--oidc-redirect-url"),
        "{stderr}"
    );
    assert_eq!(setup.provider.stats().unwrap().authorization_requests(), 0);

    // A free port: the login comes back to it.
    drop(taken);
    let (credential, stderr) = get_token(&args(port), EXEC_INFO_V1_NONINTERACTIVE);
    assert!(
        stderr.contains(&format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}&")),
        "{stderr}"
    );
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
}
