//! `cargo xtask dist`: release archives (binary + LICENSE + README [+ completion
//! helper]) per binary and platform, their sha256, and the krew manifests made
//! from them (`cargo xtask manifests`, also run on the release's archives).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

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

/// Packs `binary`, built for `platform` into `bin_dir`, with the license, its
/// README (and on Unix, for plugins, the completion helper) into `out_dir`: a
/// `.tar.gz`, or a `.zip` holding `BIN.exe` for Windows.
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
    let readme_path = ws.root.join(binary.folder).join("README.md");
    let readme =
        fs::read(&readme_path).with_context(|| format!("reading {}", readme_path.display()))?;
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
        Member {
            path: "README.md".into(),
            data: readme,
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
    let sha256 = archive::write(&path, platform.archive_format(), &members)?;
    Ok(Archive {
        binary,
        platform,
        path,
        sha256,
    })
}

/// The glibc Linux release binaries are linked against: distributions from
/// 2014 on (CentOS 7, Debian 8, Ubuntu 14.04) have it.
pub const GLIBC: &str = "2.17";

/// What `cargo xtask dist` does.
#[derive(Debug, Clone)]
pub struct DistOptions {
    /// Release (shipped) or dev (cheap, for tests).
    pub profile: Profile,
    /// Target triples to build; empty: this machine's.
    pub targets: Vec<String>,
    /// Where archives go.
    pub out_dir: PathBuf,
    /// For `*-linux-gnu` targets: link against this glibc with cargo-zigbuild
    /// (`None`: the build machine's glibc, with plain cargo).
    pub glibc: Option<String>,
}

/// Builds `binaries` for `triple` against glibc `glibc` with cargo-zigbuild
/// (installed with zig from PyPI under `target/tools/zigbuild`); returns the
/// folder holding them.
pub fn zigbuild(
    ws: &Workspace,
    binaries: &[&Binary],
    profile: Profile,
    triple: &str,
    glibc: &str,
) -> Result<PathBuf> {
    let tools = crate::tools::pip_install(ws, "zigbuild", crate::tools::ZIGBUILD)?;
    let mut cmd = tools.command("bin/cargo-zigbuild")?;
    cmd.current_dir(&ws.root)
        .args(["zigbuild", "--locked", "--bins"])
        .args(["--target", &format!("{triple}.{glibc}")]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    for binary in binaries {
        cmd.args(["-p", binary.package]);
    }
    workspace::run(&mut cmd).context("cargo-zigbuild failed")?;
    Ok(ws.target_dir.join(triple).join(profile.dir_name()))
}

/// Builds every binary present in the workspace for each target and packs it.
pub fn build_archives(ws: &Workspace, options: &DistOptions) -> Result<Vec<Archive>> {
    let binaries = ws.present(crate::binaries::BINARIES);
    let mut targets: Vec<(Option<&str>, &'static Platform)> = Vec::new();
    if options.targets.is_empty() {
        let host = workspace::host_platform()?;
        // On Linux, name the host triple so the glibc can be chosen.
        let triple = (host.os == "linux" && options.glibc.is_some()).then(|| host.triples[0]);
        targets.push((triple, host));
    }
    for triple in &options.targets {
        targets.push((
            Some(triple.as_str()),
            workspace::platform_for_triple(triple)?,
        ));
    }
    let mut archives = Vec::new();
    for (triple, platform) in targets {
        let bin_dir = match (triple, &options.glibc) {
            (Some(triple), Some(glibc)) if triple.ends_with("-linux-gnu") => {
                zigbuild(ws, &binaries, options.profile, triple, glibc)?
            }
            _ => ws.build(&binaries, options.profile, triple)?,
        };
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

/// A `--version` as given (`v1.2.3` or `1.2.3`), without its `v`; checked
/// against krew's rule (semantic version).
pub fn parse_version(given: &str) -> Result<String> {
    let bare = given.strip_prefix('v').unwrap_or(given);
    if !crate::validate::is_v_semver(&format!("v{bare}")) {
        bail!("--version {given:?} is not a semantic version like v1.2.3");
    }
    Ok(bare.to_string())
}

/// What a file name says when it is `PACKAGE-vVERSION-OS-ARCH.tar.gz|zip`:
/// the binary, the version (without `v`), the platform and the format.
/// `Ok(None)` for files that are not archives (`.sha256`, SBOMs, …).
#[allow(clippy::type_complexity)]
pub fn parse_archive_name(
    name: &str,
) -> Result<Option<(&'static Binary, String, &'static Platform)>> {
    let Some(format) = crate::archive::Format::of_name(name) else {
        return Ok(None);
    };
    let stem = &name[..name.len() - format.extension().len() - 1];
    let expected = "expected PACKAGE-vVERSION-OS-ARCH.tar.gz (.zip for Windows)";
    let Some((binary, rest)) = crate::binaries::BINARIES.iter().find_map(|b| {
        stem.strip_prefix(b.package)
            .and_then(|r| r.strip_prefix("-v"))
            .map(|r| (b, r))
    }) else {
        let packages: Vec<&str> = crate::binaries::BINARIES
            .iter()
            .map(|b| b.package)
            .collect();
        bail!(
            "{name}: not a kubext archive name ({expected}, PACKAGE one of {})",
            packages.join(", ")
        );
    };
    // The version may hold dashes (v1.0.0-rc.1): os and arch are the last two parts.
    let mut parts = rest.rsplitn(3, '-');
    let (Some(arch), Some(os), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        bail!(
            "{name}: no version, os and arch after {}-v ({expected})",
            binary.package
        );
    };
    let platform = workspace::platform_for_labels(os, arch).with_context(|| {
        let known: Vec<String> = workspace::PLATFORMS
            .iter()
            .map(|p| format!("{}-{}", p.os, p.arch))
            .collect();
        format!(
            "{name}: {os}/{arch} is not a release platform (one of {})",
            known.join(", ")
        )
    })?;
    if platform.archive_format() != format {
        bail!(
            "{name}: {os} archives are .{}, not .{}",
            platform.archive_format().extension(),
            format.extension()
        );
    }
    Ok(Some((binary, version.to_string(), platform)))
}

/// The archives of `version` (without `v`) in `dir`, each checked against the
/// `NAME.sha256` file beside it. Files that are not archives are skipped;
/// an archive whose name, platform or checksum is wrong fails the whole scan
/// with every problem listed, and so does an archive listed twice.
pub fn find_archives(dir: &Path, version: &str) -> Result<Vec<Archive>> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading {}", dir.display()))?;
    names.sort();
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut other_versions = std::collections::BTreeSet::new();
    for name in names {
        let (binary, found_version, platform) = match parse_archive_name(&name) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => continue,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        if found_version != version {
            other_versions.insert(format!("v{found_version}"));
            continue;
        }
        let path = dir.join(&name);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let sha256 = archive::sha256_hex(&bytes);
        let sum_path = dir.join(format!("{name}.sha256"));
        match fs::read_to_string(&sum_path) {
            Err(e) => problems.push(format!(
                "{}: {e}; every archive needs its sha256 file (`sha256sum NAME > NAME.sha256`)",
                sum_path.display()
            )),
            Ok(text) => {
                let listed = text.split_whitespace().next().unwrap_or_default();
                if listed != sha256 {
                    problems.push(format!(
                        "{} says {listed:?} but {name} has sha256 {sha256}: the archive or its checksum is damaged",
                        sum_path.display()
                    ));
                }
            }
        }
        found.push(Archive {
            binary,
            platform,
            path,
            sha256,
        });
    }
    if !problems.is_empty() {
        bail!(
            "{} problem(s) with the archives in {}:\n  {}",
            problems.len(),
            dir.display(),
            problems.join("\n  ")
        );
    }
    if found.is_empty() && !other_versions.is_empty() {
        bail!(
            "no archive of v{version} in {}; it holds {}: pass --version",
            dir.display(),
            other_versions.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(found)
}

/// `cargo xtask manifests`: renders the krew manifest of every plugin with an
/// archive of `version` (without `v`) in `from`, into `plugins_dir`, one
/// `platforms[]` entry per archive. Returns the paths written.
pub fn manifests(from: &Path, plugins_dir: &Path, version: &str) -> Result<Vec<PathBuf>> {
    let archives = find_archives(from, version)?;
    if !archives.iter().any(|a| a.binary.plugin.is_some()) {
        bail!(
            "no plugin archive of v{version} in {}: run `cargo xtask dist` (or download the release's archives) first",
            from.display()
        );
    }
    krew::write_manifests(plugins_dir, version, &by_binary(&archives))
        .context("writing the krew manifests")
}

/// The glibc need of one Linux binary in an archive.
#[derive(Debug, Clone)]
pub struct GlibcNeed {
    /// The archive's file name.
    pub archive: String,
    /// The binary in it.
    pub bin: String,
    /// The highest `GLIBC_x.y` it needs (`None`: no glibc symbol version at all).
    pub max: Option<(u32, u32)>,
}

/// The highest glibc version needed by the binary of every Linux archive in
/// `dir` (any version); archives of other platforms are skipped.
pub fn glibc_needs(dir: &Path) -> Result<Vec<GlibcNeed>> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.sort();
    let mut needs = Vec::new();
    for name in names {
        let Some((binary, _, platform)) = parse_archive_name(&name)? else {
            continue;
        };
        if platform.os != "linux" {
            continue;
        }
        let path = dir.join(&name);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let exe = archive::read_member(&bytes, binary.bin)
            .with_context(|| format!("reading {} from {name}", binary.bin))?;
        let max = crate::elf::max_glibc(&exe).with_context(|| format!("{name}: {}", binary.bin))?;
        needs.push(GlibcNeed {
            archive: name,
            bin: binary.bin.to_string(),
            max,
        });
    }
    Ok(needs)
}

/// `"2.17"` → `(2, 17)`.
pub fn parse_glibc(text: &str) -> Result<(u32, u32)> {
    crate::elf::glibc_version(&format!("GLIBC_{text}"))
        .with_context(|| format!("{text:?} is not a glibc version like 2.17"))
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
