//! The real kubectl runs our binary as its exec credential plugin against
//! kube-test-server, which accepts the provider's id_tokens the way
//! kube-apiserver's `--oidc-*` flags do.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use kube_test_server::{KubeTestServer, OidcAuthenticator};
use oidc_test_provider::{ALICE, OidcProvider, PUBLIC_CLIENT_ID};

const KUBECTL: &str = "kubectl";

fn api_server_trusting(provider: &OidcProvider) -> KubeTestServer {
    let server = KubeTestServer::start();
    server.trust_oidc(
        OidcAuthenticator::new(provider.issuer(), PUBLIC_CLIENT_ID)
            .ca_pem(provider.ca_pem().unwrap())
            .username_claim("email")
            .groups_claim("groups"),
    );
    server.allow_all("developers");
    server
}

fn cluster_only_kubeconfig(dir: &Path, server: &KubeTestServer) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\n\
             contexts:\n- name: test\n  context:\n    cluster: test\n    user: oidc\ncurrent-context: test\nusers: []\n",
            server.url(),
            server.ca_file().display()
        ),
    )
    .unwrap();
    path
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(KUBECTL);
    cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
        .args(args)
        // With $KUBECONFIG set, the Cloud SDK's kubectl dispatcher on some
        // machines re-enters itself for exec users whose command is `kubectl`.
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_EXEC_INFO")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("BROWSER");
    cmd
}

fn cached_token(cache_dir: &Path) -> String {
    let entry = std::fs::read_dir(cache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().len() == 64)
        .expect("a cache entry");
    let entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(entry).unwrap()).unwrap();
    entry["id_token"].as_str().unwrap().to_string()
}

#[test]
fn kubectl_reads_a_secret_with_the_id_token_from_a_browser_login() {
    let provider = OidcProvider::builder().start().unwrap();
    let server = api_server_trusting(&provider);
    server.insert_secret(
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "default"},
            "data": {"password": "aHVudGVyMg=="}
        }))
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let browser = provider.browser_script("browser.sh", &[]).unwrap();
    let kubeconfig = cluster_only_kubeconfig(dir.path(), &server);
    let mut set_credentials = kubectl(&kubeconfig, &["config", "set-credentials", "oidc"]);
    set_credentials.args([
        "--exec-api-version=client.authentication.k8s.io/v1",
        "--exec-interactive-mode=IfAvailable",
        &format!("--exec-command={BIN}"),
        "--exec-arg=get-token",
        &format!("--exec-arg=--oidc-issuer-url={}", provider.issuer()),
        &format!("--exec-arg=--oidc-client-id={PUBLIC_CLIENT_ID}"),
        "--exec-arg=--oidc-extra-scope=email",
        "--exec-arg=--oidc-extra-scope=groups",
        &format!(
            "--exec-arg=--certificate-authority={}",
            provider.ca_file().unwrap().display()
        ),
        &format!("--exec-arg=--token-cache-dir={}", cache.display()),
        "--exec-arg=--listen-address=127.0.0.1:0",
        &format!("--exec-arg=--browser-command={}", browser.display()),
    ]);
    assert!(set_credentials.status().unwrap().success());

    let out = kubectl(
        &kubeconfig,
        &["get", "secret", "db", "-n", "default", "-o", "json"],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");

    let token = cached_token(&cache);
    let request = server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/secrets/db"))
        .expect("the Secret read reached the server");
    assert_eq!(
        request.bearer_token_seen.as_deref(),
        Some(token.as_str()),
        "kubectl sent our id_token"
    );
    assert_eq!(request.user.as_deref(), Some(ALICE.email));
    assert_eq!(request.status, 200);
}

#[test]
fn kubeconfig_written_as_kubelogin_documents_it_works_unchanged() {
    // id_tokens live 8 s: the default 1 min margin is capped at half of it.
    let provider = OidcProvider::builder().id_token_ttl(8).start().unwrap();
    // No extra scopes in kubelogin's example: the user is `ISSUER#sub`, as
    // kube-apiserver names it by default.
    let server = KubeTestServer::start();
    server.trust_oidc(
        OidcAuthenticator::new(provider.issuer(), PUBLIC_CLIENT_ID)
            .ca_pem(provider.ca_pem().unwrap()),
    );
    let user = format!("{}#{}", provider.issuer(), ALICE.id);
    server.allow_all(&user);
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = cluster_only_kubeconfig(home.path(), &server);
    // kubelogin's docs/setup.md, step 5, verbatim (ISSUER_URL and YOUR_CLIENT_ID filled in).
    let status = kubectl(&kubeconfig, &["config", "set-credentials", "oidc"])
        .args([
            "--exec-interactive-mode=Never",
            "--exec-api-version=client.authentication.k8s.io/v1",
            "--exec-command=kubectl",
            "--exec-arg=oidc-login",
            "--exec-arg=get-token",
            &format!("--exec-arg=--oidc-issuer-url={}", provider.issuer()),
            &format!("--exec-arg=--oidc-client-id={PUBLIC_CLIENT_ID}"),
        ])
        .status()
        .unwrap();
    assert!(status.success());

    // `kubectl oidc-login` finds our binary on PATH; the provider's CA comes
    // from SSL_CERT_FILE and the browser from $BROWSER, as on a workstation.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache_root = home.path().join("kube-cache");
    let browser = provider.browser_script("browser.sh", &[]).unwrap();
    let env = |cmd: &mut Command| {
        cmd.env("PATH", &path)
            .env("HOME", home.path())
            .env("KUBECACHEDIR", &cache_root)
            .env("SSL_CERT_FILE", provider.ca_file().unwrap())
            .env("BROWSER", &browser);
    };

    // The first login binds a free port (tests never rely on 8000/18000 being
    // free); the cache key is the same as the kubeconfig's.
    let mut login = Command::new(BIN);
    login.args([
        "get-token",
        &format!("--oidc-issuer-url={}", provider.issuer()),
        &format!("--oidc-client-id={PUBLIC_CLIENT_ID}"),
        "--listen-address=127.0.0.1:0",
    ]);
    env(&mut login);
    let out = login.env_remove("KUBERNETES_EXEC_INFO").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cache = cache_root.join("oidc-login");
    let first = cached_token(&cache);

    let mut version = kubectl(&kubeconfig, &["get", "--raw", "/version"]);
    env(&mut version);
    let out = version.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(body["gitVersion"].is_string());
    let seen: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/version")
        .collect();
    assert_eq!(
        seen.last().unwrap().bearer_token_seen.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(seen.last().unwrap().user.as_deref(), Some(user.as_str()));

    // Past half the token's life, the same kubeconfig refreshes it (HTTPS to
    // the provider trusted through SSL_CERT_FILE).
    let exp = claims(&first)["iat"].as_i64().unwrap() + 4;
    while jiff::Timestamp::now().as_second() <= exp {
        std::thread::sleep(Duration::from_millis(200));
    }
    let before = provider.stats().unwrap();
    let mut version = kubectl(&kubeconfig, &["get", "--raw", "/version"]);
    env(&mut version);
    let out = version.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second = cached_token(&cache);
    assert_ne!(second, first);
    let seen: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/version")
        .collect();
    assert_eq!(
        seen.last().unwrap().bearer_token_seen.as_deref(),
        Some(second.as_str())
    );
    let after = provider.stats().unwrap();
    assert_eq!(
        after.grants_for("refresh_token") - before.grants_for("refresh_token"),
        1
    );
}
