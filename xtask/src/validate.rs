//! krew's own checks, re-implemented from its source: `internal/index/validation`
//! (`ValidatePlugin`: envelope, name, short description, version, platforms,
//! selectors, sha256, bin, files), `cmd/validate-krew-manifest` (each platform
//! matches a supported os/arch pair, no pair matched twice, a license file gets
//! installed), `internal/download` (archive entries: no `..`, no absolute path,
//! only regular files and directories) and `internal/installation` (the `files`
//! moves and `bin` inside the install folder).
//!
//! Every check reports all its problems, not only the first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::archive::{self, EntryKind};
use crate::krew::{self, LabelSelector, Manifest, PlatformSpec};

/// The os/arch pairs krew runs on (`allPlatforms` in validate-krew-manifest).
pub const KREW_PLATFORMS: &[(&str, &str)] = &[
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// File names krew accepts as the license (compared lower-cased).
pub const LICENSE_FILES: &[&str] = &[
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
];

/// krew's `IsSafePluginName`: `^[\w-]+$` and not a Windows reserved name.
pub fn is_safe_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !WINDOWS_RESERVED
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name))
}

/// Semantic version with krew's mandatory leading `v` (k8s `ParseSemantic`).
pub fn is_v_semver(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let (rest, build) = match rest.split_once('+') {
        Some((r, b)) => (r, Some(b)),
        None => (rest, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (rest, None),
    };
    let numeric = |s: &str| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| numeric(p))
        && pre.is_none_or(|p| {
            p.split('.')
                .all(|id| ident(id) && (!id.chars().all(|c| c.is_ascii_digit()) || numeric(id)))
        })
        && build.is_none_or(|b| b.split('.').all(ident))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Whether a selector matches the labels `os`, `arch` (Kubernetes selector semantics).
pub fn selector_matches(selector: &LabelSelector, os: &str, arch: &str) -> bool {
    let label = |key: &str| match key {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| label(k) == Some(v.as_str()));
    let expressions_ok = selector.match_expressions.iter().flatten().all(|r| {
        let value = label(&r.key);
        match r.operator.as_str() {
            "In" => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
            "NotIn" => value.is_none_or(|v| !r.values.iter().any(|x| x == v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

/// Checks a manifest file: its name and every rule of krew's `ValidatePlugin`
/// and `validate-krew-manifest` (except installing, see [`check_archive`]), plus
/// kubext's: a one-line short description of at most 50 characters.
pub fn check_manifest(path: &Path, text: &str) -> Result<Manifest, Vec<String>> {
    let mut problems = Vec::new();
    let manifest = match krew::parse(text) {
        Ok(m) => m,
        Err(e) => return Err(vec![format!("{e:#}")]),
    };
    if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
        problems.push(format!("the file must end in .yaml: {}", path.display()));
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if manifest.api_version != krew::API_VERSION {
        problems.push(format!(
            "apiVersion is {:?}, must be {:?}",
            manifest.api_version,
            krew::API_VERSION
        ));
    }
    if manifest.kind != krew::KIND {
        problems.push(format!(
            "kind is {:?}, must be {:?}",
            manifest.kind,
            krew::KIND
        ));
    }
    if !is_safe_plugin_name(stem) {
        problems.push(format!(
            "the plugin name {stem:?} is not allowed: it must match ^[\\w-]+$ and not be a Windows reserved name"
        ));
    }
    if manifest.metadata.name != stem {
        problems.push(format!(
            "metadata.name is {:?} but the file is named {stem:?}.yaml",
            manifest.metadata.name
        ));
    }
    let short = &manifest.spec.short_description;
    if short.is_empty() {
        problems.push("spec.shortDescription is empty".into());
    }
    if short.contains(['\r', '\n']) {
        problems.push("spec.shortDescription has a line break".into());
    }
    if short.chars().count() > 50 {
        problems.push(format!(
            "spec.shortDescription has {} characters; krew search shows 50",
            short.chars().count()
        ));
    }
    if manifest.spec.version.is_empty() {
        problems.push("spec.version is empty".into());
    } else if !is_v_semver(&manifest.spec.version) {
        problems.push(format!(
            "spec.version {:?} is not a semantic version starting with v (e.g. v1.2.3)",
            manifest.spec.version
        ));
    }
    if manifest.spec.platforms.is_empty() {
        problems.push("spec.platforms is empty: at least one platform is needed".into());
    }
    for (i, platform) in manifest.spec.platforms.iter().enumerate() {
        for problem in check_platform(platform) {
            problems.push(format!("spec.platforms[{i}]: {problem}"));
        }
        if let Some(selector) = &platform.selector
            && !KREW_PLATFORMS
                .iter()
                .any(|(os, arch)| selector_matches(selector, os, arch))
        {
            problems.push(format!(
                "spec.platforms[{i}]: the selector matches no platform krew supports"
            ));
        }
    }
    for (os, arch) in KREW_PLATFORMS {
        let matching: Vec<usize> = manifest
            .spec
            .platforms
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.selector
                    .as_ref()
                    .is_some_and(|s| selector_matches(s, os, arch))
            })
            .map(|(i, _)| i)
            .collect();
        if matching.len() > 1 {
            problems.push(format!(
                "spec.platforms {matching:?} have overlapping selectors that all select {os}/{arch}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(manifest)
    } else {
        Err(problems)
    }
}

fn check_platform(platform: &PlatformSpec) -> Vec<String> {
    let mut problems = Vec::new();
    if platform.uri.is_empty() {
        problems.push("uri has to be set".to_string());
    }
    if platform.sha256.is_empty() {
        problems.push("sha256 has to be set".to_string());
    } else if !is_sha256(&platform.sha256) {
        problems.push(format!(
            "sha256 {:?} must match ^[a-f0-9]{{64}}$",
            platform.sha256
        ));
    }
    if platform.bin.is_empty() {
        problems.push("bin has to be set".to_string());
    }
    if let Some(files) = &platform.files {
        if files.is_empty() {
            problems.push("files has to be unspecified or non-empty".to_string());
        }
        for (j, op) in files.iter().enumerate() {
            if op.from.is_empty() {
                problems.push(format!("files[{j}].from has to be set"));
            }
            if op.to.is_empty() {
                problems.push(format!("files[{j}].to has to be set"));
            } else if clean(&op.to) != op.to {
                problems.push(format!(
                    "files[{j}].to {:?} is not a clean path (use {:?})",
                    op.to,
                    clean(&op.to)
                ));
            }
        }
    }
    match &platform.selector {
        None => problems.push("the selector is missing".to_string()),
        Some(selector) => {
            if selector.match_labels.is_none()
                && selector
                    .match_expressions
                    .as_ref()
                    .is_none_or(Vec::is_empty)
            {
                problems.push("the selector is empty".to_string());
            }
            let keys = selector
                .match_labels
                .iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .chain(
                    selector
                        .match_expressions
                        .iter()
                        .flatten()
                        .map(|r| r.key.as_str()),
                );
            for key in keys {
                if key != "os" && key != "arch" {
                    problems.push(format!(
                        "selector key {key:?} is not supported (only os, arch)"
                    ));
                }
            }
            if selector
                .match_labels
                .as_ref()
                .is_some_and(BTreeMap::is_empty)
            {
                problems.push("selector.matchLabels is given but empty".to_string());
            }
            if selector
                .match_expressions
                .as_ref()
                .is_some_and(Vec::is_empty)
            {
                problems.push("selector.matchExpressions is given but empty".to_string());
            }
        }
    }
    problems
}

/// Go's `filepath.Clean` for `/`-separated relative paths.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !path.starts_with('/') {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (path.starts_with('/'), joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Match` for one path segment: `*`, `?` and literal characters.
fn glob_segment(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len()).any(|i| glob_segment(rest, &name[i..])),
        Some(('?', rest)) => !name.is_empty() && glob_segment(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && glob_segment(rest, &name[1..]),
    }
}

fn glob(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(p, n)| {
            glob_segment(
                &p.chars().collect::<Vec<_>>(),
                &n.chars().collect::<Vec<_>>(),
            )
        })
}

/// Checks one platform's archive the way `kubectl krew install` would use it:
/// the sha256 matches, every entry is safe (no `..`, no absolute path, only
/// regular files and directories), the `files` moves find what they name, and
/// the install folder then holds `bin` and a license file. Returns the installed
/// paths.
pub fn check_archive(
    platform: &PlatformSpec,
    bytes: &[u8],
) -> Result<BTreeSet<String>, Vec<String>> {
    let mut problems = Vec::new();
    let sha = archive::sha256_hex(bytes);
    if sha != platform.sha256 {
        problems.push(format!(
            "sha256 in the manifest is {} but the archive's is {sha}",
            platform.sha256
        ));
    }
    let entries = match archive::list(bytes) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("the archive cannot be read: {e:#}"));
            return Err(problems);
        }
    };
    // What the archive unpacks to: files (with mode) and directories.
    let mut files: BTreeMap<String, u32> = BTreeMap::new();
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for entry in &entries {
        if entry.path == "pax_global_header" {
            continue;
        }
        if entry.path.contains("..") {
            problems.push(format!("archive entry {:?} contains ..", entry.path));
            continue;
        }
        if entry.path.starts_with('/') || entry.path.starts_with('\\') {
            problems.push(format!(
                "archive entry {:?} is an absolute path",
                entry.path
            ));
            continue;
        }
        let path = clean(&entry.path);
        match entry.kind {
            EntryKind::File => {
                files.insert(path, entry.mode);
            }
            EntryKind::Dir => {
                dirs.insert(path);
            }
            ref other => problems.push(format!(
                "archive entry {:?} is a {other:?}: only regular files and directories are allowed",
                entry.path
            )),
        }
    }
    for file in files.keys() {
        let mut parent = file.as_str();
        while let Some((p, _)) = parent.rsplit_once('/') {
            dirs.insert(p.to_string());
            parent = p;
        }
    }

    // krew's default when `files` is absent: everything.
    let default_ops = [krew::FileOperation {
        from: "*".into(),
        to: ".".into(),
    }];
    let ops: &[krew::FileOperation] = platform.files.as_deref().unwrap_or(&default_ops);
    let mut installed: BTreeMap<String, u32> = BTreeMap::new();
    for op in ops {
        let from = clean(&op.from);
        let moved = move_targets(&from, &op.to, &files, &dirs);
        if moved.is_empty() {
            problems.push(format!(
                "files: {:?} matches nothing in the archive",
                op.from
            ));
        }
        for (source, dest) in moved {
            if dest == ".." || dest.starts_with("../") || dest.starts_with('/') {
                problems.push(format!(
                    "files: {:?} would land outside the install folder",
                    op.to
                ));
                continue;
            }
            // A directory moves with everything under it.
            for (file, mode) in &files {
                if *file == source {
                    installed.insert(dest.clone(), *mode);
                } else if let Some(rest) = file.strip_prefix(&format!("{source}/")) {
                    installed.insert(format!("{dest}/{rest}"), *mode);
                }
            }
        }
    }
    let bin = clean(&platform.bin);
    if bin.starts_with("..") || bin.starts_with('/') {
        problems.push(format!(
            "bin {:?} is outside the install folder",
            platform.bin
        ));
    }
    match installed.get(&bin) {
        None => problems.push(format!(
            "bin {:?} is not in the install folder after the files moves (it holds: {})",
            platform.bin,
            installed.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        Some(mode) if !bin.ends_with(".exe") && mode & 0o111 == 0 => problems.push(format!(
            "bin {:?} is not executable (mode {mode:o})",
            platform.bin
        )),
        Some(_) => {}
    }
    let has_license = installed.keys().any(|p| {
        let base = p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
        LICENSE_FILES.contains(&base.as_str())
    });
    if !has_license {
        problems.push(format!(
            "no license file among the installed files ({})",
            installed.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(installed.into_keys().collect())
    } else {
        Err(problems)
    }
}

/// krew's `findMoveTargets`: a path that exists moves to `to` (or `to` is the
/// folder when `.`), else a glob whose matches move into the folder `to`.
fn move_targets(
    from: &str,
    to: &str,
    files: &BTreeMap<String, u32>,
    dirs: &BTreeSet<String>,
) -> Vec<(String, String)> {
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    if files.contains_key(from) || dirs.contains(from) {
        let dest = if clean(to) == "." {
            base(from)
        } else {
            clean(to)
        };
        return vec![(from.to_string(), dest)];
    }
    files
        .keys()
        .chain(dirs.iter())
        .filter(|p| glob(from, p))
        .map(|p| {
            let dest = clean(&format!("{to}/{}", base(p)));
            (p.clone(), dest)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{Member, tar_gz};

    const GOOD: &str = "\
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: demo
spec:
  version: v1.2.3
  shortDescription: A demo
  platforms:
    - selector:
        matchLabels: {os: linux, arch: amd64}
      uri: https://example.invalid/demo.tar.gz
      sha256: SHA
      bin: kubectl-demo
      files:
        - {from: kubectl-demo, to: .}
        - {from: LICENSE, to: .}
";

    fn good_archive() -> Vec<u8> {
        tar_gz(&[
            Member {
                path: "kubectl-demo".into(),
                data: b"bin".to_vec(),
                mode: 0o755,
            },
            Member {
                path: "LICENSE".into(),
                data: b"text".to_vec(),
                mode: 0o644,
            },
        ])
        .unwrap()
    }

    fn with_sha(text: &str, bytes: &[u8]) -> String {
        text.replace("SHA", &archive::sha256_hex(bytes))
    }

    #[test]
    fn names_versions_and_sha_follow_krew() {
        assert!(is_safe_plugin_name("view-secret") && is_safe_plugin_name("a_b1"));
        assert!(
            !is_safe_plugin_name("con") && !is_safe_plugin_name("a.b") && !is_safe_plugin_name("")
        );
        assert!(is_v_semver("v0.1.0") && is_v_semver("v1.2.3-rc.1+build.5"));
        for bad in ["0.1.0", "v1.2", "v01.2.3", "v1.2.3-01", "v1.2.3-"] {
            assert!(!is_v_semver(bad), "{bad}");
        }
        assert!(!is_sha256(&"A".repeat(64)) && is_sha256(&"a".repeat(64)));
    }

    #[test]
    fn a_good_manifest_and_archive_pass() {
        let bytes = good_archive();
        let text = with_sha(GOOD, &bytes);
        let manifest = check_manifest(Path::new("plugins/demo.yaml"), &text).unwrap();
        let installed = check_archive(&manifest.spec.platforms[0], &bytes).unwrap();
        assert_eq!(
            installed.into_iter().collect::<Vec<_>>(),
            ["LICENSE", "kubectl-demo"]
        );
    }

    #[test]
    fn every_manifest_problem_is_reported() {
        let text = GOOD
            .replace("kind: Plugin", "kind: Plugins")
            .replace("version: v1.2.3", "version: 1.2.3")
            .replace(
                "shortDescription: A demo",
                "shortDescription: \"two\\nlines\"",
            )
            .replace(
                "{os: linux, arch: amd64}",
                "{os: linux, arch: amd64, tier: x}",
            )
            .replace("to: .}\n", "to: ./}\n");
        let problems = check_manifest(Path::new("plugins/other.yaml"), &text).unwrap_err();
        let all = problems.join("\n");
        for expected in [
            "kind is",
            "metadata.name is \"demo\" but the file is named \"other\"",
            "not a semantic version",
            "line break",
            "\"tier\" is not supported",
            "must match ^[a-f0-9]{64}$",
            "not a clean path",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn overlapping_and_unsupported_platforms_are_caught() {
        let bytes = good_archive();
        let platform = "    - selector:
        matchExpressions: [{key: os, operator: In, values: [linux, darwin]}]
      uri: https://example.invalid/x.tar.gz
      sha256: SHA
      bin: kubectl-demo
    - selector:
        matchLabels: {os: plan9, arch: amd64}
      uri: https://example.invalid/y.tar.gz
      sha256: SHA
      bin: kubectl-demo
";
        let text = with_sha(&format!("{GOOD}{platform}"), &bytes);
        let all = check_manifest(Path::new("demo.yaml"), &text)
            .unwrap_err()
            .join("\n");
        assert!(
            all.contains("overlapping selectors that all select linux/amd64"),
            "{all}"
        );
        assert!(
            all.contains("spec.platforms[2]: the selector matches no platform"),
            "{all}"
        );
    }

    #[test]
    fn unsafe_or_incomplete_archives_fail() {
        let manifest =
            check_manifest(Path::new("demo.yaml"), &with_sha(GOOD, &good_archive())).unwrap();
        let platform = &manifest.spec.platforms[0];

        // A symlink and a `..` entry, built by hand (our writer refuses them).
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        builder
            .append_link(&mut link, "kubectl-demo", "/usr/bin/true")
            .unwrap();
        let mut up = tar::Header::new_gnu();
        up.set_size(1);
        up.set_mode(0o644);
        up.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../escape");
        up.set_cksum();
        builder.append(&up, &b"x"[..]).unwrap();
        let bytes = builder.into_inner().unwrap().finish().unwrap();
        let all = check_archive(platform, &bytes).unwrap_err().join("\n");
        for expected in [
            "but the archive's is",
            "Symlink",
            "contains ..",
            "no license file",
            "bin \"kubectl-demo\" is not in",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }

        // A binary that is not executable.
        let bytes = tar_gz(&[
            Member {
                path: "kubectl-demo".into(),
                data: b"bin".to_vec(),
                mode: 0o644,
            },
            Member {
                path: "LICENSE".into(),
                data: b"text".to_vec(),
                mode: 0o644,
            },
        ])
        .unwrap();
        let text = with_sha(GOOD, &bytes);
        let manifest = check_manifest(Path::new("demo.yaml"), &text).unwrap();
        let all = check_archive(&manifest.spec.platforms[0], &bytes)
            .unwrap_err()
            .join("\n");
        assert!(all.contains("not executable"), "{all}");
    }

    #[test]
    fn files_globs_move_like_krew() {
        let files: BTreeMap<String, u32> = [
            ("dir/a.txt", 0o644),
            ("dir/b.txt", 0o644),
            ("LICENSE", 0o644),
        ]
        .into_iter()
        .map(|(p, m)| (p.to_string(), m))
        .collect();
        let dirs: BTreeSet<String> = ["dir".to_string()].into();
        assert_eq!(
            move_targets("dir/*.txt", "docs", &files, &dirs),
            [
                ("dir/a.txt".to_string(), "docs/a.txt".to_string()),
                ("dir/b.txt".to_string(), "docs/b.txt".to_string())
            ]
        );
        assert_eq!(
            move_targets("LICENSE", ".", &files, &dirs),
            [("LICENSE".to_string(), "LICENSE".to_string())]
        );
        assert_eq!(clean("a/./b/../c/"), "a/c");
        assert_eq!(clean("./"), ".");
    }
}
