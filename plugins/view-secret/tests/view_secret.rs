//! The real binary against kube-test-server over TLS, without a terminal
//! (pipes): values, --all, content interpretation, -o json|yaml, -A, errors.

mod common;

use common::{Fixture, out};
use k8s_openapi::api::core::v1::Secret;
use kubectl_view_secret::values::SecretValues;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "[TIME]");
    s.add_filter(r"Serial:      [0-9a-f:]+", "Serial:      [SERIAL]");
    s.add_filter(r"\((\d+[ydhms])+ (left|ago)\)", "([SPAN] $2)");
    s.add_filter(r"EXPIRED (\d+[ydhms])+ ago", "EXPIRED [SPAN] ago");
    s.add_filter(r"\(expired (\d+[ydhms])+ ago\)", "(expired [SPAN] ago)");
    s.add_filter(r"\d+(s|m|h|d)\n", "[AGE]\n");
    s.set_prepend_module_to_snapshot(false);
    s
}

#[test]
fn a_key_is_printed_decoded_with_its_exact_bytes() {
    let f = Fixture::new();
    let output = f
        .cmd()
        .args(["db-credentials", "password"])
        .output()
        .unwrap();
    assert!(output.status.success());
    // Not a terminal: the exact value, no newline added.
    assert_eq!(output.stdout, b"hunter2");
    assert_eq!(output.stderr, b"");
}

#[test]
fn the_only_key_is_shown_with_a_note_that_quiet_drops() {
    let f = Fixture::new();
    let output = f.cmd().arg("api-key").output().unwrap();
    let (stdout, stderr) = out(&output);
    assert!(output.status.success());
    assert_eq!(stdout, "tok-123456");
    assert_eq!(stderr, "Viewing only available key: token\n");
    let quiet = f.cmd().args(["api-key", "-q"]).output().unwrap();
    assert_eq!(out(&quiet), ("tok-123456".to_string(), String::new()));
}

#[test]
fn several_keys_without_a_terminal_list_the_keys_and_say_how_to_choose() {
    let f = Fixture::new();
    let output = f.cmd().arg("db-credentials").output().unwrap();
    let (stdout, stderr) = out(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout, "password\nusername\n");
    assert!(
        stderr.contains("choose one with `kubectl view-secret db-credentials KEY`"),
        "{stderr}"
    );
    let quiet = f
        .cmd()
        .args(["db-credentials", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out(&quiet).1, "");
}

#[test]
fn all_prints_key_value_blocks() {
    let f = Fixture::new();
    let output = f.cmd().args(["db-credentials", "-a"]).output().unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(out(&output).0, @r"
    password='hunter2'
    username='admin'
    ");
}

#[test]
fn a_tls_chain_is_explained_when_asked_and_kept_as_pem_in_a_pipe() {
    let f = Fixture::new();
    let piped = f.cmd().args(["app-tls", "tls.crt"]).output().unwrap();
    assert_eq!(String::from_utf8(piped.stdout).unwrap(), f.chain_pem);

    let output = f
        .cmd()
        .args(["app-tls", "tls.crt", "--interpret"])
        .output()
        .unwrap();
    assert!(output.status.success());
    settings().bind(|| insta::assert_snapshot!("tls_chain", out(&output).0));
}

#[test]
fn expired_and_misordered_certificates_warn() {
    let f = Fixture::new();
    let output = f
        .cmd()
        .args(["expired-tls", "tls.crt", "--interpret"])
        .output()
        .unwrap();
    settings().bind(|| insta::assert_snapshot!("tls_expired", out(&output).0));
    let output = f
        .cmd()
        .args(["misordered-tls", "tls.crt", "--interpret"])
        .output()
        .unwrap();
    let (stdout, _) = out(&output);
    assert!(
        stdout.contains("Chain order: WRONG: certificate 1 was not issued by certificate 2"),
        "{stdout}"
    );
}

#[test]
fn docker_configs_show_users_and_passwords_only_on_request() {
    let f = Fixture::new();
    let output = f.cmd().args(["regcred", "--interpret"]).output().unwrap();
    let (stdout, stderr) = out(&output);
    assert!(!stdout.contains("registry-pass-1") && !stdout.contains("ghp-pass-2"));
    assert!(stderr.contains("add --show-passwords"), "{stderr}");
    insta::assert_snapshot!(stdout, @r"
    REGISTRY               USERNAME   EMAIL
    ghcr.io                octocat
    registry.example.com   robot      ci@example.com
    ");
    let output = f
        .cmd()
        .args(["regcred", "--interpret", "--show-passwords", "-q"])
        .output()
        .unwrap();
    insta::assert_snapshot!(out(&output).0, @r"
    REGISTRY               USERNAME   PASSWORD          EMAIL
    ghcr.io                octocat    ghp-pass-2
    registry.example.com   robot      registry-pass-1   ci@example.com
    ");
    let legacy = f
        .cmd()
        .args(["legacy-regcred", "--interpret", "-q"])
        .output()
        .unwrap();
    insta::assert_snapshot!(out(&legacy).0, @r"
    REGISTRY                      USERNAME      EMAIL
    https://index.docker.io/v1/   legacy-user   old@example.com
    ");
}

#[test]
fn helm_releases_decode_to_json_in_a_pipe_and_a_summary_when_asked() {
    let f = Fixture::new();
    let piped = f
        .cmd()
        .args(["sh.helm.release.v1.shop.v4", "-q"])
        .output()
        .unwrap();
    assert_eq!(piped.stdout, f.helm_json);
    let raw = f
        .cmd()
        .args(["sh.helm.release.v1.shop.v4", "release", "--raw"])
        .output()
        .unwrap();
    let stored: Secret = f.server.get("prod", "sh.helm.release.v1.shop.v4").unwrap();
    assert_eq!(raw.stdout, stored.data.unwrap()["release"].0);
    assert!(raw.stdout.starts_with(b"H4sI"));
    let output = f
        .cmd()
        .args([
            "sh.helm.release.v1.shop.v4",
            "--interpret",
            "--values",
            "-q",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!(out(&output).0, @r"
    Release:      shop
    Namespace:    prod
    Revision:     4
    Status:       deployed
    Chart:        nginx-15.4.2
    App version:  1.25.3
    First deployed: 2024-01-02T03:04:05.123Z
    Last deployed:  2024-02-03T04:05:06.456Z
    Description:  Upgrade complete
    Values:
      image:
        tag: 1.25.3-custom
      replicaCount: 3
    ");
}

#[test]
fn binary_values_are_raw_in_a_pipe_and_a_hex_dump_when_interpreted() {
    let f = Fixture::new();
    let bytes = [0x30, 0x82, 0x0a, 0x00, 0xff, 0x00, 0x41, 0x42];
    let piped = f.cmd().args(["blob", "keystore.p12"]).output().unwrap();
    assert_eq!(piped.stdout, bytes);
    let output = f
        .cmd()
        .args(["blob", "keystore.p12", "--interpret"])
        .output()
        .unwrap();
    insta::assert_snapshot!(out(&output).0, @r"
    binary value, 8 bytes
    00000000  30 82 0a 00 ff 00 41 42                           |0.....AB|
    (redirect stdout to a file, or add --raw, to get the bytes)
    ");
}

#[test]
fn json_and_yaml_output_round_trip_to_the_stored_data() {
    let f = Fixture::new();
    for name in [
        "db-credentials",
        "blob",
        "app-tls",
        "regcred",
        "sh.helm.release.v1.shop.v4",
    ] {
        let stored: Secret = f.server.get("prod", name).unwrap();
        let output = f.cmd().args([name, "-o", "json"]).output().unwrap();
        assert!(output.status.success(), "{name}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["kind"], "Secret");
        let back: Secret = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(
            SecretValues::from_secret(&back),
            SecretValues::from_secret(&stored),
            "{name}"
        );
        let yaml = f.cmd().args([name, "-o", "yaml"]).output().unwrap();
        let from_yaml = secret_from_yaml(&yaml.stdout);
        assert_eq!(
            SecretValues::from_secret(&from_yaml),
            SecretValues::from_secret(&stored)
        );
    }
    let one = f
        .cmd()
        .args(["db-credentials", "password", "-o", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(
        json["stringData"],
        serde_json::json!({"password": "hunter2"})
    );
}

fn secret_from_yaml(yaml: &[u8]) -> Secret {
    let value: serde_json::Value = serde_saphyr::from_slice(yaml).unwrap();
    serde_json::from_value(value).unwrap()
}

#[test]
fn not_found_suggests_similar_names() {
    let f = Fixture::new();
    let output = f.cmd().arg("db-credential").output().unwrap();
    let (stdout, stderr) = out(&output);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr, @r#"
    error: secret "db-credential" not found in namespace "prod"
      did you mean: db-credentials?
    "#);
    let none = f.cmd().arg("zzzzzzzz").output().unwrap();
    assert!(out(&none).1.contains("kubectl get secrets -n prod"));
}

#[test]
fn forbidden_names_verb_resource_and_namespace() {
    let f = Fixture::new();
    let output = f.cmd_as(&f.bob).arg("db-credentials").output().unwrap();
    let (_, stderr) = out(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains(r#"get secret "db-credentials" in namespace "prod""#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"cannot get resource "secrets" in API group "" in the namespace "prod""#),
        "{stderr}"
    );
    assert!(stderr.contains("RBAC"), "{stderr}");
}

#[test]
fn a_missing_key_lists_the_keys_and_an_empty_secret_says_so() {
    let f = Fixture::new();
    let output = f
        .cmd()
        .args(["db-credentials", "pasword"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(out(&output).1, @r#"
    error: key "pasword" not found in secret "db-credentials" (namespace "prod"); its keys are: password, username
      hint: kubectl view-secret db-credentials KEY -n prod, with KEY one of them
    "#);
    let empty = f.cmd().arg("empty").output().unwrap();
    assert_eq!(empty.status.code(), Some(1));
    assert_eq!(
        out(&empty).1,
        "error: secret \"empty\" in namespace \"prod\" is empty: it has no keys to show\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    let f = Fixture::new();
    let output = f
        .cmd()
        .args(["db-credentials", "password", "--all"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = f
        .cmd()
        .args(["db-credentials", "-o", "wide"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(out(&output).1.contains("json, yaml"));
}

#[test]
fn all_namespaces_searches_by_prefix_and_reports_forbidden_namespaces() {
    let f = Fixture::new();
    // alice may not list secrets cluster-wide: namespace by namespace, vault is forbidden.
    let output = f.cmd().args(["-A", "db-credentials"]).output().unwrap();
    let (stdout, stderr) = out(&output);
    assert!(output.status.success(), "{stderr}");
    settings().bind(|| {
        insta::assert_snapshot!(stdout, @r"
        NAMESPACE   NAME                     TYPE     DATA   AGE
        prod        db-credentials           Opaque   2      [AGE]
        staging     db-credentials-staging   Opaque   1      [AGE]
        ")
    });
    assert!(
        stderr.contains("warning: not allowed to list secrets in namespaces: vault"),
        "{stderr}"
    );
    assert!(
        stderr.contains("kubectl view-secret -n NAMESPACE NAME"),
        "{stderr}"
    );

    // One match: shown directly.
    let one = f
        .cmd()
        .args(["-A", "db-credentials-st", "-q"])
        .output()
        .unwrap();
    assert_eq!(out(&one).0, "staging-pw");

    // An admin lists everything in one call and sees vault too.
    let admin = f
        .cmd_as(&f.admin)
        .args(["-A", "db-credentials-v", "-o", "json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&admin.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["stringData"]["password"], "vault-pw");
    assert_eq!(out(&admin).1, "");

    let nothing = f.cmd().args(["-A", "nope-"]).output().unwrap();
    assert_eq!(nothing.status.code(), Some(1));
    assert!(
        out(&nothing)
            .1
            .contains("not allowed to list secrets in: vault")
    );
}

#[test]
fn without_a_name_the_secrets_are_listed() {
    let f = Fixture::new();
    let output = f.cmd().output().unwrap();
    let (stdout, stderr) = out(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.starts_with("NAME "), "{stdout}");
    assert!(
        stdout.contains("sh.helm.release.v1.shop.v4   helm.sh/release.v1"),
        "{stdout}"
    );
    assert!(stderr.contains("kubectl view-secret NAME [KEY]"));
}

#[test]
fn secret_values_never_reach_the_logs() {
    let f = Fixture::new();
    let output = f
        .cmd()
        .args(["db-credentials", "--all", "-v", "9"])
        .output()
        .unwrap();
    let (stdout, stderr) = out(&output);
    assert!(stdout.contains("hunter2"));
    assert!(stderr.contains("fetched secret"), "logging is on: {stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stderr.contains("aHVudGVyMg"), "{stderr}");
}

#[test]
fn runs_as_a_kubectl_plugin() {
    let f = Fixture::new();
    let bin_dir = tempfile::tempdir().unwrap();
    let bin = bin_dir.path().join(common::BIN);
    std::fs::copy(assert_cmd::cargo::cargo_bin(common::BIN), &bin).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin_dir.path().display());
    let output = std::process::Command::new("kubectl")
        .args(["view-secret", "db-credentials", "username", "--kubeconfig"])
        .arg(&f.alice)
        .env("PATH", path)
        .env("HOME", f.dir.path())
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    let (stdout, stderr) = out(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout, "admin");
}

#[test]
fn completes_secret_names_and_keys_for_kubectl() {
    let f = Fixture::new();
    let mut cmd = assert_cmd::Command::cargo_bin(common::BIN).unwrap();
    let output = cmd
        .arg("__complete")
        .arg("--kubeconfig")
        .arg(&f.alice)
        .arg("db-")
        .env("HOME", f.dir.path())
        .output()
        .unwrap();
    assert_eq!(out(&output).0.lines().next(), Some("db-credentials"));
    let mut cmd = assert_cmd::Command::cargo_bin(common::BIN).unwrap();
    let output = cmd
        .arg("__complete")
        .arg("--kubeconfig")
        .arg(&f.alice)
        .args(["db-credentials", ""])
        .env("HOME", f.dir.path())
        .output()
        .unwrap();
    let (stdout, _) = out(&output);
    let keys: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(':')).collect();
    assert_eq!(keys, ["password", "username"], "{stdout}");
}
