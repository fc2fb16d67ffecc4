//! Completions: `completions/` is what the binaries generate today, and the real
//! `kubectl` (≥ 1.26, on PATH) completes plugin arguments through the
//! `kubectl_complete-*` helpers and the kit's `__complete` answer.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use xtask::binaries::{Binary, Plugin};
use xtask::completions;

#[test]
fn checked_in_completions_are_fresh() {
    let ws = common::workspace();
    let (_, bin_dir) = common::dev_binaries(&ws);
    let generated = completions::generate(&ws, &bin_dir).unwrap();
    let problems = completions::stale(&ws.root.join("completions"), &generated).unwrap();
    assert!(
        problems.is_empty(),
        "completions/ is stale; run `cargo xtask completions`:\n{}",
        problems.join("\n")
    );
}

const DEMO: Binary = Binary {
    package: "xtask",
    bin: "kubectl-kubext_demo",
    folder: "xtask",
    plugin: Some(Plugin {
        name: "kubext-demo",
        short_description: "demo",
        description: "demo",
        caveats: "",
    }),
};

/// A PATH folder holding a plugin and its generated helper, then the system's PATH.
fn path_with(dir: &Path, plugin: &Path, binary: &Binary) -> String {
    std::os::unix::fs::symlink(plugin, dir.join(binary.bin)).unwrap();
    let helper = dir.join(binary.completion_helper().unwrap());
    fs::write(&helper, completions::helper_script(binary)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:{}", dir.display(), std::env::var("PATH").unwrap())
}

/// `kubectl __complete ARGS…`: the candidates and the directive.
fn kubectl_complete(path: &str, kubeconfig: &Path, args: &[&str]) -> (Vec<String>, u32) {
    let output = Command::new("kubectl")
        .arg("__complete")
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("kubectl is on PATH");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines: Vec<String> = stdout.lines().map(String::from).collect();
    let directive = lines
        .pop()
        .and_then(|l| l.strip_prefix(':').map(|d| d.parse().unwrap()))
        .expect("a :directive line ends the answer");
    (lines, directive)
}

fn write_kubeconfig(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster: {server: 'https://127.0.0.1:9'}\n\
         users:\n- name: u1\n  user: {token: t}\ncontexts:\n- name: prod\n  context: {cluster: c1, user: u1}\n\
         - name: staging\n  context: {cluster: c1, user: u1}\ncurrent-context: prod\n",
    )
    .unwrap();
    path
}

#[test]
fn kubectl_completes_a_kit_plugin_through_its_helper() {
    let ws = common::workspace();
    let demo = common::demo_plugin(&ws);
    let dir = tempfile::tempdir().unwrap();
    let path = path_with(dir.path(), &demo, &DEMO);
    let kubeconfig = write_kubeconfig(dir.path());

    // kubectl lists the plugin itself among its commands…
    let (top, _) = kubectl_complete(&path, &kubeconfig, &["kubext"]);
    assert!(top.iter().any(|l| l.starts_with("kubext-demo")), "{top:?}");

    // …then asks the helper: subcommands (with descriptions), no file fallback.
    let (subs, directive) = kubectl_complete(&path, &kubeconfig, &["kubext-demo", ""]);
    assert_eq!(
        subs,
        [
            "show\tShow one thing and one of its keys",
            "completion\tPrint a shell completion script",
            "help\tPrint this message or the help of the given subcommand(s)"
        ]
    );
    assert_eq!(directive, 4);

    // Dynamic values from the plugin's hook, filtered by what was typed.
    let (names, _) = kubectl_complete(&path, &kubeconfig, &["kubext-demo", "show", ""]);
    assert_eq!(names, ["alpha\tthe first thing", "beta"]);
    let (names, _) = kubectl_complete(&path, &kubeconfig, &["kubext-demo", "show", "b"]);
    assert_eq!(names, ["beta"]);
    let (keys, _) = kubectl_complete(&path, &kubeconfig, &["kubext-demo", "show", "alpha", ""]);
    assert_eq!(keys, ["alpha-key1", "alpha-key2"]);

    // Flags, the kit's global ones included; contexts from the kubeconfig.
    let (flags, _) = kubectl_complete(&path, &kubeconfig, &["kubext-demo", "show", "--"]);
    for flag in ["--all", "--context", "--namespace", "--kubeconfig"] {
        assert!(
            flags.iter().any(|f| f.starts_with(&format!("{flag}\t"))),
            "{flag} in {flags:?}"
        );
    }
    let (contexts, _) = kubectl_complete(&path, &kubeconfig, &["kubext-demo", "--context", ""]);
    assert_eq!(contexts, ["prod", "staging"]);
    let (contexts, _) =
        kubectl_complete(&path, &kubeconfig, &["kubext-demo", "show", "--context=st"]);
    assert_eq!(contexts, ["--context=staging"]);
    // A path flag lets the shell complete files (directive 0, no candidates).
    let (files, directive) =
        kubectl_complete(&path, &kubeconfig, &["kubext-demo", "--kubeconfig", ""]);
    assert!(files.is_empty());
    assert_eq!(directive, 0);
}

#[test]
fn kubectl_completes_every_real_plugin() {
    let ws = common::workspace();
    let (binaries, bin_dir) = common::dev_binaries(&ws);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = write_kubeconfig(dir.path());
    let mut checked = Vec::new();
    for binary in binaries.iter().filter(|b| b.plugin.is_some()) {
        let exe = bin_dir.join(binary.bin);
        let direct = Command::new(&exe)
            .args(["__complete", ""])
            .output()
            .unwrap();
        assert!(
            direct.status.success(),
            "{} does not answer __complete: {}",
            binary.bin,
            String::from_utf8_lossy(&direct.stderr)
        );
        let plugin_dir = dir.path().join(binary.bin);
        fs::create_dir(&plugin_dir).unwrap();
        let path = path_with(&plugin_dir, &exe, binary);
        let name = binary
            .bin
            .strip_prefix("kubectl-")
            .unwrap()
            .replace('_', "-");
        let (through_kubectl, directive) = kubectl_complete(&path, &kubeconfig, &[&name, ""]);
        let stdout = String::from_utf8(direct.stdout).unwrap();
        let expected: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(':')).collect();
        assert_eq!(through_kubectl, expected, "{}", binary.bin);
        assert_eq!(
            stdout.lines().last(),
            Some(format!(":{directive}").as_str())
        );
        // Every plugin offers the completion subcommand the scripts come from.
        assert!(
            through_kubectl.iter().any(|l| l.starts_with("completion")),
            "{}: {through_kubectl:?}",
            binary.bin
        );
        checked.push(binary.bin);
    }
    // Each of the four plugins the release ships was completed through kubectl.
    assert_eq!(
        checked,
        [
            "kubectl-oidc_login",
            "kubectl-view_secret",
            "kubectl-kubeconfig",
            "kubectl-audit"
        ]
    );
}
