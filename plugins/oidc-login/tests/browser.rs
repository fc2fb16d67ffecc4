//! The authorization code login in a real browser: headless Chromium (Debian's
//! `chromium`, driven by playwright-core) through the provider's real login
//! and consent pages, redirected to our loopback listener.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use oidc_test_provider::{ALICE, OidcProvider, fixture_dir};

const CHROMIUM: &str = "/usr/bin/chromium";

#[test]
fn authcode_login_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        println!(
            "SKIPPED authcode_login_in_headless_chromium: {CHROMIUM} is missing (apt-get install -y chromium)"
        );
        eprintln!(
            "SKIPPED authcode_login_in_headless_chromium: {CHROMIUM} is missing (apt-get install -y chromium)"
        );
        return;
    }
    let setup = Setup::new(OidcProvider::builder().interactive());
    let done = setup.cache.path().join("chromium-done");
    let script = fixture_dir().join("chromium-login.mjs");
    let mut args = setup.args();
    args.extend([
        "--listen-address=127.0.0.1:0".to_string(),
        "--authentication-timeout-sec=90".to_string(),
        format!(
            "--browser-command=node {} --login {} --done {}",
            script.display(),
            ALICE.id,
            done.display()
        ),
    ]);
    let out = plugin(&args, EXEC_INFO_V1_NONINTERACTIVE)
        .env("CHROMIUM", CHROMIUM)
        .output()
        .unwrap();
    // The browser closes on its own after the loopback page; wait for it so
    // no Chromium outlives the test.
    let started = Instant::now();
    while !done.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(std::fs::read_to_string(&done).unwrap_or_default(), "ok");
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let claims = claims(&token_of(&credential));
    assert_eq!(claims["sub"], ALICE.id);
    assert_eq!(claims["email"], ALICE.email);
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.grants_for("authorization_code"), 1);
    // The real pages were shown: the login form and the consent form were posted.
    assert!(
        stats
            .routes
            .get("POST /interaction/*")
            .copied()
            .unwrap_or(0)
            >= 2,
        "{:?}",
        stats.routes
    );
}

/// A browser command is split like a shell splits it: inside double quotes a
/// backslash stays a backslash unless it escapes `"`, `\`, `$` or a backtick,
/// so a quoted path with a backslash in a folder name reaches the browser as is.
#[test]
fn a_quoted_browser_path_keeps_its_backslashes() {
    let setup = Setup::new(OidcProvider::builder().http());
    let folder = setup.provider.scratch_dir().join(r"Program Files\Browsers");
    std::fs::create_dir(&folder).unwrap();
    let script = setup
        .provider
        .browser_script(r"Program Files\Browsers/browse.sh", &[])
        .unwrap();
    assert_eq!(script.parent().unwrap(), folder);
    let mut args = setup.args();
    args.extend([
        "--listen-address=127.0.0.1:0".to_string(),
        "--authentication-timeout-sec=30".to_string(),
        format!("--browser-command=\"{}\"", script.display()),
    ]);
    let (credential, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
    assert_eq!(
        setup
            .provider
            .stats()
            .unwrap()
            .grants_for("authorization_code"),
        1
    );
}

/// Without `--browser-command` or `$BROWSER`, the desktop's opener is found
/// the way other desktop programs find it: here the only one on `PATH` is a
/// Debian-style `x-www-browser` (no `xdg-open`), which must still be used.
#[test]
fn the_default_browser_is_found_without_xdg_open() {
    let setup = Setup::new(OidcProvider::builder().http());
    let browse = setup.provider.browser_script("browse.sh", &[]).unwrap();
    let bin = setup.provider.scratch_dir().join("desktop-bin");
    std::fs::create_dir(&bin).unwrap();
    let opened = setup.provider.scratch_dir().join("opened-by-x-www-browser");
    // The plugin sees only this folder on PATH; the browser gets the real one back.
    write_executable(
        &bin.join("x-www-browser"),
        &format!(
            "#!/bin/sh\necho \"$1\" > '{}'\nPATH='{}' exec '{}' \"$@\"\n",
            opened.display(),
            std::env::var("PATH").unwrap(),
            browse.display()
        ),
    );
    let mut args = setup.args();
    args.extend([
        "--listen-address=127.0.0.1:0".to_string(),
        "--authentication-timeout-sec=30".to_string(),
    ]);
    let out = plugin(&args, EXEC_INFO_V1_NONINTERACTIVE)
        .env("PATH", &bin)
        .env("DISPLAY", ":0")
        .env_remove("XDG_CURRENT_DESKTOP")
        .env_remove("DESKTOP_SESSION")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
    let url = std::fs::read_to_string(&opened).unwrap();
    assert!(
        url.starts_with(&format!("{}/auth?", setup.provider.issuer())),
        "{url}"
    );
}

/// `setup` prints a `kubectl config set-credentials` command; pasted into a
/// shell it must give kubectl back the flags exactly as typed, here a
/// `--browser-command` with spaces, backslashes and both kinds of quotes, and
/// a comma (kubectl reads each `--exec-arg` as comma-separated values).
#[test]
fn setup_prints_flags_a_shell_hands_back_unchanged() {
    let setup = Setup::new(OidcProvider::builder().http());
    let browser_command = r#"open -a "C:\Program Files\it's" --args 'x y' a\ b $HOME"#;
    let mut flags = vec![
        format!("--oidc-issuer-url={}", setup.provider.issuer()),
        format!("--oidc-client-id={}", setup.provider.public_client_id()),
        "--oidc-auth-request-extra-params=prompt=consent".to_string(),
        "--oidc-extra-scope=email,groups".to_string(),
        format!("--browser-command={browser_command}"),
    ];
    let mut args = vec!["setup".to_string()];
    args.extend(flags.iter().cloned());
    args.extend([
        "--username=alice".into(),
        "--password=alice-password".into(),
    ]);
    flags.extend([
        "--username=alice".into(),
        "--password=alice-password".into(),
    ]);
    let out = plugin(&args, EXEC_INFO_V1_NONINTERACTIVE).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text
        .find("kubectl config set-credentials oidc")
        .unwrap_or_else(|| panic!("no set-credentials command in:\n{text}"));
    let script = &text[start..start + text[start..].find("```").unwrap()];

    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("config");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", home.path())
        .status()
        .unwrap();
    assert!(status.success(), "{script}");
    let config: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
    let exec = &config["users"][0]["user"]["exec"];
    let mut expected = vec!["oidc-login".to_string(), "get-token".to_string()];
    expected.extend(flags);
    assert_eq!(exec["args"], serde_json::json!(expected), "{script}");
}
