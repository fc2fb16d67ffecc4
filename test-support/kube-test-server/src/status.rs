//! `Status` error bodies, built the way k8s.io/apimachinery's `errors.New*`
//! helpers build them (empty `details` fields are omitted, as `omitempty` does).

use serde_json::{Map, Value, json};

/// An API error: HTTP code plus the `Status` object sent as the body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    pub(crate) body: Value,
}

fn details(group: &str, kind: &str, name: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    if !kind.is_empty() {
        d.insert("kind".into(), json!(kind));
    }
    Value::Object(d)
}

/// `group.resource` as `schema.GroupResource.String()` prints it.
fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> ApiError {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    body["code"] = json!(code);
    ApiError { code, body }
}

impl ApiError {
    pub(crate) fn unauthorized() -> Self {
        status(401, "Unauthorized", "Unauthorized".into(), None)
    }

    /// `errors.NewForbidden` with the authorizer's message (see `forbiddenMessage`
    /// in apiserver's `endpoints/handlers/responsewriters`).
    pub(crate) fn forbidden(group: &str, resource: &str, name: &str, reason: String) -> Self {
        let message = if resource.is_empty() {
            format!("forbidden: {reason}")
        } else if name.is_empty() {
            format!("{} is forbidden: {reason}", qualified(group, resource))
        } else {
            format!(
                "{} {name:?} is forbidden: {reason}",
                qualified(group, resource)
            )
        };
        status(
            403,
            "Forbidden",
            message,
            Some(details(group, resource, name)),
        )
    }

    pub(crate) fn not_found(group: &str, resource: &str, name: &str) -> Self {
        status(
            404,
            "NotFound",
            format!("{} {name:?} not found", qualified(group, resource)),
            Some(details(group, resource, name)),
        )
    }

    /// What the apiserver answers for a path it has no handler for.
    pub(crate) fn no_route() -> Self {
        status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Some(json!({})),
        )
    }

    pub(crate) fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        status(
            409,
            "AlreadyExists",
            format!("{} {name:?} already exists", qualified(group, resource)),
            Some(details(group, resource, name)),
        )
    }

    /// `errors.NewConflict`: the message is the full sentence.
    pub(crate) fn conflict(group: &str, resource: &str, name: &str, message: String) -> Self {
        status(
            409,
            "Conflict",
            message,
            Some(details(group, resource, name)),
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            Some(json!({})),
        )
    }

    pub(crate) fn bad_request(message: String) -> Self {
        status(400, "BadRequest", message, None)
    }

    /// `errors.NewInvalid` with a single field cause.
    pub(crate) fn invalid(group: &str, kind: &str, name: &str, field: &str, cause: String) -> Self {
        let qualified_kind = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let mut d = details(group, kind, name);
        d["causes"] = json!([{ "reason": "FieldValueInvalid", "message": cause, "field": field }]);
        status(
            422,
            "Invalid",
            format!("{qualified_kind} {name:?} is invalid: {field}: {cause}"),
            Some(d),
        )
    }

    pub(crate) fn service_unavailable(message: String) -> Self {
        status(503, "ServiceUnavailable", message, None)
    }

    pub(crate) fn internal(message: String) -> Self {
        status(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(json!({ "causes": [{ "message": message }] })),
        )
    }
}
