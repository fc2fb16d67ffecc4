//! Authentication (who is calling) and authorization (may they do it).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

/// The audience the apiserver puts into tokens when the request names none.
pub(crate) const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// A user as the apiserver's authenticators produce it (`user.Info`).
///
/// Every authenticated user also gets the group `system:authenticated`, as the
/// apiserver adds it; you don't need to list it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user name, e.g. `alice` or `system:serviceaccount:ns:name`.
    pub name: String,
    /// A unique id; may be empty.
    pub uid: String,
    /// Group memberships.
    pub groups: Vec<String>,
    /// Extra attributes (e.g. `authentication.kubernetes.io/credential-id`).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    /// A user with this name, no uid and no groups.
    pub fn new(name: impl Into<String>) -> Self {
        User {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Sets the groups.
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the uid.
    pub fn with_uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = uid.into();
        self
    }

    /// The user as seen after authentication: `system:authenticated` appended.
    pub(crate) fn authenticated(mut self) -> Self {
        if !self.groups.iter().any(|g| g == "system:authenticated") {
            self.groups.push("system:authenticated".into());
        }
        self
    }
}

/// A bearer token the server accepts, optionally until a point in time.
#[derive(Clone, Debug)]
pub(crate) struct TokenEntry {
    pub(crate) user: User,
    pub(crate) expires: Option<jiff::Timestamp>,
    /// The token's audiences (service account tokens); None: the token is
    /// audience-agnostic and valid for the API server's own audience.
    pub(crate) audiences: Option<Vec<String>>,
}

impl TokenEntry {
    pub(crate) fn valid_now(&self) -> bool {
        self.expires.is_none_or(|e| jiff::Timestamp::now() < e)
    }
}

/// The audiences a token is good for among `wanted` (empty: not good), the
/// way the apiserver's audience-aware authenticators intersect them.
pub(crate) fn matching_audiences(
    token_audiences: Option<&[String]>,
    wanted: &[String],
) -> Vec<String> {
    match token_audiences {
        None => wanted
            .iter()
            .filter(|a| *a == API_AUDIENCE)
            .cloned()
            .collect(),
        Some(have) => wanted
            .iter()
            .filter(|a| have.contains(a))
            .cloned()
            .collect(),
    }
}

/// One allow rule: `subject` (a user name or a group) may use `verbs` on
/// `resources` in `namespace` (None: every namespace and the cluster scope).
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) subject: String,
    pub(crate) verbs: Vec<String>,
    pub(crate) resources: Vec<String>,
    /// Object names the rule is limited to (RBAC's `resourceNames`); empty: all.
    pub(crate) names: Vec<String>,
    pub(crate) namespace: Option<String>,
}

/// What a request wants to do, in the authorizer's terms.
#[derive(Clone, Debug)]
pub(crate) struct Attributes {
    pub(crate) verb: String,
    pub(crate) group: String,
    /// Resource, with `/subresource` when there is one.
    pub(crate) resource: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

fn matches_any(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

impl Rule {
    fn allows(&self, user: &User, attrs: &Attributes) -> bool {
        let subject_matches = self.subject == user.name || user.groups.contains(&self.subject);
        subject_matches
            && matches_any(&self.verbs, &attrs.verb)
            && matches_any(&self.resources, &attrs.resource)
            && (self.names.is_empty() || self.names.contains(&attrs.name))
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| !attrs.namespace.is_empty() && ns == attrs.namespace)
    }
}

pub(crate) fn authorize(rules: &[Rule], user: &User, attrs: &Attributes) -> bool {
    // The bootstrap superuser group, bound to cluster-admin in every cluster.
    if user.groups.iter().any(|g| g == "system:masters") {
        return true;
    }
    rules.iter().any(|r| r.allows(user, attrs))
}

/// `forbiddenMessage` of the apiserver for a resource request.
pub(crate) fn forbidden_reason(user: &User, attrs: &Attributes) -> String {
    if attrs.namespace.is_empty() {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
            user.name, attrs.verb, attrs.resource, attrs.group
        )
    } else {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
            user.name, attrs.verb, attrs.resource, attrs.group, attrs.namespace
        )
    }
}

/// A user as the `userInfo` of a review's status.
pub(crate) fn user_info(user: &User) -> Value {
    let mut info = json!({"username": user.name});
    if !user.uid.is_empty() {
        info["uid"] = json!(user.uid);
    }
    if !user.groups.is_empty() {
        info["groups"] = json!(user.groups);
    }
    if !user.extra.is_empty() {
        info["extra"] = json!(user.extra);
    }
    info
}
