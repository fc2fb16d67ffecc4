//! The krew index: the checked-in manifests are what the template renders
//! today, and manifests + archives built here pass krew's own validation.
//!
//! The checked-in manifests carry the sha256 of the release archives
//! `cargo xtask dist` built. Release builds are slow and not part of the
//! default test run, so the freshness test re-renders each manifest from its
//! own platforms and sha256 (everything else comes from the template and the
//! code) and the validation test builds dev archives into a temporary folder,
//! renders manifests for them and checks both with krew's rules, sha256 included.
//! `cargo xtask check --dist target/dist` checks the checked-in sha256 against
//! release archives when they are there.

mod common;

use std::fs;

use xtask::workspace::{self, host_platform};
use xtask::{archive, dist, krew, validate};

#[test]
fn checked_in_manifests_are_fresh() {
    let ws = common::workspace();
    let problems = xtask::stale_manifests(&ws).unwrap();
    assert!(
        problems.is_empty(),
        "krew-index is stale:\n{}",
        problems.join("\n")
    );
}

#[test]
fn checked_in_manifests_pass_krew_validation() {
    let ws = common::workspace();
    let problems = xtask::validate_index(&ws.root.join("krew-index"), None).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every manifest lists this machine's platform: its archive is always built.
    for (_, plugin) in xtask::binaries::plugins() {
        let path = krew::manifest_path(&ws.root, plugin);
        if let Ok(text) = fs::read_to_string(&path) {
            let manifest = krew::parse(&text).unwrap();
            let listed = krew::archives_listed(&manifest).unwrap();
            assert!(
                listed
                    .iter()
                    .any(|a| a.platform == host_platform().unwrap()),
                "{} lists no linux/amd64 archive",
                path.display()
            );
            assert_eq!(manifest.spec.version, format!("v{}", workspace::VERSION));
        }
    }
}

#[test]
fn archives_built_here_pass_krew_validation() {
    let ws = common::workspace();
    let (binaries, bin_dir) = common::dev_binaries(&ws);
    let index = tempfile::tempdir().unwrap();
    let out = index.path().join("dist");
    let platform = host_platform().unwrap();
    let mut archives = Vec::new();
    for binary in &binaries {
        let built =
            dist::package(&ws, binary, platform, &bin_dir, &out, workspace::VERSION).unwrap();
        // The .sha256 file says the same as the archive's bytes, lowercase hex.
        let bytes = fs::read(&built.path).unwrap();
        let name = built.path.file_name().unwrap().to_str().unwrap();
        let sum = fs::read_to_string(out.join(format!("{name}.sha256"))).unwrap();
        assert_eq!(sum, format!("{}  {name}\n", archive::sha256_hex(&bytes)));
        assert_eq!(built.sha256, archive::sha256_hex(&bytes));
        // Only regular files: the binary, the license, the README, the plugin's completion helper.
        let entries = archive::list_tar_gz(&bytes).unwrap();
        let mut names: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        names.sort();
        let mut expected = krew::archive_files(binary, platform);
        expected.push("README.md".into());
        expected.sort();
        assert_eq!(names, expected, "{name}");
        assert!(entries.iter().all(|e| e.kind == archive::EntryKind::File));
        archives.push(built);
    }
    let index_dir = index.path().join("krew-index");
    let written = krew::write_manifests(
        &index_dir.join("plugins"),
        workspace::VERSION,
        &dist::by_binary(&archives),
    )
    .unwrap();
    assert_eq!(
        written.len(),
        binaries.iter().filter(|b| b.plugin.is_some()).count()
    );
    let problems = xtask::validate_index(&index_dir, Some(&out)).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The validation is not vacuous: a tampered archive is caught.
    let first = &archives
        .iter()
        .find(|a| a.binary.plugin.is_some())
        .unwrap()
        .path;
    fs::write(first, b"not an archive").unwrap();
    let problems = xtask::validate_index(&index_dir, Some(&out)).unwrap();
    assert!(
        problems.iter().any(|p| p.contains("but the archive's is")),
        "{problems:?}"
    );
}

#[test]
fn each_manifest_names_its_release_archive_and_completion_helper() {
    let ws = common::workspace();
    for (binary, plugin) in xtask::binaries::plugins() {
        let Ok(text) = fs::read_to_string(krew::manifest_path(&ws.root, plugin)) else {
            continue;
        };
        let manifest = krew::parse(&text).unwrap();
        for platform in &manifest.spec.platforms {
            assert!(
                platform.uri.starts_with(&format!(
                    "{}/releases/download/v{}/",
                    workspace::REPOSITORY,
                    workspace::VERSION
                )),
                "{}",
                platform.uri
            );
            let files: Vec<&str> = platform
                .files
                .iter()
                .flatten()
                .map(|f| f.from.as_str())
                .collect();
            assert!(files.contains(&"LICENSE"), "{files:?}");
        }
        let helper = binary.completion_helper().unwrap();
        assert!(
            manifest.spec.caveats.contains(&helper),
            "the caveats of {} do not say how to install {helper}",
            plugin.name
        );
        assert!(validate::is_safe_plugin_name(plugin.name));
    }
}

#[test]
fn publish_index_puts_the_folder_at_the_root_of_a_branch() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(repo.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["init", "-q"]);
    // publish's commit-tree reads the identity from the repository's config.
    git(&["config", "user.name", "t"]);
    git(&["config", "user.email", "t@example.invalid"]);
    fs::create_dir_all(repo.path().join("krew-index/plugins")).unwrap();
    fs::write(
        repo.path().join("krew-index/plugins/demo.yaml"),
        "kind: Plugin\n",
    )
    .unwrap();
    fs::write(repo.path().join("README.md"), "main\n").unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    let first = xtask::publish::publish(repo.path(), "krew-index").unwrap();
    assert!(
        matches!(first, xtask::publish::Published::Committed(_)),
        "{first:?}"
    );
    assert_eq!(
        git(&["ls-tree", "-r", "--name-only", "refs/heads/krew-index"]),
        "plugins/demo.yaml\n"
    );
    let again = xtask::publish::publish(repo.path(), "krew-index").unwrap();
    assert!(
        matches!(again, xtask::publish::Published::Unchanged(_)),
        "{again:?}"
    );
    fs::write(
        repo.path().join("krew-index/plugins/other.yaml"),
        "kind: Plugin\n",
    )
    .unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "two"]);
    let second = xtask::publish::publish(repo.path(), "krew-index").unwrap();
    assert!(matches!(second, xtask::publish::Published::Committed(_)));
    assert_eq!(
        git(&["rev-list", "--count", "refs/heads/krew-index"]).trim(),
        "2"
    );
}
