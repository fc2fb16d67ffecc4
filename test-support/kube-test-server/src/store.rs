//! The object store: every object is kept as the JSON the API would return,
//! keyed by API group, resource (plural), namespace and name.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};
use tokio::sync::broadcast;

/// A resource type the server serves (an entry of an `APIResourceList`).
#[derive(Clone, Debug)]
pub(crate) struct ResourceType {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) kind: String,
    pub(crate) namespaced: bool,
    pub(crate) verbs: Vec<&'static str>,
    pub(crate) short_names: Vec<&'static str>,
}

const OBJECT_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// The API group of Role, ClusterRole, RoleBinding and ClusterRoleBinding.
pub(crate) const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The API group of APIService.
pub(crate) const APIREGISTRATION_GROUP: &str = "apiregistration.k8s.io";

impl ResourceType {
    fn core(plural: &str, kind: &str, namespaced: bool, short_names: &[&'static str]) -> Self {
        ResourceType {
            group: String::new(),
            version: "v1".into(),
            plural: plural.into(),
            singular: kind.to_lowercase(),
            kind: kind.into(),
            namespaced,
            verbs: OBJECT_VERBS.to_vec(),
            short_names: short_names.to_vec(),
        }
    }

    fn grouped(group: &str, plural: &str, kind: &str, namespaced: bool) -> Self {
        ResourceType {
            group: group.into(),
            ..ResourceType::core(plural, kind, namespaced, &[])
        }
    }

    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub(crate) fn defaults() -> Vec<ResourceType> {
        vec![
            ResourceType::core("configmaps", "ConfigMap", true, &["cm"]),
            ResourceType::core("namespaces", "Namespace", false, &["ns"]),
            ResourceType::core("secrets", "Secret", true, &[]),
            ResourceType::core("serviceaccounts", "ServiceAccount", true, &["sa"]),
            ResourceType::core("services", "Service", true, &["svc"]),
            ResourceType::grouped(RBAC_GROUP, "roles", "Role", true),
            ResourceType::grouped(RBAC_GROUP, "rolebindings", "RoleBinding", true),
            ResourceType::grouped(RBAC_GROUP, "clusterroles", "ClusterRole", false),
            ResourceType::grouped(
                RBAC_GROUP,
                "clusterrolebindings",
                "ClusterRoleBinding",
                false,
            ),
            ResourceType::grouped(APIREGISTRATION_GROUP, "apiservices", "APIService", false),
        ]
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ObjectKey {
    pub(crate) group: String,
    pub(crate) plural: String,
    /// Empty for cluster-scoped objects.
    pub(crate) namespace: String,
    pub(crate) name: String,
}

/// A change, as a watch reports it.
#[derive(Clone, Debug)]
pub(crate) struct StoreEvent {
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub(crate) kind: &'static str,
    pub(crate) group: String,
    pub(crate) plural: String,
    pub(crate) namespace: String,
    pub(crate) resource_version: u64,
    pub(crate) object: Value,
}

/// How many past changes a watch from an older resourceVersion can replay.
const HISTORY: usize = 1000;

pub(crate) struct Store {
    objects: BTreeMap<ObjectKey, Value>,
    resource_version: u64,
    history: VecDeque<StoreEvent>,
    events: broadcast::Sender<StoreEvent>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            objects: BTreeMap::new(),
            resource_version: 0,
            history: VecDeque::new(),
            events: broadcast::channel(HISTORY).0,
        }
    }
}

pub(crate) fn new_uid() -> String {
    let v: u128 = rand::random();
    let hex = format!("{v:032x}");
    // Shape of a version-4 UUID, as the apiserver's uids are.
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

pub(crate) fn now_rfc3339() -> String {
    format_time(jiff::Timestamp::now())
}

pub(crate) fn format_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Store {
    pub(crate) fn resource_version(&self) -> String {
        self.resource_version.to_string()
    }

    pub(crate) fn current_resource_version(&self) -> u64 {
        self.resource_version
    }

    fn record(&mut self, kind: &'static str, key: &ObjectKey, object: Value) {
        let event = StoreEvent {
            kind,
            group: key.group.clone(),
            plural: key.plural.clone(),
            namespace: key.namespace.clone(),
            resource_version: self.resource_version,
            object,
        };
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(event.clone());
        // No receivers is fine: nobody watches.
        let _ = self.events.send(event);
    }

    /// Live changes from now on, plus the recorded changes after
    /// `since` (None when `since` is older than the history kept).
    pub(crate) fn subscribe(
        &self,
        since: u64,
    ) -> (broadcast::Receiver<StoreEvent>, Option<Vec<StoreEvent>>) {
        let receiver = self.events.subscribe();
        let oldest_known = self.history.front().map_or(self.resource_version, |e| {
            e.resource_version.saturating_sub(1)
        });
        let past = (since >= oldest_known).then(|| {
            self.history
                .iter()
                .filter(|e| e.resource_version > since)
                .cloned()
                .collect()
        });
        (receiver, past)
    }

    /// Stores `obj` (replacing one with the same key), filling in what the
    /// apiserver fills in on create: uid, resourceVersion, creationTimestamp,
    /// apiVersion and kind.
    pub(crate) fn put(&mut self, rt: &ResourceType, mut obj: Value) -> Value {
        self.resource_version += 1;
        if !obj.is_object() {
            obj = json!({});
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let meta = &mut obj["metadata"];
        if meta["uid"].as_str().unwrap_or("").is_empty() {
            meta["uid"] = json!(new_uid());
        }
        if meta["creationTimestamp"].as_str().unwrap_or("").is_empty() {
            meta["creationTimestamp"] = json!(now_rfc3339());
        }
        meta["resourceVersion"] = json!(self.resource_version.to_string());
        if rt.namespaced {
            if meta["namespace"].as_str().unwrap_or("").is_empty() {
                meta["namespace"] = json!("default");
            }
        } else if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
        let key = ObjectKey {
            group: rt.group.clone(),
            plural: rt.plural.clone(),
            namespace: meta["namespace"].as_str().unwrap_or("").to_string(),
            name: meta["name"].as_str().unwrap_or("").to_string(),
        };
        let kind = if self.objects.insert(key.clone(), obj.clone()).is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.record(kind, &key, obj.clone());
        obj
    }

    pub(crate) fn get(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    pub(crate) fn remove(&mut self, key: &ObjectKey) -> Option<Value> {
        let mut removed = self.objects.remove(key)?;
        self.resource_version += 1;
        removed["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.record("DELETED", key, removed.clone());
        Some(removed)
    }

    /// Objects of one resource type, in one namespace or (None) in all of them,
    /// ordered by namespace then name as etcd returns them.
    pub(crate) fn list(&self, group: &str, plural: &str, namespace: Option<&str>) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(k, _)| {
                k.group == group
                    && k.plural == plural
                    && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(_, v)| v.clone())
            .collect()
    }
}
