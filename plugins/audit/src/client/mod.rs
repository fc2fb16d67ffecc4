//! The client of the sink. [`Target::infer`] resolves the flags and the
//! kubeconfig into one target, and [`Sink`] talks to it with one API
//! (search, stats, follow, ingest), whatever the transport:
//!
//! - `http_client`: directly over HTTP(S) (`--server`);
//! - `proxy`: through the Kubernetes API server's service proxy (`--service`,
//!   or the context's `kubext.io/audit-service` extension), with the
//!   kubeconfig's credentials;
//! - `api`: the Kubernetes API `audit.kubext.io` (`--via-api`, or when the
//!   cluster serves it);
//! - `local_index`: a copied index directory opened read-only (`--index`,
//!   with the `index` feature).
//!
//! Every failure ([`SinkError`]) says which address and which credential were
//! used (never the credential itself) and what to do next.

use std::time::Duration;

use audit_api::api::{
    ErrorBody, FollowParams, IngestResponse, SearchParams, SearchResponse, StatsParams,
    StatsResponse,
};
use kubectl_kit::KitError;
use serde::de::DeserializeOwned;

use crate::cli::{ClusterFlags, SinkFlags};

pub mod api;
mod error;
mod http_client;
#[cfg(feature = "index")]
mod local_index;
mod proxy;
mod reply;
mod sse;
mod stream;
mod target;

pub use error::SinkError;
use http_client::HttpClient;
pub(crate) use proxy::KubeConnection;
pub use proxy::{ServiceRef, kube_flags};
use reply::{Reply, Upload};
pub use stream::EventStream;
pub use target::Target;
use target::request_timeout;

/// A connection to the sink.
pub struct Sink {
    transport: Transport,
    /// Human description of where the sink is.
    address: String,
    /// Human description of the credential used.
    credential: String,
    /// Whether the address is the built-in default (changes the hint).
    default_address: bool,
    /// Per-request timeout (not for streams).
    timeout: Option<Duration>,
}

enum Transport {
    Http(HttpClient),
    Proxy {
        client: kube::Client,
        prefix: String,
    },
    /// `audit.kubext.io` through the API server; the namespace of `-n`.
    Api {
        client: kube::Client,
        namespace: Option<String>,
    },
    #[cfg(feature = "index")]
    Index(local_index::LocalIndex),
}

impl Sink {
    /// Connects as the flags say: `--index`, `--server`, `--service`, the
    /// context's extension, or the default local address (see [`Target`]).
    pub async fn connect(
        flags: &SinkFlags,
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
    ) -> anyhow::Result<Sink> {
        let timeout = request_timeout(cluster);
        match Target::infer(flags, cluster)? {
            Target::Index(dir) => Self::open_index(&dir, timeout),
            Target::Service { service, .. } => {
                Self::via_service(&service, cluster, namespace, streaming, timeout).await
            }
            Target::Server {
                url,
                default_address,
            } => Self::direct(&url, flags, default_address, timeout),
            Target::Api => Self::via_api(cluster, namespace, streaming, timeout).await,
            Target::ApiOrDefault => {
                match Self::discover_api(cluster, namespace, streaming, timeout).await {
                    Some(sink) => Ok(sink),
                    None => Self::direct(audit_api::DEFAULT_URL, flags, true, timeout),
                }
            }
        }
    }

    /// Connects to one sink by URL with the credential flags, for a search
    /// over several `--server` URLs (see [`crate::merge`]).
    pub fn connect_server(
        server: &str,
        flags: &SinkFlags,
        cluster: &ClusterFlags,
    ) -> anyhow::Result<Sink> {
        Self::direct(server, flags, false, request_timeout(cluster))
    }

    #[cfg(feature = "index")]
    fn open_index(dir: &std::path::Path, timeout: Option<Duration>) -> anyhow::Result<Sink> {
        let index = local_index::LocalIndex::open(dir)?;
        Ok(Sink {
            transport: Transport::Index(index),
            address: format!("index {}", dir.display()),
            credential: "no credentials (local files)".into(),
            default_address: false,
            timeout,
        })
    }

    #[cfg(not(feature = "index"))]
    fn open_index(dir: &std::path::Path, _timeout: Option<Duration>) -> anyhow::Result<Sink> {
        Err(KitError::usage(format!(
            "--index {}: this kubectl-audit was built without the `index` feature; build it with `cargo build --release -p kubectl-audit --features index`, or ask a running sink with --server/--service",
            dir.display()
        ))
        .into())
    }

    fn direct(
        server: &str,
        flags: &SinkFlags,
        default_address: bool,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Sink> {
        let client = HttpClient::new(server, flags)?;
        Ok(Sink {
            address: client.base.clone(),
            credential: client.credential.clone(),
            transport: Transport::Http(client),
            default_address,
            timeout,
        })
    }

    async fn via_service(
        target: &ServiceRef,
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Sink> {
        let kube = KubeConnection::open(cluster, namespace, streaming).await?;
        Ok(Sink {
            address: format!(
                "service {} through the API server {} (context {:?})",
                target, kube.api_server, kube.context_name
            ),
            credential: kube.credential,
            transport: Transport::Proxy {
                client: kube.client,
                prefix: target.proxy_prefix(),
            },
            default_address: false,
            timeout,
        })
    }

    /// Where the sink is, for messages.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether this connection can only read (an index directory).
    pub fn read_only(&self) -> bool {
        #[cfg(feature = "index")]
        if matches!(self.transport, Transport::Index(_)) {
            return true;
        }
        false
    }

    // search, stats and follow each dispatch on the transport the same way,
    // then name their own parameters; the query strings differ field by
    // field, so the dispatch is written out in each.

    /// `GET /v1/search`.
    pub async fn search(&self, params: &SearchParams) -> anyhow::Result<SearchResponse> {
        #[cfg(feature = "index")]
        if let Transport::Index(index) = &self.transport {
            return index.search(params);
        }
        if let Transport::Api { .. } = &self.transport {
            return self.api_search(params).await;
        }
        let query = pairs([
            ("q", params.q.clone()),
            ("since", params.since.clone()),
            ("until", params.until.clone()),
            ("limit", params.limit.map(|l| l.to_string())),
            ("cursor", params.cursor.clone()),
        ]);
        self.get_json(audit_api::SEARCH_PATH, &query).await
    }

    /// `GET /v1/stats`.
    pub async fn stats(&self, params: &StatsParams) -> anyhow::Result<StatsResponse> {
        #[cfg(feature = "index")]
        if let Transport::Index(index) = &self.transport {
            return index.stats(params);
        }
        if let Transport::Api { .. } = &self.transport {
            return self.api_stats(params).await;
        }
        let query = pairs([
            ("q", params.q.clone()),
            ("since", params.since.clone()),
            ("until", params.until.clone()),
            ("by", params.by.clone()),
            ("top", params.top.map(|t| t.to_string())),
            ("interval", params.interval.clone()),
        ]);
        self.get_json(audit_api::STATS_PATH, &query).await
    }

    /// Opens `GET /v1/follow`; read events from the returned stream.
    pub async fn follow(&self, params: &FollowParams) -> anyhow::Result<EventStream> {
        #[cfg(feature = "index")]
        if let Transport::Index(_) = &self.transport {
            return Err(KitError::usage(
                "--index opens a copied index read-only: nothing new arrives there, so tail/--follow need a running sink (--server or --service)",
            )
            .into());
        }
        if let Transport::Api { .. } = &self.transport {
            let reply = self.api_follow(params).await?;
            return Ok(EventStream::watch(reply.body, self.address.clone()));
        }
        let query = pairs([("q", params.q.clone())]);
        let reply = self
            .send(
                http::Method::GET,
                audit_api::FOLLOW_PATH,
                &query,
                None,
                true,
            )
            .await?;
        let reply = self.check(reply).await?;
        Ok(EventStream::sse(reply.body, self.address.clone()))
    }

    /// `POST /v1/events` with a gzip'd `EventList`; retries when the sink asks
    /// to slow down (429/503 with `Retry-After`).
    pub async fn ingest(&self, gzipped_event_list: Vec<u8>) -> anyhow::Result<IngestResponse> {
        if self.read_only() {
            return Err(KitError::usage(
                "--index opens an index read-only: import needs a running sink (--server or --service)",
            )
            .into());
        }
        if let Transport::Api { .. } = &self.transport {
            return Err(KitError::usage(format!(
                "the Kubernetes API {}/{} only reads: import sends to the sink's own endpoint, reach it with --server URL or --service NS/NAME[:PORT]",
                api::GROUP,
                api::VERSION
            ))
            .into());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let reply = self
                .send(
                    http::Method::POST,
                    audit_api::EVENTS_PATH,
                    &[("report".into(), audit_api::api::REPORT_DUPLICATES.into())],
                    Some(Upload {
                        bytes: gzipped_event_list.clone(),
                        gzip: true,
                    }),
                    false,
                )
                .await?;
            if matches!(reply.status, 429 | 503) && attempt < 8 {
                let wait = reply
                    .retry_after
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(30));
                tracing::info!(
                    "the sink is busy ({}), retrying in {}s",
                    reply.status,
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            let reply = self.check(reply).await?;
            let bytes = reply
                .body
                .bytes()
                .await
                .map_err(|m| SinkError::Unreachable {
                    address: self.address.clone(),
                    message: m,
                    hint: "the connection broke while reading the answer; try again".into(),
                })?;
            return serde_json::from_slice(&bytes).map_err(|e| {
                SinkError::Protocol {
                    address: self.address.clone(),
                    message: format!("ingest answer: {e}"),
                }
                .into()
            });
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> anyhow::Result<T> {
        let reply = self
            .send(http::Method::GET, path, query, None, false)
            .await?;
        let reply = self.check(reply).await?;
        let bytes = reply
            .body
            .bytes()
            .await
            .map_err(|m| SinkError::Unreachable {
                address: self.address.clone(),
                message: m,
                hint: "the connection broke while reading the answer; try again".into(),
            })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            SinkError::Protocol {
                address: self.address.clone(),
                message: format!("{path}: {e}"),
            }
            .into()
        })
    }

    async fn send(
        &self,
        method: http::Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Upload>,
        streaming: bool,
    ) -> anyhow::Result<Reply> {
        let query_string = if query.is_empty() {
            String::new()
        } else {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                s.append_pair(k, v);
            }
            format!("?{}", s.finish())
        };
        tracing::debug!("{method} {}{path}{query_string}", self.address);
        match &self.transport {
            Transport::Http(client) => client
                .send(
                    method,
                    &format!("{path}{query_string}"),
                    body,
                    self.timeout.filter(|_| !streaming),
                )
                .await
                .map_err(|message| self.unreachable(message).into()),
            Transport::Proxy { client, prefix } => {
                proxy::send(
                    client,
                    prefix,
                    method,
                    &format!("{path}{query_string}"),
                    body,
                    streaming,
                    &self.address,
                )
                .await
            }
            Transport::Api { client, .. } => {
                proxy::send(
                    client,
                    "",
                    method,
                    &format!("{path}{query_string}"),
                    body,
                    streaming,
                    &self.address,
                )
                .await
            }
            #[cfg(feature = "index")]
            Transport::Index(_) => unreachable!("index requests are answered before send"),
        }
    }

    fn unreachable(&self, message: String) -> SinkError {
        let hint = if self.default_address {
            format!(
                "no sink answers on the default address {}: start one with `audit-sink serve`, or say where it runs with --server URL or --service NS/NAME[:PORT]",
                audit_api::DEFAULT_URL
            )
        } else if message.contains("certificate") || message.contains("UnknownIssuer") {
            "the sink's TLS certificate is not trusted: pass the CA that signed it with --certificate-authority".into()
        } else {
            "is the sink running and is the address right? check --server (or KUBECTL_AUDIT_SERVER), or use --service NS/NAME[:PORT] to go through the cluster".into()
        };
        SinkError::Unreachable {
            address: self.address.clone(),
            message,
            hint,
        }
    }

    /// Turns an error answer into a [`SinkError`]; passes 2xx through.
    async fn check(&self, reply: Reply) -> anyhow::Result<Reply> {
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let status = reply.status;
        let bytes = reply.body.bytes().await.unwrap_or_default();
        let proxied = matches!(
            self.transport,
            Transport::Proxy { .. } | Transport::Api { .. }
        );
        let via_api = matches!(self.transport, Transport::Api { .. });
        let sink_body: Option<ErrorBody> = serde_json::from_slice::<ErrorBody>(&bytes)
            .ok()
            .filter(|b| !b.reason.is_empty() || !b.error.is_empty());
        let kube_status: Option<kube::core::Status> = if proxied && sink_body.is_none() {
            serde_json::from_slice::<kube::core::Status>(&bytes)
                .ok()
                .filter(|s| !s.message.is_empty() || !s.reason.is_empty())
        } else {
            None
        };
        let message = match (&sink_body, &kube_status) {
            (Some(b), _) => b.error.clone(),
            (None, Some(s)) if !s.message.is_empty() => s.message.clone(),
            (None, Some(s)) => s.reason.clone(),
            (None, None) => {
                let text = String::from_utf8_lossy(&bytes).trim().to_string();
                if text.is_empty() {
                    http::StatusCode::from_u16(status)
                        .ok()
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("no message")
                        .to_string()
                } else {
                    text.chars().take(300).collect()
                }
            }
        };
        // Through the service proxy, an answer without the sink's error body came from the API server.
        let from_api_server = proxied && sink_body.is_none();
        let err = match status {
            401 | 403 => {
                let (who, hint) = if from_api_server {
                    (
                        "the Kubernetes API server",
                        if status == 401 {
                            "your cluster credentials were not accepted: log in again (e.g. kubectl oidc-login) or check the user in your kubeconfig".to_string()
                        } else if via_api {
                            self.api_forbidden_hint()
                        } else {
                            format!(
                                "you need RBAC permission to use the service proxy: `get` and `create` on `services/proxy` in namespace {:?} (check with `kubectl auth can-i get services/proxy -n …`)",
                                self.proxy_namespace().unwrap_or_default()
                            )
                        },
                    )
                } else if status == 401 {
                    (
                        "the audit sink",
                        if self.credential == "no credentials" {
                            "the sink requires a credential: pass --token-file PATH (or --token) or --client-certificate/--client-key".to_string()
                        } else {
                            "the credential was not accepted: check that it is the sink's search token or a client certificate signed by its --client-ca".to_string()
                        },
                    )
                } else {
                    (
                        "the audit sink",
                        "this credential may not search; use the sink's search credential".to_string(),
                    )
                };
                SinkError::Refused {
                    who,
                    address: self.address.clone(),
                    code: status,
                    credential: self.credential.clone(),
                    message,
                    hint,
                }
            }
            400 if sink_body.as_ref().is_some_and(|b| b.reason == "bad_query") => {
                let b = sink_body.expect("checked above");
                SinkError::BadQuery {
                    message: match (&b.position, &b.expected) {
                        (Some(p), Some(e)) => format!("at position {p}: expected {e} ({})", b.error),
                        _ => b.error,
                    },
                }
            }
            404 | 502..=504 if via_api && from_api_server => {
                self.api_unavailable(status, &message)
            }
            502..=504 if from_api_server => SinkError::Unreachable {
                address: self.address.clone(),
                message: format!("{status}: {message}"),
                hint: "the API server could not reach the sink's pods: check the service name and port and that its pods are ready (`kubectl get endpoints -n NS NAME`)".into(),
            },
            404 if from_api_server => SinkError::Unreachable {
                address: self.address.clone(),
                message: format!("404: {message}"),
                hint: "no such service: check the namespace and name given to --service".into(),
            },
            _ => SinkError::Status {
                address: self.address.clone(),
                code: status,
                message,
            },
        };
        if let SinkError::BadQuery { .. } = err {
            return Err(anyhow::Error::new(err).context(KitError::usage("bad query")));
        }
        Err(err.into())
    }

    fn proxy_namespace(&self) -> Option<String> {
        match &self.transport {
            Transport::Proxy { prefix, .. } => prefix
                .strip_prefix("/api/v1/namespaces/")
                .and_then(|r| r.split('/').next())
                .map(str::to_string),
            _ => None,
        }
    }
}

fn pairs<const N: usize>(items: [(&str, Option<String>); N]) -> Vec<(String, String)> {
    items
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
}
