//! Shared helpers of the integration tests: the real binary, the real kubectl,
//! and kubeconfig documents compared as parsed values.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The plugin binary with a clean environment: no colour, no inherited
/// kubeconfig, HOME in `home`.
pub fn plugin(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("kubectl-kubeconfig").expect("binary is built");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1");
    cmd
}

/// The real kubectl 1.32 binary. On machines where `kubectl` is the Cloud SDK
/// dispatcher (which contacts the server to pick a version, and so recurses
/// into exec credential plugins that call `kubectl`), its `kubectl.1.32`
/// sibling is the real thing.
pub fn kubectl_binary() -> PathBuf {
    let found = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("kubectl"))
                .find(|k| k.is_file())
        })
        .unwrap_or_default()
        .unwrap_or_else(|| PathBuf::from("/usr/bin/kubectl"));
    let real = std::fs::canonicalize(&found).unwrap_or(found.clone());
    let versioned = real.with_file_name("kubectl.1.32");
    if versioned.is_file() {
        versioned
    } else {
        found
    }
}

/// A directory holding `kubectl` (the real binary, see [`kubectl_binary`])
/// and whatever plugins a test adds, to put first on PATH so exec credential
/// stanzas with `command: kubectl` run the real kubectl.
pub fn bin_dir(home: &Path) -> PathBuf {
    let dir = home.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("kubectl");
    if !link.exists() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(kubectl_binary(), &link).unwrap();
    }
    dir
}

/// The real kubectl, reading only `kubeconfig`, with `extra_path` first on PATH.
pub fn kubectl(kubeconfig: &Path, home: &Path, extra_path: Option<&Path>) -> Command {
    let mut cmd = Command::new(kubectl_binary());
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(extra) = extra_path {
        let mut joined = std::ffi::OsString::from(extra);
        joined.push(":");
        joined.push(path);
        path = joined;
    }
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", home.join("kubecache"));
    cmd
}

/// stdout of a finished command as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a finished command as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A YAML or JSON document parsed into a generic value.
pub fn parse(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

/// A YAML file parsed into a generic value.
pub fn read(path: &Path) -> Value {
    parse(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The named entry of a kubeconfig section.
pub fn entry<'a>(doc: &'a Value, section: &str, name: &str) -> &'a Value {
    doc[section]
        .as_array()
        .and_then(|list| list.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no {section} entry {name:?} in {doc:#}"))
}

/// The names of a kubeconfig section's entries.
pub fn names(doc: &Value, section: &str) -> Vec<String> {
    doc[section]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The crate's examples directory.
pub fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A catalog for one kube-test-server: cluster `test` at `server` with its CA
/// inline, identity provider `corp`, team `dev` in namespace `apps`.
pub fn catalog_for_server(server_url: &str, ca_pem: &str) -> String {
    let indented: String = ca_pem.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
identityProviders:
  - name: corp
    issuerURL: https://login.example.test/realms/k8s
    clientID: kubernetes
    extraScopes: [email]
clusters:
  - name: test
    server: {server_url}
    tlsServerName: localhost
    certificateAuthority:
      pem: |
{indented}    labels: {{env: test}}
teams:
  - name: dev
    namespace: apps
    clusters:
      - selector: env=test
"#
    )
}

/// Writes an executable `kubectl-oidc_login` into `dir` that records its
/// arguments (one per line) in `dir/args` and prints an ExecCredential with
/// `token`: a stand-in for the oidc-login plugin, so kubectl runs a generated
/// exec stanza end to end without an identity provider.
pub fn fake_oidc_login(dir: &Path, token: &str) {
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\nprintf '%s' \"$KUBERNETES_EXEC_INFO\" > '{info}'\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n",
        args = dir.join("args").display(),
        info = dir.join("exec-info").display(),
    );
    let path = dir.join("kubectl-oidc_login");
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
