//! Which sink a command talks to, from the flags and the kubeconfig, resolved
//! once into a [`Target`] the way kube's `Config::infer` picks a cluster:
//! `--index`, `--service`, `--server`, `--via-api`, the current context's
//! `kubext.io/audit-service` extension, the cluster's `audit.kubext.io` API
//! when it serves it, else the default local address.

use std::path::PathBuf;
use std::time::Duration;

use kubectl_kit::KitError;

use super::proxy::{ServiceRef, kube_flags};
use crate::cli::{ClusterFlags, SinkFlags};

/// The kubeconfig context extension that names the sink's service.
pub const CONTEXT_EXTENSION: &str = "kubext.io/audit-service";

/// Where the sink is, before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `--index DIR`: a copied index directory, read-only.
    Index(PathBuf),
    /// A sink URL: `--server`, or the default address.
    Server {
        /// The URL as given.
        url: String,
        /// Whether it is the built-in default (changes the hints).
        default_address: bool,
    },
    /// A service behind the API server's service proxy.
    Service {
        /// The service.
        service: ServiceRef,
        /// Who named it (`--service` or the context extension), for messages.
        source: &'static str,
    },
    /// `--via-api`: the cluster's `audit.kubext.io` API.
    Api,
    /// Nothing named: the cluster's `audit.kubext.io` API if its discovery
    /// lists it, else the default address.
    ApiOrDefault,
}

impl Target {
    /// Resolves the flags and the kubeconfig's current context into one
    /// target; two transports at once, several `--server` URLs (see
    /// [`crate::merge`] for those) or a malformed service are usage errors.
    pub fn infer(flags: &SinkFlags, cluster: &ClusterFlags) -> anyhow::Result<Target> {
        let chosen = [
            !flags.server.is_empty(),
            flags.service.is_some(),
            flags.index.is_some(),
            flags.via_api,
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if chosen > 1 {
            return Err(KitError::usage(
                "give only one of --server, --service, --via-api and --index (or none: the context's audit service, else the cluster's audit.kubext.io API, else the default sink address)",
            )
            .into());
        }
        if flags.server.len() > 1 {
            return Err(KitError::usage(
                "several --server URLs are for search, tail, stats and who; import sends to one sink: give one --server",
            )
            .into());
        }
        if let Some(dir) = &flags.index {
            return Ok(Target::Index(dir.clone()));
        }
        if let Some(service) = &flags.service {
            return Target::service(service, "--service");
        }
        if let Some(server) = flags.server.first() {
            return Ok(Target::Server {
                url: server.clone(),
                default_address: false,
            });
        }
        if flags.via_api {
            return Ok(Target::Api);
        }
        if let Some(service) = context_service(cluster)? {
            return Target::service(
                &service,
                "the kubeconfig context's kubext.io/audit-service extension",
            );
        }
        Ok(Target::ApiOrDefault)
    }

    fn service(text: &str, source: &'static str) -> anyhow::Result<Target> {
        let service =
            ServiceRef::parse(text).map_err(|e| KitError::usage(format!("{source}: {e}")))?;
        Ok(Target::Service { service, source })
    }
}

/// `--request-timeout`, defaulting to a minute; 0 waits forever.
pub(crate) fn request_timeout(cluster: &ClusterFlags) -> Option<Duration> {
    cluster
        .request_timeout
        .map(|t| (!t.is_zero()).then_some(t))
        .unwrap_or(Some(Duration::from_secs(60)))
}

/// The service named by the current context's extension, if any. A missing
/// kubeconfig is fine (the default address is used) unless a kubeconfig flag
/// was given explicitly.
fn context_service(cluster: &ClusterFlags) -> anyhow::Result<Option<String>> {
    let explicit = cluster.kubeconfig.is_some() || cluster.context.is_some();
    let resolved = match kube_flags(cluster, None).resolve() {
        Ok(r) => r,
        Err(e) if explicit => return Err(e.into()),
        Err(e) => {
            tracing::debug!("no kubeconfig context to look for {CONTEXT_EXTENSION} in: {e}");
            return Ok(None);
        }
    };
    let Some(extensions) = &resolved.context.extensions else {
        return Ok(None);
    };
    let Some(ext) = extensions.iter().find(|e| e.name == CONTEXT_EXTENSION) else {
        return Ok(None);
    };
    let value = match &ext.extension {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o
            .get("service")
            .and_then(|s| s.as_str())
            .map(str::to_string),
        _ => None,
    };
    match value {
        Some(v) => Ok(Some(v)),
        None => anyhow::bail!(
            "the kubeconfig context {:?} has a {CONTEXT_EXTENSION} extension without a service: set it to \"NS/NAME[:PORT]\" or {{\"service\": \"NS/NAME[:PORT]\"}}",
            resolved.context_name
        ),
    }
}
