//! kubext's build automation, run as `cargo xtask …` (see `main.rs` for the
//! commands). Everything distributed is generated here from the code: release
//! archives and their sha256 ([`dist`], [`archive`]), the krew index manifests
//! ([`krew`], checked with krew's own rules in [`validate`]), shell completions
//! and the kubectl completion helpers ([`completions`]), and the krew index
//! branch ([`publish`]). The checks that a checked-in generated file is fresh
//! live here too, so `cargo xtask` and the tests share them.

pub mod archive;
pub mod bench;
pub mod binaries;
pub mod ci;
pub mod completions;
pub mod corpus;
pub mod dist;
pub mod elf;
pub mod krew;
pub mod lint;
pub mod publish;
pub mod sbom;
pub mod soak;
pub mod tools;
pub mod validate;
pub mod workspace;

use std::fs;
use std::path::Path;

use anyhow::Result;

use crate::workspace::Workspace;

/// Problems with the checked-in manifests in `krew-index/plugins/`: a plugin of
/// the workspace without a manifest, a manifest for no plugin, or a manifest that
/// the template no longer renders the same way from its own platforms and sha256.
pub fn stale_manifests(ws: &Workspace) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let dir = ws.root.join("krew-index/plugins");
    for (binary, plugin) in binaries::plugins() {
        let path = krew::manifest_path(&ws.root, plugin);
        if !path.is_file() {
            if ws.has(binary) {
                problems.push(format!(
                    "{} is missing: run `cargo xtask dist`",
                    path.display()
                ));
            }
            continue;
        }
        let text = fs::read_to_string(&path)?;
        if let Err(e) = krew::is_fresh(binary, workspace::VERSION, &text) {
            problems.push(format!(
                "{} is stale: {e:#}; run `cargo xtask dist` (or `cargo xtask manifests`)",
                path.display()
            ));
        }
    }
    if dir.is_dir() {
        for entry in fs::read_dir(&dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let known = binaries::plugins().any(|(_, p)| format!("{}.yaml", p.name) == name);
            if !known {
                problems.push(format!(
                    "krew-index/plugins/{name} is for no plugin kubext builds"
                ));
            }
        }
    }
    Ok(problems)
}

/// Checks every manifest in `index_dir/plugins` with krew's rules and, when
/// `archives` is given, every platform against the archive of the same file
/// name there (a platform whose archive is absent is reported). Returns all problems.
pub fn validate_index(index_dir: &Path, archives: Option<&Path>) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let dir = index_dir.join("plugins");
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    if entries.is_empty() {
        problems.push(format!("{} holds no manifest", dir.display()));
    }
    for entry in entries {
        let path = entry.path();
        let text = fs::read_to_string(&path)?;
        let manifest = match validate::check_manifest(&path, &text) {
            Ok(m) => m,
            Err(list) => {
                problems.extend(list.into_iter().map(|p| format!("{}: {p}", path.display())));
                continue;
            }
        };
        let Some(archives) = archives else { continue };
        for (i, platform) in manifest.spec.platforms.iter().enumerate() {
            let name = platform.uri.rsplit('/').next().unwrap_or_default();
            let archive = archives.join(name);
            let Ok(bytes) = fs::read(&archive) else {
                problems.push(format!(
                    "{}: spec.platforms[{i}]: archive {} not found",
                    path.display(),
                    archive.display()
                ));
                continue;
            };
            if let Err(list) = validate::check_archive(platform, &bytes) {
                problems.extend(
                    list.into_iter()
                        .map(|p| format!("{}: spec.platforms[{i}] ({name}): {p}", path.display())),
                );
            }
        }
    }
    Ok(problems)
}
