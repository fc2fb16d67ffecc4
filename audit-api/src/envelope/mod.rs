//! Cloud envelopes: the managed Kubernetes services' exports of the
//! apiserver's audit log, turned into plain `audit.k8s.io/v1` events.
//!
//! Each adapter is a pure function from one *unit* of input (a line of a file,
//! a whole JSON document, a push request's record) to [`Decoded`]: the events
//! it carries, each with its cluster and provenance written as `audit.kubext.io/…`
//! annotations, and the records it cannot store ([`DeadRecord`]) with a
//! [`DeadReason`]. Nothing past this module knows which cloud an event came
//! from.
//!
//! | [`Format`] | unit | adapter |
//! |---|---|---|
//! | `apiserver` | one Event JSON (the log backend's line) | [`decode`] |
//! | `eks` | CloudWatch Logs: `filter-log-events` output, its events as lines, subscription payloads (gzip, base64), S3 export lines | [`eks`] |
//! | `gke` | Cloud Logging `LogEntry` (a line, or the `gcloud logging read` array) | [`gke`] |
//! | `aks` | diagnostic records (`PT1H.json` lines, Event Hub `{"records":[…]}`) | [`aks`] |
//!
//! [`Format::detect`] tells the formats apart from the content.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::event::Event;

pub mod aks;
pub mod eks;
pub mod gke;

/// Annotation: the cluster an event came from (defined with the query fields).
pub use crate::fields::CLUSTER_ANNOTATION;
/// Annotation: the cloud whose export carried the event (`eks`, `gke`, `aks`).
pub const CLOUD_ANNOTATION: &str = "audit.kubext.io/cloud";
/// Annotation (EKS): the CloudWatch Logs group.
pub const LOG_GROUP_ANNOTATION: &str = "audit.kubext.io/log-group";
/// Annotation (EKS): the CloudWatch Logs stream.
pub const LOG_STREAM_ANNOTATION: &str = "audit.kubext.io/log-stream";
/// Annotation (EKS): the AWS account that owns the log group.
pub const ACCOUNT_ANNOTATION: &str = "audit.kubext.io/account";
/// Annotation (GKE): the Google Cloud project.
pub const PROJECT_ANNOTATION: &str = "audit.kubext.io/project";
/// Annotation (GKE): the cluster's location (region or zone).
pub const LOCATION_ANNOTATION: &str = "audit.kubext.io/location";
/// Annotation (GKE): the Cloud Logging log name.
pub const LOG_NAME_ANNOTATION: &str = "audit.kubext.io/log-name";
/// Annotation (AKS): the Azure resource id of the managed cluster.
pub const RESOURCE_ID_ANNOTATION: &str = "audit.kubext.io/resource-id";

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// The apiserver's own log backend: one Event JSON per line.
    Apiserver,
    /// Amazon EKS through CloudWatch Logs.
    Eks,
    /// Google GKE through Cloud Logging.
    Gke,
    /// Azure AKS diagnostic settings.
    Aks,
}

impl Format {
    /// Every format, in the order of `--format`'s help.
    pub const ALL: [Format; 4] = [Format::Apiserver, Format::Eks, Format::Gke, Format::Aks];

    /// The name used by `--format` and in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Format::Apiserver => "apiserver",
            Format::Eks => "eks",
            Format::Gke => "gke",
            Format::Aks => "aks",
        }
    }

    /// Parses a `--format` value (`auto` is handled by the caller).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Which format one unit (a line or a whole document) is in, from its
    /// content; `None` when it is none of them.
    pub fn detect(unit: &[u8]) -> Option<Format> {
        let text = unit.trim_ascii();
        if eks::is_s3_export_line(text) || eks::is_encoded_payload(text) {
            return Some(Format::Eks);
        }
        match serde_json::from_slice::<Value>(text).ok()? {
            Value::Array(items) => match items.first() {
                Some(Value::Object(o)) => detect_object(o),
                _ => None,
            },
            Value::Object(o) => detect_object(&o),
            _ => None,
        }
    }
}

fn detect_object(o: &Map<String, Value>) -> Option<Format> {
    if o.contains_key("messageType")
        || o.contains_key("logStreamName")
        || (o.contains_key("events")
            && (o.contains_key("nextToken") || o.contains_key("searchedLogStreams")))
        || o.get("events")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .is_some_and(|e| e.get("message").is_some())
    {
        return Some(Format::Eks);
    }
    if o.contains_key("protoPayload") || o.contains_key("logName") || o.contains_key("insertId") {
        return Some(Format::Gke);
    }
    if o.contains_key("records") || (o.contains_key("category") && o.contains_key("properties")) {
        return Some(Format::Aks);
    }
    if o.contains_key("auditID") || o.get("kind").and_then(Value::as_str) == Some("Event") {
        return Some(Format::Apiserver);
    }
    None
}

/// A `--format` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: use auto, apiserver, eks, gke or aks")]
pub struct UnknownFormat(pub String);

/// Parses a `--format` flag: `auto` (detect from the content) or a format name.
pub fn parse_format_flag(value: &str) -> Result<Option<Format>, UnknownFormat> {
    if value == "auto" {
        return Ok(None);
    }
    Format::from_name(value)
        .map(Some)
        .ok_or_else(|| UnknownFormat(value.to_string()))
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the caller knows that the unit may not say.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The cluster for events whose envelope does not name one
    /// (`--audit-cluster`); an envelope's own cluster wins.
    pub cluster: Option<String>,
}

/// Why a record was not stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeadReason {
    /// CloudWatch cut the message at 256 KB (`[Truncated...]`).
    Truncated,
    /// A CloudWatch Logs subscription `CONTROL_MESSAGE` (carries no events).
    ControlMessage,
    /// A CloudWatch Logs stream other than `kube-apiserver-audit-*`.
    OtherStream(String),
    /// A Cloud Logging entry that is not a Kubernetes audit entry.
    NotKubernetes(String),
    /// An AKS diagnostic record of a category other than `kube-audit`/`kube-audit-admin`.
    OtherCategory(String),
    /// The envelope is not the shape its format documents.
    Malformed(String),
    /// The envelope is fine but the event in it cannot be indexed.
    InvalidEvent(String),
}

impl DeadReason {
    /// A short stable label for counting (`truncated`, `control-message`, …).
    pub fn label(&self) -> &'static str {
        match self {
            DeadReason::Truncated => "truncated",
            DeadReason::ControlMessage => "control-message",
            DeadReason::OtherStream(_) => "other-stream",
            DeadReason::NotKubernetes(_) => "not-kubernetes",
            DeadReason::OtherCategory(_) => "other-category",
            DeadReason::Malformed(_) => "malformed",
            DeadReason::InvalidEvent(_) => "invalid-event",
        }
    }
}

impl fmt::Display for DeadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadReason::Truncated => f.write_str(
                "truncated: CloudWatch Logs cut the message at 256 KB (ends in [Truncated...]); the event is incomplete",
            ),
            DeadReason::ControlMessage => f.write_str(
                "control-message: a CloudWatch Logs subscription CONTROL_MESSAGE carries no events",
            ),
            DeadReason::OtherStream(s) => write!(
                f,
                "other-stream: log stream {s:?} is not an audit stream (kube-apiserver-audit-*)"
            ),
            DeadReason::NotKubernetes(why) => {
                write!(f, "not-kubernetes: not a Kubernetes audit log entry ({why})")
            }
            DeadReason::OtherCategory(c) => write!(
                f,
                "other-category: diagnostic category {c:?} is not kube-audit or kube-audit-admin"
            ),
            DeadReason::Malformed(why) => write!(f, "malformed: {why}"),
            DeadReason::InvalidEvent(why) => write!(f, "invalid-event: {why}"),
        }
    }
}

/// A record that was not stored, kept with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadRecord {
    /// Why.
    pub reason: DeadReason,
    /// Where inside the unit, e.g. `logEvents[3]`, `records[0]`; empty for the whole unit.
    pub location: String,
    /// The record's bytes as found (after base64 and gzip decoding).
    pub bytes: Vec<u8>,
}

/// One event taken out of an envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudEvent {
    /// The event's JSON with the cluster and provenance annotations.
    pub json: String,
    /// The parsed, validated event (its annotations included).
    pub event: Event,
}

/// What one unit held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    /// Events to store.
    pub events: Vec<CloudEvent>,
    /// Records not stored, with why.
    pub dead: Vec<DeadRecord>,
}

impl Decoded {
    fn dead(&mut self, reason: DeadReason, location: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.dead.push(DeadRecord {
            reason,
            location: location.into(),
            bytes: bytes.into(),
        });
    }

    /// Adds the event in `json` (an Event object), with `annotations` set,
    /// or a dead record when it is not an indexable event.
    fn event(
        &mut self,
        json: &[u8],
        annotations: &BTreeMap<&'static str, String>,
        location: impl Into<String>,
    ) {
        let location = location.into();
        let value = match serde_json::from_slice::<Value>(json) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                return self.dead(
                    DeadReason::InvalidEvent("not a JSON object".into()),
                    location,
                    json,
                );
            }
            Err(e) => {
                return self.dead(
                    DeadReason::InvalidEvent(format!("not JSON: {e}")),
                    location,
                    json,
                );
            }
        };
        self.event_value(value, annotations, location, json);
    }

    fn event_value(
        &mut self,
        mut value: Map<String, Value>,
        annotations: &BTreeMap<&'static str, String>,
        location: String,
        original: &[u8],
    ) {
        if !annotations.is_empty() {
            let slot = value
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(map) = slot {
                for (k, v) in annotations {
                    map.insert((*k).to_string(), Value::String(v.clone()));
                }
            }
        }
        let json = Value::Object(value).to_string();
        match Event::from_json(&json) {
            Ok(event) => self.events.push(CloudEvent { json, event }),
            Err(e) => self.dead(DeadReason::InvalidEvent(e.to_string()), location, original),
        }
    }
}

/// Decodes one unit in `format`.
pub fn decode(format: Format, unit: &[u8], ctx: &Context) -> Decoded {
    match format {
        Format::Apiserver => apiserver(unit, ctx),
        Format::Eks => eks::decode(unit, ctx),
        Format::Gke => gke::decode(unit, ctx),
        Format::Aks => aks::decode(unit, ctx),
    }
}

/// The apiserver's own format: the unit is one event, stored as written
/// unless a cluster is to be added.
fn apiserver(unit: &[u8], ctx: &Context) -> Decoded {
    let mut out = Decoded::default();
    let text = unit.trim_ascii();
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(text) {
        out.dead(DeadReason::Malformed(format!("not JSON ({e})")), "", text);
        return out;
    }
    match &ctx.cluster {
        None => match std::str::from_utf8(text)
            .map_err(|e| format!("not UTF-8: {e}"))
            .and_then(|s| Event::from_json(s).map_err(|e| e.to_string()))
        {
            Ok(event) => out.events.push(CloudEvent {
                json: String::from_utf8_lossy(text).into_owned(),
                event,
            }),
            Err(why) => out.dead(DeadReason::InvalidEvent(why), "", text),
        },
        Some(cluster) => {
            let mut ann = BTreeMap::new();
            ann.insert(CLUSTER_ANNOTATION, cluster.clone());
            out.event(text, &ann, "");
        }
    }
    out
}

/// Parses a unit as JSON, or records it as malformed.
fn parse_unit(unit: &[u8], what: &str, out: &mut Decoded) -> Option<Value> {
    match serde_json::from_slice::<Value>(unit.trim_ascii()) {
        Ok(v) => Some(v),
        Err(e) => {
            out.dead(
                DeadReason::Malformed(format!("not {what}: not JSON ({e})")),
                "",
                unit.trim_ascii(),
            );
            None
        }
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"alice"},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.100000Z"}"#;

    #[test]
    fn apiserver_events_stay_verbatim_without_a_cluster() {
        let d = decode(Format::Apiserver, EVENT.as_bytes(), &Context::default());
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].json, EVENT);
    }

    #[test]
    fn audit_cluster_is_added_as_an_annotation() {
        let ctx = Context {
            cluster: Some("prod".into()),
        };
        let d = decode(Format::Apiserver, EVENT.as_bytes(), &ctx);
        assert_eq!(d.events[0].event.annotations[CLUSTER_ANNOTATION], "prod");
    }

    #[test]
    fn invalid_apiserver_line_is_a_dead_record() {
        let d = decode(Format::Apiserver, br#"{"kind":0}"#, &Context::default());
        assert!(d.events.is_empty());
        assert_eq!(d.dead[0].reason.label(), "invalid-event");
        let d = decode(Format::Apiserver, b"{broken", &Context::default());
        assert_eq!(d.dead[0].reason.label(), "malformed");
        assert!(d.dead[0].reason.to_string().contains("not JSON"));
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(Format::detect(EVENT.as_bytes()), Some(Format::Apiserver));
        assert_eq!(
            Format::detect(
                br#"{"logStreamName":"kube-apiserver-audit-1","timestamp":1,"message":"{}"}"#
            ),
            Some(Format::Eks)
        );
        assert_eq!(
            Format::detect(br#"{"events":[],"searchedLogStreams":[]}"#),
            Some(Format::Eks)
        );
        assert_eq!(
            Format::detect(b"2024-05-01T10:00:00.000Z {\"kind\":\"Event\"}"),
            Some(Format::Eks)
        );
        assert_eq!(
            Format::detect(br#"[{"insertId":"x","protoPayload":{}}]"#),
            Some(Format::Gke)
        );
        assert_eq!(Format::detect(br#"{"records":[]}"#), Some(Format::Aks));
        assert_eq!(
            Format::detect(br#"{"category":"kube-audit","properties":{}}"#),
            Some(Format::Aks)
        );
        assert_eq!(Format::detect(b"hello"), None);
        assert_eq!(Format::detect(br#"{"a":1}"#), None);
    }
}
