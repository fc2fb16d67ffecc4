//! `cargo xtask dist`: release archives (binary + LICENSE [+ completion helper])
//! per binary and platform, their sha256, and the krew manifests made from them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::archive::{self, Member};
use crate::binaries::Binary;
use crate::completions;
use crate::krew::{self, PlatformArchive};
use crate::workspace::{self, Platform, Profile, Workspace};

/// One archive that was written or found.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The binary it holds.
    pub binary: &'static Binary,
    /// The platform it is for.
    pub platform: &'static Platform,
    /// Where it is.
    pub path: PathBuf,
    /// Its sha256, lowercase hex.
    pub sha256: String,
}

/// `target/dist` under the workspace's target directory.
pub fn default_out_dir(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("dist")
}

/// Packs `binary`, built for `platform` into `bin_dir`, with the license (and on
/// Unix, for plugins, the completion helper) into `out_dir`.
pub fn package(
    ws: &Workspace,
    binary: &'static Binary,
    platform: &'static Platform,
    bin_dir: &Path,
    out_dir: &Path,
    version: &str,
) -> Result<Archive> {
    let exe = format!("{}{}", binary.bin, platform.exe_suffix());
    let exe_path = bin_dir.join(&exe);
    let data = fs::read(&exe_path)
        .with_context(|| format!("reading the built binary {}", exe_path.display()))?;
    let license =
        fs::read(ws.license()).with_context(|| format!("reading {}", ws.license().display()))?;
    let mut members = vec![
        Member {
            path: exe,
            data,
            mode: 0o755,
        },
        Member {
            path: "LICENSE".into(),
            data: license,
            mode: 0o644,
        },
    ];
    if platform.is_unix()
        && let Some(helper) = binary.completion_helper()
    {
        members.push(Member {
            path: helper,
            data: completions::helper_script(binary).into_bytes(),
            mode: 0o755,
        });
    }
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let path = out_dir.join(krew::archive_name(binary, version, platform));
    let sha256 = archive::write_tar_gz(&path, &members)?;
    Ok(Archive {
        binary,
        platform,
        path,
        sha256,
    })
}

/// What `cargo xtask dist` does.
#[derive(Debug, Clone)]
pub struct DistOptions {
    /// Release (shipped) or dev (cheap, for tests).
    pub profile: Profile,
    /// Target triples to build; empty: this machine's.
    pub targets: Vec<String>,
    /// Where archives go.
    pub out_dir: PathBuf,
}

/// Builds every binary present in the workspace for each target and packs it.
pub fn build_archives(ws: &Workspace, options: &DistOptions) -> Result<Vec<Archive>> {
    let binaries = ws.present(crate::binaries::BINARIES);
    let mut targets: Vec<(Option<&str>, &'static Platform)> = Vec::new();
    if options.targets.is_empty() {
        targets.push((None, workspace::host_platform()?));
    }
    for triple in &options.targets {
        targets.push((
            Some(triple.as_str()),
            workspace::platform_for_triple(triple)?,
        ));
    }
    let mut archives = Vec::new();
    for (triple, platform) in targets {
        let bin_dir = ws.build(&binaries, options.profile, triple)?;
        for binary in &binaries {
            archives.push(package(
                ws,
                binary,
                platform,
                &bin_dir,
                &options.out_dir,
                workspace::VERSION,
            )?);
        }
    }
    Ok(archives)
}

/// The archives of this version already in `out_dir`, for every binary and platform.
pub fn find_archives(out_dir: &Path, version: &str) -> Result<Vec<Archive>> {
    let mut found = Vec::new();
    for binary in crate::binaries::BINARIES {
        for platform in workspace::PLATFORMS {
            let path = out_dir.join(krew::archive_name(binary, version, platform));
            if !path.is_file() {
                continue;
            }
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            found.push(Archive {
                binary,
                platform,
                sha256: archive::sha256_hex(&bytes),
                path,
            });
        }
    }
    Ok(found)
}

/// Groups archives by binary name for [`krew::write_manifests`].
pub fn by_binary(archives: &[Archive]) -> BTreeMap<&'static str, Vec<PlatformArchive>> {
    let mut map: BTreeMap<&'static str, Vec<PlatformArchive>> = BTreeMap::new();
    for archive in archives {
        map.entry(archive.binary.bin)
            .or_default()
            .push(PlatformArchive {
                platform: archive.platform,
                sha256: archive.sha256.clone(),
            });
    }
    map
}
