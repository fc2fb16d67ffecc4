//! Kubeconfig files pointing at the server, in the standard `v1` `Config` format
//! that kubectl, client-go and the kube crate read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::pki::ClientCert;

/// How the kubeconfig's user authenticates.
#[derive(Clone, Debug, Default)]
pub enum KubeconfigUser {
    /// No credential at all (requests are anonymous).
    #[default]
    Anonymous,
    /// `token:` — a bearer token.
    Token(String),
    /// `client-certificate-data` / `client-key-data`.
    ClientCert(ClientCert),
    /// An `exec` credential plugin stanza.
    Exec(ExecConfig),
}

/// An `exec` credential plugin stanza (`client.authentication.k8s.io`).
#[derive(Clone, Debug)]
pub struct ExecConfig {
    /// `apiVersion`, by default `client.authentication.k8s.io/v1`.
    pub api_version: String,
    /// The program to run.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (`env: [{name, value}]`).
    pub env: Vec<(String, String)>,
    /// `interactiveMode` (`Never`, `IfAvailable`, `Always`); required by `v1`.
    pub interactive_mode: String,
    /// `provideClusterInfo`.
    pub provide_cluster_info: bool,
}

impl ExecConfig {
    /// `command args...` with `client.authentication.k8s.io/v1` and `interactiveMode: IfAvailable`.
    pub fn new<I, S>(command: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecConfig {
            api_version: "client.authentication.k8s.io/v1".into(),
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            interactive_mode: "IfAvailable".into(),
            provide_cluster_info: false,
        }
    }
}

/// What to put into a kubeconfig written by
/// [`KubeTestServer::write_kubeconfig`](crate::KubeTestServer::write_kubeconfig).
#[derive(Clone, Debug)]
pub struct KubeconfigOpts {
    /// Name of the context (also the current-context). Default `kube-test-server`.
    pub context: String,
    /// Name of the cluster entry. Default `kube-test-server`.
    pub cluster: String,
    /// Name of the user entry. Default `test-user`.
    pub user_name: String,
    /// The user's credential.
    pub user: KubeconfigUser,
    /// The context's namespace, if any.
    pub namespace: Option<String>,
    /// Embed the CA as `certificate-authority-data` (default) rather than
    /// referring to a file with `certificate-authority`.
    pub embed_ca: bool,
}

impl Default for KubeconfigOpts {
    fn default() -> Self {
        KubeconfigOpts {
            context: "kube-test-server".into(),
            cluster: "kube-test-server".into(),
            user_name: "test-user".into(),
            user: KubeconfigUser::Anonymous,
            namespace: None,
            embed_ca: true,
        }
    }
}

impl KubeconfigOpts {
    /// A user authenticating with a bearer token.
    pub fn token(token: impl Into<String>) -> Self {
        KubeconfigOpts {
            user: KubeconfigUser::Token(token.into()),
            ..Default::default()
        }
    }

    /// A user authenticating with a client certificate.
    pub fn client_cert(cert: ClientCert) -> Self {
        KubeconfigOpts {
            user: KubeconfigUser::ClientCert(cert),
            ..Default::default()
        }
    }

    /// A user whose credential comes from an exec plugin.
    pub fn exec(exec: ExecConfig) -> Self {
        KubeconfigOpts {
            user: KubeconfigUser::Exec(exec),
            ..Default::default()
        }
    }

    /// Sets the context's namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the context name.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = context.into();
        self
    }
}

pub(crate) fn render(
    server_url: &str,
    ca_pem: Option<&str>,
    ca_file: Option<&std::path::Path>,
    opts: &KubeconfigOpts,
) -> String {
    let mut cluster = json!({"server": server_url});
    if opts.embed_ca {
        if let Some(pem) = ca_pem {
            cluster["certificate-authority-data"] = json!(STANDARD.encode(pem));
        }
    } else if let Some(path) = ca_file {
        cluster["certificate-authority"] = json!(path.display().to_string());
    }

    let user: Value = match &opts.user {
        KubeconfigUser::Anonymous => json!({}),
        KubeconfigUser::Token(t) => json!({"token": t}),
        KubeconfigUser::ClientCert(c) => json!({
            "client-certificate-data": STANDARD.encode(&c.cert_pem),
            "client-key-data": STANDARD.encode(&c.key_pem),
        }),
        KubeconfigUser::Exec(e) => {
            let mut exec = json!({
                "apiVersion": e.api_version,
                "command": e.command,
                "args": e.args,
                "interactiveMode": e.interactive_mode,
                "provideClusterInfo": e.provide_cluster_info,
            });
            if !e.env.is_empty() {
                exec["env"] = e
                    .env
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect();
            }
            json!({"exec": exec})
        }
    };

    let mut context = json!({"cluster": opts.cluster, "user": opts.user_name});
    if let Some(ns) = &opts.namespace {
        context["namespace"] = json!(ns);
    }

    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": opts.cluster, "cluster": cluster}],
        "users": [{"name": opts.user_name, "user": user}],
        "contexts": [{"name": opts.context, "context": context}],
        "current-context": opts.context,
        "preferences": {},
    });
    serde_saphyr::to_string(&config).unwrap_or_else(|_| config.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_standard_kubeconfig() {
        let mut exec = ExecConfig::new("kubectl", ["oidc-login", "get-token"]);
        exec.env = vec![("A".into(), "b".into())];
        let yaml = render(
            "https://127.0.0.1:6443",
            Some("-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"),
            None,
            &KubeconfigOpts::exec(exec).namespace("prod").context("dev"),
        );
        let parsed: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(parsed["current-context"], "dev");
        assert_eq!(parsed["contexts"][0]["context"]["namespace"], "prod");
        assert_eq!(
            parsed["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:6443"
        );
        let ca = parsed["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap();
        assert!(
            String::from_utf8(STANDARD.decode(ca).unwrap())
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        let exec = &parsed["users"][0]["user"]["exec"];
        assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(exec["args"], json!(["oidc-login", "get-token"]));
        assert_eq!(exec["env"], json!([{"name": "A", "value": "b"}]));
        assert_eq!(exec["interactiveMode"], "IfAvailable");
    }
}
