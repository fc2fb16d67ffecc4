//! Reaching the sink: directly over HTTP(S) (`--server`), through the
//! Kubernetes API server's service proxy (`--service`), through the Kubernetes
//! API `audit.kubext.io` (`--via-api`, or when the cluster serves it: [`api`]),
//! or an index directory opened read-only (`--index`, with the `index` feature). Every failure says
//! which address and which credential were used (never the credential itself)
//! and what to do next.

use std::time::Duration;

use anyhow::Context as _;
use audit_api::api::{
    ErrorBody, FollowParams, IngestResponse, SearchParams, SearchResponse, StatsParams,
    StatsResponse,
};
use http_body_util::BodyExt as _;
use kubectl_kit::{KitError, KubeFlags};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::cli::{ClusterFlags, SinkFlags};
use crate::sse::SseDecoder;

pub mod api;

/// The kubeconfig context extension that names the sink's service.
pub const CONTEXT_EXTENSION: &str = "kubext.io/audit-service";

/// What can go wrong talking to the sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Nothing answered, or the connection failed.
    #[error("cannot reach the audit sink at {address}: {message}\n  hint: {hint}")]
    Unreachable {
        /// Where we tried.
        address: String,
        /// The transport error.
        message: String,
        /// What to do.
        hint: String,
    },
    /// 401 or 403.
    #[error(
        "{who} at {address} refused the request ({code}) made with {credential}: {message}\n  hint: {hint}"
    )]
    Refused {
        /// `the audit sink` or `the Kubernetes API server`.
        who: &'static str,
        /// Where.
        address: String,
        /// 401 or 403.
        code: u16,
        /// Which credential was used (a description, never its value).
        credential: String,
        /// The server's message.
        message: String,
        /// What to do.
        hint: String,
    },
    /// The sink rejected the query.
    #[error("the audit sink rejected the query: {message}")]
    BadQuery {
        /// The sink's message with position and expectation.
        message: String,
    },
    /// Any other error answer.
    #[error("the audit sink at {address} answered {code}: {message}")]
    Status {
        /// Where.
        address: String,
        /// HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// An answer that is not what the API defines.
    #[error("the audit sink at {address} sent an answer that cannot be read: {message}")]
    Protocol {
        /// Where.
        address: String,
        /// What was wrong.
        message: String,
    },
}

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
    Http {
        client: reqwest::Client,
        base: String,
        token: Option<String>,
    },
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
    Index(crate::index::IndexSink),
}

/// An answer's status and body, whatever the transport.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    body: ReplyBody,
}

enum ReplyBody {
    Http(reqwest::Response),
    Kube(kube::client::Body),
}

impl ReplyBody {
    async fn chunk(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self {
            ReplyBody::Http(r) => r
                .chunk()
                .await
                .map(|c| c.map(|b| b.to_vec()))
                .map_err(|e| error_chain(&e)),
            ReplyBody::Kube(body) => loop {
                match body.frame().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(error_chain(&e)),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data.to_vec()));
                        }
                    }
                }
            },
        }
    }

    async fn bytes(mut self) -> Result<Vec<u8>, String> {
        let mut all = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }
}

/// A request body, gzip-encoded or not.
struct Upload {
    bytes: Vec<u8>,
    gzip: bool,
}

impl Sink {
    /// Connects as the flags say: `--index`, `--server`, `--service`, the
    /// context's extension, or the default local address.
    pub async fn connect(
        flags: &SinkFlags,
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
    ) -> anyhow::Result<Sink> {
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
        let timeout = request_timeout(cluster);
        if let Some(dir) = &flags.index {
            return Self::open_index(dir, timeout);
        }
        if let Some(service) = &flags.service {
            return Self::via_service(service, cluster, namespace, streaming, timeout, "--service")
                .await;
        }
        if let Some(server) = flags.server.first() {
            return Self::direct(server, flags, false, timeout);
        }
        if flags.via_api {
            return Self::via_api(cluster, namespace, streaming, timeout).await;
        }
        if let Some(service) = context_service(cluster)? {
            return Self::via_service(
                &service,
                cluster,
                namespace,
                streaming,
                timeout,
                "the kubeconfig context's kubext.io/audit-service extension",
            )
            .await;
        }
        if let Some(sink) = Self::discover_api(cluster, namespace, streaming, timeout).await {
            return Ok(sink);
        }
        Self::direct(audit_api::DEFAULT_URL, flags, true, timeout)
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
        let index = crate::index::IndexSink::open(dir)?;
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
        let url = url::Url::parse(server).map_err(|e| {
            KitError::usage(format!(
                "--server {server:?} is not a URL ({e}): write it like http://127.0.0.1:9470 or https://audit.example.com"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(KitError::usage(format!(
                "--server {server:?}: only http:// and https:// URLs are supported"
            ))
            .into());
        }
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("kubectl-audit/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &flags.certificate_authority {
            let pem = std::fs::read(ca)
                .with_context(|| format!("cannot read --certificate-authority {}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "--certificate-authority {} holds no PEM certificate: {e}",
                    ca.display()
                )
            })?;
            if certs.is_empty() {
                anyhow::bail!(
                    "--certificate-authority {} holds no PEM certificate",
                    ca.display()
                );
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let mut credential = Vec::new();
        match (&flags.client_certificate, &flags.client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = std::fs::read(cert).with_context(|| {
                    format!("cannot read --client-certificate {}", cert.display())
                })?;
                pem.push(b'\n');
                pem.extend(
                    std::fs::read(key)
                        .with_context(|| format!("cannot read --client-key {}", key.display()))?,
                );
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    anyhow::anyhow!(
                        "--client-certificate {} / --client-key {} are not a PEM certificate and key: {e}",
                        cert.display(),
                        key.display()
                    )
                })?;
                builder = builder.identity(identity);
                credential.push(format!("the client certificate {}", cert.display()));
            }
            (None, None) => {}
            _ => {
                return Err(KitError::usage(
                    "--client-certificate and --client-key go together: give both",
                )
                .into());
            }
        }
        let token = match (&flags.token, &flags.token_file) {
            (Some(_), Some(_)) => {
                return Err(KitError::usage("give --token or --token-file, not both").into());
            }
            (Some(t), None) => {
                let from_env = std::env::var("KUBECTL_AUDIT_TOKEN").is_ok_and(|v| &v == t);
                credential.push(if from_env {
                    "the bearer token from $KUBECTL_AUDIT_TOKEN".to_string()
                } else {
                    "the bearer token from --token".to_string()
                });
                Some(t.trim().to_string())
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --token-file {}", path.display()))?;
                let t = text.trim().to_string();
                if t.is_empty() {
                    anyhow::bail!("--token-file {} is empty", path.display());
                }
                credential.push(format!(
                    "the bearer token from --token-file {}",
                    path.display()
                ));
                Some(t)
            }
            (None, None) => None,
        };
        let client = builder
            .build()
            .context("cannot set up the HTTP client for the sink")?;
        Ok(Sink {
            transport: Transport::Http {
                client,
                base: server.trim_end_matches('/').to_string(),
                token,
            },
            address: server.trim_end_matches('/').to_string(),
            credential: if credential.is_empty() {
                "no credentials".into()
            } else {
                credential.join(" and ")
            },
            default_address,
            timeout,
        })
    }

    async fn via_service(
        service: &str,
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
        timeout: Option<Duration>,
        source: &str,
    ) -> anyhow::Result<Sink> {
        let target =
            ServiceRef::parse(service).map_err(|e| KitError::usage(format!("{source}: {e}")))?;
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
            return Ok(EventStream {
                body: reply.body,
                decoder: StreamDecoder::Watch(api::WatchDecoder::default()),
                pending: std::collections::VecDeque::new(),
                address: self.address.clone(),
            });
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
        Ok(EventStream {
            body: reply.body,
            decoder: StreamDecoder::Sse(SseDecoder::default()),
            pending: std::collections::VecDeque::new(),
            address: self.address.clone(),
        })
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
                    &[],
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
            Transport::Http {
                client,
                base,
                token,
            } => {
                let mut request = client.request(method, format!("{base}{path}{query_string}"));
                if let Some(t) = token {
                    request = request.bearer_auth(t);
                }
                if let Some(timeout) = self.timeout.filter(|_| !streaming) {
                    request = request.timeout(timeout);
                }
                if let Some(upload) = body {
                    request = request.header(http::header::CONTENT_TYPE, "application/json");
                    if upload.gzip {
                        request = request.header(http::header::CONTENT_ENCODING, "gzip");
                    }
                    request = request.body(upload.bytes);
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| self.unreachable(error_chain(&e.without_url())))?;
                Ok(Reply {
                    status: response.status().as_u16(),
                    retry_after: retry_after(response.headers()),
                    body: ReplyBody::Http(response),
                })
            }
            Transport::Proxy { client, .. } | Transport::Api { client, .. } => {
                let prefix = match &self.transport {
                    Transport::Proxy { prefix, .. } => prefix.as_str(),
                    _ => "",
                };
                let mut request = http::Request::builder()
                    .method(method)
                    .uri(format!("{prefix}{path}{query_string}"));
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
                let response = client.send(request).await.map_err(|e| {
                    kubectl_kit::api_error(e, &format!("reach the audit sink as {}", self.address))
                })?;
                let status = response.status().as_u16();
                let retry_after = retry_after(response.headers());
                Ok(Reply {
                    status,
                    retry_after,
                    body: ReplyBody::Kube(response.into_body()),
                })
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

/// A live stream of events from `/v1/follow`.
pub struct EventStream {
    body: ReplyBody,
    decoder: StreamDecoder,
    pending: std::collections::VecDeque<String>,
    address: String,
}

/// How a live stream is framed: the sink's server-sent events, or a
/// Kubernetes watch.
enum StreamDecoder {
    Sse(SseDecoder),
    Watch(api::WatchDecoder),
}

impl StreamDecoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        match self {
            StreamDecoder::Sse(d) => d.push(bytes),
            StreamDecoder::Watch(d) => d.push(bytes),
        }
    }

    fn finish(&mut self) -> Option<String> {
        match self {
            StreamDecoder::Sse(d) => d.finish(),
            StreamDecoder::Watch(d) => d.finish(),
        }
    }

    /// The error the API server ended a watch with.
    fn failure(&mut self) -> Option<String> {
        match self {
            StreamDecoder::Sse(_) => None,
            StreamDecoder::Watch(d) => d.failure.take(),
        }
    }
}

impl EventStream {
    /// The next event; `None` when the sink ends the stream.
    pub async fn next(&mut self) -> anyhow::Result<Option<Box<RawValue>>> {
        loop {
            if self.pending.is_empty()
                && let Some(message) = self.decoder.failure()
            {
                return Err(SinkError::Unreachable {
                    address: self.address.clone(),
                    message: format!("the API server ended the watch: {message}"),
                    hint: "run the command again to resume".into(),
                }
                .into());
            }
            if let Some(data) = self.pending.pop_front() {
                match RawValue::from_string(data) {
                    Ok(raw) => return Ok(Some(raw)),
                    Err(e) => {
                        tracing::warn!("skipping an unreadable event from the stream: {e}");
                        continue;
                    }
                }
            }
            match self.body.chunk().await {
                Ok(Some(bytes)) => self.pending.extend(self.decoder.push(&bytes)),
                Ok(None) => match self.decoder.finish() {
                    Some(last) => self.pending.push_back(last),
                    None => return Ok(None),
                },
                Err(message) => {
                    return Err(SinkError::Unreachable {
                        address: self.address.clone(),
                        message: format!("the live stream broke: {message}"),
                        hint: "run the command again to resume".into(),
                    }
                    .into());
                }
            }
        }
    }
}

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

/// `--request-timeout`, defaulting to a minute; 0 waits forever.
fn request_timeout(cluster: &ClusterFlags) -> Option<Duration> {
    cluster
        .request_timeout
        .map(|t| (!t.is_zero()).then_some(t))
        .unwrap_or(Some(Duration::from_secs(60)))
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

fn pairs<const N: usize>(items: [(&str, Option<String>); N]) -> Vec<(String, String)> {
    items
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
}

fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut msg = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
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
