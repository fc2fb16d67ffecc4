//! The token cache under real conditions: expiry and refresh, rotating refresh
//! tokens, concurrent kubectl processes, corrupted entries, the keyring
//! fallback.

mod common;

use std::time::Duration;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

const REFRESH: &str = "refresh_token";

fn wait_until_expired(token: &str) {
    let exp = claims(token)["exp"].as_i64().unwrap();
    loop {
        let now = jiff::Timestamp::now().as_second();
        if now >= exp {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_expired_id_token_is_refreshed_once_even_with_eight_processes() {
    // Short id_tokens; refresh tokens rotate (public client), so a second use would fail.
    let setup = Setup::new(OidcProvider::builder().http().id_token_ttl(3));
    let mut args = setup.password_args();
    args.push("--token-refresh-margin=0s".into());
    let (first, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let first_token = token_of(&first);
    wait_until_expired(&first_token);

    let before = setup.provider.stats().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            plugin(&args, EXEC_INFO_V1_NONINTERACTIVE)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr_of(&out));
            token_of(&serde_json::from_slice(&out.stdout).unwrap())
        })
        .collect();
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all eight got the same token"
    );
    assert_ne!(tokens[0], first_token, "a new token after expiry");
    assert_eq!(claims(&tokens[0])["sub"], ALICE.id);
    let after = setup.provider.stats().unwrap();
    assert_eq!(
        after.token_requests_for(REFRESH) - before.token_requests_for(REFRESH),
        1,
        "exactly one refresh"
    );
    assert_eq!(after.grants_for(REFRESH) - before.grants_for(REFRESH), 1);
    assert_eq!(
        after.token_requests_for("password"),
        before.token_requests_for("password"),
        "no new login"
    );
}

#[test]
fn eight_concurrent_processes_on_an_empty_cache_log_in_once() {
    let setup = Setup::new(OidcProvider::builder());
    // A browser command that counts how often it is started.
    let browser = setup
        .provider
        .browser_script("inner-browser.sh", &[])
        .unwrap();
    let launches = setup.cache.path().join("browser-launches");
    let counting = setup.provider.scratch_dir().join("counting-browser.sh");
    write_executable(
        &counting,
        &format!(
            "#!/bin/sh\necho launched >> '{}'\nexec '{}' \"$@\"\n",
            launches.display(),
            browser.display()
        ),
    );
    let mut args = setup.args();
    args.extend([
        "--listen-address=127.0.0.1:0".to_string(),
        format!("--browser-command={}", counting.display()),
    ]);
    let children: Vec<_> = (0..8)
        .map(|_| {
            plugin(&args, EXEC_INFO_V1_NONINTERACTIVE)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr_of(&out));
            token_of(&serde_json::from_slice(&out.stdout).unwrap())
        })
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0]), "8 identical tokens");
    let stats = setup.provider.stats().unwrap();
    assert_eq!(stats.authorization_requests(), 1, "one login");
    assert_eq!(stats.token_requests_total(), 1, "one token request");
    let launched = std::fs::read_to_string(&launches).unwrap();
    assert_eq!(launched.lines().count(), 1, "one browser window");
}

#[test]
fn refresh_before_expiry_with_the_margin_and_force_refresh() {
    let setup = Setup::new(OidcProvider::builder().http().id_token_ttl(600));
    let args = setup.password_args();
    let (first, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    // A margin longer than what is left (capped at half the lifetime) refreshes now.
    let mut margin = args.clone();
    margin.push("--token-refresh-margin=10m".into());
    let before = setup.provider.stats().unwrap();
    let (second, _) = get_token(&margin, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(
        token_of(&second),
        token_of(&first),
        "600s token with a capped 300s margin is fresh"
    );
    assert_eq!(setup.provider.stats().unwrap().requests, before.requests);

    // A second later, so that the refreshed id_token differs (iat) from the first.
    std::thread::sleep(Duration::from_millis(1100));
    let mut force = args.clone();
    force.push("--force-refresh".into());
    let (third, _) = get_token(&force, EXEC_INFO_V1_NONINTERACTIVE);
    assert_ne!(token_of(&third), token_of(&first));
    let after = setup.provider.stats().unwrap();
    assert_eq!(after.grants_for(REFRESH) - before.grants_for(REFRESH), 1);
    // And the new token is what the cache serves now.
    let (fourth, _) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(token_of(&fourth), token_of(&third));
}

#[test]
fn a_failed_refresh_falls_back_to_a_new_login() {
    let setup = Setup::new(OidcProvider::builder().http());
    let args = setup.password_args();
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    // Break the refresh token in the cache.
    let file = &setup.cache_files()[0];
    let mut entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    entry["refresh_token"] = "not-a-valid-refresh-token".into();
    std::fs::write(file, entry.to_string()).unwrap();
    let before = setup.provider.stats().unwrap();
    let mut force = args.clone();
    force.push("--force-refresh".into());
    let (credential, stderr) = get_token(&force, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(stderr.contains("Could not refresh the token"), "{stderr}");
    assert!(
        !stderr.contains("not-a-valid-refresh-token"),
        "tokens never appear in messages"
    );
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
    let after = setup.provider.stats().unwrap();
    assert_eq!(after.grant_errors.get(REFRESH).copied().unwrap_or(0), 1);
    assert_eq!(
        after.grants_for("password") - before.grants_for("password"),
        1
    );
}

#[test]
fn a_corrupted_entry_is_discarded_with_a_warning() {
    let setup = Setup::new(OidcProvider::builder().http());
    let args = setup.password_args();
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let file = setup.cache_files()[0].clone();
    std::fs::write(&file, b"{\"id_token\": \"trunc").unwrap();
    let (credential, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(stderr.contains("corrupted"), "{stderr}");
    assert_eq!(claims(&token_of(&credential))["sub"], ALICE.id);
    // Repaired: the next call is a quiet hit.
    let (_, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn keyring_without_a_keyring_falls_back_to_disk_with_one_warning() {
    let setup = Setup::new(OidcProvider::builder().http());
    let mut args = setup.password_args();
    args.push("--token-cache-storage=keyring".into());
    let (first, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(
        stderr.matches("warning: cannot use the OS keyring").count(),
        1,
        "{stderr}"
    );
    assert_eq!(setup.cache_files().len(), 1, "kept on disk instead");
    let before = setup.provider.stats().unwrap().requests;
    let (second, stderr) = get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(token_of(&second), token_of(&first));
    assert!(stderr.is_empty(), "no warning on a cache hit: {stderr}");
    assert_eq!(setup.provider.stats().unwrap().requests, before);
}

#[test]
fn storage_none_logs_in_every_time() {
    let setup = Setup::new(OidcProvider::builder().http());
    let mut args = setup.password_args();
    args.push("--token-cache-storage=none".into());
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(setup.provider.stats().unwrap().grants_for("password"), 2);
    assert!(setup.cache_files().is_empty());
}

/// A directory nobody can add files to while the guard lives: mode 0500,
/// and for root (whom modes do not stop) the immutable attribute.
struct ReadOnlyDir(std::path::PathBuf, bool);

impl ReadOnlyDir {
    /// `None` when the directory stays writable (root on a file system
    /// without `chattr +i`).
    fn new(dir: &std::path::Path) -> Option<ReadOnlyDir> {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        let probe = dir.join("probe");
        if std::fs::write(&probe, "x").is_err() {
            return Some(ReadOnlyDir(dir.to_path_buf(), false));
        }
        std::fs::remove_file(&probe).unwrap();
        let immutable = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        let guard = ReadOnlyDir(dir.to_path_buf(), immutable);
        (immutable && std::fs::write(&probe, "x").is_err()).then_some(guard)
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt as _;
        if self.1 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.0)
                .status();
        }
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o700));
    }
}

#[test]
fn a_rotated_refresh_token_that_cannot_be_saved_is_an_error_that_says_so() {
    let setup = Setup::new(OidcProvider::builder());
    let args = setup.password_args();
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let Some(guard) = ReadOnlyDir::new(&setup.cache_dir()) else {
        let message = "SKIPPED a_rotated_refresh_token_that_cannot_be_saved_is_an_error_that_says_so: \
                       the cache directory cannot be made read-only here (root without chattr +i)";
        println!("{message}");
        eprintln!("{message}");
        return;
    };
    let mut force = args.clone();
    force.push("--force-refresh".into());
    let out = run(&force, EXEC_INFO_V1_NONINTERACTIVE);
    drop(guard);
    let stderr = stderr_of(&out);
    assert!(!out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("replaced the refresh token") && stderr.contains("lost"),
        "{stderr}"
    );
    assert_eq!(
        setup.provider.stats().unwrap().grants_for("refresh_token"),
        1,
        "the refresh did happen (and rotated the token)"
    );
}
