//! What a subject was seen doing: its allowed requests folded, as the events
//! stream past, into one entry per (scope, API group, resource, verb) and per
//! (URL, verb), so memory grows with the variety of requests, not their number.

use std::collections::{BTreeMap, BTreeSet};

use audit_api::Event;
use jiff::Timestamp;

/// Where a resource request applied: cluster-wide (cluster-scoped objects and
/// lists or watches across all namespaces) or in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// No namespace in the request.
    Cluster,
    /// The request's namespace.
    Namespace(String),
}

/// A resource as RBAC names it: API group (`""` for the core group) and
/// `resource` or `resource/subresource`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// The API group, `""` for the core group.
    pub api_group: String,
    /// `pods` or `pods/log`.
    pub resource: String,
}

impl ResourceKey {
    /// `deployments.apps`, `pods/log`, `nodes`: how kubectl writes it.
    pub fn display(&self) -> String {
        match self.resource.split_once('/') {
            _ if self.api_group.is_empty() => self.resource.clone(),
            Some((res, sub)) => format!("{res}.{}/{sub}", self.api_group),
            None => format!("{}.{}", self.resource, self.api_group),
        }
    }
}

/// How one verb was used on one resource in one scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerbUse {
    /// Requests counted (one per request, at its final stage).
    pub count: u64,
    /// Names of the objects the requests named.
    pub names: BTreeSet<String>,
    /// Whether any request named no object (list, watch, create, deletecollection…).
    pub unnamed: bool,
}

/// Whether an event says its request was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Authorized: granted by the generated rules.
    Allowed,
    /// Refused by the authorizer, or failed before it (401, 403, 429…).
    Denied,
    /// An event that says nothing about the outcome yet (RequestReceived).
    Unknown,
}

/// The audit annotation kube-apiserver's authorizer writes.
pub const DECISION_ANNOTATION: &str = "authorization.k8s.io/decision";

/// The decision for an event: the authorizer's annotation when present
/// (`allow` or `forbid`), otherwise the response code (below 400: allowed).
pub fn decision(event: &Event) -> Decision {
    if let Some(decision) = event.annotations.get(DECISION_ANNOTATION) {
        return if decision == "allow" {
            Decision::Allowed
        } else {
            Decision::Denied
        };
    }
    match event.response_status.as_ref().and_then(|s| s.code) {
        Some(code) if code < 400 => Decision::Allowed,
        Some(_) => Decision::Denied,
        None => Decision::Unknown,
    }
}

/// Everything observed of one subject, aggregated.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Allowed resource requests.
    pub resources: BTreeMap<Scope, BTreeMap<ResourceKey, BTreeMap<String, VerbUse>>>,
    /// Allowed non-resource requests: URL path → verb → count.
    pub non_resource: BTreeMap<String, BTreeMap<String, u64>>,
    /// Allowed requests per verb.
    pub verbs: BTreeMap<String, u64>,
    /// Requests counted as allowed.
    pub allowed: u64,
    /// Requests denied (not granted).
    pub denied: u64,
    /// Requests made while impersonating someone else (authorized as them; not granted).
    pub impersonating: u64,
    /// Events read from the sink (all stages).
    pub events: u64,
    /// The earliest request seen.
    pub first: Option<Timestamp>,
    /// The latest request seen.
    pub last: Option<Timestamp>,
}

/// Whether a stage is the one at which a request is counted. A request
/// reports at `ResponseStarted` (long-running ones only) and again at
/// `ResponseComplete`; it is counted once, at `ResponseComplete` or `Panic`.
fn final_stage(stage: &str) -> bool {
    matches!(stage, "ResponseComplete" | "Panic")
}

impl Observed {
    /// Folds one event of the subject in.
    pub fn add(&mut self, event: &Event) {
        self.events += 1;
        let counted = final_stage(&event.stage);
        // ResponseStarted still grants (a watch still open has no later
        // stage yet) but is not counted: its ResponseComplete will be.
        if !counted && event.stage != "ResponseStarted" {
            return;
        }
        if event.impersonated_user.is_some() {
            if counted {
                self.impersonating += 1;
            }
            return;
        }
        match decision(event) {
            Decision::Allowed => {}
            Decision::Denied => {
                if counted {
                    self.denied += 1;
                }
                return;
            }
            Decision::Unknown => return,
        }
        let n = u64::from(counted);
        if counted {
            self.allowed += 1;
            *self.verbs.entry(event.verb.clone()).or_default() += 1;
            if let Ok(t) = event.received_at() {
                self.first = Some(self.first.map_or(t, |f| f.min(t)));
                self.last = Some(self.last.map_or(t, |l| l.max(t)));
            }
        }
        let resource = event.object_ref.as_ref().and_then(|o| {
            o.resource
                .as_deref()
                .filter(|r| !r.is_empty())
                .map(|r| (o, r))
        });
        let Some((object, resource)) = resource else {
            // No resource: a non-resource URL such as /healthz or /metrics.
            let path = event
                .request_uri
                .split(['?', '#'])
                .next()
                .unwrap_or_default();
            let path = if path.is_empty() { "/" } else { path };
            *self
                .non_resource
                .entry(path.to_string())
                .or_default()
                .entry(event.verb.clone())
                .or_default() += n;
            return;
        };
        let scope = match object.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            Some(ns) => Scope::Namespace(ns.to_string()),
            None => Scope::Cluster,
        };
        let resource = match object.subresource.as_deref().filter(|s| !s.is_empty()) {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.to_string(),
        };
        let key = ResourceKey {
            api_group: object.api_group.clone().unwrap_or_default(),
            resource,
        };
        let verb_use = self
            .resources
            .entry(scope)
            .or_default()
            .entry(key)
            .or_default()
            .entry(event.verb.clone())
            .or_default();
        verb_use.count += n;
        match object.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) if names_object(&event.verb) => {
                verb_use.names.insert(name.to_string());
            }
            _ => verb_use.unnamed = true,
        }
    }

    /// Whether nothing allowed was seen.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.non_resource.is_empty()
    }
}

/// Whether the authorizer sees an object name for this verb. For `create`
/// the audit event names the new object, but the authorizer is asked before
/// the object exists, without a name, so RBAC cannot limit it by name; the
/// same for collection verbs.
pub fn names_object(verb: &str) -> bool {
    !matches!(verb, "create" | "list" | "watch" | "deletecollection")
}

/// Verbs in the order kubectl documents them, others after, alphabetically.
pub fn verb_order(verb: &str) -> (usize, &str) {
    const ORDER: &[&str] = &[
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
    ];
    (
        ORDER.iter().position(|v| *v == verb).unwrap_or(ORDER.len()),
        verb,
    )
}

/// Sorts verbs as [`verb_order`] says.
pub fn sorted_verbs<'a>(verbs: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<&String> = verbs.into_iter().collect();
    v.sort_by_key(|verb| verb_order(verb));
    v.dedup();
    v.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Event {
        serde_json::from_value(json).unwrap()
    }

    fn base(stage: &str, verb: &str, code: i64) -> serde_json::Value {
        serde_json::json!({
            "level": "Metadata", "auditID": "a1", "stage": stage, "verb": verb,
            "requestURI": "/api/v1/namespaces/prod/pods/web", "user": {"username": "alice"},
            "objectRef": {"resource": "pods", "namespace": "prod", "name": "web", "apiVersion": "v1"},
            "responseStatus": {"code": code},
            "requestReceivedTimestamp": "2026-01-01T10:00:00.000000Z",
        })
    }

    #[test]
    fn one_request_counts_once_and_denied_ones_grant_nothing() {
        let mut o = Observed::default();
        o.add(&event(base("RequestReceived", "get", 200)));
        o.add(&event(base("ResponseStarted", "get", 200)));
        o.add(&event(base("ResponseComplete", "get", 200)));
        o.add(&event(base("ResponseComplete", "delete", 403)));
        assert_eq!((o.allowed, o.denied, o.events), (1, 1, 4));
        let prod = &o.resources[&Scope::Namespace("prod".into())];
        let pods = &prod[&ResourceKey {
            api_group: String::new(),
            resource: "pods".into(),
        }];
        assert_eq!(pods.keys().collect::<Vec<_>>(), ["get"]);
        assert_eq!(pods["get"].count, 1);
        assert!(!pods["get"].unnamed);
    }

    #[test]
    fn the_authorizer_annotation_wins_over_the_code() {
        let mut e = base("ResponseComplete", "get", 404);
        e["annotations"] = serde_json::json!({DECISION_ANNOTATION: "allow"});
        assert_eq!(decision(&event(e.clone())), Decision::Allowed);
        e["annotations"] = serde_json::json!({DECISION_ANNOTATION: "forbid"});
        e["responseStatus"]["code"] = 200.into();
        assert_eq!(decision(&event(e)), Decision::Denied);
    }

    #[test]
    fn create_is_never_named_and_urls_lose_their_query() {
        let mut o = Observed::default();
        o.add(&event(base("ResponseComplete", "create", 201)));
        let mut e = base("ResponseComplete", "get", 200);
        e["objectRef"] = serde_json::Value::Null;
        e["requestURI"] = "/healthz?verbose=1".into();
        o.add(&event(e));
        let prod = &o.resources[&Scope::Namespace("prod".into())];
        assert!(prod.values().next().unwrap()["create"].unnamed);
        assert_eq!(o.non_resource["/healthz"]["get"], 1);
        assert_eq!(
            sorted_verbs(&["watch".to_string(), "escalate".into(), "get".into()]),
            ["get", "watch", "escalate"]
        );
    }
}
