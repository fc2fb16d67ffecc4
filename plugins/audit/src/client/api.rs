//! The sink through the Kubernetes API: the resource `auditevents` of
//! `audit.kubext.io/v1alpha1`, which the sink serves behind the cluster's
//! aggregator. Requests carry the kubeconfig's credentials and are authorized
//! by the cluster's RBAC, so a user bound in one namespace reads that
//! namespace's events. `search` is a list, `tail` a watch, `stats` counts the
//! listed events here (the API has no aggregation).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use audit_api::api::{
    FieldCount, FollowParams, HistogramBucket, SearchParams, SearchResponse, StatsParams,
    StatsResponse,
};
use audit_api::event::Event;
use audit_api::fields::{EventFields, Field};
use kubectl_kit::KitError;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{KubeConnection, Reply, Sink, SinkError, Transport};
use crate::cli::ClusterFlags;

/// The API group.
pub const GROUP: &str = "audit.kubext.io";
/// Its version.
pub const VERSION: &str = "v1alpha1";
/// The resource.
pub const RESOURCE: &str = "auditevents";

/// How long the discovery check may take before the cluster is taken not to
/// serve the API.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Events per list page when `stats` reads every matching event.
const STATS_PAGE: usize = 10_000;

/// `/apis/audit.kubext.io/v1alpha1[/namespaces/NS]/auditevents`.
pub(super) fn list_path(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("/apis/{GROUP}/{VERSION}/namespaces/{ns}/{RESOURCE}"),
        None => format!("/apis/{GROUP}/{VERSION}/{RESOURCE}"),
    }
}

#[derive(Deserialize)]
struct AuditEventList {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<AuditEventItem>,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

#[derive(Deserialize)]
struct AuditEventItem {
    event: Box<RawValue>,
}

/// One line of a watch: `{"type": "ADDED", "object": AuditEvent}`, or an
/// `ERROR` with a `Status`.
#[derive(Deserialize)]
struct WatchEvent {
    #[serde(rename = "type")]
    kind: String,
    object: Box<RawValue>,
}

#[derive(Deserialize)]
struct WatchStatus {
    #[serde(default)]
    message: String,
}

/// Splits a watch stream into lines and gives the events they carry; an
/// `ERROR` line ends the stream with its message.
#[derive(Default)]
pub(super) struct WatchDecoder {
    buffer: Vec<u8>,
    /// The message of an `ERROR` the API server sent.
    pub(super) failure: Option<String>,
}

impl WatchDecoder {
    /// The events (the original audit events, as JSON) completed by `bytes`.
    pub(super) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            self.line(&line, &mut events);
        }
        events
    }

    /// What is left when the stream ends.
    pub(super) fn finish(&mut self) -> Option<String> {
        let line = std::mem::take(&mut self.buffer);
        let mut events = Vec::new();
        self.line(&line, &mut events);
        events.pop()
    }

    fn line(&mut self, line: &[u8], events: &mut Vec<String>) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let event: WatchEvent = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("skipping an unreadable line of the watch: {e}");
                return;
            }
        };
        match event.kind.as_str() {
            "ADDED" | "MODIFIED" => {
                match serde_json::from_str::<AuditEventItem>(event.object.get()) {
                    Ok(item) => events.push(item.event.get().to_string()),
                    Err(e) => tracing::warn!("skipping an AuditEvent without its event: {e}"),
                }
            }
            "ERROR" => {
                let message = serde_json::from_str::<WatchStatus>(event.object.get())
                    .map(|s| s.message)
                    .unwrap_or_default();
                self.failure = Some(message);
            }
            // BOOKMARK and DELETED carry no new event.
            _ => {}
        }
    }
}

impl Sink {
    /// A connection through the Kubernetes API with the kubeconfig's
    /// credentials (`--via-api`, or the cluster serves the API).
    pub(super) async fn via_api(
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
        timeout: Option<Duration>,
    ) -> anyhow::Result<Sink> {
        let kube = KubeConnection::open(cluster, namespace, streaming).await?;
        Ok(Sink {
            address: format!(
                "the Kubernetes API {GROUP}/{VERSION} of {} (context {:?})",
                kube.api_server, kube.context_name
            ),
            credential: kube.credential,
            transport: Transport::Api {
                client: kube.client,
                namespace: namespace.map(str::to_string),
            },
            default_address: false,
            timeout,
        })
    }

    /// The API connection when the current context's cluster serves
    /// `audit.kubext.io` (its discovery lists the group); None when there is no
    /// kubeconfig, the cluster does not serve it, or it does not answer within
    /// a few seconds.
    pub(super) async fn discover_api(
        cluster: &ClusterFlags,
        namespace: Option<&str>,
        streaming: bool,
        timeout: Option<Duration>,
    ) -> Option<Sink> {
        let sink = match Self::via_api(cluster, namespace, streaming, timeout).await {
            Ok(sink) => sink,
            Err(e) => {
                tracing::debug!("no cluster to look for {GROUP} in: {e}");
                return None;
            }
        };
        let Transport::Api { client, .. } = &sink.transport else {
            return None;
        };
        let request = http::Request::get(format!("/apis/{GROUP}"))
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .ok()?;
        let found = tokio::time::timeout(
            DISCOVERY_TIMEOUT,
            client.request::<serde_json::Value>(request),
        )
        .await;
        match found {
            Ok(Ok(group)) => {
                let served = group["versions"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|v| v["version"] == VERSION));
                tracing::debug!("{} serves {GROUP}: {served}", sink.address);
                served.then_some(sink)
            }
            Ok(Err(e)) => {
                tracing::debug!("{} does not serve {GROUP}: {e}", sink.address);
                None
            }
            Err(_) => {
                tracing::debug!(
                    "{} did not answer discovery within {}s",
                    sink.address,
                    DISCOVERY_TIMEOUT.as_secs()
                );
                None
            }
        }
    }

    fn api_namespace(&self) -> Option<&str> {
        match &self.transport {
            Transport::Api { namespace, .. } => namespace.as_deref(),
            _ => None,
        }
    }

    /// One page of a list of AuditEvents.
    async fn api_list(
        &self,
        q: &Option<String>,
        since: &Option<String>,
        until: &Option<String>,
        limit: Option<usize>,
        cursor: &Option<String>,
    ) -> anyhow::Result<SearchResponse> {
        let query = super::pairs([
            ("q", q.clone()),
            ("since", since.clone()),
            ("to", until.clone()),
            ("limit", limit.map(|l| l.to_string())),
            ("continue", cursor.clone()),
        ]);
        let list: AuditEventList = self
            .get_json(&list_path(self.api_namespace()), &query)
            .await?;
        Ok(SearchResponse {
            events: list.items.into_iter().map(|i| i.event).collect(),
            next: list.metadata.continue_token.filter(|c| !c.is_empty()),
        })
    }

    /// `search` as a list.
    pub(super) async fn api_search(&self, params: &SearchParams) -> anyhow::Result<SearchResponse> {
        self.api_list(
            &params.q,
            &params.since,
            &params.until,
            params.limit,
            &params.cursor,
        )
        .await
    }

    /// `stats`: lists every matching event and counts here.
    pub(super) async fn api_stats(&self, params: &StatsParams) -> anyhow::Result<StatsResponse> {
        let by = match params.by.as_deref() {
            None => None,
            Some(name) => match Field::from_name(name) {
                Some(f) if f.spec().groupable => Some(f),
                _ => {
                    return Err(KitError::usage(format!(
                        "cannot group by `{name}`; groupable fields: {}",
                        audit_api::fields::groupable_names()
                    ))
                    .into());
                }
            },
        };
        let interval = match params.interval.as_deref() {
            None => None,
            Some(i) => {
                let d = audit_api::time::parse_duration(i)
                    .map_err(|e| KitError::usage(format!("--interval: {e}")))?;
                Some(d.as_micros().max(1) as i64)
            }
        };
        let mut counter = Counter::default();
        let mut cursor = None;
        loop {
            let page = self
                .api_list(
                    &params.q,
                    &params.since,
                    &params.until,
                    Some(STATS_PAGE),
                    &cursor,
                )
                .await?;
            for raw in &page.events {
                match serde_json::from_str::<Event>(raw.get()) {
                    Ok(event) => counter.add(&event, by, interval),
                    Err(e) => tracing::warn!("not counting an unreadable event: {e}"),
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(counter.response(by, params.top.unwrap_or(10)))
    }

    /// `tail`/`--follow` as a watch.
    pub(super) async fn api_follow(&self, params: &FollowParams) -> anyhow::Result<Reply> {
        let query = super::pairs([("watch", Some("true".into())), ("q", params.q.clone())]);
        let reply = self
            .send(
                http::Method::GET,
                &list_path(self.api_namespace()),
                &query,
                None,
                true,
            )
            .await?;
        self.check(reply).await
    }

    /// The hint for a refusal by the API server on this transport.
    pub(super) fn api_forbidden_hint(&self) -> String {
        let scope = match self.api_namespace() {
            Some(ns) => format!("-n {ns}"),
            None => "-A".into(),
        };
        format!(
            "reading audit events needs RBAC permission `list` (and `watch` for tail) on `{RESOURCE}.{GROUP}` in the namespace, or cluster-wide without -n: check with `kubectl auth can-i list {RESOURCE}.{GROUP} {scope}`; the ClusterRoles kubext-audit-namespace-reader (bind it per namespace) and kubext-audit-reader grant it"
        )
    }

    /// The error for an answer the API server gave itself on this transport.
    pub(super) fn api_unavailable(&self, status: u16, message: &str) -> SinkError {
        let hint = if status == 404 {
            format!(
                "the cluster does not serve {GROUP}/{VERSION}: install the APIService from the sink's deploy/ manifests, or reach the sink with --server or --service"
            )
        } else {
            format!(
                "the API server could not reach the sink behind {GROUP}: check `kubectl get apiservice {VERSION}.{GROUP}` and the sink's pods"
            )
        };
        SinkError::Unreachable {
            address: self.address.clone(),
            message: format!("{status}: {message}"),
            hint,
        }
    }
}

/// Counts by field and over time, as the sink's `/v1/stats` does.
#[derive(Default)]
struct Counter {
    total: u64,
    counts: HashMap<String, u64>,
    histogram: BTreeMap<i64, u64>,
}

impl Counter {
    fn add(&mut self, event: &Event, by: Option<Field>, interval_micros: Option<i64>) {
        self.total += 1;
        if let Some(field) = by {
            let fields = EventFields::from_event(event);
            let mut seen: Vec<&str> = fields.values(field).collect();
            seen.sort_unstable();
            seen.dedup();
            for value in seen {
                *self.counts.entry(value.to_string()).or_default() += 1;
            }
        }
        if let (Some(iv), Ok(at)) = (interval_micros, event.received_at()) {
            let micros = at.as_microsecond();
            *self
                .histogram
                .entry(micros.div_euclid(iv) * iv)
                .or_default() += 1;
        }
    }

    fn response(self, by: Option<Field>, top: usize) -> StatsResponse {
        let mut counts: Vec<FieldCount> = self
            .counts
            .into_iter()
            .map(|(value, count)| FieldCount { value, count })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        counts.truncate(top);
        StatsResponse {
            total: self.total,
            by: by.map(|f| f.name().to_string()),
            counts,
            histogram: self
                .histogram
                .into_iter()
                .map(|(start, count)| HistogramBucket {
                    start: jiff::Timestamp::from_microsecond(start)
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    count,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_gives_the_original_events_and_stops_at_an_error() {
        let mut d = WatchDecoder::default();
        let first = r#"{"type":"ADDED","object":{"apiVersion":"audit.kubext.io/v1alpha1","kind":"AuditEvent","metadata":{"name":"a.responsecomplete"},"event":{"auditID":"a","verb":"get"}}}"#;
        let (head, tail) = first.split_at(40);
        assert!(d.push(head.as_bytes()).is_empty());
        let got = d.push(format!("{tail}\n{{\"type\":\"BOOKMARK\",\"object\":{{}}}}\n").as_bytes());
        assert_eq!(got, [r#"{"auditID":"a","verb":"get"}"#]);
        assert!(d.failure.is_none());
        d.push(
            br#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too slow"}}
"#,
        );
        assert_eq!(d.failure.as_deref(), Some("too slow"));
    }

    #[test]
    fn list_paths_are_namespaced_or_cluster_wide() {
        assert_eq!(
            list_path(Some("team-a")),
            "/apis/audit.kubext.io/v1alpha1/namespaces/team-a/auditevents"
        );
        assert_eq!(
            list_path(None),
            "/apis/audit.kubext.io/v1alpha1/auditevents"
        );
    }
}
