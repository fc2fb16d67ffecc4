//! Access: the authorization check of every resource request, and the review
//! APIs that ask the same rules (SelfSubjectReview, SelfSubjectAccessReview,
//! SubjectAccessReview). A request is allowed by the rules the tests set
//! ([`crate::KubeTestServer::allow`]) or by the stored RBAC objects.

use serde_json::{Value, json};

use crate::auth::{Attributes, User, authorize, forbidden_reason, user_info};
use crate::request_info::ResourceRequest;
use crate::state::Shared;
use crate::status::ApiError;

/// Whether `user` may make this resource request: 403 with the apiserver's
/// message otherwise.
pub(crate) fn authorize_request(
    shared: &Shared,
    user: &User,
    rr: &ResourceRequest,
) -> Result<(), ApiError> {
    if always_allowed(rr) {
        return Ok(());
    }
    let attrs = Attributes {
        verb: rr.verb.clone(),
        group: rr.group.clone(),
        resource: rr.rbac_resource(),
        namespace: rr.namespace.clone(),
        name: rr.name.clone(),
    };
    if allowed(shared, user, &attrs) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            &rr.group,
            &rr.resource,
            &rr.name,
            forbidden_reason(user, &attrs),
        ))
    }
}

/// Subject reviews every authenticated user may create (RBAC's
/// `system:basic-user` role).
fn always_allowed(rr: &ResourceRequest) -> bool {
    matches!(
        (rr.group.as_str(), rr.resource.as_str(), rr.verb.as_str()),
        ("authentication.k8s.io", "selfsubjectreviews", "create")
            | ("authorization.k8s.io", "selfsubjectaccessreviews", "create")
    )
}

/// SelfSubjectReview: who the caller is (`kubectl auth whoami`).
pub(crate) fn self_subject_review(user: &User) -> Value {
    json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": user_info(user)},
    })
}

/// Whether `user` may do what a review's `spec` asks about.
fn review_allows(shared: &Shared, user: &User, spec: &Value) -> bool {
    let ra = &spec["resourceAttributes"];
    if !ra.is_object() {
        // Non-resource URLs: discovery and health paths are open to every
        // authenticated user.
        return user.groups.iter().any(|g| g == "system:authenticated");
    }
    let s = |k: &str| ra[k].as_str().unwrap_or("").to_string();
    let mut resource = s("resource");
    if !s("subresource").is_empty() {
        resource = format!("{resource}/{}", s("subresource"));
    }
    let attrs = Attributes {
        verb: s("verb"),
        group: s("group"),
        resource,
        namespace: s("namespace"),
        name: s("name"),
    };
    allowed(shared, user, &attrs)
}

/// The authorizer chain: the test's rules, then RBAC.
fn allowed(shared: &Shared, user: &User, attrs: &Attributes) -> bool {
    let inner = shared.lock();
    authorize(&inner.rules, user, attrs) || crate::rbac::allows(&inner.store, user, attrs)
}

fn review_response(mut body: Value, kind: &str, allowed: bool) -> Value {
    body["apiVersion"] = json!("authorization.k8s.io/v1");
    body["kind"] = json!(kind);
    body["metadata"] = json!({"creationTimestamp": null});
    body["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by kube-test-server rules"})
    } else {
        json!({"allowed": false})
    };
    body
}

/// SelfSubjectAccessReview: may the caller do what `spec` asks about?
pub(crate) fn self_subject_access_review(shared: &Shared, user: &User, body: Value) -> Value {
    let allowed = review_allows(shared, user, &body["spec"]);
    review_response(body, "SelfSubjectAccessReview", allowed)
}

/// SubjectAccessReview: may the user in `spec` (name, groups as given) do it?
pub(crate) fn subject_access_review(shared: &Shared, body: Value) -> Value {
    let spec = &body["spec"];
    let mut subject = User::new(spec["user"].as_str().unwrap_or(""));
    subject.groups = spec["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let allowed = review_allows(shared, &subject, spec);
    review_response(body, "SubjectAccessReview", allowed)
}
