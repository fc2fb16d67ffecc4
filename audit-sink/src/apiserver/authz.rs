//! Authorization by SubjectAccessReview (`authorization.k8s.io/v1`), as the
//! kube-apiserver's webhook authorizer does it: every request's user, groups
//! and extra with the verb, group `audit.kubext.io`, resource `auditevents`
//! and namespace are POSTed to the cluster, with the credentials of
//! `--authorization-kubeconfig` (in-cluster by default). Answers are cached:
//! allowed ones for `--authorization-webhook-cache-authorized-ttl`, denied
//! ones for `--authorization-webhook-cache-unauthorized-ttl`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};

use super::auth::Identity;
use super::{GROUP, RESOURCE, VERSION};

/// Cached answers beyond which expired ones are dropped.
const CACHE_PRUNE_AT: usize = 10_000;

/// The review could not be made.
#[derive(Debug, thiserror::Error)]
#[error("SubjectAccessReview failed")]
pub struct AuthorizeError {
    /// The cause.
    #[source]
    pub source: kube::Error,
}

/// The answer of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The authorizer's reason (shown after a 403 message when not empty).
    pub reason: String,
}

/// What a request asks to do.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    /// `get`, `list` or `watch`.
    pub verb: &'static str,
    /// The namespace; `None` for all namespaces (the cluster scope).
    pub namespace: Option<String>,
    /// The event's name for `get`.
    pub name: Option<String>,
}

#[derive(Hash, PartialEq, Eq)]
struct CacheKey {
    user: String,
    groups: Vec<String>,
    extra: BTreeMap<String, Vec<String>>,
    request: Request,
}

/// The SubjectAccessReview client with its cache.
pub struct Authorizer {
    api: kube::Api<SubjectAccessReview>,
    allowed_ttl: Duration,
    denied_ttl: Duration,
    cache: Mutex<HashMap<CacheKey, (Decision, Instant)>>,
}

impl Authorizer {
    /// An authorizer asking the cluster `client` talks to.
    pub fn new(client: kube::Client, allowed_ttl: Duration, denied_ttl: Duration) -> Authorizer {
        Authorizer {
            api: kube::Api::all(client),
            allowed_ttl,
            denied_ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// May `who` do `req`?
    pub async fn authorize(
        &self,
        who: &Identity,
        req: &Request,
    ) -> Result<Decision, AuthorizeError> {
        let key = CacheKey {
            user: who.name.clone(),
            groups: who.groups.clone(),
            extra: who.extra.clone(),
            request: req.clone(),
        };
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((d, until)) = cache.get(&key)
                && Instant::now() < *until
            {
                return Ok(d.clone());
            }
        }
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(who.name.clone()),
                groups: (!who.groups.is_empty()).then(|| who.groups.clone()),
                extra: (!who.extra.is_empty()).then(|| who.extra.clone()),
                resource_attributes: Some(ResourceAttributes {
                    group: Some(GROUP.to_string()),
                    version: Some(VERSION.to_string()),
                    resource: Some(RESOURCE.to_string()),
                    verb: Some(req.verb.to_string()),
                    namespace: req.namespace.clone(),
                    name: req.name.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = self
            .api
            .create(&kube::api::PostParams::default(), &review)
            .await
            .map_err(|source| AuthorizeError { source })?;
        let status = answer.status.unwrap_or_default();
        let decision = Decision {
            allowed: status.allowed && !status.denied.unwrap_or(false),
            reason: status.reason.unwrap_or_default(),
        };
        let ttl = if decision.allowed {
            self.allowed_ttl
        } else {
            self.denied_ttl
        };
        if !ttl.is_zero() {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= CACHE_PRUNE_AT {
                let now = Instant::now();
                cache.retain(|_, (_, until)| *until > now);
                if cache.len() >= CACHE_PRUNE_AT {
                    cache.clear();
                }
            }
            cache.insert(key, (decision.clone(), Instant::now() + ttl));
        }
        Ok(decision)
    }
}
