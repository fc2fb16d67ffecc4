//! `Status` error bodies, built the way k8s.io/apimachinery's `errors.New*`
//! helpers build them and serialised in the apiserver's field order (empty
//! `details` fields are omitted, as `omitempty` does).

use serde::Serialize;
use serde_json::{Map, Value};

/// An API error: HTTP code plus the `Status` object sent as the body.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    /// The serialised `Status` (serialised here to keep the field order).
    pub(crate) body: Vec<u8>,
}

/// `metav1.Status`, fields in Go's declaration order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    kind: &'static str,
    api_version: &'static str,
    metadata: Map<String, Value>,
    status: &'static str,
    message: String,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
    code: u16,
}

/// `metav1.StatusDetails`.
#[derive(Serialize, Default)]
struct Details {
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    causes: Vec<Cause>,
}

/// `metav1.StatusCause`.
#[derive(Serialize)]
struct Cause {
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

fn details(group: &str, kind: &str, name: &str) -> Details {
    Details {
        name: name.into(),
        group: group.into(),
        kind: kind.into(),
        causes: Vec::new(),
    }
}

/// `group.resource` as `schema.GroupResource.String()` prints it.
fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn status(code: u16, reason: &'static str, message: String, details: Option<Details>) -> ApiError {
    let body = Status {
        kind: "Status",
        api_version: "v1",
        metadata: Map::new(),
        status: "Failure",
        message,
        reason,
        details,
        code,
    };
    ApiError {
        code,
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
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
            Some(Details::default()),
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
            Some(Details::default()),
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
        d.causes = vec![Cause {
            reason: Some("FieldValueInvalid"),
            message: cause.clone(),
            field: Some(field.into()),
        }];
        status(
            422,
            "Invalid",
            format!("{qualified_kind} {name:?} is invalid: {field}: {cause}"),
            Some(d),
        )
    }

    /// What a watch from a resourceVersion that is no longer kept gets.
    pub(crate) fn expired(message: String) -> Self {
        status(410, "Expired", message, None)
    }

    pub(crate) fn unsupported_media_type(message: String) -> Self {
        status(415, "UnsupportedMediaType", message, None)
    }

    /// 422 without field causes (what a failed JSON patch gets).
    pub(crate) fn unprocessable(message: String) -> Self {
        status(422, "Invalid", message, None)
    }

    pub(crate) fn service_unavailable(message: String) -> Self {
        status(503, "ServiceUnavailable", message, None)
    }

    pub(crate) fn internal(message: String) -> Self {
        status(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(Details {
                causes: vec![Cause {
                    reason: None,
                    message,
                    field: None,
                }],
                ..Default::default()
            }),
        )
    }
}
