//! `--token-cache-storage=keyring` against a real Secret Service: a private
//! D-Bus session bus and an unlocked gnome-keyring-daemon started for the
//! test. The token lands in the keyring (not on disk), a second account adds
//! its key to the index under the index lock (traced with strace when
//! installed), the next call is a
//! cache hit with no request to the provider, `clean` deletes the item, and a
//! token too large for a keyring item goes to disk with one warning.
//!
//! Needs `dbus-daemon` and `gnome-keyring-daemon` (Debian: `dbus`,
//! `gnome-keyring`; `cargo xtask test` installs them as root). Without them
//! the test prints SKIPPED.
//!
//! This file holds one test on purpose: it points the test process's own
//! Secret Service client at the private bus through the environment.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use oidc_test_provider::{ALICE, BOB, CAROL, CAROL_GROUP_COUNT, OidcProvider};

const SERVICE: &str = "kubectl-oidc-login";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A private session bus with an unlocked gnome-keyring on it; both are
/// killed on drop.
struct SecretService {
    address: String,
    bus: Child,
    keyring: Option<Child>,
    _home: tempfile::TempDir,
}

impl SecretService {
    /// Starts a session bus and an unlocked gnome-keyring on it.
    ///
    /// The bus runs with its own configuration, not the system's session
    /// one: that one lists the D-Bus service directories, and gnome-keyring
    /// installs an activation file for `org.freedesktop.secrets` there. The
    /// first request to the name, sent before our daemon had claimed it,
    /// then made the bus start a second gnome-keyring (with the test's own
    /// HOME, no password, so no default collection); when that one won the
    /// name, the login collection never appeared, and it outlived the test.
    /// Without service directories a request to an unowned name fails at
    /// once and only the daemon started here can own it.
    fn start() -> SecretService {
        let home = tempfile::tempdir().unwrap();
        let runtime = home.path().join("run");
        std::fs::create_dir(&runtime).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let config = home.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                runtime.join("bus").display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {line:?}");
        let mut service = SecretService {
            address,
            bus,
            keyring: None,
            _home: home,
        };
        let home = service._home.path();
        // A login keyring is created, and unlocked, with the password read
        // from stdin; it becomes the default collection.
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &service.address)
            .env("HOME", home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.join("keyring.log")).unwrap())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"test-keyring-password").unwrap();
        drop(stdin);
        service.keyring = Some(keyring);
        if let Err(why) = service.wait_for_default_collection() {
            let log = std::fs::read_to_string(service._home.path().join("keyring.log"))
                .unwrap_or_default();
            panic!("gnome-keyring did not come up with a default collection: {why}\n{log}");
        }
        service
    }

    /// Polls the bus until the keyring answers with a default collection.
    /// The 30 s bound only detects a hang; it usually takes well under 1 s.
    fn wait_for_default_collection(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.ReadAlias",
                    "string:default",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .output()
                .expect("dbus-send runs");
            let reply = String::from_utf8_lossy(&out.stdout);
            if out.status.success() && reply.contains("/org/freedesktop/secrets/collection/") {
                return Ok(());
            }
            if let Some(status) = self.keyring.as_mut().and_then(|k| k.try_wait().unwrap()) {
                return Err(format!("gnome-keyring-daemon exited ({status})"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no default collection after 30 s: {} {}",
                    reply.trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        if let Some(keyring) = &mut self.keyring {
            let _ = keyring.kill();
            let _ = keyring.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// The plugin talking to the private bus.
fn plugin_on(bus: &SecretService, args: &[String]) -> std::process::Output {
    plugin(args, EXEC_INFO_V1_NONINTERACTIVE)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .output()
        .expect("the plugin runs")
}

/// The plugin talking to the private bus under `strace -f -y`: returns the
/// recorded `flock` calls and renames, or None without strace.
fn traced_on(bus: &SecretService, args: &[String], trace: &Path) -> Option<Vec<String>> {
    if !on_path("strace") {
        return None;
    }
    let plugin = plugin(args, EXEC_INFO_V1_NONINTERACTIVE);
    let mut cmd = Command::new("strace");
    cmd.args([
        "-f",
        "-qq",
        "-y",
        "-e",
        "trace=flock,rename,renameat,renameat2",
        "-o",
    ])
    .arg(trace)
    .arg(plugin.get_program())
    .args(plugin.get_args())
    .stdin(Stdio::null());
    for (key, value) in plugin.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    success(&cmd.output().expect("strace runs"));
    let text = std::fs::read_to_string(trace).unwrap();
    Some(text.lines().map(str::to_string).collect())
}

fn success(out: &std::process::Output) -> (String, String) {
    let stderr = stderr_of(out);
    assert!(out.status.success(), "get-token failed: {stderr}");
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (token_of(&credential), stderr)
}

/// The keyring items of this cache directory, as recorded in its index.
fn indexed_keys(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("keyring-index"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn keyring_secret(key: &str) -> Option<String> {
    let entry = keyring::Entry::new(SERVICE, &format!("tokencache/{key}")).unwrap();
    match entry.get_password() {
        Ok(secret) => Some(secret),
        Err(keyring::Error::NoEntry) => None,
        Err(e) => panic!("reading the keyring item: {e}"),
    }
}

#[test]
fn tokens_live_in_the_secret_service_and_clean_removes_them() {
    for program in ["dbus-daemon", "dbus-send", "gnome-keyring-daemon"] {
        if !on_path(program) {
            let message = format!(
                "SKIPPED tokens_live_in_the_secret_service_and_clean_removes_them: {program} is missing \
                 (apt-get install -y dbus gnome-keyring)"
            );
            println!("{message}");
            eprintln!("{message}");
            return;
        }
    }
    let bus = SecretService::start();
    // SAFETY: the only test of this binary sets it before any thread reads the environment;
    // the keyring client of this process then reads the private bus too.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address) };

    let setup = Setup::new(OidcProvider::builder().http());
    let mut args = setup.password_args();
    args.push("--token-cache-storage=keyring".into());

    // 1. Login: into the keyring, nothing on disk but the lock and the index.
    let (token, stderr) = success(&plugin_on(&bus, &args));
    assert!(
        !stderr.contains("keyring"),
        "no keyring warning with a working Secret Service: {stderr}"
    );
    assert_eq!(claims(&token)["sub"], ALICE.id);
    assert!(setup.cache_files().is_empty(), "no token file on disk");
    let keys = indexed_keys(&setup.cache_dir());
    assert_eq!(keys.len(), 1, "one keyring item recorded");
    let secret = keyring_secret(&keys[0]).expect("the item is in the keyring");
    let entry: serde_json::Value = serde_json::from_str(&secret).unwrap();
    assert_eq!(entry["id_token"], token.as_str());
    assert!(entry["refresh_token"].is_string());
    for file in std::fs::read_dir(setup.cache_dir()).unwrap() {
        let text = std::fs::read(file.unwrap().path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains(&token),
            "the token is nowhere on disk"
        );
    }

    // 1b. A second account's login adds its key to the index under the lock
    // shared by all keys (taken before the index is replaced), so
    // concurrent logins of different accounts never drop each other's key.
    let mut bob = setup.args();
    bob.extend([
        "--grant-type=password".to_string(),
        format!("--username={}", BOB.id),
        format!("--password={}", BOB.password),
        "--token-cache-storage=keyring".to_string(),
    ]);
    let traces = tempfile::tempdir().unwrap();
    match traced_on(&bus, &bob, &traces.path().join("bob.trace")) {
        Some(lines) => {
            let dir = std::fs::canonicalize(setup.cache_dir()).unwrap();
            let index = format!("\"{}\"", dir.join("keyring-index").display());
            let lock = format!("<{}>", dir.join("keyring-index.lock").display());
            let replaced = lines
                .iter()
                .position(|l| l.contains("rename") && l.contains(&index) && l.ends_with("= 0"))
                .unwrap_or_else(|| panic!("no rename onto {index}:\n{}", lines.join("\n")));
            let locked = lines[..replaced]
                .iter()
                .rposition(|l| l.contains("flock(") && l.contains(&lock) && l.contains("LOCK_EX"))
                .unwrap_or_else(|| {
                    panic!(
                        "the index is replaced without its lock:\n{}",
                        lines.join("\n")
                    )
                });
            assert!(
                !lines[locked..replaced]
                    .iter()
                    .any(|l| l.contains(&lock) && l.contains("LOCK_UN")),
                "the lock is held until the index is replaced:\n{}",
                lines.join("\n")
            );
        }
        None => {
            eprintln!(
                "strace is missing (apt-get install -y strace): the index lock is not traced"
            );
            success(&plugin_on(&bus, &bob));
        }
    }
    let mut both = indexed_keys(&setup.cache_dir());
    both.sort();
    both.dedup();
    assert_eq!(
        both.len(),
        2,
        "alice's and bob's keys are both recorded: {both:?}"
    );
    assert!(both.contains(&keys[0]));

    // 2. A cache hit from the keyring: same token, no request to the provider.
    let before = setup.provider.stats().unwrap();
    let (again, stderr) = success(&plugin_on(&bus, &args));
    assert_eq!(again, token);
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(setup.provider.stats().unwrap().requests, before.requests);

    // 3. A token too large for a keyring item: on disk, one warning.
    let mut big = setup.args();
    big.extend([
        "--grant-type=password".to_string(),
        format!("--username={}", CAROL.id),
        format!("--password={}", CAROL.password),
        "--token-cache-storage=keyring".to_string(),
    ]);
    let (big_token, stderr) = success(&plugin_on(&bus, &big));
    assert!(big_token.len() > 4096, "carol's token is large");
    assert_eq!(
        claims(&big_token)["groups"].as_array().unwrap().len(),
        CAROL_GROUP_COUNT
    );
    assert_eq!(
        stderr.matches("warning: cannot use the OS keyring").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("bytes"), "the warning says why: {stderr}");
    assert_eq!(setup.cache_files().len(), 1, "carol's entry is on disk");
    assert_eq!(
        indexed_keys(&setup.cache_dir()).len(),
        2,
        "only alice's and bob's in the keyring"
    );
    let before = setup.provider.stats().unwrap();
    let (big_again, stderr) = success(&plugin_on(&bus, &big));
    assert_eq!(big_again, big_token);
    assert!(
        stderr.is_empty(),
        "a hit from the disk fallback is quiet: {stderr}"
    );
    assert_eq!(setup.provider.stats().unwrap().requests, before.requests);

    // 4. clean deletes the keyring item and the files.
    let out = Command::new(BIN)
        .args([
            "clean".to_string(),
            format!("--token-cache-dir={}", setup.cache_dir().display()),
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(keyring_secret(&keys[0]), None, "the keyring item is gone");
    assert!(setup.cache_files().is_empty());
    let before = setup.provider.stats().unwrap();
    success(&plugin_on(&bus, &args));
    assert_eq!(
        setup.provider.stats().unwrap().grants_for("password") - before.grants_for("password"),
        1,
        "after clean the next call logs in again"
    );
}
