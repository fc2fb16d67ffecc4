//! An in-process Kubernetes API server for tests.
//!
//! `kube-test-server` stands in for a cluster in the integration tests of the
//! kubext plugins: it speaks the real wire format (discovery documents,
//! `SecretList`s, `Status` errors with the apiserver's exact messages, the
//! TokenRequest and SelfSubjectReview APIs, the service proxy) over real TLS,
//! so the plugins' binaries, the `kube` crate and the real `kubectl` can all
//! talk to it.
//!
//! It runs on its own thread with its own tokio runtime, so it works the same
//! from a plain `#[test]` and from `#[tokio::test]`; every configuration method
//! is synchronous. It listens on `127.0.0.1` on a free port and stops when
//! dropped.
//!
//! What it does:
//! - Authentication: bearer tokens from a table ([`KubeTestServer::add_token`]),
//!   service account tokens it issued itself (until they expire), client
//!   certificates signed by its client CA ([`KubeTestServer::issue_client_cert`]:
//!   CN = user, O = groups) and OIDC id_tokens
//!   ([`KubeTestServer::trust_oidc`]). Requests without a credential get
//!   `401 Unauthorized` everywhere but `/healthz`, `/livez`, `/readyz` and
//!   `/version`; an invalid credential gets 401 everywhere.
//! - Authorization: allow rules ([`KubeTestServer::allow`],
//!   [`KubeTestServer::allow_all`]); members of `system:masters` may do
//!   anything. Everything else is `403 Forbidden` with the apiserver's message.
//!   Discovery and the self-subject reviews are open to every authenticated user.
//! - Resources: `namespaces`, `secrets`, `configmaps`, `serviceaccounts`,
//!   `services` and any other k8s-openapi type you [`insert`](KubeTestServer::insert):
//!   get, list (with `labelSelector` and `fieldSelector`), all-namespace list,
//!   watch, create (201, 409 AlreadyExists), update, patch and delete; kubectl's
//!   protobuf request bodies are understood, and `kubectl get` gets a `Table`.
//! - TokenRequest (service account tokens the server then accepts),
//!   SelfSubjectReview, SelfSubjectAccessReview, TokenReview,
//!   SubjectAccessReview, and the service proxy to local addresses
//!   ([`KubeTestServer::add_service_proxy`]).
//! - RBAC: stored Roles, ClusterRoles and their bindings authorize requests
//!   too, as the apiserver's RBAC authorizer does.
//! - API aggregation: an `APIService` with a `spec.service` has its group
//!   version proxied to the service's backend over TLS (verified with its
//!   `caBundle`), with the front-proxy client certificate and the caller in
//!   `X-Remote-User`/`X-Remote-Group`/`X-Remote-Extra-*`, as kube-aggregator
//!   does; [`KubeTestServer::enable_aggregation`] publishes
//!   kube-system/extension-apiserver-authentication.
//!
//! ```
//! use k8s_openapi::api::core::v1::Secret;
//! use kube_test_server::{KubeTestServer, KubeconfigOpts, User};
//!
//! let server = KubeTestServer::start();
//! server.insert_secret(Secret {
//!     metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
//!         name: Some("db".into()),
//!         namespace: Some("prod".into()),
//!         ..Default::default()
//!     },
//!     string_data: None,
//!     data: Some([("password".to_string(), k8s_openapi::ByteString(b"hunter2".to_vec()))].into()),
//!     ..Default::default()
//! });
//! server.add_token("alice-token", User::new("alice").with_groups(["devs"]));
//! server.allow("devs", &["get", "list"], &["secrets"], "prod");
//!
//! let dir = tempfile::tempdir().unwrap();
//! let kubeconfig = server.write_kubeconfig(dir.path(), &KubeconfigOpts::token("alice-token").namespace("prod"));
//! // Now run `kubectl --kubeconfig <kubeconfig> get secret db`, or build a kube::Client from it.
//! assert!(kubeconfig.exists());
//! ```

mod access;
mod aggregator;
mod api;
mod auth;
mod discovery;
mod error;
mod kubeconfig;
mod objects;
mod oidc;
mod openapi;
mod patch;
mod pki;
mod proto;
mod proxy;
mod rbac;
mod request_info;
mod server;
mod state;
mod status;
mod store;
mod table;
mod tokens;
mod watch;
mod wire;

use std::any::TypeId;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

pub use auth::User;
pub use discovery::GIT_VERSION;
pub use error::ServerError;
pub use kubeconfig::{ExecConfig, KubeconfigOpts, KubeconfigUser};
pub use oidc::OidcAuthenticator;
pub use pki::ClientCert;
pub use state::RecordedRequest;

use auth::{Rule, TokenEntry};
use server::Running;
use state::ServiceProxy;
use store::{ObjectKey, ResourceType};

/// The running server. Stops when dropped.
pub struct KubeTestServer {
    running: Running,
    dir: tempfile::TempDir,
}

impl KubeTestServer {
    /// Starts a server over HTTPS (its own CA, a serving certificate for
    /// `127.0.0.1` and `localhost`, optional client certificates).
    ///
    /// # Panics
    /// If the server cannot start (no free port, no temporary directory): a test
    /// cannot go on without it.
    pub fn start() -> Self {
        Self::try_start(true).expect("kube-test-server failed to start")
    }

    /// Starts a server over plain HTTP (no TLS, hence no client certificates).
    ///
    /// # Panics
    /// If the server cannot start.
    pub fn start_plain_http() -> Self {
        Self::try_start(false).expect("kube-test-server failed to start")
    }

    /// Starts a server, reporting failure instead of panicking.
    pub fn try_start(tls: bool) -> Result<Self, ServerError> {
        let dir = tempfile::Builder::new()
            .prefix("kube-test-server")
            .tempdir()
            .map_err(ServerError::TempDir)?;
        let running = server::start(tls)?;
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, &running.shared.pki.ca_pem)
            .map_err(|source| ServerError::WriteFile { path: ca, source })?;
        let server = KubeTestServer { running, dir };
        server.bootstrap();
        Ok(server)
    }

    /// The bootstrap ClusterRoles every cluster has from the start and that
    /// extension API servers' manifests bind to: `cluster-admin` and
    /// `system:auth-delegator`.
    fn bootstrap(&self) {
        let mut inner = self.shared().lock();
        for (plural, role) in rbac::bootstrap_roles() {
            if plural == "clusterroles" {
                put_object(&mut inner, plural, role);
            }
        }
    }

    /// Adds what kube-apiserver keeps in kube-system for extension API servers:
    /// the ConfigMap `extension-apiserver-authentication` (its client CA and
    /// front-proxy settings: `requestheader-client-ca-file` is
    /// [`front_proxy_ca_pem`](Self::front_proxy_ca_pem), allowed name
    /// `front-proxy-client`, headers `X-Remote-User`, `X-Remote-Group`,
    /// `X-Remote-Extra-`) and the Role `extension-apiserver-authentication-reader`
    /// that may read it. Not done by [`start`](Self::start), so that a test that
    /// lists namespaces sees only the ones it made.
    pub fn enable_aggregation(&self) {
        let pki = &self.shared().pki;
        let list = |v: &str| serde_json::to_string(&[v]).expect("a string list serializes");
        self.insert(ConfigMap {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("extension-apiserver-authentication".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            data: Some(
                [
                    ("client-ca-file", pki.client_ca_pem.clone()),
                    (
                        "requestheader-allowed-names",
                        list(pki::FRONT_PROXY_CLIENT_CN),
                    ),
                    (
                        "requestheader-client-ca-file",
                        pki.front_proxy_ca_pem.clone(),
                    ),
                    (
                        "requestheader-extra-headers-prefix",
                        list(aggregator::EXTRA_HEADER_PREFIX),
                    ),
                    (
                        "requestheader-group-headers",
                        list(aggregator::GROUP_HEADER),
                    ),
                    (
                        "requestheader-username-headers",
                        list(aggregator::USERNAME_HEADER),
                    ),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ),
            ..Default::default()
        });
        let mut inner = self.shared().lock();
        for (plural, role) in rbac::bootstrap_roles() {
            if plural == "roles" {
                put_object(&mut inner, plural, role);
            }
        }
    }

    /// The front-proxy CA (PEM) that signed the certificate the server presents
    /// to aggregated API backends; also in the ConfigMap
    /// kube-system/extension-apiserver-authentication as
    /// `requestheader-client-ca-file`.
    pub fn front_proxy_ca_pem(&self) -> String {
        self.shared().pki.front_proxy_ca_pem.clone()
    }

    fn shared(&self) -> &state::Shared {
        &self.running.shared
    }

    /// `https://127.0.0.1:PORT` (or `http://` for a plain HTTP server).
    pub fn url(&self) -> String {
        let scheme = if self.shared().tls { "https" } else { "http" };
        format!("{scheme}://{}", self.shared().addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.shared().addr
    }

    /// The CA certificate (PEM) that signed the serving certificate.
    pub fn ca_pem(&self) -> String {
        self.shared().pki.ca_pem.clone()
    }

    /// A file holding [`ca_pem`](Self::ca_pem); lives as long as the server.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The CA certificate (PEM) client certificates must be signed by.
    pub fn client_ca_pem(&self) -> String {
        self.shared().pki.client_ca_pem.clone()
    }

    /// Issues a client certificate for `user` with `groups` (CN and O of the
    /// subject), signed by the server's client CA.
    pub fn issue_client_cert(&self, user: &str, groups: &[&str]) -> ClientCert {
        self.shared()
            .pki
            .issue_client_cert(user, groups)
            .expect("issuing a client certificate failed")
    }

    /// Accepts `token` as a bearer token for `user` (no expiry).
    pub fn add_token(&self, token: impl Into<String>, user: User) {
        self.shared().lock().tokens.insert(
            token.into(),
            TokenEntry {
                user,
                expires: None,
                audiences: None,
            },
        );
    }

    /// Accepts `token` for `user` until `expires_at` (afterwards: 401, as for
    /// an expired service account token).
    pub fn add_token_expiring(
        &self,
        token: impl Into<String>,
        user: User,
        expires_at: std::time::SystemTime,
    ) {
        let expires = jiff::Timestamp::try_from(expires_at).unwrap_or(jiff::Timestamp::MIN);
        self.shared().lock().tokens.insert(
            token.into(),
            TokenEntry {
                user,
                expires: Some(expires),
                audiences: None,
            },
        );
    }

    /// Stops accepting `token`.
    pub fn remove_token(&self, token: &str) {
        self.shared().lock().tokens.remove(token);
    }

    /// Lets `subject` (a user name or a group) use `verbs` on `resources` in
    /// `namespace`; `"*"` as namespace means every namespace and the cluster
    /// scope, `"*"` in verbs or resources matches all. Subresources are named
    /// `resource/subresource`, e.g. `serviceaccounts/token` (`create`) or
    /// `services/proxy` (`get`, `create`, … by HTTP method).
    pub fn allow(&self, subject: &str, verbs: &[&str], resources: &[&str], namespace: &str) {
        self.allow_names(subject, verbs, resources, &[], namespace);
    }

    /// Like [`allow`](Self::allow), limited to objects with these names (RBAC's
    /// `resourceNames`; for the service proxy the name is as in the URL, e.g.
    /// `audit-sink:8080`). An empty `names` means all objects.
    pub fn allow_names(
        &self,
        subject: &str,
        verbs: &[&str],
        resources: &[&str],
        names: &[&str],
        namespace: &str,
    ) {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        self.shared().lock().rules.push(Rule {
            subject: subject.to_string(),
            verbs: strings(verbs),
            resources: strings(resources),
            names: strings(names),
            namespace: (namespace != "*").then(|| namespace.to_string()),
        });
    }

    /// Lets `subject` (a user name or a group) do anything.
    pub fn allow_all(&self, subject: &str) {
        self.allow(subject, &["*"], &["*"], "*");
    }

    /// Forwards `services/{name}:{port}/proxy/...` in `namespace` to `target`
    /// (`host:port`, e.g. a test's local HTTP server). `port` is the service
    /// port as it appears in the URL (a number or a port name); a request that
    /// names no port goes to the first registered one.
    pub fn add_service_proxy(
        &self,
        namespace: &str,
        name: &str,
        port: impl ToString,
        target: impl Into<String>,
    ) {
        let port = port.to_string();
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "type": "ClusterIP",
                "ports": [{"name": port, "port": port.parse::<u16>().unwrap_or(80), "protocol": "TCP"}]
            }
        });
        let mut inner = self.shared().lock();
        let rt = find_type(&inner.types, "", "services").expect("services are built in");
        ensure_namespace(&mut inner, namespace);
        let key = ObjectKey {
            group: String::new(),
            plural: "services".into(),
            namespace: namespace.into(),
            name: name.into(),
        };
        if inner.store.get(&key).is_none() {
            let mut svc = service;
            objects::defaults(&rt, &mut svc);
            inner.store.put(&rt, svc);
        }
        inner.proxies.push(ServiceProxy {
            namespace: namespace.into(),
            name: name.into(),
            port,
            target: target.into(),
        });
    }

    /// Accepts id_tokens from an OpenID provider as bearer tokens, as
    /// kube-apiserver does with its `--oidc-*` flags. The provider's keys are
    /// fetched on first use (and again when a token names an unknown key).
    ///
    /// # Panics
    /// If `ca_pem` is not a PEM certificate.
    pub fn trust_oidc(&self, authenticator: OidcAuthenticator) {
        let issuer =
            oidc::TrustedIssuer::new(authenticator).expect("invalid OIDC authenticator settings");
        self.shared().lock().oidc.push(std::sync::Arc::new(issuer));
    }

    /// Stores a Secret (its namespace, `default` if unset, is created too).
    pub fn insert_secret(&self, secret: Secret) -> Secret {
        self.insert(secret)
    }

    /// Stores a ServiceAccount.
    pub fn insert_service_account(&self, sa: ServiceAccount) -> ServiceAccount {
        self.insert(sa)
    }

    /// Stores a ConfigMap.
    pub fn insert_config_map(&self, cm: ConfigMap) -> ConfigMap {
        self.insert(cm)
    }

    /// Creates the namespace `name` (does nothing if it exists).
    pub fn insert_namespace(&self, name: &str) {
        let mut inner = self.shared().lock();
        ensure_namespace(&mut inner, name);
    }

    /// Stores any object, filling in uid, resourceVersion and creationTimestamp
    /// as the apiserver does on create, and returns it as stored. Types the
    /// server does not know yet (e.g. `Pod`) become servable under their usual
    /// path. An object with the same name is replaced.
    pub fn insert<K>(&self, obj: K) -> K
    where
        K: k8s_openapi::Resource + Serialize + DeserializeOwned,
        K::Scope: 'static,
    {
        let namespaced =
            TypeId::of::<K::Scope>() == TypeId::of::<k8s_openapi::NamespaceResourceScope>();
        let mut value = serde_json::to_value(&obj).expect("k8s-openapi objects serialize");
        let mut inner = self.shared().lock();
        let rt = match find_type(&inner.types, K::GROUP, K::URL_PATH_SEGMENT) {
            Some(rt) => rt,
            None => {
                let rt = ResourceType {
                    group: K::GROUP.into(),
                    version: K::VERSION.into(),
                    plural: K::URL_PATH_SEGMENT.into(),
                    singular: K::KIND.to_lowercase(),
                    kind: K::KIND.into(),
                    namespaced,
                    verbs: vec!["create", "delete", "get", "list", "update"],
                    short_names: vec![],
                };
                inner.types.push(rt.clone());
                rt
            }
        };
        if namespaced {
            let ns = value["metadata"]["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or("default")
                .to_string();
            value["metadata"]["namespace"] = json!(ns);
            ensure_namespace(&mut inner, &ns);
        }
        objects::defaults(&rt, &mut value);
        let stored = inner.store.put(&rt, value);
        serde_json::from_value(stored).expect("the stored object reads back")
    }

    /// The stored object `name` in `namespace` (ignored for cluster-scoped types).
    pub fn get<K>(&self, namespace: &str, name: &str) -> Option<K>
    where
        K: k8s_openapi::Resource + DeserializeOwned,
        K::Scope: 'static,
    {
        let namespaced =
            TypeId::of::<K::Scope>() == TypeId::of::<k8s_openapi::NamespaceResourceScope>();
        let key = ObjectKey {
            group: K::GROUP.into(),
            plural: K::URL_PATH_SEGMENT.into(),
            namespace: if namespaced {
                namespace.into()
            } else {
                String::new()
            },
            name: name.into(),
        };
        let value = self.shared().lock().store.get(&key).cloned()?;
        serde_json::from_value(value).ok()
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared().lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared().lock().requests.clear();
    }

    /// A kubeconfig (YAML) for this server.
    pub fn kubeconfig_yaml(&self, opts: &KubeconfigOpts) -> String {
        let tls = self.shared().tls;
        kubeconfig::render(
            &self.url(),
            tls.then(|| self.shared().pki.ca_pem.as_str()),
            tls.then(|| self.ca_file()).as_deref(),
            opts,
        )
    }

    /// Writes [`kubeconfig_yaml`](Self::kubeconfig_yaml) to
    /// `dir/{context}.kubeconfig` (mode 0600) and returns the path.
    pub fn write_kubeconfig(&self, dir: &Path, opts: &KubeconfigOpts) -> PathBuf {
        let path = dir.join(format!("{}.kubeconfig", opts.context));
        write_private(&path, &self.kubeconfig_yaml(opts)).expect("writing the kubeconfig failed");
        path
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(content.as_bytes())
}

fn find_type(types: &[ResourceType], group: &str, plural: &str) -> Option<ResourceType> {
    types
        .iter()
        .find(|t| t.group == group && t.plural == plural)
        .cloned()
}

/// Stores an RBAC object as the apiserver would, creating its namespace.
fn put_object(inner: &mut state::Inner, plural: &str, mut obj: serde_json::Value) {
    let rt = find_type(&inner.types, store::RBAC_GROUP, plural).expect("RBAC is built in");
    if rt.namespaced {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        ensure_namespace(inner, &ns);
    }
    objects::defaults(&rt, &mut obj);
    inner.store.put(&rt, obj);
}

fn ensure_namespace(inner: &mut state::Inner, name: &str) {
    let key = ObjectKey {
        group: String::new(),
        plural: "namespaces".into(),
        namespace: String::new(),
        name: name.into(),
    };
    if inner.store.get(&key).is_none() {
        let rt = find_type(&inner.types, "", "namespaces").expect("namespaces are built in");
        let mut ns = serde_json::to_value(Namespace {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .expect("a Namespace serializes");
        objects::defaults(&rt, &mut ns);
        inner.store.put(&rt, ns);
    }
}

impl Drop for KubeTestServer {
    fn drop(&mut self) {
        let _ = self.running.shutdown.send(true);
        if let Some(thread) = self.running.thread.take() {
            let _ = thread.join();
        }
    }
}
