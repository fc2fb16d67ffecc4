//! `cargo xtask test` and `cargo xtask install`: the README's commands.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::binaries::BINARIES;
use crate::completions;
use crate::workspace::{Workspace, cargo, run};

/// Installs what the tests need, then runs every crate's tests:
/// the identity provider fixture's npm packages (`npm ci`), Debian's `chromium`
/// when running as root and it is missing, then `cargo test --workspace` with
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
    if is_root() && !on_path("chromium") {
        eprintln!("== apt-get install chromium (for the browser login test)");
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    eprintln!("== cargo test --workspace");
    run(cargo()
        .current_dir(&ws.root)
        .args(["test", "--workspace"])
        .args(extra))
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

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
