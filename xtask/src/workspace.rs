//! Where the workspace is, which packages it has, and building them with cargo.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::binaries::Binary;

/// The workspace version (`[workspace.package] version`), shared by every crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The workspace repository URL (`[workspace.package] repository`).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");
/// The workspace homepage (`[workspace.package] homepage`).
pub const HOMEPAGE: &str = env!("CARGO_PKG_HOMEPAGE");

/// The cargo profile binaries are built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// `--release`: what `cargo xtask dist` ships.
    Release,
    /// The dev profile: cheap archives for tests.
    Dev,
}

impl Profile {
    /// The folder under the target directory.
    pub fn dir_name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Dev => "debug",
        }
    }
}

/// An operating system and architecture pair, with krew's names for them.
#[derive(Debug, PartialEq, Eq)]
pub struct Platform {
    /// krew's `os` label (Go's GOOS).
    pub os: &'static str,
    /// krew's `arch` label (Go's GOARCH).
    pub arch: &'static str,
    /// Rust target triples that build for it, preferred first.
    pub triples: &'static [&'static str],
}

impl Platform {
    /// The executable suffix on this platform.
    pub fn exe_suffix(&self) -> &'static str {
        if self.os == "windows" { ".exe" } else { "" }
    }

    /// Whether shell scripts (the completion helpers) make sense there.
    pub fn is_unix(&self) -> bool {
        self.os != "windows"
    }

    /// The archive format users there unpack: zip on Windows, else tar.gz.
    pub fn archive_format(&self) -> crate::archive::Format {
        if self.os == "windows" {
            crate::archive::Format::Zip
        } else {
            crate::archive::Format::TarGz
        }
    }
}

/// The platforms kubext releases for (the release workflow builds each on its
/// own runner); a manifest lists those whose archives exist.
pub const PLATFORMS: &[Platform] = &[
    Platform {
        os: "linux",
        arch: "amd64",
        triples: &["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"],
    },
    Platform {
        os: "linux",
        arch: "arm64",
        triples: &["aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"],
    },
    Platform {
        os: "darwin",
        arch: "amd64",
        triples: &["x86_64-apple-darwin"],
    },
    Platform {
        os: "darwin",
        arch: "arm64",
        triples: &["aarch64-apple-darwin"],
    },
    Platform {
        os: "windows",
        arch: "amd64",
        triples: &["x86_64-pc-windows-msvc", "x86_64-pc-windows-gnu"],
    },
    Platform {
        os: "windows",
        arch: "arm64",
        triples: &["aarch64-pc-windows-msvc"],
    },
];

/// The platform of a Rust target triple.
pub fn platform_for_triple(triple: &str) -> Result<&'static Platform> {
    PLATFORMS
        .iter()
        .find(|p| p.triples.contains(&triple))
        .with_context(|| {
            let known: Vec<&str> = PLATFORMS
                .iter()
                .flat_map(|p| p.triples.iter().copied())
                .collect();
            format!(
                "target {triple:?} is not a release platform; use one of: {}",
                known.join(", ")
            )
        })
}

/// The platform with these krew labels.
pub fn platform_for_labels(os: &str, arch: &str) -> Option<&'static Platform> {
    PLATFORMS.iter().find(|p| p.os == os && p.arch == arch)
}

/// The platform this xtask runs on (and builds for without `--target`).
pub fn host_platform() -> Result<&'static Platform> {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    platform_for_labels(os, arch)
        .with_context(|| format!("this machine ({os}/{arch}) is not a release platform"))
}

/// The workspace this xtask belongs to.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder of the root `Cargo.toml`.
    pub root: PathBuf,
    /// cargo's target directory.
    pub target_dir: PathBuf,
    /// The names of the workspace's packages.
    pub packages: BTreeSet<String>,
}

impl Workspace {
    /// Asks `cargo metadata` about the workspace around this crate.
    pub fn locate() -> Result<Workspace> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let output = cargo()
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(&manifest)
            .output()
            .context("running `cargo metadata`")?;
        if !output.status.success() {
            bail!(
                "`cargo metadata` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let metadata: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("parsing `cargo metadata` output")?;
        let text = |key: &str| -> Result<PathBuf> {
            metadata[key]
                .as_str()
                .map(PathBuf::from)
                .with_context(|| format!("`cargo metadata` output has no {key}"))
        };
        let packages = metadata["packages"]
            .as_array()
            .context("`cargo metadata` output has no packages")?
            .iter()
            .filter_map(|p| p["name"].as_str().map(String::from))
            .collect();
        Ok(Workspace {
            root: text("workspace_root")?,
            target_dir: text("target_directory")?,
            packages,
        })
    }

    /// Whether the workspace has this package (plugins join it as they are written).
    pub fn has(&self, binary: &Binary) -> bool {
        self.packages.contains(binary.package)
    }

    /// The binaries whose packages are in the workspace.
    pub fn present<'a>(&self, binaries: &'a [Binary]) -> Vec<&'a Binary> {
        binaries.iter().filter(|b| self.has(b)).collect()
    }

    /// `LICENSE` at the workspace root.
    pub fn license(&self) -> PathBuf {
        self.root.join("LICENSE")
    }

    /// The `audit-sink` binary to run: `given` when set (it must exist),
    /// otherwise built from this workspace with the dev or release profile.
    pub fn audit_sink(&self, given: Option<&Path>, dev: bool) -> Result<PathBuf> {
        let bin = match given {
            Some(p) => p.to_path_buf(),
            None => {
                let sink = crate::binaries::BINARIES
                    .iter()
                    .find(|b| b.package == "audit-sink")
                    .context("audit-sink is not a kubext binary")?;
                let profile = if dev { Profile::Dev } else { Profile::Release };
                self.build(&[sink], profile, None)?.join(sink.bin)
            }
        };
        if !bin.is_file() {
            bail!("{} does not exist; build it or drop --sink", bin.display());
        }
        Ok(bin)
    }

    /// Builds the binaries of these packages and returns the folder holding them.
    pub fn build(
        &self,
        binaries: &[&Binary],
        profile: Profile,
        triple: Option<&str>,
    ) -> Result<PathBuf> {
        if binaries.is_empty() {
            bail!("no binary to build: none of the packages is in the workspace yet");
        }
        let mut cmd = cargo();
        cmd.current_dir(&self.root).arg("build").arg("--bins");
        if profile == Profile::Release {
            cmd.arg("--release");
        }
        if let Some(triple) = triple {
            cmd.args(["--target", triple]);
        }
        for binary in binaries {
            cmd.args(["-p", binary.package]);
        }
        run(&mut cmd)?;
        let mut dir = self.target_dir.clone();
        if let Some(triple) = triple {
            dir.push(triple);
        }
        Ok(dir.join(profile.dir_name()))
    }
}

/// The cargo that runs this xtask (`$CARGO`), else `cargo` from `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command with inherited stdio and fails with its command line when it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}
