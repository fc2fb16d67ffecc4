//! Helpers shared by the integration tests: the plugin binary, a fixture
//! provider, and what the plugin prints.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use oidc_test_provider::{OidcProvider, ProviderBuilder};

pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-oidc_login");

pub const EXEC_INFO_V1_NONINTERACTIVE: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
pub const EXEC_INFO_V1_INTERACTIVE: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}"#;
pub const EXEC_INFO_V1BETA1: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}"#;

/// A provider plus a private cache directory.
pub struct Setup {
    pub provider: OidcProvider,
    pub cache: tempfile::TempDir,
}

impl Setup {
    pub fn new(builder: ProviderBuilder) -> Setup {
        Setup {
            provider: builder.start().expect("the OIDC fixture starts"),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// `get-token` flags for the public client over HTTPS with the test CA.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "get-token".to_string(),
            format!("--oidc-issuer-url={}", self.provider.issuer()),
            format!("--oidc-client-id={}", self.provider.public_client_id()),
            format!("--token-cache-dir={}", self.cache_dir().display()),
            "--oidc-extra-scope=email,groups".to_string(),
        ];
        if let Some(ca) = self.provider.ca_file() {
            args.push(format!("--certificate-authority={}", ca.display()));
        }
        args
    }

    /// `args()` plus the password grant for alice.
    pub fn password_args(&self) -> Vec<String> {
        let mut args = self.args();
        args.extend([
            "--grant-type=password".to_string(),
            "--username=alice".to_string(),
            "--password=alice-password".to_string(),
        ]);
        args
    }

    /// `args()` plus the authorization code flow through the test browser.
    pub fn authcode_args(&self, browser_options: &[&str]) -> Vec<String> {
        let script = self
            .provider
            .browser_script(
                &format!("browse-{}.sh", browser_options.join("").replace('-', "")),
                browser_options,
            )
            .unwrap();
        let mut args = self.args();
        args.extend([
            "--grant-type=authcode".to_string(),
            "--listen-address=127.0.0.1:0".to_string(),
            format!("--browser-command={}", script.display()),
            "--authentication-timeout-sec=30".to_string(),
        ]);
        args
    }

    /// The plugin's cache directory (the plugin creates it).
    pub fn cache_dir(&self) -> PathBuf {
        self.cache.path().join("oidc-login")
    }

    pub fn cache_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.cache_dir())
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.len() == 64
        });
        files.sort();
        files
    }
}

/// The plugin with a clean environment: no display, no BROWSER, a private HOME.
pub fn plugin(args: &[String], exec_info: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(args)
        .env("KUBERNETES_EXEC_INFO", exec_info)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("BROWSER")
        .env_remove("KUBECACHEDIR")
        .env_remove("KUBECONFIG")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(std::process::Stdio::null());
    cmd
}

pub fn run(args: &[String], exec_info: &str) -> Output {
    plugin(args, exec_info).output().expect("the plugin runs")
}

/// Runs the plugin and expects success; returns the ExecCredential.
pub fn get_token(args: &[String], exec_info: &str) -> (serde_json::Value, String) {
    let out = run(args, exec_info);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "get-token failed: {stderr}");
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (credential, stderr)
}

pub fn token_of(credential: &serde_json::Value) -> String {
    credential["status"]["token"]
        .as_str()
        .expect("status.token")
        .to_string()
}

pub fn claims(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

pub fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
