//! The server's shared state: the object store, the credentials and rules the
//! tests configure, the registered service proxies and the recorded requests.
//! A leaf module: it depends on the data modules (store, auth, pki, oidc) and on
//! nothing that handles requests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use ring::rand::SystemRandom;
use ring::signature::EcdsaKeyPair;

use crate::auth::{Rule, TokenEntry};
use crate::oidc::TrustedIssuer;
use crate::pki::Pki;
use crate::store::{ResourceType, Store};

/// One request the server answered, for assertions in tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The authenticated user, if the request was authenticated.
    pub user: Option<String>,
    /// The bearer token the request carried, valid or not.
    pub bearer_token_seen: Option<String>,
    /// The HTTP status the server answered with.
    pub status: u16,
}

/// Who a client certificate says the caller is: user name and groups.
pub(crate) type ClientIdentity = Arc<(String, Vec<String>)>;

/// A registered `services/{name}:{port}/proxy` target.
#[derive(Clone, Debug)]
pub(crate) struct ServiceProxy {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) port: String,
    pub(crate) target: String,
}

/// What the tests configure and the requests change, behind [`Shared::lock`].
#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) types: Vec<ResourceType>,
    pub(crate) tokens: HashMap<String, TokenEntry>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) proxies: Vec<ServiceProxy>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) oidc: Vec<Arc<TrustedIssuer>>,
}

/// The state every connection shares.
pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) pki: Pki,
    pub(crate) addr: SocketAddr,
    pub(crate) tls: bool,
    /// Client for forwarding service proxy requests (never through an HTTP proxy).
    pub(crate) upstream: reqwest::Client,
    /// Signs the service account tokens the TokenRequest API issues.
    pub(crate) sa_key: EcdsaKeyPair,
    pub(crate) sa_key_id: String,
    pub(crate) rng: SystemRandom,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic in a test thread must not make every later call fail too.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
