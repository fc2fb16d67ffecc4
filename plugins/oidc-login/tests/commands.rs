//! The commands for people: setup, whoami, logout, clean.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use oidc_test_provider::{ALICE, OidcProvider};

/// A kubeconfig whose user runs `kubectl oidc-login get-token` with `args`.
fn kubeconfig(dir: &Path, get_token_args: &[String]) -> PathBuf {
    let mut exec_args = vec!["oidc-login".to_string()];
    exec_args.extend(get_token_args.iter().cloned());
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "oidc"}}],
        "current-context": "dev",
        "users": [{"name": "oidc", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "kubectl",
            "args": exec_args,
            "interactiveMode": "IfAvailable",
        }}}],
    });
    let path = dir.join("kubeconfig");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("KUBECONFIG").env("NO_COLOR", "1");
    cmd
}

#[test]
fn whoami_shows_the_cached_identity_as_a_table_and_as_json() {
    let setup = Setup::new(OidcProvider::builder().http());
    let args = setup.password_args();
    let kubeconfig = kubeconfig(setup.cache.path(), &args);
    let kubeconfig_flag = format!("--kubeconfig={}", kubeconfig.display());

    // Nothing cached yet: a clear error.
    let out = command(&["whoami", &kubeconfig_flag]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("no cached token"),
        "{}",
        stderr_of(&out)
    );

    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let out = command(&["whoami", &kubeconfig_flag]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("SUBJECT   EMAIL"), "{table}");
    for column in ["GROUPS", "ISSUER", "EXPIRES"] {
        assert!(header.contains(column), "{table}");
    }
    let row = lines.next().unwrap();
    assert!(row.starts_with("alice "), "{table}");
    assert!(
        row.contains(ALICE.email) && row.contains("developers,kubext-admins"),
        "{table}"
    );
    assert!(
        row.contains(setup.provider.issuer()) && row.contains(" in "),
        "{table}"
    );

    let out = command(&["whoami", &kubeconfig_flag, "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["subject"], ALICE.id);
    assert_eq!(json["email"], ALICE.email);
    assert_eq!(json["groups"], serde_json::json!(ALICE.groups));
    assert_eq!(json["issuer"], setup.provider.issuer());
    assert_eq!(json["context"], "dev");
    assert_eq!(json["expired"], false);
    assert!(json["expiresInSeconds"].as_i64().unwrap() > 0);
}

#[test]
fn logout_revokes_the_refresh_token_and_deletes_the_entry() {
    let setup = Setup::new(OidcProvider::builder());
    let args = setup.password_args();
    get_token(&args, EXEC_INFO_V1_NONINTERACTIVE);
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&setup.cache_files()[0]).unwrap()).unwrap();
    let refresh_token = entry["refresh_token"].as_str().unwrap().to_string();

    let kubeconfig = kubeconfig(setup.cache.path(), &args);
    let out = command(&["logout", &format!("--kubeconfig={}", kubeconfig.display())])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(stderr.contains("Revoked the refresh token"), "{stderr}");
    assert!(setup.cache_files().is_empty());
    assert_eq!(setup.provider.stats().unwrap().revocation_requests(), 1);

    // The provider no longer takes the revoked refresh token.
    let response: serde_json::Value = setup
        .provider
        .http_client()
        .post(format!("{}/token", setup.provider.issuer()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", setup.provider.public_client_id()),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(response["error"], "invalid_grant");
}

#[test]
fn clean_deletes_the_cache() {
    let setup = Setup::new(OidcProvider::builder().http());
    get_token(&setup.password_args(), EXEC_INFO_V1_NONINTERACTIVE);
    assert_eq!(setup.cache_files().len(), 1);
    std::fs::write(setup.cache_dir().join("unrelated.txt"), "mine").unwrap();
    let out = command(&[
        "clean",
        &format!("--token-cache-dir={}", setup.cache_dir().display()),
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("Deleted the token cache"),
        "{}",
        stderr_of(&out)
    );
    assert!(setup.cache_files().is_empty());
    assert!(
        setup.cache_dir().join("unrelated.txt").exists(),
        "only cache files go"
    );
}

#[test]
fn setup_logs_in_and_prints_kubeconfig_and_apiserver_settings() {
    let setup = Setup::new(OidcProvider::builder());
    let issuer = format!("--oidc-issuer-url={}", setup.provider.issuer());
    let ca = format!(
        "--certificate-authority={}",
        setup.provider.ca_file().unwrap().display()
    );
    let out = command(&[
        "setup",
        &issuer,
        "--oidc-client-id",
        setup.provider.public_client_id(),
        "--oidc-extra-scope=email,groups",
        &ca,
        "--username=alice",
        "--password=alice-password",
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"sub\": \"alice\""), "{text}");
    assert!(text.contains(&issuer), "{text}");
    assert!(text.contains("--oidc-client-id=kubelogin-public"), "{text}");
    assert!(text.contains("--oidc-username-claim=email"), "{text}");
    assert!(text.contains("--oidc-groups-claim=groups"), "{text}");
    assert!(
        text.contains("kubectl config set-credentials oidc"),
        "{text}"
    );
    assert!(
        text.contains("--exec-arg=--oidc-client-id=kubelogin-public"),
        "{text}"
    );
    assert!(
        text.contains("--clusterrole=cluster-admin --user=alice@example.com"),
        "{text}"
    );
    assert!(text.contains("kind: ClusterRoleBinding"), "{text}");
    assert_eq!(setup.provider.stats().unwrap().grants_for("password"), 1);
}

#[test]
fn completion_and_help() {
    let out = command(&["completion", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("kubectl-oidc_login"));
    let out = command(&["get-token", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    for flag in [
        "--oidc-issuer-url",
        "--oidc-client-id",
        "--oidc-client-secret",
        "--oidc-extra-scope",
        "--oidc-redirect-url",
        "--oidc-auth-request-extra-params",
        "--oidc-pkce-method",
        "--oidc-use-access-token",
        "--oidc-request-header",
        "--grant-type",
        "--listen-address",
        "--skip-open-browser",
        "--browser-command",
        "--authentication-timeout-sec",
        "--username",
        "--password",
        "--token-cache-dir",
        "--token-cache-storage",
        "--certificate-authority",
        "--certificate-authority-data",
        "--insecure-skip-tls-verify",
        "--force-refresh",
        "--token-refresh-margin",
        "--login-hint",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
