//! `cargo xtask manifests --from DIR`: the krew manifests made from whatever
//! archives a folder holds, here one per binary for all six release platforms
//! (linux, darwin, windows × amd64, arm64), packed by `dist::package` — the code
//! `cargo xtask dist` and the release workflow use.
//!
//! Only this machine's target can be compiled here, so each archive holds a
//! small stand-in executable naming its binary and platform: the manifests do
//! not look inside binaries, and the stand-ins let the test check that every
//! `platforms[]` entry points at the archive of its own platform. The archives
//! are read back with `tar`, Python's `zipfile` and `sha256sum`, not only with
//! our own reader.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use xtask::binaries::{BINARIES, Binary};
use xtask::workspace::{self, PLATFORMS, Platform};
use xtask::{archive, dist, krew, validate};

fn stand_in(binary: &Binary, platform: &Platform) -> String {
    format!(
        "#!/bin/sh\necho 'stand-in {} for {}/{}'\n",
        binary.bin, platform.os, platform.arch
    )
}

/// Packs every binary for every release platform into `dir`.
fn pack_all(dir: &Path, version: &str) {
    let ws = common::workspace();
    let bins = tempfile::tempdir().unwrap();
    for platform in PLATFORMS {
        let bin_dir = bins
            .path()
            .join(format!("{}-{}", platform.os, platform.arch));
        fs::create_dir_all(&bin_dir).unwrap();
        for binary in BINARIES {
            let exe = format!("{}{}", binary.bin, platform.exe_suffix());
            fs::write(bin_dir.join(exe), stand_in(binary, platform)).unwrap();
            dist::package(&ws, binary, platform, &bin_dir, dir, version).unwrap();
        }
    }
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn manifests(from: &Path, out: &Path, version: &str) -> Output {
    xtask(&[
        "manifests",
        "--from",
        from.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--version",
        version,
    ])
}

/// The member names of an archive, as `tar` or Python's `zipfile` list them.
fn listed_by_other_tools(path: &Path) -> BTreeSet<String> {
    let name = path.to_str().unwrap();
    let output = if name.ends_with(".zip") {
        // -t checks every member's CRC-32 first, then -l lists them.
        let test = Command::new("python3")
            .args(["-m", "zipfile", "-t", name])
            .output()
            .expect("python3 runs");
        assert!(test.status.success(), "{name}: {test:?}");
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile\nfor n in zipfile.ZipFile(sys.argv[1]).namelist(): print(n)",
                name,
            ])
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{name}: {out:?}");
        out.stdout
    } else {
        let out = Command::new("tar").args(["-tzf", name]).output().unwrap();
        assert!(out.status.success(), "{name}: {out:?}");
        out.stdout
    };
    String::from_utf8(output)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn manifests_list_every_platform_of_the_archives_in_a_folder() {
    let version = "1.4.0-rc.1";
    let tmp = tempfile::tempdir().unwrap();
    let dist_dir = tmp.path().join("dist");
    let index = tmp.path().join("index");
    pack_all(&dist_dir, version);
    // Files that are not archives (SBOMs, attestations) are left alone.
    fs::write(
        dist_dir.join("kubectl-audit-v1.4.0-rc.1-linux-amd64.tar.gz.cdx.json"),
        "{}",
    )
    .unwrap();

    let out = manifests(&dist_dir, &index.join("plugins"), "v1.4.0-rc.1");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);

    let written: BTreeSet<String> = fs::read_dir(index.join("plugins"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = xtask::binaries::plugins()
        .map(|(_, p)| format!("{}.yaml", p.name))
        .collect();
    assert_eq!(written, expected, "{stdout}");

    // krew's rules, and each platform installed from its archive as krew would.
    let problems = xtask::validate_index(&index, Some(&dist_dir)).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    for (binary, plugin) in xtask::binaries::plugins() {
        let path = index.join("plugins").join(format!("{}.yaml", plugin.name));
        let text = fs::read_to_string(&path).unwrap();
        let manifest = validate::check_manifest(&path, &text).unwrap();
        assert_eq!(manifest.spec.version, "v1.4.0-rc.1");
        assert_eq!(manifest.spec.platforms.len(), 6, "{text}");
        for platform in PLATFORMS {
            // Exactly one entry selects each os/arch ...
            let selected: Vec<_> = manifest
                .spec
                .platforms
                .iter()
                .filter(|p| {
                    validate::selector_matches(
                        p.selector.as_ref().unwrap(),
                        platform.os,
                        platform.arch,
                    )
                })
                .collect();
            assert_eq!(selected.len(), 1, "{}/{}", platform.os, platform.arch);
            let entry = selected[0];
            // ... with the .exe on Windows only ...
            let windows = platform.os == "windows";
            assert_eq!(entry.bin.ends_with(".exe"), windows, "{}", entry.bin);
            assert_eq!(
                entry.bin,
                format!("{}{}", binary.bin, platform.exe_suffix())
            );
            // ... the release URL of that platform's archive (a zip on Windows) ...
            let file = format!(
                "{}-v{version}-{}-{}.{}",
                binary.package,
                platform.os,
                platform.arch,
                if windows { "zip" } else { "tar.gz" }
            );
            assert_eq!(
                entry.uri,
                format!(
                    "{}/releases/download/v{version}/{file}",
                    workspace::REPOSITORY
                )
            );
            // ... whose sha256 the manifest and the .sha256 file both carry ...
            let archive_path = dist_dir.join(&file);
            let sum = sha256sum(&archive_path);
            assert_eq!(entry.sha256, sum, "{file}");
            let sum_file = fs::read_to_string(dist_dir.join(format!("{file}.sha256"))).unwrap();
            assert_eq!(sum_file, format!("{sum}  {file}\n"));
            // ... and which holds the binary built for it, the license and the README.
            let members = listed_by_other_tools(&archive_path);
            for needed in [entry.bin.as_str(), "LICENSE", "README.md"] {
                assert!(
                    members.contains(needed),
                    "{file} lacks {needed}: {members:?}"
                );
            }
            let bytes = fs::read(&archive_path).unwrap();
            assert_eq!(
                String::from_utf8(archive::read_member(&bytes, &entry.bin).unwrap()).unwrap(),
                stand_in(binary, platform)
            );
            assert_eq!(
                archive::read_member(&bytes, "LICENSE").unwrap(),
                fs::read(common::workspace().license()).unwrap()
            );
            let files: Vec<&str> = entry
                .files
                .iter()
                .flatten()
                .map(|f| f.from.as_str())
                .collect();
            assert_eq!(files, krew::archive_files(binary, platform));
        }
    }

    // The same archives give the same manifests.
    let again = tmp.path().join("again");
    assert!(manifests(&dist_dir, &again, "1.4.0-rc.1").status.success());
    for name in &expected {
        assert_eq!(
            fs::read(index.join("plugins").join(name)).unwrap(),
            fs::read(again.join(name)).unwrap()
        );
    }
}

#[test]
fn only_the_platforms_present_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dist_dir = tmp.path().join("dist");
    pack_all(&dist_dir, "2.0.0");
    for entry in fs::read_dir(&dist_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if !(name.contains("-darwin-arm64.") || name.contains("-windows-amd64.")) {
            fs::remove_file(&path).unwrap();
        }
    }
    let out_dir = tmp.path().join("plugins");
    let out = manifests(&dist_dir, &out_dir, "v2.0.0");
    assert!(out.status.success(), "{out:?}");
    let text = fs::read_to_string(out_dir.join("view-secret.yaml")).unwrap();
    let manifest = krew::parse(&text).unwrap();
    let listed: Vec<(&str, &str)> = krew::archives_listed(&manifest)
        .unwrap()
        .iter()
        .map(|a| (a.platform.os, a.platform.arch))
        .collect();
    assert_eq!(listed, [("darwin", "arm64"), ("windows", "amd64")]);
}

fn stderr_of(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_archives_are_refused_with_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let dist_dir = tmp.path().join("dist");
    let out_dir = tmp.path().join("plugins");
    pack_all(&dist_dir, "3.0.0");

    // Another version than the folder holds.
    let err = stderr_of(&manifests(&dist_dir, &out_dir, "v9.9.9"));
    assert!(
        err.contains("no archive of v9.9.9") && err.contains("it holds v3.0.0"),
        "{err}"
    );
    let err = stderr_of(&manifests(&dist_dir, &out_dir, "latest"));
    assert!(err.contains("not a semantic version"), "{err}");

    // A checksum that does not match its archive.
    let name = "kubectl-kubeconfig-v3.0.0-darwin-amd64.tar.gz";
    fs::write(
        dist_dir.join(format!("{name}.sha256")),
        format!("{}  {name}\n", "0".repeat(64)),
    )
    .unwrap();
    // A Windows archive that is not a zip, and a platform kubext does not release.
    fs::write(
        dist_dir.join("kubectl-audit-v3.0.0-windows-amd64.tar.gz"),
        "x",
    )
    .unwrap();
    fs::write(
        dist_dir.join("kubectl-audit-v3.0.0-plan9-amd64.tar.gz"),
        "x",
    )
    .unwrap();
    let err = stderr_of(&manifests(&dist_dir, &out_dir, "v3.0.0"));
    for expected in [
        "kubectl-kubeconfig-v3.0.0-darwin-amd64.tar.gz.sha256 says",
        "windows archives are .zip, not .tar.gz",
        "plan9/amd64 is not a release platform",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(
        !out_dir.exists(),
        "manifests were written despite the errors"
    );
}
