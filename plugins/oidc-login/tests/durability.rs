//! What the token cache does on disk to survive a crash, seen from outside:
//! the system calls of a real `get-token`, recorded with `strace`. A new
//! entry is written to a temp file, synced, renamed over the entry, and then
//! the cache directory itself is synced: the rename lives in the directory,
//! and without that sync a crash can bring back the old entry, whose refresh
//! token the provider may already have rotated.
//!
//! Needs `strace` (Debian: `strace`; `cargo xtask test` installs it as root).
//! Without it the test prints SKIPPED.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use oidc_test_provider::OidcProvider;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Runs the plugin under `strace -f -y` (file descriptors shown with their
/// paths) and returns the recorded renames and syncs.
fn traced(args: &[String], trace: &Path) -> Vec<String> {
    let plugin = plugin(args, EXEC_INFO_V1_NONINTERACTIVE);
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-qq", "-y", "-e"])
        .arg("trace=rename,renameat,renameat2,fsync,fdatasync")
        .arg("-o")
        .arg(trace)
        .arg(plugin.get_program())
        .args(plugin.get_args())
        .stdin(std::process::Stdio::null());
    for (key, value) in plugin.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let out = cmd.output().expect("strace runs");
    assert!(
        out.status.success(),
        "get-token failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(trace)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_new_entry_is_synced_renamed_and_its_directory_synced() {
    if !on_path("strace") {
        eprintln!("SKIPPED: strace is not installed (apt-get install -y strace)");
        return;
    }
    let setup = Setup::new(OidcProvider::builder().http());
    let traces = tempfile::tempdir().unwrap();
    let lines = traced(&setup.password_args(), &traces.path().join("login.trace"));

    let entry = setup
        .cache_files()
        .into_iter()
        .find(|p| p.extension().is_none())
        .expect("the login wrote a cache entry");
    let entry = std::fs::canonicalize(entry).unwrap();
    let dir = entry.parent().unwrap().display().to_string();
    let entry = entry.display().to_string();
    let renamed = lines
        .iter()
        .position(|l| {
            l.contains("rename") && l.contains(&format!("\"{entry}\"")) && l.ends_with("= 0")
        })
        .unwrap_or_else(|| panic!("no rename onto {entry} in:\n{}", lines.join("\n")));
    let is_sync = |l: &str| l.contains("fsync(") || l.contains("fdatasync(");
    assert!(
        lines[..renamed]
            .iter()
            .any(|l| is_sync(l) && l.contains(&format!("{dir}/.")) && l.contains(".tmp>")),
        "the temp file is synced before the rename:\n{}",
        lines.join("\n")
    );
    assert!(
        lines[renamed..]
            .iter()
            .any(|l| is_sync(l) && l.contains(&format!("<{dir}>)")) && l.ends_with("= 0")),
        "the cache directory {dir} is synced after the rename:\n{}",
        lines.join("\n")
    );
}
