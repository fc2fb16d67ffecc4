//! `merge` end to end: unrelated entries survive, conflicts are refused,
//! backups are kept, and a failed write leaves the old file whole.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// A kubeconfig as people have them: several entries, fields we don't model,
/// extensions, preferences, and kubectl's `env: null`.
const EXISTING: &str = r#"apiVersion: v1
kind: Config
preferences:
  colors: true
current-context: home
clusters:
- name: home
  cluster:
    server: https://192.168.1.10:6443
    insecure-skip-tls-verify: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension:
        audience: home-lab
- name: shared
  cluster:
    server: https://shared.example:6443
- name: prod-eu-1
  cluster:
    server: https://old-prod.example:6443
users:
- name: me
  user:
    token: abc123
- name: oidc-corp
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubectl
      args: [oidc-login, get-token, --oidc-issuer-url=https://login.acme.example/realms/engineering, --oidc-client-id=kubernetes]
      env: null
      interactiveMode: IfAvailable
      futureField: {kept: [1, 2, 3]}
contexts:
- name: home
  context:
    cluster: home
    user: me
    namespace: default
extensions:
- name: my-tool
  extension:
    lastUsed: "2026-01-01"
"#;

const INCOMING: &str = r#"apiVersion: v1
kind: Config
current-context: staging
clusters:
- name: shared
  cluster:
    server: https://shared.example:6443
- name: prod-eu-1
  cluster:
    server: https://api.prod-eu-1.acme.example:6443
- name: staging
  cluster:
    server: https://api.staging.acme.example:6443
users:
- name: robot
  user:
    token: xyz
contexts:
- name: staging
  context:
    cluster: staging
    user: robot
"#;

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let kube = home.path().join(".kube");
    std::fs::create_dir(&kube).unwrap();
    let target = kube.join("config");
    std::fs::write(&target, EXISTING).unwrap();
    let src = home.path().join("incoming.yaml");
    std::fs::write(&src, INCOMING).unwrap();
    (home, target, src)
}

fn backups(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("config.backup-"))
        .collect();
    v.sort();
    v
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn conflicts_are_refused_without_overwrite_and_nothing_is_written() {
    let (home, target, src) = setup();
    let out = plugin(home.path()).arg("merge").arg(&src).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cluster \"prod-eu-1\": cluster.server differ"),
        "{err}"
    );
    assert!(
        err.contains("nothing was written; rerun with --overwrite"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("! prod-eu-1   conflict: cluster.server differ"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        EXISTING,
        "target untouched"
    );
    assert_eq!(backups(target.parent().unwrap()), Vec::<String>::new());
}

#[test]
fn overwrite_merges_keeps_unrelated_entries_and_backs_up() {
    let (home, target, src) = setup();
    let out = plugin(home.path())
        .args(["merge", "--overwrite"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let diff = stdout(&out);
    for line in [
        "clusters:",
        "    home        kept",
        "  = shared      unchanged",
        "  ~ prod-eu-1   changed: cluster.server",
        "  + staging     added",
        "  + robot       added",
        "current-context: home (kept)",
    ] {
        assert!(diff.contains(line), "missing {line:?} in\n{diff}");
    }
    assert!(
        stderr(&out).contains("3 added, 1 changed, 1 unchanged, 4 kept"),
        "{}",
        stderr(&out)
    );

    let before = parse(EXISTING);
    let after = read(&target);
    // Everything the merge had no business touching is equal as parsed data.
    for key in [
        "apiVersion",
        "kind",
        "preferences",
        "extensions",
        "current-context",
    ] {
        assert_eq!(after[key], before[key], "{key}");
    }
    for (section, name) in [
        ("clusters", "home"),
        ("users", "me"),
        ("users", "oidc-corp"),
        ("contexts", "home"),
    ] {
        assert_eq!(
            entry(&after, section, name),
            entry(&before, section, name),
            "{section}/{name}"
        );
    }
    assert_eq!(
        entry(&after, "clusters", "prod-eu-1")["cluster"]["server"],
        "https://api.prod-eu-1.acme.example:6443"
    );
    assert_eq!(
        names(&after, "clusters"),
        ["home", "shared", "prod-eu-1", "staging"]
    );
    assert_eq!(names(&after, "contexts"), ["home", "staging"]);

    // The backup is the old file, byte for byte, private.
    let dir = target.parent().unwrap();
    let b = backups(dir);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(std::fs::read_to_string(dir.join(&b[0])).unwrap(), EXISTING);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [target.clone(), dir.join(&b[0])] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }

    // kubectl reads the result and still sees the old entries.
    let view = kubectl(&target, home.path(), None)
        .args(["config", "get-contexts", "-o", "name"])
        .output()
        .unwrap();
    assert!(view.status.success(), "{}", stderr(&view));
    assert_eq!(stdout(&view), "home\nstaging\n");

    // Merging the same thing again changes nothing and writes nothing.
    let again = plugin(home.path()).arg("merge").arg(&src).output().unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("nothing written"),
        "{}",
        stderr(&again)
    );
    assert_eq!(backups(dir).len(), 1);
}

#[test]
fn dry_run_shows_the_diff_only() {
    let (home, target, src) = setup();
    let out = plugin(home.path())
        .args(["merge", "--dry-run", "--overwrite"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("+ staging"), "{}", stdout(&out));
    assert!(stderr(&out).contains("dry run"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), EXISTING);
    assert_eq!(dir_listing(target.parent().unwrap()), ["config"]);
}

#[test]
fn the_target_comes_from_kubeconfig_env_and_may_not_exist_yet() {
    let (home, _, src) = setup();
    let first = home.path().join("new").join("first.yaml");
    let second = home.path().join("second.yaml");
    let joined = std::env::join_paths([&first, &second]).unwrap();
    let out = plugin(home.path())
        .env("KUBECONFIG", &joined)
        .arg("merge")
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!second.exists());
    let written = read(&first);
    assert_eq!(
        written["current-context"], "staging",
        "an empty target takes the source's current context"
    );
    assert_eq!(
        names(&written, "clusters"),
        ["shared", "prod-eu-1", "staging"]
    );
    assert_eq!(
        dir_listing(first.parent().unwrap()),
        ["first.yaml"],
        "no backup of nothing"
    );
}

/// Makes renaming over `path` fail: the file is made immutable (root ignores
/// permissions, but not this), or, for other users, its directory read-only.
/// Returns a guard that undoes it, or None when neither works here.
fn make_unreplaceable(path: &Path) -> Option<Box<dyn FnOnce()>> {
    let p = path.to_path_buf();
    let immutable = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&p)
        .status();
    if immutable.is_ok_and(|s| s.success()) {
        return Some(Box::new(move || {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&p)
                .status();
        }));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = path.parent()?.to_path_buf();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).ok()?;
        if std::fs::write(dir.join("probe"), "x").is_ok() {
            let _ = std::fs::remove_file(dir.join("probe"));
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
            return None;
        }
        Some(Box::new(move || {
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
        }))
    }
    #[cfg(not(unix))]
    None
}

#[test]
fn a_failed_write_leaves_the_old_file_whole() {
    let (home, target, src) = setup();
    let Some(undo) = make_unreplaceable(&target) else {
        eprintln!(
            "skipped: cannot make a file unreplaceable on this system (no chattr, running as root)"
        );
        return;
    };
    let out = plugin(home.path())
        .args(["merge", "--overwrite"])
        .arg(&src)
        .output()
        .unwrap();
    let listing = dir_listing(target.parent().unwrap());
    let contents = std::fs::read_to_string(&target).unwrap();
    undo();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it was left as it was")
            || stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(contents, EXISTING, "the old file is whole");
    let temps: Vec<&String> = listing.iter().filter(|n| n.ends_with(".tmp")).collect();
    assert!(temps.is_empty(), "temporary files left behind: {listing:?}");
}

#[test]
fn invalid_input_is_rejected_before_anything_is_written() {
    let (home, target, _) = setup();
    let bad = home.path().join("bad.yaml");
    std::fs::write(&bad, "clusters:\n- cluster: {server: https://x}\n").unwrap();
    let out = plugin(home.path()).arg("merge").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("clusters[0] has no name"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), EXISTING);
    let value: Value = read(&target);
    assert_eq!(value["current-context"], "home");
}
