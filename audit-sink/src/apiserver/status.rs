//! `meta.k8s.io/v1` `Status` answers, worded as the kube-apiserver words them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{GROUP, RESOURCE};

/// A `Status` failure with `code`, `reason` and `message`.
pub(crate) fn failure(
    code: StatusCode,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    json_response(code, &body)
}

/// A JSON answer with the content type kubectl expects.
pub(crate) fn json_response(code: StatusCode, body: &impl serde::Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = (code, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// 401: no verified front-proxy certificate, or no user in its headers.
pub(crate) fn unauthorized() -> Response {
    failure(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "Unauthorized",
        None,
    )
}

/// `auditevents.audit.kubext.io` (or with `"NAME"`), as errors name it.
fn qualified(name: &str) -> String {
    if name.is_empty() {
        format!("{RESOURCE}.{GROUP}")
    } else {
        format!("{RESOURCE}.{GROUP} {name:?}")
    }
}

fn details(name: &str) -> Value {
    let mut d = json!({"group": GROUP, "kind": RESOURCE});
    if !name.is_empty() {
        d["name"] = json!(name);
    }
    d
}

/// The message of a refused request: `User "alice" cannot list resource
/// "auditevents" in API group "audit.kubext.io" in the namespace "team-b"`
/// (or `at the cluster scope`), followed by the authorizer's reason if any.
pub(crate) fn forbidden_message(
    user: &str,
    verb: &str,
    namespace: Option<&str>,
    reason: &str,
) -> String {
    let scope = match namespace {
        Some(ns) => format!("in the namespace {ns:?}"),
        None => "at the cluster scope".to_string(),
    };
    let mut m =
        format!("User {user:?} cannot {verb} resource {RESOURCE:?} in API group {GROUP:?} {scope}");
    if !reason.is_empty() {
        m.push_str(": ");
        m.push_str(reason);
    }
    m
}

/// 403 for `name` (empty for a list or watch).
pub(crate) fn forbidden(name: &str, message: &str) -> Response {
    failure(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &format!("{} is forbidden: {message}", qualified(name)),
        Some(details(name)),
    )
}

/// 404 for an event name no stored event has.
pub(crate) fn not_found(name: &str) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{} not found", qualified(name)),
        Some(details(name)),
    )
}

/// 400 with the caller's mistake.
pub(crate) fn bad_request(message: &str) -> Response {
    failure(StatusCode::BAD_REQUEST, "BadRequest", message, None)
}

/// 500: something on our side (the authorizer unreachable, the index failing).
pub(crate) fn internal(message: &str) -> Response {
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        &format!("Internal error occurred: {message}"),
        None,
    )
}

/// 404 for a path this API does not serve.
pub(crate) fn no_route() -> Response {
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_messages_read_like_the_apiserver() {
        assert_eq!(
            forbidden_message("alice", "list", Some("team-b"), ""),
            r#"User "alice" cannot list resource "auditevents" in API group "audit.kubext.io" in the namespace "team-b""#
        );
        assert_eq!(
            forbidden_message("alice", "list", None, ""),
            r#"User "alice" cannot list resource "auditevents" in API group "audit.kubext.io" at the cluster scope"#
        );
    }
}
