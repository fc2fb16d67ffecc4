//! `cargo xtask sbom`: an SPDX 2.3 SBOM (JSON) beside each release archive,
//! `NAME.spdx.json`, listing the crates compiled into its binary for its
//! target: what `cargo tree -p PACKAGE --target TRIPLE -e normal,no-proc-macro`
//! resolves from `Cargo.lock` (build scripts and proc-macros run at build time
//! and are not in the binary). The archive itself is the described package,
//! with its sha256, so the SBOM names exactly one artifact.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::dist::{self, Archive};
use crate::workspace::{self, Workspace, cargo};

/// One crate in a binary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Component {
    /// The crate name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its SPDX license expression (`None`: the crate declares none).
    pub license: Option<String>,
    /// Whether it is one of this workspace's crates.
    pub local: bool,
}

/// The crates in `package`'s binaries built for `triple`.
pub fn components(ws: &Workspace, package: &str, triple: &str) -> Result<Vec<Component>> {
    let output = cargo()
        .current_dir(&ws.root)
        .args(["tree", "--locked", "-p", package, "--target", triple])
        .args(["-e", "normal,no-proc-macro", "--prefix", "none"])
        .args(["--format", "{p}|{l}"])
        .output()
        .context("running cargo tree")?;
    if !output.status.success() {
        bail!(
            "cargo tree -p {package} --target {triple} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let mut set = BTreeSet::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let line = line.trim_end().trim_end_matches(" (*)");
        let Some((package, license)) = line.split_once('|') else {
            continue;
        };
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let license = license.trim();
        set.insert(Component {
            name: name.to_string(),
            version: version.trim_start_matches('v').to_string(),
            // Old manifests write `MIT/Apache-2.0` for `MIT OR Apache-2.0`.
            license: (!license.is_empty()).then(|| license.replace('/', " OR ")),
            local: words.next().is_some_and(|w| w.starts_with('(')),
        });
    }
    if set.is_empty() {
        bail!("cargo tree -p {package} --target {triple} listed no crate");
    }
    Ok(set.into_iter().collect())
}

fn spdx_id(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The SPDX document for `archive`, whose binary holds `components`.
pub fn document(archive: &Archive, version: &str, components: &[Component]) -> Result<Value> {
    let file = archive
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .context("archive path has no file name")?;
    let created = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let root_id = "SPDXRef-Archive";
    let mut packages = vec![json!({
        "name": file,
        "SPDXID": root_id,
        "versionInfo": format!("v{version}"),
        "packageFileName": file,
        "downloadLocation": format!(
            "{}/releases/download/v{version}/{file}",
            workspace::REPOSITORY.trim_end_matches('/')
        ),
        "filesAnalyzed": false,
        "checksums": [{"algorithm": "SHA256", "checksumValue": archive.sha256}],
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "ARCHIVE",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": root_id,
    })];
    for component in components {
        let id = format!(
            "SPDXRef-Crate-{}-{}",
            spdx_id(&component.name),
            spdx_id(&component.version)
        );
        let license = component.license.as_deref().unwrap_or("NOASSERTION");
        let mut package = json!({
            "name": component.name,
            "SPDXID": id,
            "versionInfo": component.version,
            "downloadLocation": if component.local {
                workspace::REPOSITORY.to_string()
            } else {
                "NOASSERTION".to_string()
            },
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": license,
            "copyrightText": "NOASSERTION",
        });
        if !component.local {
            package["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": format!("pkg:cargo/{}@{}", component.name, component.version),
            }]);
        }
        packages.push(package);
        relationships.push(json!({
            "spdxElementId": root_id,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    Ok(json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": file,
        "documentNamespace": format!(
            "{}/releases/download/v{version}/{file}.spdx.json#{}",
            workspace::REPOSITORY.trim_end_matches('/'),
            archive.sha256
        ),
        "creationInfo": {
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "creators": ["Tool: kubext-xtask-sbom"],
        },
        "packages": packages,
        "relationships": relationships,
    }))
}

/// Writes `NAME.spdx.json` beside every archive of `version` (without `v`) in
/// `dir`; returns the paths written.
pub fn write_all(ws: &Workspace, dir: &Path, version: &str) -> Result<Vec<PathBuf>> {
    let archives = dist::find_archives(dir, version)?;
    if archives.is_empty() {
        bail!(
            "no archive of v{version} in {}: run `cargo xtask dist` first",
            dir.display()
        );
    }
    let mut written = Vec::new();
    for archive in &archives {
        let triple = archive.platform.triples[0];
        let list = components(ws, archive.binary.package, triple)?;
        let doc = document(archive, version, &list)?;
        let path = archive.path.with_file_name(format!(
            "{}.spdx.json",
            archive
                .path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
        ));
        let text = serde_json::to_string_pretty(&doc)? + "\n";
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
