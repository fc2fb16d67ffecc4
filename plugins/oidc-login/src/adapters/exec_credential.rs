//! The client-go exec credential protocol: `KUBERNETES_EXEC_INFO` in, an
//! `ExecCredential` on stdout.

use serde::{Deserialize, Serialize};

/// `client.authentication.k8s.io/v1`.
pub const V1: &str = "client.authentication.k8s.io/v1";
/// `client.authentication.k8s.io/v1beta1`.
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// What kubectl told us in `KUBERNETES_EXEC_INFO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecInfo {
    /// The apiVersion to answer with.
    pub api_version: String,
    /// Whether the plugin may talk to the user on the terminal (`spec.interactive`).
    /// `None` when the plugin was started by hand (no `KUBERNETES_EXEC_INFO`).
    pub interactive: Option<bool>,
}

#[derive(Deserialize)]
struct RawExecInfo {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(Deserialize, Default)]
struct RawSpec {
    #[serde(default)]
    interactive: Option<bool>,
}

impl ExecInfo {
    /// Reads `KUBERNETES_EXEC_INFO`. Without it (run by hand), answers in v1
    /// and the terminal decides whether we are interactive.
    pub fn from_env() -> Result<ExecInfo, String> {
        match std::env::var("KUBERNETES_EXEC_INFO") {
            Ok(text) if !text.trim().is_empty() => ExecInfo::parse(&text),
            _ => Ok(ExecInfo {
                api_version: V1.to_string(),
                interactive: None,
            }),
        }
    }

    /// Parses the JSON kubectl puts in `KUBERNETES_EXEC_INFO`.
    pub fn parse(text: &str) -> Result<ExecInfo, String> {
        let raw: RawExecInfo = serde_json::from_str(text)
            .map_err(|e| format!("KUBERNETES_EXEC_INFO is not a valid ExecCredential: {e}"))?;
        let api_version = match raw.api_version.as_str() {
            V1 | V1BETA1 => raw.api_version,
            "" => V1.to_string(),
            other => {
                return Err(format!(
                    "KUBERNETES_EXEC_INFO has apiVersion {other:?}; supported are {V1} and {V1BETA1} \
                     (set users[].user.exec.apiVersion in the kubeconfig to one of them)"
                ));
            }
        };
        Ok(ExecInfo {
            api_version,
            interactive: raw.spec.interactive,
        })
    }

    /// Whether prompts on the terminal are allowed: kubectl's answer, or
    /// whether stdin is a terminal when started by hand.
    pub fn may_prompt(&self) -> bool {
        match self.interactive {
            Some(interactive) => interactive,
            None => std::io::IsTerminal::is_terminal(&std::io::stdin()),
        }
    }
}

#[derive(Serialize)]
struct Output<'a> {
    kind: &'static str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    spec: OutputSpec,
    status: OutputStatus<'a>,
}

#[derive(Serialize)]
struct OutputSpec {
    interactive: bool,
}

#[derive(Serialize)]
struct OutputStatus<'a> {
    #[serde(
        rename = "expirationTimestamp",
        skip_serializing_if = "Option::is_none"
    )]
    expiration_timestamp: Option<String>,
    token: &'a str,
}

/// The `ExecCredential` JSON for a token that expires at `exp` (Unix seconds).
pub fn render(info: &ExecInfo, token: &str, exp: Option<i64>) -> String {
    // An expiry before 1970 is long past: clamp it so the timestamp stays
    // RFC 3339 (a negative year is not, and client-go would refuse the answer).
    let expiration_timestamp = exp
        .and_then(|secs| jiff::Timestamp::from_second(secs.max(0)).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    let output = Output {
        kind: "ExecCredential",
        api_version: &info.api_version,
        spec: OutputSpec {
            interactive: info.interactive.unwrap_or(false),
        },
        status: OutputStatus {
            expiration_timestamp,
            token,
        },
    };
    // Serialising plain strings and numbers cannot fail.
    serde_json::to_string(&output).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_the_version_kubectl_asked_for() {
        let info = ExecInfo::parse(
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#,
        )
        .unwrap();
        assert_eq!(info.api_version, V1BETA1);
        assert_eq!(info.interactive, Some(true));
        let out: serde_json::Value =
            serde_json::from_str(&render(&info, "tok", Some(1_800_000_000))).unwrap();
        assert_eq!(out["apiVersion"], V1BETA1);
        assert_eq!(out["kind"], "ExecCredential");
        assert_eq!(out["status"]["token"], "tok");
        assert_eq!(out["status"]["expirationTimestamp"], "2027-01-15T08:00:00Z");
    }

    #[test]
    fn an_expiry_before_1970_is_written_as_the_epoch() {
        let info = ExecInfo::parse(
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
        )
        .unwrap();
        for exp in [-250_000_000_000, -1, i64::MIN] {
            let out: serde_json::Value =
                serde_json::from_str(&render(&info, "t", Some(exp))).unwrap();
            assert_eq!(out["status"]["expirationTimestamp"], "1970-01-01T00:00:00Z");
        }
    }

    #[test]
    fn v1_without_spec_is_not_interactive_and_unknown_versions_are_refused() {
        let info = ExecInfo::parse(r#"{"apiVersion":"client.authentication.k8s.io/v1","spec":{}}"#)
            .unwrap();
        assert_eq!(info.interactive, None);
        let err = ExecInfo::parse(r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1"}"#)
            .unwrap_err();
        assert!(err.contains("v1alpha1"), "{err}");
        assert!(ExecInfo::parse("not json").is_err());
    }

    #[test]
    fn no_expiry_leaves_the_field_out() {
        let info = ExecInfo::parse(r#"{"apiVersion":"client.authentication.k8s.io/v1"}"#).unwrap();
        let out: serde_json::Value = serde_json::from_str(&render(&info, "tok", None)).unwrap();
        assert!(out["status"].get("expirationTimestamp").is_none());
    }
}
