//! The server as kube-aggregator, with the real kubectl: RBAC objects applied
//! with `kubectl apply`, an APIService delegating `demo.kubext.io/v1` to a small
//! real TLS backend that requires the front-proxy client certificate, and the
//! backend seeing who the caller is in `X-Remote-*` headers.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube_test_server::{KubeTestServer, KubeconfigOpts, User};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

/// What the backend saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    /// CN of the verified client certificate.
    client_cn: String,
    remote_user: Vec<String>,
    remote_group: Vec<String>,
    remote_extra: Vec<(String, String)>,
}

/// A TLS backend for `demo.kubext.io/v1` (`widgets`, namespaced), serving
/// certificate for `widgets.demo.svc`, client certificates required and
/// verified against `client_ca_pem`. Its list answers name the caller it saw.
struct Backend {
    addr: std::net::SocketAddr,
    ca_pem: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn header_values(req: &Request<Incoming>, name: &str) -> Vec<String> {
    req.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn answer(req: &Request<Incoming>) -> (u16, Value) {
    let path = req.uri().path().trim_end_matches('/');
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["apis", "demo.kubext.io", "v1"] => (
            200,
            json!({
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "demo.kubext.io/v1",
                "resources": [{"name": "widgets", "singularName": "widget", "namespaced": true,
                               "kind": "Widget", "verbs": ["get", "list"]}]
            }),
        ),
        ["apis", "demo.kubext.io", "v1", "namespaces", ns, "widgets"] => (
            200,
            json!({
                "kind": "WidgetList", "apiVersion": "demo.kubext.io/v1", "metadata": {},
                "items": [{
                    "apiVersion": "demo.kubext.io/v1", "kind": "Widget",
                    "metadata": {"name": "w1", "namespace": ns},
                    "seenUser": header_values(req, "x-remote-user"),
                    "seenGroups": header_values(req, "x-remote-group"),
                }]
            }),
        ),
        _ => (
            404,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound", "message": "not found"}),
        ),
    }
}

impl Backend {
    fn start(client_ca_pem: &str) -> Backend {
        common::install_crypto();
        let ca = ca("demo-backend-ca");
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["widgets.demo.svc".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(client_ca_pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        let config = rustls::ServerConfig::builder()
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let thread_seen = seen.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let tcp = tokio::select! {
                        _ = &mut stop => break,
                        accepted = listener.accept() => match accepted {
                            Ok((tcp, _)) => tcp,
                            Err(_) => continue,
                        },
                    };
                    let acceptor = acceptor.clone();
                    let seen = thread_seen.clone();
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let client_cn = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|der| {
                                let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
                                let cn = cert.subject().iter_common_name().next()?;
                                Some(cn.as_str().ok()?.to_string())
                            })
                            .unwrap_or_default();
                        let service = service_fn(move |req: Request<Incoming>| {
                            let extra = req
                                .headers()
                                .iter()
                                .filter(|(n, _)| n.as_str().starts_with("x-remote-extra-"))
                                .map(|(n, v)| {
                                    (n.as_str().to_string(), v.to_str().unwrap().to_string())
                                })
                                .collect();
                            seen.lock().unwrap().push(Seen {
                                path: req.uri().path().to_string(),
                                client_cn: client_cn.clone(),
                                remote_user: header_values(&req, "x-remote-user"),
                                remote_group: header_values(&req, "x-remote-group"),
                                remote_extra: extra,
                            });
                            let (code, body) = answer(&req);
                            let resp = Response::builder()
                                .status(code)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body.to_string())))
                                .unwrap();
                            async move { Ok::<_, std::convert::Infallible>(resp) }
                        });
                        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), service)
                            .await;
                    });
                }
            });
        });
        Backend {
            addr,
            ca_pem: ca.pem(),
            seen,
            _shutdown: shutdown,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn kubectl(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args(args)
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .output()
        .expect("kubectl runs (it is on PATH on this machine)")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn apply(kubeconfig: &Path, home: &Path, objects: &[Value]) {
    let file = home.join(format!("apply-{}.json", rand_suffix()));
    // A YAML stream of the objects (JSON is YAML), as manifests are written.
    let docs: Vec<String> = objects.iter().map(|o| format!("---\n{o}\n")).collect();
    std::fs::write(&file, docs.concat()).unwrap();
    ok(kubectl(
        kubeconfig,
        home,
        &["apply", "-f", file.to_str().unwrap()],
    ));
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn api_service(ca_bundle_pem: &str) -> Value {
    json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1.demo.kubext.io"},
        "spec": {
            "group": "demo.kubext.io", "version": "v1",
            "service": {"namespace": "demo", "name": "widgets", "port": 443},
            "caBundle": base64::engine::general_purpose::STANDARD.encode(ca_bundle_pem),
            "groupPriorityMinimum": 100, "versionPriority": 100
        }
    })
}

/// Role `widget-reader` in team-a bound to alice, as a team would grant it.
fn widget_reader_for_alice() -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "widget-reader"},
            "rules": [{"apiGroups": ["demo.kubext.io"], "resources": ["widgets"], "verbs": ["get", "list"]}]
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "alice-reads-widgets", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "widget-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
        }),
    ]
}

struct Cluster {
    server: KubeTestServer,
    backend: Backend,
    dir: tempfile::TempDir,
    admin: std::path::PathBuf,
    alice: std::path::PathBuf,
}

/// A server with the backend registered as service demo/widgets, the
/// APIService and alice's RoleBinding applied by an admin with kubectl.
fn cluster() -> Cluster {
    let server = KubeTestServer::start();
    server.enable_aggregation();
    let backend = Backend::start(&server.front_proxy_ca_pem());
    server.add_service_proxy("demo", "widgets", 443, backend.addr.to_string());
    server.insert_namespace("team-a");
    server.insert_namespace("team-b");
    server.add_token(
        "admin-token",
        User::new("admin").with_groups(["system:masters"]),
    );
    server.add_token("alice-token", User::new("alice").with_groups(["devs"]));
    let dir = tempfile::tempdir().unwrap();
    let admin_dir = dir.path().join("admin");
    let alice_dir = dir.path().join("alice");
    std::fs::create_dir_all(&admin_dir).unwrap();
    std::fs::create_dir_all(&alice_dir).unwrap();
    let admin = server.write_kubeconfig(&admin_dir, &KubeconfigOpts::token("admin-token"));
    let alice = server.write_kubeconfig(&alice_dir, &KubeconfigOpts::token("alice-token"));
    let mut objects = vec![api_service(&backend.ca_pem)];
    objects.extend(widget_reader_for_alice());
    apply(&admin, dir.path(), &objects);
    Cluster {
        server,
        backend,
        dir,
        admin,
        alice,
    }
}

#[test]
fn kubectl_api_resources_lists_the_aggregated_group() {
    let c = cluster();
    let out = ok(kubectl(
        &c.alice,
        c.dir.path(),
        &["api-resources", "--api-group=demo.kubext.io"],
    ));
    let line = out
        .lines()
        .find(|l| l.starts_with("widgets"))
        .unwrap_or_else(|| panic!("no widgets in:\n{out}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cols, ["widgets", "demo.kubext.io/v1", "true", "Widget"]);
    // The group is the server's own discovery; its resources come from the backend.
    let groups: Value = serde_json::from_str(&ok(kubectl(
        &c.alice,
        c.dir.path(),
        &["get", "--raw", "/apis"],
    )))
    .unwrap();
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "demo.kubext.io"
                && g["preferredVersion"]["groupVersion"] == "demo.kubext.io/v1"),
        "{groups}"
    );
    assert!(
        c.backend
            .seen()
            .iter()
            .any(|s| s.path == "/apis/demo.kubext.io/v1")
    );
}

#[test]
fn the_backend_gets_the_front_proxy_certificate_and_the_authenticated_user() {
    let c = cluster();
    let out = ok(kubectl(
        &c.alice,
        c.dir.path(),
        &["get", "widgets", "-n", "team-a", "-o", "json"],
    ));
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["items"][0]["metadata"]["name"], "w1");
    assert_eq!(list["items"][0]["seenUser"], json!(["alice"]));
    assert_eq!(
        list["items"][0]["seenGroups"],
        json!(["devs", "system:authenticated"])
    );
    let seen = c.backend.seen();
    let list_req = seen
        .iter()
        .find(|s| s.path == "/apis/demo.kubext.io/v1/namespaces/team-a/widgets")
        .expect("the list reached the backend");
    assert_eq!(list_req.client_cn, "front-proxy-client");
}

#[test]
fn identity_headers_the_caller_sends_are_replaced() {
    let c = cluster();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(c.server.ca_pem().as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let resp = client
        .get(format!(
            "{}/apis/demo.kubext.io/v1/namespaces/team-a/widgets",
            c.server.url()
        ))
        .bearer_auth("alice-token")
        .header("X-Remote-User", "system:admin")
        .header("X-Remote-Group", "system:masters")
        .header("X-Remote-Extra-Scopes", "everything")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = c.backend.seen();
    let last = seen.last().unwrap();
    assert_eq!(last.remote_user, ["alice"]);
    assert_eq!(last.remote_group, ["devs", "system:authenticated"]);
    assert!(last.remote_extra.is_empty(), "{:?}", last.remote_extra);
}

#[test]
fn rbac_decides_before_the_backend_is_asked() {
    let c = cluster();
    let out = kubectl(&c.alice, c.dir.path(), &["get", "widgets", "-n", "team-b"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (Forbidden): widgets.demo.kubext.io is forbidden: User \"alice\" cannot list resource \"widgets\" in API group \"demo.kubext.io\" in the namespace \"team-b\""
    );
    let out = kubectl(&c.alice, c.dir.path(), &["get", "widgets", "-A"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "User \"alice\" cannot list resource \"widgets\" in API group \"demo.kubext.io\" at the cluster scope"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !c.backend
            .seen()
            .iter()
            .any(|s| s.path.contains("team-b") || s.path.ends_with("/v1/widgets")),
        "a forbidden request reached the backend"
    );

    let can_i = |ns: &str| {
        let out = kubectl(
            &c.alice,
            c.dir.path(),
            &["auth", "can-i", "list", "widgets.demo.kubext.io", "-n", ns],
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(can_i("team-a"), "yes");
    assert_eq!(can_i("team-b"), "no");

    // Taking the binding away takes the access away.
    ok(kubectl(
        &c.admin,
        c.dir.path(),
        &[
            "delete",
            "rolebinding",
            "alice-reads-widgets",
            "-n",
            "team-a",
        ],
    ));
    assert_eq!(can_i("team-a"), "no");
}

#[test]
fn subject_access_reviews_of_a_delegating_backend_are_answered_from_rbac() {
    let c = cluster();
    // The backend's service account, bound as the deploy manifests of an
    // extension API server bind it.
    c.server.add_token(
        "sink-token",
        User::new("system:serviceaccount:demo:widgets"),
    );
    apply(
        &c.admin,
        c.dir.path(),
        &[
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "widgets:system:auth-delegator"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
                "subjects": [{"kind": "ServiceAccount", "name": "widgets", "namespace": "demo"}]
            }),
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "widgets-auth-reader", "namespace": "kube-system"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "extension-apiserver-authentication-reader"},
                "subjects": [{"kind": "ServiceAccount", "name": "widgets", "namespace": "demo"}]
            }),
        ],
    );
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(c.server.ca_pem().as_bytes()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let review = |ns: &str| -> Value {
        let resp = client
            .post(format!(
                "{}/apis/authorization.k8s.io/v1/subjectaccessreviews",
                c.server.url()
            ))
            .bearer_auth("sink-token")
            .json(&json!({
                "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": {
                    "user": "alice", "groups": ["devs", "system:authenticated"],
                    "resourceAttributes": {"verb": "list", "group": "demo.kubext.io", "resource": "widgets", "namespace": ns}
                }
            }))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 201);
        resp.json().unwrap()
    };
    assert_eq!(review("team-a")["status"]["allowed"], true);
    assert_eq!(review("team-b")["status"]["allowed"], false);

    // The same account reads the authentication ConfigMap, and nothing else there.
    let cm_url = format!(
        "{}/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
        c.server.url()
    );
    let cm: Value = client
        .get(&cm_url)
        .bearer_auth("sink-token")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let data = &cm["data"];
    assert_eq!(
        data["requestheader-client-ca-file"],
        c.server.front_proxy_ca_pem()
    );
    assert_eq!(data["client-ca-file"], c.server.client_ca_pem());
    assert_eq!(
        data["requestheader-allowed-names"],
        "[\"front-proxy-client\"]"
    );
    assert_eq!(
        data["requestheader-username-headers"],
        "[\"X-Remote-User\"]"
    );
    assert_eq!(data["requestheader-group-headers"], "[\"X-Remote-Group\"]");
    assert_eq!(
        data["requestheader-extra-headers-prefix"],
        "[\"X-Remote-Extra-\"]"
    );
    let list = client
        .get(format!(
            "{}/api/v1/namespaces/kube-system/configmaps",
            c.server.url()
        ))
        .bearer_auth("sink-token")
        .send()
        .unwrap();
    assert_eq!(list.status(), 403);
}

#[test]
fn a_backend_whose_certificate_does_not_match_the_ca_bundle_is_unavailable() {
    let c = cluster();
    let other_ca = ca("someone-else").pem();
    apply(&c.admin, c.dir.path(), &[api_service(&other_ca)]);
    let before = c.backend.seen().len();
    let out = kubectl(
        &c.alice,
        c.dir.path(),
        &[
            "get",
            "--raw",
            "/apis/demo.kubext.io/v1/namespaces/team-a/widgets",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(ServiceUnavailable)") && stderr.contains("UnknownIssuer"),
        "{stderr}"
    );
    assert_eq!(c.backend.seen().len(), before, "no request got through");
}

#[test]
fn an_api_service_without_a_registered_backend_is_unavailable() {
    let server = KubeTestServer::start();
    server.add_token(
        "admin-token",
        User::new("admin").with_groups(["system:masters"]),
    );
    let dir = tempfile::tempdir().unwrap();
    let admin = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("admin-token"));
    apply(&admin, dir.path(), &[api_service(&ca("x").pem())]);
    let out = kubectl(
        &admin,
        dir.path(),
        &["get", "--raw", "/apis/demo.kubext.io/v1"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("service unavailable"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
