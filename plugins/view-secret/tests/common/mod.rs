//! A kube-test-server seeded with Secrets of every kind the plugin understands,
//! and kubeconfigs for users with different rights.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

pub const BIN: &str = "kubectl-view_secret";

pub struct Fixture {
    pub server: KubeTestServer,
    pub dir: tempfile::TempDir,
    /// alice: get/list secrets in `prod` and `staging`, list namespaces.
    pub alice: PathBuf,
    /// bob: authenticated, no rights.
    pub bob: PathBuf,
    /// admin: everything.
    pub admin: PathBuf,
    /// The seeded Helm release JSON.
    pub helm_json: Vec<u8>,
    /// The seeded leaf + intermediate chain.
    pub chain_pem: String,
}

pub fn secret(ns: &str, name: &str, type_: &str, data: &[(&str, &[u8])]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        type_: Some(type_.into()),
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}

pub struct Ca {
    pub pem: String,
    key: KeyPair,
    params: CertificateParams,
}

pub fn ca(name: &str, parent: Option<&Ca>) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example Corp");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = match parent {
        None => params.self_signed(&key).unwrap(),
        Some(p) => params
            .signed_by(&key, &Issuer::from_params(&p.params, &p.key))
            .unwrap(),
    };
    Ca {
        pem: cert.pem(),
        key,
        params,
    }
}

/// A leaf for `host`, valid from 400 days ago until `days` from now (negative: in the past).
pub fn leaf(host: &str, issuer: &Ca, days: i64) -> (String, String) {
    let mut params = CertificateParams::new(vec![host.to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, host);
    params
        .subject_alt_names
        .push(SanType::DnsName(format!("www.{host}").try_into().unwrap()));
    let now = SystemTime::now();
    params.not_before = (now - Duration::from_secs(400 * 86_400)).into();
    let offset = Duration::from_secs(days.unsigned_abs() * 86_400);
    params.not_after = if days >= 0 {
        now + offset
    } else {
        now - offset
    }
    .into();
    let key = KeyPair::generate().unwrap();
    let cert = params
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// What Helm writes into a release Secret's `release` key: base64(gzip(json)).
pub fn helm_payload(json: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json).unwrap();
    base64::engine::general_purpose::STANDARD
        .encode(gz.finish().unwrap())
        .into_bytes()
}

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl Fixture {
    pub fn new() -> Fixture {
        let server = KubeTestServer::start();
        let s = |ns: &str, name: &str, ty: &str, data: &[(&str, &[u8])]| {
            server.insert_secret(secret(ns, name, ty, data));
        };
        s(
            "prod",
            "db-credentials",
            "Opaque",
            &[("username", b"admin"), ("password", b"hunter2")],
        );
        s("prod", "api-key", "Opaque", &[("token", b"tok-123456")]);
        s("prod", "empty", "Opaque", &[]);
        s(
            "prod",
            "blob",
            "Opaque",
            &[(
                "keystore.p12",
                &[0x30, 0x82, 0x0a, 0x00, 0xff, 0x00, 0x41, 0x42],
            )],
        );

        let root = ca("Example Root CA", None);
        let intermediate = ca("Example Intermediate CA", Some(&root));
        let (leaf_pem, leaf_key) = leaf("app.example.com", &intermediate, 90);
        let chain_pem = format!("{leaf_pem}{}", intermediate.pem);
        s(
            "prod",
            "app-tls",
            "kubernetes.io/tls",
            &[
                ("tls.crt", chain_pem.as_bytes()),
                ("tls.key", leaf_key.as_bytes()),
                ("ca.crt", root.pem.as_bytes()),
            ],
        );
        let (expired_pem, expired_key) = leaf("old.example.com", &root, -3);
        s(
            "prod",
            "expired-tls",
            "kubernetes.io/tls",
            &[
                ("tls.crt", expired_pem.as_bytes()),
                ("tls.key", expired_key.as_bytes()),
            ],
        );
        let misordered = format!("{}{leaf_pem}", intermediate.pem);
        s(
            "prod",
            "misordered-tls",
            "kubernetes.io/tls",
            &[
                ("tls.crt", misordered.as_bytes()),
                ("tls.key", leaf_key.as_bytes()),
            ],
        );

        let dockerconfig = serde_json::json!({"auths": {
            "registry.example.com": {"auth": b64("robot:registry-pass-1"), "email": "ci@example.com"},
            "ghcr.io": {"username": "octocat", "password": "ghp-pass-2"}
        }})
        .to_string();
        s(
            "prod",
            "regcred",
            "kubernetes.io/dockerconfigjson",
            &[(".dockerconfigjson", dockerconfig.as_bytes())],
        );
        let dockercfg = serde_json::json!({"https://index.docker.io/v1/": {"auth": b64("legacy-user:legacy-pass"), "email": "old@example.com"}}).to_string();
        s(
            "prod",
            "legacy-regcred",
            "kubernetes.io/dockercfg",
            &[(".dockercfg", dockercfg.as_bytes())],
        );

        let helm_json = serde_json::to_vec(&serde_json::json!({
            "name": "shop",
            "namespace": "prod",
            "version": 4,
            "info": {
                "first_deployed": "2024-01-02T03:04:05.123Z",
                "last_deployed": "2024-02-03T04:05:06.456Z",
                "deleted": "",
                "description": "Upgrade complete",
                "status": "deployed"
            },
            "chart": {
                "metadata": {"name": "nginx", "version": "15.4.2", "appVersion": "1.25.3"},
                "values": {"replicaCount": 1}
            },
            "config": {"replicaCount": 3, "image": {"tag": "1.25.3-custom"}},
            "manifest": "---\n# Source: nginx/templates/svc.yaml\n"
        }))
        .unwrap();
        s(
            "prod",
            "sh.helm.release.v1.shop.v4",
            "helm.sh/release.v1",
            &[("release", &helm_payload(&helm_json))],
        );

        s(
            "staging",
            "db-credentials-staging",
            "Opaque",
            &[("password", b"staging-pw")],
        );
        s(
            "vault",
            "db-credentials-vault",
            "Opaque",
            &[("password", b"vault-pw")],
        );

        server.add_token("alice-token", User::new("alice").with_groups(["devs"]));
        server.allow("devs", &["get", "list"], &["secrets"], "prod");
        server.allow("devs", &["get", "list"], &["secrets"], "staging");
        server.allow("devs", &["list"], &["namespaces"], "*");
        server.add_token("bob-token", User::new("bob"));
        server.add_token(
            "admin-token",
            User::new("root").with_groups(["system:masters"]),
        );

        let dir = tempfile::tempdir().unwrap();
        let kc = |context: &str, token: &str| {
            let mut opts = KubeconfigOpts::token(token).namespace("prod");
            opts.context = context.to_string();
            server.write_kubeconfig(dir.path(), &opts)
        };
        let alice = kc("alice", "alice-token");
        let bob = kc("bob", "bob-token");
        let admin = kc("admin", "admin-token");
        Fixture {
            server,
            dir,
            alice,
            bob,
            admin,
            helm_json,
            chain_pem,
        }
    }

    /// The plugin binary with alice's kubeconfig, no colour, no stray kubeconfig.
    pub fn cmd(&self) -> assert_cmd::Command {
        self.cmd_as(&self.alice)
    }

    pub fn cmd_as(&self, kubeconfig: &std::path::Path) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin(BIN).unwrap();
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .env("NO_COLOR", "1")
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .env_remove("RUST_LOG");
        cmd
    }
}

/// stdout and stderr of a finished command, as text.
pub fn out(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
