//! One error type whose message names what failed and what to do next.

use kube::core::Status;

/// Exit status of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit status of a run that failed.
pub const EXIT_ERROR: u8 = 1;
/// Exit status of a run whose command line was wrong.
pub const EXIT_USAGE: u8 = 2;

/// What can go wrong in the shared kubectl plumbing.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// The command line was wrong; exits with [`EXIT_USAGE`].
    #[error("{0}")]
    Usage(String),

    /// No kubeconfig could be read or it was invalid.
    #[error("{message}")]
    Kubeconfig {
        /// What failed and what to do.
        message: String,
    },

    /// The API server answered with a `Status` error.
    #[error("{what}: {message}{hint}", hint = hint_suffix(.hint))]
    Api {
        /// What we were doing (e.g. `get secret "db" in namespace "prod"`).
        what: String,
        /// The API server's `Status.message`, kept verbatim.
        message: String,
        /// The `Status.reason`, e.g. `Forbidden`.
        reason: String,
        /// The HTTP status code.
        code: u16,
        /// What the user can do about it.
        hint: Option<String>,
    },

    /// The API server could not be reached or the connection failed.
    #[error("{what}: {message}{hint}", hint = hint_suffix(.hint))]
    Connection {
        /// What we were doing.
        what: String,
        /// The underlying error.
        message: String,
        /// What the user can do about it.
        hint: Option<String>,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!("\n  hint: {h}"),
        None => String::new(),
    }
}

impl KitError {
    /// A usage error (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        KitError::Usage(message.into())
    }

    /// The exit status this error maps to.
    pub fn exit_code(&self) -> u8 {
        match self {
            KitError::Usage(_) => EXIT_USAGE,
            _ => EXIT_ERROR,
        }
    }

    /// The HTTP status code when the API server answered with an error.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            KitError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Turns a [`kube::Error`] into a [`KitError`] that keeps the API server's
/// `Status.message` and adds a hint for the common cases.
///
/// `what` says what the plugin was doing, e.g. `get secret "db" in namespace "prod"`.
pub fn api_error(err: kube::Error, what: &str) -> KitError {
    match err {
        kube::Error::Api(status) => from_status(&status, what),
        kube::Error::Auth(e) => KitError::Connection {
            what: what.to_string(),
            message: format!("getting credentials failed: {e}"),
            hint: Some(
                "check the user's credentials in your kubeconfig (for an exec plugin, run its command by hand to see its error)"
                    .into(),
            ),
        },
        other => {
            let message = error_chain(&other);
            let hint = if message.contains("certificate") || message.contains("UnknownIssuer") {
                Some("the server's TLS certificate is not trusted: check certificate-authority(-data) of the cluster in your kubeconfig".into())
            } else if message.contains("onnection refused") || message.contains("dns error") || message.contains("timed out") {
                Some("is the API server address right and reachable from here? check the cluster's server URL in your kubeconfig, or --request-timeout".into())
            } else {
                None
            };
            KitError::Connection { what: what.to_string(), message, hint }
        }
    }
}

fn from_status(status: &Status, what: &str) -> KitError {
    let hint = match status.code {
        401 => Some("the API server did not accept your credentials: they may have expired; log in again or check the user in your kubeconfig".to_string()),
        403 => Some("you are not allowed to do this: ask your cluster administrator for RBAC access (check with `kubectl auth can-i`)".to_string()),
        404 => None,
        _ => None,
    };
    KitError::Api {
        what: what.to_string(),
        message: if status.message.is_empty() {
            status.reason.clone()
        } else {
            status.message.clone()
        },
        reason: status.reason.clone(),
        code: status.code,
        hint,
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_msg = s.to_string();
        if !msg.contains(&s_msg) {
            msg.push_str(": ");
            msg.push_str(&s_msg);
        }
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_keeps_status_message_and_hints_rbac() {
        let status: Status = serde_json::from_str(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets \"db\" is forbidden: User \"bob\" cannot get resource \"secrets\" in API group \"\" in the namespace \"prod\"","reason":"Forbidden","details":{"name":"db","kind":"secrets"},"code":403}"#,
        )
        .unwrap();
        let err = api_error(kube::Error::Api(Box::new(status)), "get secret \"db\"");
        let text = err.to_string();
        assert!(
            text.contains("User \"bob\" cannot get resource \"secrets\""),
            "{text}"
        );
        assert!(text.contains("RBAC"), "{text}");
        assert_eq!(err.exit_code(), EXIT_ERROR);
        assert_eq!(err.status_code(), Some(403));
    }

    #[test]
    fn usage_errors_exit_2() {
        assert_eq!(KitError::usage("bad").exit_code(), EXIT_USAGE);
    }
}
