//! The kit must pick the same context, cluster, user and namespace as the real
//! `kubectl` does for the same files and flags.

use std::path::Path;
use std::process::Command;

use kubectl_kit::{KubeFlags, KubeconfigEnv};
use serde_json::Value;

const A: &str = r#"apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
- name: shared
  cluster: {server: "https://from-a.example:6443"}
users:
- name: u1
  user: {token: abc}
contexts:
- name: ctx1
  context: {cluster: c1, user: u1, namespace: team-a}
- name: ctx2
  context: {cluster: shared, user: u1}
"#;

const B: &str = r#"apiVersion: v1
kind: Config
current-context: ctx2
clusters:
- name: shared
  cluster: {server: "https://from-b.example:6443"}
- name: c3
  cluster: {server: "https://three.example:6443"}
users:
- name: u2
  user: {token: xyz}
contexts:
- name: ctx2
  context: {cluster: shared, user: u2, namespace: b-ns}
- name: ctx3
  context: {cluster: c3, user: u2, namespace: b3}
"#;

const C: &str = r#"apiVersion: v1
kind: Config
current-context: ctx1
clusters: []
users: []
contexts: []
"#;

/// What `kubectl config view --minify` selects: (context, cluster, server, user, namespace).
fn kubectl_minify(
    dir: &Path,
    kubeconfig_env: &str,
    context: Option<&str>,
) -> (String, String, String, String, String) {
    let mut cmd = Command::new("kubectl");
    cmd.current_dir(dir)
        .env("KUBECONFIG", kubeconfig_env)
        .env("HOME", dir)
        .args(["config", "view", "--minify", "-o", "json"]);
    if let Some(c) = context {
        cmd.args(["--context", c]);
    }
    let out = cmd.output().expect("kubectl must be on PATH");
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ctx = &v["contexts"][0];
    (
        v["current-context"].as_str().unwrap().to_string(),
        v["clusters"][0]["name"].as_str().unwrap().to_string(),
        v["clusters"][0]["cluster"]["server"]
            .as_str()
            .unwrap()
            .to_string(),
        v["users"][0]["name"].as_str().unwrap().to_string(),
        ctx["context"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string(),
    )
}

fn kit(
    dir: &Path,
    kubeconfig_env: &str,
    context: Option<&str>,
) -> (String, String, String, String, String) {
    let flags = KubeFlags {
        context: context.map(String::from),
        ..Default::default()
    };
    let env = KubeconfigEnv {
        kubeconfig: Some(
            kubeconfig_env
                .split(':')
                .map(|p| {
                    if p.is_empty() {
                        String::new()
                    } else {
                        dir.join(p).display().to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(":")
                .into(),
        ),
        home: Some(dir.to_path_buf()),
    };
    let r = flags.resolve_in(&env).expect("kit resolves");
    (
        r.context_name,
        r.cluster_name,
        r.cluster.server.unwrap(),
        r.user_name,
        r.namespace,
    )
}

#[test]
fn context_cluster_user_and_namespace_match_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), A).unwrap();
    std::fs::write(dir.path().join("b.yaml"), B).unwrap();
    std::fs::write(dir.path().join("c.yaml"), C).unwrap();
    let cases: &[(&str, Option<&str>)] = &[
        // first file to define a name wins; current-context from the only file that sets it
        ("a.yaml:b.yaml", None),
        ("a.yaml:b.yaml", Some("ctx1")),
        ("a.yaml:b.yaml", Some("ctx3")),
        // the other order: b's definitions win
        ("b.yaml:a.yaml", None),
        ("b.yaml:a.yaml", Some("ctx1")),
        // missing and empty entries are skipped
        ("a.yaml::missing.yaml:b.yaml", None),
        // a file that only sets current-context decides which context is current
        ("c.yaml:a.yaml:b.yaml", None),
        ("b.yaml", Some("ctx3")),
    ];
    for (env, context) in cases {
        let want = kubectl_minify(dir.path(), env, *context);
        let got = kit(dir.path(), env, *context);
        assert_eq!(got, want, "KUBECONFIG={env} --context {context:?}");
    }
}

#[test]
fn namespace_flag_wins_over_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), A).unwrap();
    let flags = KubeFlags {
        kubeconfig: Some(dir.path().join("a.yaml")),
        context: Some("ctx1".into()),
        namespace: Some("override".into()),
        ..Default::default()
    };
    assert_eq!(
        flags
            .resolve_in(&KubeconfigEnv::default())
            .unwrap()
            .namespace,
        "override"
    );
}

#[test]
fn unknown_context_names_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), A).unwrap();
    let flags = KubeFlags {
        kubeconfig: Some(dir.path().join("a.yaml")),
        context: Some("nope".into()),
        ..Default::default()
    };
    let err = flags
        .resolve_in(&KubeconfigEnv::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"nope\" does not exist"), "{err}");
    assert!(err.contains("ctx1, ctx2"), "{err}");
    // kubectl agrees that it is an error
    let out = Command::new("kubectl")
        .args([
            "config",
            "view",
            "--minify",
            "--context",
            "nope",
            "--kubeconfig",
        ])
        .arg(dir.path().join("a.yaml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn missing_explicit_kubeconfig_is_an_error() {
    let flags = KubeFlags {
        kubeconfig: Some("/nonexistent/kubeconfig".into()),
        ..Default::default()
    };
    let err = flags
        .resolve_in(&KubeconfigEnv::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/kubeconfig"), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn cluster_and_user_flags_override_the_context() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), A).unwrap();
    let flags = KubeFlags {
        kubeconfig: Some(dir.path().join("a.yaml")),
        context: Some("ctx2".into()),
        cluster: Some("c1".into()),
        ..Default::default()
    };
    let r = flags.resolve_in(&KubeconfigEnv::default()).unwrap();
    assert_eq!(
        r.cluster.server.as_deref(),
        Some("https://one.example:6443")
    );
    assert_eq!(r.user_name, "u1");
    let flags = KubeFlags {
        user: Some("ghost".into()),
        ..flags
    };
    let err = flags
        .resolve_in(&KubeconfigEnv::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("user \"ghost\""), "{err}");
}
