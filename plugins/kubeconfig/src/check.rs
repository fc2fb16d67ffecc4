//! `check`: does each context work? For every context, reach the API server
//! (`GET /version`) and ask who it thinks we are (`SelfSubjectReview`), and
//! sort failures into the kinds a person can act on.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kubectl_kit::KubeFlags;
use serde::Serialize;

/// How a context fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result", content = "reason")]
pub enum Outcome {
    /// The server answered and accepted the credentials.
    Ok,
    /// The TLS handshake failed (untrusted CA, wrong name, expired certificate…).
    TlsError(String),
    /// The server rejected the credentials, or none could be obtained.
    Unauthorised(String),
    /// No answer: connection refused, DNS failure, timeout.
    Unreachable(String),
    /// Anything else, e.g. a context that cannot be used at all.
    Error(String),
}

impl Outcome {
    /// The RESULT column: `ok` or `KIND: reason`.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::TlsError(r) => format!("TLS error: {r}"),
            Outcome::Unauthorised(r) => format!("unauthorised: {r}"),
            Outcome::Unreachable(r) => format!("unreachable: {r}"),
            Outcome::Error(r) => format!("error: {r}"),
        }
    }

    /// Whether the context works.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

/// One context's check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextCheck {
    /// The context's name.
    pub context: String,
    /// Its cluster's server URL.
    pub server: String,
    /// The server's `gitVersion`, when it answered.
    pub version: Option<String>,
    /// The user name the server sees.
    pub user: Option<String>,
    /// The groups the server sees.
    pub groups: Vec<String>,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Checks one context, within `timeout` for the whole check.
pub async fn check_context(flags: &KubeFlags, context: &str, timeout: Duration) -> ContextCheck {
    let mut flags = flags.clone();
    flags.context = Some(context.to_string());
    let mut result = ContextCheck {
        context: context.to_string(),
        server: String::new(),
        version: None,
        user: None,
        groups: Vec::new(),
        outcome: Outcome::Ok,
    };
    let resolved = match flags.resolve() {
        Ok(r) => r,
        Err(e) => {
            result.outcome = Outcome::Error(e.to_string());
            return result;
        }
    };
    result.server = resolved.cluster.server.clone().unwrap_or_default();
    let work = async {
        let config = flags.config_for(&resolved).await.map_err(|e| {
            let text = e.to_string();
            classify_text(&text).unwrap_or(Outcome::Error(text))
        })?;
        // The whole check is bounded below; a shorter per-request timeout
        // would race it and report a vaguer reason.
        let client = kube::Client::try_from(config).map_err(|e| classify(&e))?;
        let info = client.apiserver_version().await.map_err(|e| classify(&e))?;
        result.version = Some(info.git_version);
        let reviews: kube::Api<SelfSubjectReview> = kube::Api::all(client);
        match reviews
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
        {
            Ok(review) => {
                let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
                result.user = info.username;
                result.groups = info.groups.unwrap_or_default();
                Ok(())
            }
            // Servers before 1.28 (or with the API off) cannot say who we are,
            // but /version answered, so the context works as far as we can tell.
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 403 => {
                result.user = Some(format!("? ({})", status.reason));
                Ok(())
            }
            Err(e) => Err(classify(&e)),
        }
    };
    let outcome = match tokio::time::timeout(timeout, work).await {
        Ok(Ok(())) => Outcome::Ok,
        Ok(Err(outcome)) => outcome,
        Err(_) => Outcome::Unreachable(format!(
            "no answer within {}",
            kubectl_kit::output::human_duration(timeout)
        )),
    };
    result.outcome = outcome;
    result
}

/// Sorts a client error into an outcome.
pub fn classify(err: &kube::Error) -> Outcome {
    match err {
        kube::Error::Api(status) if status.code == 401 => {
            Outcome::Unauthorised(if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            })
        }
        kube::Error::Api(status) => Outcome::Error(format!("{} ({})", status.message, status.code)),
        kube::Error::Auth(e) => Outcome::Unauthorised(format!(
            "cannot get credentials: {}",
            crate::source::error_chain(e)
        )),
        other => {
            let text = crate::source::error_chain(other);
            classify_text(&text).unwrap_or(Outcome::Error(text))
        }
    }
}

fn classify_text(text: &str) -> Option<Outcome> {
    let lower = text.to_lowercase();
    let reason = deepest(text);
    if [
        "certificate",
        "unknownissuer",
        "tls",
        "handshake",
        "x509",
        "pem",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(Outcome::TlsError(reason))
    } else if [
        "connection refused",
        "dns error",
        "failed to lookup",
        "timed out",
        "unreachable",
        "connection reset",
        "connect error",
        "client error (connect)",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        Some(Outcome::Unreachable(reason))
    } else {
        None
    }
}

/// The most specific part of an error chain ("a: b: c" → "c"), which is what
/// a person needs in a one-line table cell, with its parent when it is a
/// bare word ("UnknownIssuer").
fn deepest(text: &str) -> String {
    let parts: Vec<&str> = text.split(": ").collect();
    let last = parts.last().copied().unwrap_or(text).trim();
    if (last.len() < 12 || !last.contains(' ')) && parts.len() > 1 {
        parts[parts.len() - 2..].join(": ")
    } else {
        last.to_string()
    }
}

/// Checks the contexts concurrently (at most `parallel` at a time) and returns
/// the results in the order given. `on_done` is called as each finishes.
pub async fn check_all(
    flags: &KubeFlags,
    contexts: &[String],
    timeout: Duration,
    parallel: usize,
    on_done: impl Fn(&ContextCheck) + Send + Sync + 'static,
) -> Vec<ContextCheck> {
    let limit = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let on_done = Arc::new(on_done);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, context) in contexts.iter().enumerate() {
        let flags = flags.clone();
        let context = context.clone();
        let limit = limit.clone();
        let on_done = on_done.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let result = check_context(&flags, &context, timeout).await;
            on_done(&result);
            (index, result)
        });
    }
    let mut results: Vec<Option<ContextCheck>> = vec![None; contexts.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            Err(e) => tracing::warn!("a context check stopped: {e}"),
        }
    }
    results
        .into_iter()
        .zip(contexts)
        .map(|(r, name)| {
            r.unwrap_or_else(|| ContextCheck {
                context: name.clone(),
                server: String::new(),
                version: None,
                user: None,
                groups: Vec::new(),
                outcome: Outcome::Error("the check stopped unexpectedly".into()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_into_kinds() {
        let tls =
            classify_text("client error: tls handshake: invalid peer certificate: UnknownIssuer")
                .unwrap();
        assert_eq!(
            tls,
            Outcome::TlsError("invalid peer certificate: UnknownIssuer".into())
        );
        let refused = classify_text(
            "client error (Connect): tcp connect error: Connection refused (os error 111)",
        )
        .unwrap();
        assert_eq!(
            refused,
            Outcome::Unreachable("Connection refused (os error 111)".into())
        );
        assert_eq!(classify_text("something else"), None);
        assert_eq!(Outcome::Ok.describe(), "ok");
        assert_eq!(
            Outcome::Unauthorised("Unauthorized".into()).describe(),
            "unauthorised: Unauthorized"
        );
    }

    #[test]
    fn results_serialise_with_their_kind() {
        let c = ContextCheck {
            context: "a".into(),
            server: "https://x".into(),
            version: None,
            user: None,
            groups: vec![],
            outcome: Outcome::TlsError("bad".into()),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["result"], "tlsError");
        assert_eq!(v["reason"], "bad");
    }
}
