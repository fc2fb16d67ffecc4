//! The release machinery around the archives: the GitHub workflows pass
//! actionlint and zizmor (installed from PyPI, as `cargo xtask check` does) and
//! build every release platform; the glibc check reads what the dynamic loader
//! reads (compared with binutils' `objdump`); the SBOM lists the crates of the
//! binary for its target.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use xtask::workspace::{self, PLATFORMS};
use xtask::{dist, elf, lint, sbom, tools};

fn workflow(name: &str) -> String {
    let ws = common::workspace();
    fs::read_to_string(ws.root.join(".github/workflows").join(name)).unwrap()
}

#[test]
fn the_workflows_pass_actionlint_and_zizmor() {
    let ws = common::workspace();
    let tools = tools::pip_install(&ws, "lint", tools::LINTERS).unwrap();
    let problems = lint::workflows(&tools, &ws.root.join(".github/workflows")).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_linters_catch_a_bad_workflow() {
    let ws = common::workspace();
    let tools = tools::pip_install(&ws, "lint", tools::LINTERS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("bad.yml"),
        "on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo \"${{ github.event.pull_request.title }}\"
      - run: echo ${{ matrix.nothing }}
",
    )
    .unwrap();
    let problems = lint::workflows(&tools, dir.path()).unwrap().join("\n");
    assert!(problems.contains("actionlint:"), "{problems}");
    assert!(problems.contains("zizmor --offline:"), "{problems}");
    assert!(problems.contains("template-injection"), "{problems}");
    assert!(problems.contains("unpinned-uses"), "{problems}");
}

#[test]
fn every_action_is_pinned_and_every_job_has_its_permissions() {
    for name in ["ci.yml", "release.yml"] {
        let text = workflow(name);
        assert!(
            text.contains("\npermissions: {}\n"),
            "{name}: no default-deny permissions"
        );
        for line in text.lines().filter(|l| {
            l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:")
        }) {
            let reference = line.split('@').nth(1).unwrap_or_default();
            let sha = reference.split_whitespace().next().unwrap_or_default();
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{name}: not pinned by commit: {line}"
            );
            assert!(
                line.contains(" # v"),
                "{name}: say which release the SHA is: {line}"
            );
        }
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        for (job, spec) in value["jobs"].as_object().unwrap() {
            assert!(
                spec.get("permissions").is_some(),
                "{name}: job {job} does not declare its permissions"
            );
        }
    }
}

#[test]
fn the_release_builds_every_platform_of_the_manifests() {
    let text = workflow("release.yml");
    let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let include = value["jobs"]["archives"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap();
    let built: BTreeSet<(String, String, String)> = include
        .iter()
        .map(|e| {
            (
                e["os"].as_str().unwrap().to_string(),
                e["arch"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let wanted: BTreeSet<(String, String, String)> = PLATFORMS
        .iter()
        .map(|p| {
            (
                p.os.to_string(),
                p.arch.to_string(),
                p.triples[0].to_string(),
            )
        })
        .collect();
    assert_eq!(built, wanted);
    for step in [
        "cargo xtask dist",
        "cargo xtask sbom",
        "cargo xtask manifests --from dist",
        "cargo xtask check --dist dist",
        "publish-index",
    ] {
        assert!(text.contains(step), "release.yml does not run {step}");
    }
}

/// `objdump -p`'s "Version References": (library, version name) pairs.
fn objdump_versions(path: &Path) -> BTreeSet<(String, String)> {
    let out = Command::new("objdump")
        .arg("-p")
        .arg(path)
        .output()
        .expect("objdump (binutils) runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut file = String::new();
    let mut set = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Version References") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("required from ") {
            file = rest.trim_end_matches(':').to_string();
        } else if trimmed.starts_with("0x") {
            let name = trimmed.split_whitespace().last().unwrap();
            set.insert((file.clone(), name.to_string()));
        } else if !trimmed.is_empty() {
            break;
        }
    }
    set
}

#[test]
fn the_glibc_check_reads_what_objdump_reads() {
    // This test binary and the xtask binary were linked here, against this
    // machine's glibc.
    let ws = common::workspace();
    let xtask_bin = Path::new(env!("CARGO_BIN_EXE_xtask"));
    let ours: BTreeSet<(String, String)> = elf::needed_versions(&fs::read(xtask_bin).unwrap())
        .unwrap()
        .into_iter()
        .collect();
    let theirs = objdump_versions(xtask_bin);
    assert!(!theirs.is_empty());
    assert_eq!(ours, theirs);
    let max = theirs
        .iter()
        .filter_map(|(_, n)| elf::glibc_version(n))
        .max()
        .unwrap();

    // Packed as a Linux archive, the check reports that highest version.
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    fs::copy(xtask_bin, bin_dir.join("kubectl-audit")).unwrap();
    let binary = xtask::binaries::BINARIES
        .iter()
        .find(|b| b.bin == "kubectl-audit")
        .unwrap();
    let platform = workspace::platform_for_labels("linux", "amd64").unwrap();
    let out = tmp.path().join("dist");
    dist::package(&ws, binary, platform, &bin_dir, &out, "0.0.1").unwrap();
    let needs = dist::glibc_needs(&out).unwrap();
    assert_eq!(needs.len(), 1);
    assert_eq!(needs[0].bin, "kubectl-audit");
    assert_eq!(needs[0].max, Some(max));
}

#[test]
fn the_sbom_lists_the_crates_of_the_binary_for_its_target() {
    let ws = common::workspace();
    let view = sbom::components(&ws, "kubectl-view-secret", "x86_64-unknown-linux-gnu").unwrap();
    let names: BTreeSet<&str> = view.iter().map(|c| c.name.as_str()).collect();
    for needed in [
        "kubectl-view-secret",
        "kubectl-kit",
        "kube-client",
        "rustls",
        "clap",
    ] {
        assert!(names.contains(needed), "{needed} missing: {names:?}");
    }
    // Not in this binary: the sink's index, test-only and build-time crates.
    for absent in ["tantivy", "predicates", "assert_cmd", "serde_derive"] {
        assert!(!names.contains(absent), "{absent} listed: {names:?}");
    }
    // Windows pulls Windows crates, Linux does not.
    let windows = sbom::components(&ws, "kubectl-view-secret", "x86_64-pc-windows-msvc").unwrap();
    assert!(windows.iter().any(|c| c.name.starts_with("windows")));
    assert!(!view.iter().any(|c| c.name == "windows-sys"));

    let archive = dist::Archive {
        binary: xtask::binaries::BINARIES
            .iter()
            .find(|b| b.bin == "kubectl-view_secret")
            .unwrap(),
        platform: workspace::platform_for_labels("linux", "amd64").unwrap(),
        path: "kubectl-view-secret-v0.1.0-linux-amd64.tar.gz".into(),
        sha256: "ab".repeat(32),
    };
    let doc = sbom::document(&archive, "0.1.0", &view).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(packages.len(), view.len() + 1);
    assert_eq!(
        packages[0]["checksums"][0]["checksumValue"],
        "ab".repeat(32)
    );
    let rustls = packages.iter().find(|p| p["name"] == "rustls").unwrap();
    assert!(
        rustls["externalRefs"][0]["referenceLocator"]
            .as_str()
            .unwrap()
            .starts_with("pkg:cargo/rustls@0.23."),
        "{rustls}"
    );
    let ids: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), packages.len(), "SPDX ids are unique");
}
