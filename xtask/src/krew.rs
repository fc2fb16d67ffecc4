//! krew plugin manifests: rendered from `xtask/templates/` and the archives, and
//! read back (with krew's field names) for validation.
//!
//! A manifest's inputs are the template, the plugin's texts
//! ([`crate::binaries`]), the workspace version and repository, and for each
//! platform the sha256 of its archive. Everything but the sha256 comes from the
//! code, so a checked-in manifest is fresh when rendering it again from its own
//! platforms and sha256 gives the same bytes ([`is_fresh`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::binaries::{Binary, Plugin};
use crate::workspace::{self, Platform};

/// `apiVersion` of krew plugin manifests.
pub const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// `kind` of krew plugin manifests.
pub const KIND: &str = "Plugin";

const PLUGIN_TEMPLATE: &str = include_str!("../templates/krew-plugin.yaml");
const PLATFORM_TEMPLATE: &str = include_str!("../templates/krew-platform.yaml");

/// The archive of one binary for one platform, as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformArchive {
    /// The platform.
    pub platform: &'static Platform,
    /// The archive's sha256, lowercase hex.
    pub sha256: String,
}

/// The archive file name of `binary` for `platform` at `version`
/// (`PACKAGE-vVERSION-OS-ARCH.tar.gz`, `.zip` for Windows).
pub fn archive_name(binary: &Binary, version: &str, platform: &Platform) -> String {
    format!(
        "{}-v{version}-{}-{}.{}",
        binary.package,
        platform.os,
        platform.arch,
        platform.archive_format().extension()
    )
}

/// Where a release publishes the archive (`…/releases/download/vX.Y.Z/NAME`).
pub fn archive_uri(binary: &Binary, version: &str, platform: &Platform) -> String {
    format!(
        "{}/releases/download/v{version}/{}",
        workspace::REPOSITORY.trim_end_matches('/'),
        archive_name(binary, version, platform)
    )
}

/// The files of the archive of `binary` for `platform`, as krew `files` copies
/// them into the install folder: the binary, the license, and on Unix the
/// completion helper (which krew cannot put on `PATH`; the caveats say how).
pub fn archive_files(binary: &Binary, platform: &Platform) -> Vec<String> {
    let mut files = vec![
        format!("{}{}", binary.bin, platform.exe_suffix()),
        "LICENSE".to_string(),
    ];
    if platform.is_unix()
        && let Some(helper) = binary.completion_helper()
    {
        files.push(helper);
    }
    files
}

/// `kubectl krew` caveats: the plugin's own, then how to enable completion.
fn caveats(binary: &Binary, plugin: &Plugin, version: &str) -> String {
    let mut text = String::new();
    if !plugin.caveats.is_empty() {
        text.push_str(plugin.caveats);
        text.push_str("\n\n");
    }
    if let Some(helper) = binary.completion_helper() {
        text.push_str(&format!(
            "Shell completion of `{invocation} <TAB>` (kubectl >= 1.26) needs the
helper {helper} on PATH, which krew does not link. On Linux and macOS:

  ln -sf \"${{KREW_ROOT:-$HOME/.krew}}/store/{name}/v{version}/{helper}\" \\
    \"${{KREW_ROOT:-$HOME/.krew}}/bin/{helper}\"

Scripts for bash, zsh, fish and PowerShell: `{bin} completion SHELL`.",
            invocation = binary.invocation(),
            name = plugin.name,
            bin = binary.bin,
        ));
    }
    text
}

fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

/// Renders the manifest of `binary` (a plugin) listing `archives`, ordered as
/// [`workspace::PLATFORMS`].
pub fn render(binary: &Binary, version: &str, archives: &[PlatformArchive]) -> Result<String> {
    let plugin = binary
        .plugin
        .as_ref()
        .with_context(|| format!("{} is not a kubectl plugin", binary.bin))?;
    if archives.is_empty() {
        bail!("the manifest of {} needs at least one archive", plugin.name);
    }
    let mut platforms = Vec::new();
    for platform in workspace::PLATFORMS {
        let Some(archive) = archives.iter().find(|a| a.platform == platform) else {
            continue;
        };
        let files = archive_files(binary, platform)
            .iter()
            .map(|f| format!("      - from: {f}\n        to: ."))
            .collect::<Vec<_>>()
            .join("\n");
        platforms.push(
            fill(
                PLATFORM_TEMPLATE,
                &[
                    ("os", platform.os.to_string()),
                    ("arch", platform.arch.to_string()),
                    ("uri", quoted(&archive_uri(binary, version, platform))),
                    ("sha256", quoted(&archive.sha256)),
                    ("bin", format!("{}{}", binary.bin, platform.exe_suffix())),
                    ("files", files),
                ],
            )
            .trim_end()
            .to_string(),
        );
    }
    let homepage = format!(
        "{}/tree/main/{}",
        workspace::HOMEPAGE.trim_end_matches('/'),
        binary.folder
    );
    let text = fill(
        PLUGIN_TEMPLATE,
        &[
            ("name", plugin.name.to_string()),
            ("version", format!("v{version}")),
            ("homepage", quoted(&homepage)),
            ("short_description", quoted(plugin.short_description)),
            ("description", indent(plugin.description, 4)),
            ("caveats", indent(&caveats(binary, plugin, version), 4)),
            ("platforms", platforms.join("\n")),
        ],
    );
    Ok(format!("{}\n", text.trim_end()))
}

/// `krew-index/plugins/NAME.yaml` under the workspace root.
pub fn manifest_path(root: &Path, plugin: &Plugin) -> PathBuf {
    root.join("krew-index")
        .join("plugins")
        .join(format!("{}.yaml", plugin.name))
}

/// The platforms and sha256 a manifest lists (the archive-derived inputs of [`render`]).
pub fn archives_listed(manifest: &Manifest) -> Result<Vec<PlatformArchive>> {
    let mut out = Vec::new();
    for (i, platform) in manifest.spec.platforms.iter().enumerate() {
        let labels = platform
            .selector
            .as_ref()
            .and_then(|s| s.match_labels.as_ref())
            .with_context(|| format!("spec.platforms[{i}] has no selector.matchLabels"))?;
        let (Some(os), Some(arch)) = (labels.get("os"), labels.get("arch")) else {
            bail!("spec.platforms[{i}].selector.matchLabels needs os and arch");
        };
        let platform_ref = workspace::platform_for_labels(os, arch).with_context(|| {
            format!("spec.platforms[{i}]: {os}/{arch} is not a release platform")
        })?;
        out.push(PlatformArchive {
            platform: platform_ref,
            sha256: platform.sha256.clone(),
        });
    }
    Ok(out)
}

/// Whether the checked-in manifest text is what [`render`] makes today from the
/// platforms and sha256 it lists; `Err` explains how it differs.
pub fn is_fresh(binary: &Binary, version: &str, text: &str) -> Result<()> {
    let manifest = parse(text)?;
    let archives = archives_listed(&manifest)?;
    let expected = render(binary, version, &archives)?;
    if expected != text {
        let line = expected
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(text.lines().count()));
        bail!(
            "differs from what the template renders (first at line {}: expected {:?}, found {:?})",
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            text.lines().nth(line).unwrap_or("<end>")
        );
    }
    Ok(())
}

/// Writes `NAME.yaml` into `plugins_dir` for every plugin with at least one
/// archive; returns their paths.
pub fn write_manifests(
    plugins_dir: &Path,
    version: &str,
    archives: &BTreeMap<&'static str, Vec<PlatformArchive>>,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (binary, plugin) in crate::binaries::plugins() {
        let Some(list) = archives.get(binary.bin).filter(|l| !l.is_empty()) else {
            continue;
        };
        let path = plugins_dir.join(format!("{}.yaml", plugin.name));
        fs::create_dir_all(plugins_dir)
            .with_context(|| format!("creating {}", plugins_dir.display()))?;
        fs::write(&path, render(binary, version, list)?)
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// A krew plugin manifest (`index.Plugin` in krew's `pkg/index`), read strictly:
/// an unknown field is an error, as it would be silently ignored by krew.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// `krew.googlecontainertools.github.com/v1alpha2`.
    #[serde(default)]
    pub api_version: String,
    /// `Plugin`.
    #[serde(default)]
    pub kind: String,
    /// Holds the name.
    #[serde(default)]
    pub metadata: Metadata,
    /// The plugin.
    #[serde(default)]
    pub spec: Spec,
}

/// `metadata` of a manifest.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The plugin's name.
    #[serde(default)]
    pub name: String,
}

/// `spec` of a manifest.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// `vMAJOR.MINOR.PATCH`.
    #[serde(default)]
    pub version: String,
    /// One line.
    #[serde(default)]
    pub short_description: String,
    /// Long text.
    #[serde(default)]
    pub description: String,
    /// Said after install.
    #[serde(default)]
    pub caveats: String,
    /// The plugin's web page.
    #[serde(default)]
    pub homepage: String,
    /// One entry per os/arch.
    #[serde(default)]
    pub platforms: Vec<PlatformSpec>,
}

/// `spec.platforms[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformSpec {
    /// Which os/arch it is for.
    pub selector: Option<LabelSelector>,
    /// Where the archive is downloaded from.
    #[serde(default)]
    pub uri: String,
    /// The archive's sha256.
    #[serde(default)]
    pub sha256: String,
    /// The executable, relative to the install folder.
    #[serde(default)]
    pub bin: String,
    /// Copies from the archive into the install folder (`None`: everything).
    pub files: Option<Vec<FileOperation>>,
}

/// A Kubernetes label selector, as krew uses it for platforms.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    /// Equality requirements.
    pub match_labels: Option<BTreeMap<String, String>>,
    /// Set-based requirements.
    pub match_expressions: Option<Vec<Requirement>>,
}

/// One set-based selector requirement.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requirement {
    /// The label.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// The values for `In`/`NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// `files[]`: a glob or path in the archive, and where it goes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOperation {
    /// A path or glob in the unpacked archive.
    #[serde(default)]
    pub from: String,
    /// The destination folder (or file) in the install folder.
    #[serde(default)]
    pub to: String,
}

/// Parses a manifest.
pub fn parse(text: &str) -> Result<Manifest> {
    serde_saphyr::from_str(text).map_err(|e| anyhow::anyhow!("not a krew plugin manifest: {e}"))
}
