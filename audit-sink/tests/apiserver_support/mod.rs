//! Harness of the aggregated-API tests: the real `audit-sink` with
//! `--api-listen` over TLS, its SubjectAccessReviews answered by the real
//! kube-test-server, and HTTP clients standing in for the aggregator (with
//! the front-proxy certificate) or for intruders (without it, or with
//! another one).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use kube_test_server::{KubeTestServer, KubeconfigOpts, User};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::Value;

/// The user the sink's SubjectAccessReviews are made as.
pub const SINK_USER: &str = "system:serviceaccount:kubext-audit:audit-sink";
/// The allowed front-proxy CN.
pub const PROXY_CN: &str = "front-proxy-client";

pub fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate and key (PEM) signed by `issuer`.
pub fn leaf(names: &[&str], cn: &str, issuer: &CertifiedIssuer<'static, KeyPair>) -> String {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem())
}

pub struct Aggregated {
    pub kube: KubeTestServer,
    pub child: Child,
    /// The sink's own HTTP API.
    pub sink_url: String,
    /// The aggregated API.
    pub api_url: String,
    pub serving_ca: CertifiedIssuer<'static, KeyPair>,
    pub front_proxy_ca: CertifiedIssuer<'static, KeyPair>,
    pub dir: tempfile::TempDir,
}

impl Drop for Aggregated {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Where the sink takes its request-header settings from.
pub enum Settings {
    /// The `--requestheader-*` flags.
    Flags,
    /// ConfigMap kube-system/extension-apiserver-authentication, with this
    /// user-name header.
    ConfigMap { username_header: &'static str },
    /// kube-test-server as the aggregator: the ConfigMap it publishes with
    /// its own front-proxy CA (`enable_aggregation`).
    Aggregator,
}

impl Aggregated {
    /// Starts kube-test-server and the sink with the request-header flags;
    /// `extra` are more `serve` flags.
    pub fn start(extra: &[&str]) -> Aggregated {
        Aggregated::start_with(Settings::Flags, extra)
    }

    /// Starts kube-test-server and the sink.
    pub fn start_with(settings: Settings, extra: &[&str]) -> Aggregated {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let kube = KubeTestServer::start();
        kube.add_token("sink-token", User::new(SINK_USER));
        kube.allow(SINK_USER, &["create"], &["subjectaccessreviews"], "*");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = kube.write_kubeconfig(dir.path(), &KubeconfigOpts::token("sink-token"));
        let serving_ca = ca("audit-sink serving CA");
        let front_proxy_ca = ca("front-proxy CA");
        let serving = write(
            &dir,
            "serving.pem",
            &leaf(
                &["127.0.0.1", "localhost", "audit-sink.kubext-audit.svc"],
                "audit-sink",
                &serving_ca,
            ),
        );
        let proxy_ca = write(&dir, "front-proxy-ca.crt", &front_proxy_ca.pem());
        let mut request_header: Vec<std::ffi::OsString> = Vec::new();
        match settings {
            Settings::Flags => {
                request_header.push("--requestheader-client-ca-file".into());
                request_header.push(proxy_ca.clone().into());
                request_header.push("--requestheader-allowed-names".into());
                request_header.push(PROXY_CN.into());
            }
            Settings::ConfigMap { username_header } => {
                let data = [
                    ("client-ca-file", "unused by the sink".to_string()),
                    ("requestheader-client-ca-file", front_proxy_ca.pem()),
                    ("requestheader-allowed-names", format!("[\"{PROXY_CN}\"]")),
                    (
                        "requestheader-username-headers",
                        format!("[\"{username_header}\"]"),
                    ),
                    (
                        "requestheader-group-headers",
                        "[\"X-Remote-Group\"]".to_string(),
                    ),
                    (
                        "requestheader-extra-headers-prefix",
                        "[\"X-Remote-Extra-\"]".to_string(),
                    ),
                ];
                kube.insert_config_map(k8s_openapi::api::core::v1::ConfigMap {
                    metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                        name: Some("extension-apiserver-authentication".into()),
                        namespace: Some("kube-system".into()),
                        ..Default::default()
                    },
                    data: Some(data.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
                    ..Default::default()
                });
                kube.allow_names(
                    SINK_USER,
                    &["get"],
                    &["configmaps"],
                    &["extension-apiserver-authentication"],
                    "kube-system",
                );
                request_header.push("--authentication-kubeconfig".into());
                request_header.push(kubeconfig.clone().into());
            }
            Settings::Aggregator => {
                kube.enable_aggregation();
                kube.allow_names(
                    SINK_USER,
                    &["get"],
                    &["configmaps"],
                    &["extension-apiserver-authentication"],
                    "kube-system",
                );
                request_header.push("--authentication-kubeconfig".into());
                request_header.push(kubeconfig.clone().into());
            }
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_audit-sink"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--commit-interval",
                "100ms",
            ])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--api-listen", "127.0.0.1:0"])
            .arg("--api-tls-cert")
            .arg(&serving)
            .arg("--api-tls-key")
            .arg(&serving)
            .args(&request_header)
            .arg("--authorization-kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start audit-sink");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let _ = tx.send(line);
            }
        });
        // Hang detection only: start-up takes well under a second.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("audit-sink printed its address");
        let second = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("audit-sink printed the API address");
        let sink_url = first
            .strip_prefix("listening on ")
            .expect(&first)
            .to_string();
        let api_url = second
            .strip_prefix("aggregated API listening on ")
            .expect(&second)
            .to_string();
        Aggregated {
            kube,
            child,
            sink_url,
            api_url,
            serving_ca,
            front_proxy_ca,
            dir,
        }
    }

    /// A client of the API presenting `identity` (certificate and key PEM).
    pub fn client(&self, identity: Option<&str>) -> reqwest::Client {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(30))
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.serving_ca.pem().as_bytes()).unwrap(),
            );
        if let Some(id) = identity {
            b = b.identity(reqwest::Identity::from_pem(id.as_bytes()).unwrap());
        }
        b.build().unwrap()
    }

    /// The aggregator: the allowed front-proxy certificate.
    pub fn aggregator(&self) -> reqwest::Client {
        self.client(Some(&leaf(&[], PROXY_CN, &self.front_proxy_ca)))
    }

    /// Stores `items` through the sink's webhook endpoint and waits until searchable.
    pub async fn ingest(&self, items: &[String]) {
        let c = reqwest::Client::new();
        let r = c
            .post(format!("{}/v1/events", self.sink_url))
            .body(audit_gen::event_list(items))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let want = items.len();
        // Hang detection only.
        for _ in 0..600 {
            if self.search_all("", 1000).await.len() >= want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("events not searchable");
    }

    /// Every event of the sink's own `/v1/search` for `q`.
    pub async fn search_all(&self, q: &str, page: usize) -> Vec<Value> {
        let c = reqwest::Client::new();
        let mut out = Vec::new();
        let mut cursor = None::<String>;
        loop {
            let mut params = vec![("q", q.to_string()), ("limit", page.to_string())];
            if let Some(cur) = &cursor {
                params.push(("cursor", cur.clone()));
            }
            let v: Value = c
                .get(format!("{}/v1/search", self.sink_url))
                .query(&params)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            out.extend(v["events"].as_array().unwrap().iter().cloned());
            match v["next"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => return out,
            }
        }
    }

    /// `GET path` through `client` as `user` in `groups`: status and JSON body.
    pub async fn get_as(
        &self,
        client: &reqwest::Client,
        user: Option<&str>,
        groups: &[&str],
        path_and_query: &str,
        accept: Option<&str>,
    ) -> (u16, Value) {
        let mut req = client.get(format!("{}{path_and_query}", self.api_url));
        if let Some(u) = user {
            req = req.header("X-Remote-User", u);
        }
        for g in groups {
            req = req.header("X-Remote-Group", *g);
        }
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// SubjectAccessReviews the sink has made so far.
    pub fn reviews(&self) -> usize {
        self.kube
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/subjectaccessreviews"))
            .count()
    }
}

/// The events of a list answer.
pub fn items(list: &Value) -> Vec<Value> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {list}"))
        .clone()
}

/// 200 test events spread over the namespaces default, prod, staging and kube-system.
pub fn test_events() -> Vec<String> {
    audit_gen::events(
        16,
        200,
        audit_gen::Level::Metadata,
        "2026-01-05T10:00:00Z".parse().unwrap(),
        1_000_000,
    )
}
