//! Through the Kubernetes API server: the kube client built from the
//! kubeconfig (shared by the service proxy and the `audit.kubext.io` API), the
//! service a `--service` names, and requests sent on that client.

use anyhow::Context as _;
use kubectl_kit::{KitError, KubeFlags};

use super::reply::{Reply, ReplyBody, Upload, retry_after};
use crate::cli::ClusterFlags;

/// `NS/NAME[:PORT]`, where NAME may carry a scheme as in `https:NAME:443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    /// Namespace.
    pub namespace: String,
    /// Service name, with `https:` when the sink serves TLS.
    pub name: String,
    /// Port number or name.
    pub port: Option<String>,
}

impl ServiceRef {
    /// Parses `NS/NAME[:PORT]`.
    pub fn parse(text: &str) -> Result<ServiceRef, String> {
        let bad = || {
            format!(
                "{text:?} is not a service: write it as NAMESPACE/NAME or NAMESPACE/NAME:PORT, e.g. audit/audit-sink:9470"
            )
        };
        let (ns, rest) = text.trim().split_once('/').ok_or_else(bad)?;
        let (scheme, rest) = match rest.split_once(':') {
            Some((s @ ("http" | "https"), r)) => (Some(s), r),
            _ => (None, rest),
        };
        let (name, port) = match rest.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (rest, None),
        };
        let label = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if !label(ns) || !label(name) || port.is_some_and(|p| !label(p)) {
            return Err(bad());
        }
        Ok(ServiceRef {
            namespace: ns.to_string(),
            name: match scheme {
                Some(s) => format!("{s}:{name}"),
                None => name.to_string(),
            },
            port: port.map(str::to_string),
        })
    }

    /// `/api/v1/namespaces/NS/services/NAME[:PORT]/proxy`.
    pub fn proxy_prefix(&self) -> String {
        let target = match &self.port {
            Some(p) => format!("{}:{p}", self.name),
            None => self.name.clone(),
        };
        format!(
            "/api/v1/namespaces/{}/services/{}/proxy",
            self.namespace, target
        )
    }
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if let Some(p) = &self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// A kube client for the current context, as the service-proxy and API
/// transports both use it, with what their messages name.
pub(crate) struct KubeConnection {
    pub(crate) client: kube::Client,
    /// The API server URL, without a trailing `/`.
    pub(crate) api_server: String,
    pub(crate) context_name: String,
    /// The kubeconfig user and context, for messages.
    pub(crate) credential: String,
}

impl KubeConnection {
    /// Resolves the kubeconfig and connects. `streaming`: no read timeout (a
    /// live stream or watch may stay quiet for long; only the connection has
    /// a timeout).
    pub(crate) async fn open(
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
    ) -> anyhow::Result<Self> {
        let flags = kube_flags(cluster, namespace);
        let resolved = flags.resolve()?;
        let mut config = flags.config_for(&resolved).await?;
        if streaming {
            config.read_timeout = None;
        }
        // kube retries 503s for minutes by default; a sink without ready pods
        // should be reported at once, and `import` does its own retrying.
        config.default_retry = false;
        let api_server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let client = kube::Client::try_from(config).map_err(|e| KitError::Connection {
            what: format!("connect to cluster {:?}", resolved.cluster_name),
            message: e.to_string(),
            hint: Some(
                "check the cluster's server URL and certificate settings in your kubeconfig".into(),
            ),
        })?;
        Ok(Self {
            client,
            api_server,
            credential: format!(
                "the kubeconfig user {:?} of context {:?}",
                resolved.user_name, resolved.context_name
            ),
            context_name: resolved.context_name,
        })
    }
}

/// The kit's kubeconfig flags from ours (`--user` filters events here).
pub fn kube_flags(cluster: &ClusterFlags, namespace: Option<&str>) -> KubeFlags {
    KubeFlags {
        kubeconfig: cluster.kubeconfig.clone(),
        context: cluster.context.clone(),
        cluster: cluster.cluster.clone(),
        user: cluster.kube_user.clone(),
        namespace: namespace.map(str::to_string),
        request_timeout: cluster.request_timeout,
    }
}

/// Sends one request on the kube client: `prefix` is the service proxy's
/// (empty for the `audit.kubext.io` API), `path` carries the query string.
/// `streaming` asks for server-sent events through the proxy, JSON lines of a
/// watch from the API.
pub(crate) async fn send(
    client: &kube::Client,
    prefix: &str,
    method: http::Method,
    path: &str,
    body: Option<Upload>,
    streaming: bool,
    address: &str,
) -> anyhow::Result<Reply> {
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{prefix}{path}"));
    if streaming && prefix.is_empty() {
        // A watch: lines of JSON.
        request = request.header(http::header::ACCEPT, "application/json");
    } else if streaming {
        request = request.header(http::header::ACCEPT, "text/event-stream");
    } else {
        request = request.header(http::header::ACCEPT, "application/json");
    }
    let bytes = match body {
        Some(upload) => {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            if upload.gzip {
                request = request.header(http::header::CONTENT_ENCODING, "gzip");
            }
            upload.bytes
        }
        None => Vec::new(),
    };
    let request = request
        .body(kube::client::Body::from(bytes))
        .context("cannot build the service proxy request")?;
    let response = client
        .send(request)
        .await
        .map_err(|e| kubectl_kit::api_error(e, &format!("reach the audit sink as {address}")))?;
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    Ok(Reply {
        status,
        retry_after,
        body: ReplyBody::Kube(response.into_body()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_refs() {
        let s = ServiceRef::parse("audit/audit-sink:9470").unwrap();
        assert_eq!(
            s.proxy_prefix(),
            "/api/v1/namespaces/audit/services/audit-sink:9470/proxy"
        );
        let s = ServiceRef::parse("audit/https:audit-sink:https").unwrap();
        assert_eq!(
            s.proxy_prefix(),
            "/api/v1/namespaces/audit/services/https:audit-sink:https/proxy"
        );
        let s = ServiceRef::parse("audit/audit-sink").unwrap();
        assert_eq!(s.to_string(), "audit/audit-sink");
        for bad in ["audit-sink", "a/B", "a/b/c", "/b", "a/b:", "a/b:9 0"] {
            assert!(ServiceRef::parse(bad).is_err(), "{bad}");
        }
    }
}
