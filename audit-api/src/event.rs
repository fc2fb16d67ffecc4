//! The `audit.k8s.io/v1` Event model.
//!
//! Deserialisation is tolerant: unknown fields are ignored, the legacy
//! `v1beta1` fields (`metadata`, `timestamp`) are accepted, and items of an
//! `EventList` usually carry no `kind`/`apiVersion` of their own.
//! [`Event::validate`] then checks what the sink needs to index an event.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// API group/version of audit events sent by current apiservers.
pub const AUDIT_V1: &str = "audit.k8s.io/v1";
/// API group/version of audit events sent by apiservers before 1.12.
pub const AUDIT_V1BETA1: &str = "audit.k8s.io/v1beta1";

/// One audit event (`audit.k8s.io/v1` `Event`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `Event`, often missing on list items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `audit.k8s.io/v1` or `audit.k8s.io/v1beta1`, often missing on list items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Audit level: `None`, `Metadata`, `Request`, `RequestResponse`.
    #[serde(default)]
    pub level: String,
    /// Unique ID of the request (clients may set it with the `Audit-ID` header).
    #[serde(default, rename = "auditID")]
    pub audit_id: String,
    /// `RequestReceived`, `ResponseStarted`, `ResponseComplete`, `Panic`.
    #[serde(default)]
    pub stage: String,
    /// The request URI as sent by the client.
    #[serde(default, rename = "requestURI")]
    pub request_uri: String,
    /// The Kubernetes verb (`get`, `list`, `create`, …).
    #[serde(default)]
    pub verb: String,
    /// The authenticated user.
    #[serde(default)]
    pub user: UserInfo,
    /// The user impersonated by [`Event::user`], if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<UserInfo>,
    /// Client and proxy IPs.
    #[serde(default, rename = "sourceIPs", skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    /// The client's User-Agent header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The object the request is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectReference>,
    /// The response status (a `metav1.Status`, usually only `code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
    /// Request body (level `Request` and above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object: Option<Value>,
    /// Response body (level `RequestResponse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_object: Option<Value>,
    /// When the apiserver received the request (RFC 3339, microseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_received_timestamp: Option<String>,
    /// When the request reached this stage (RFC 3339, microseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_timestamp: Option<String>,
    /// Annotations, e.g. `authorization.k8s.io/decision`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Legacy `v1beta1` object metadata (ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Legacy `v1beta1` timestamp (second precision), used when
    /// `requestReceivedTimestamp` is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// `authentication.k8s.io/v1` `UserInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The user name, e.g. `system:serviceaccount:kube-system:default`.
    #[serde(default)]
    pub username: String,
    /// A unique identifier of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The groups the user belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Extra attributes from the authenticator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// The object a request is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Resource (plural, lower case), e.g. `pods`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Namespace of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UID of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// API group (empty for the core group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// API version, e.g. `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Resource version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Subresource, e.g. `exec`, `log`, `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

/// The parts of `metav1.Status` audit events carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseStatus {
    /// HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Machine-readable reason, e.g. `Forbidden`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why an event cannot be indexed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not valid JSON, or JSON of the wrong shape.
    #[error("not an audit event: {0}")]
    Malformed(String),
    /// A field the sink keys or sorts on is missing.
    #[error("missing required field `{0}`")]
    Missing(&'static str),
    /// A timestamp does not parse as RFC 3339.
    #[error("field `{field}` is not an RFC 3339 timestamp: {value:?}")]
    BadTimestamp {
        /// The field name.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// `kind` or `apiVersion` names something else than an audit Event.
    #[error("unexpected {field} {value:?} (expected Event in audit.k8s.io/v1 or v1beta1)")]
    WrongType {
        /// `kind` or `apiVersion`.
        field: &'static str,
        /// The value found.
        value: String,
    },
}

impl Event {
    /// Parses one event from JSON and validates it.
    pub fn from_json(json: &str) -> Result<Event, EventError> {
        let event: Event =
            serde_json::from_str(json).map_err(|e| EventError::Malformed(e.to_string()))?;
        // serde also accepts a struct written as an array of its fields in
        // declaration order; an audit event is always a JSON object.
        require_object(json.as_bytes(), "an audit Event")?;
        event.validate()?;
        Ok(event)
    }

    /// Checks that the event can be keyed, sorted and indexed.
    pub fn validate(&self) -> Result<(), EventError> {
        if let Some(kind) = &self.kind
            && kind != "Event"
        {
            return Err(EventError::WrongType {
                field: "kind",
                value: kind.clone(),
            });
        }
        if let Some(v) = &self.api_version
            && v != AUDIT_V1
            && v != AUDIT_V1BETA1
        {
            return Err(EventError::WrongType {
                field: "apiVersion",
                value: v.clone(),
            });
        }
        if self.audit_id.is_empty() {
            return Err(EventError::Missing("auditID"));
        }
        if self.stage.is_empty() {
            return Err(EventError::Missing("stage"));
        }
        if self.verb.is_empty() {
            return Err(EventError::Missing("verb"));
        }
        self.received_at()?;
        self.stage_at()?;
        Ok(())
    }

    /// `requestReceivedTimestamp` (falling back to the legacy `timestamp`).
    pub fn received_at(&self) -> Result<Timestamp, EventError> {
        match (&self.request_received_timestamp, &self.timestamp) {
            (Some(t), _) => parse_ts("requestReceivedTimestamp", t),
            (None, Some(t)) => parse_ts("timestamp", t),
            (None, None) => Err(EventError::Missing("requestReceivedTimestamp")),
        }
    }

    /// `stageTimestamp` (falling back to [`Event::received_at`]).
    pub fn stage_at(&self) -> Result<Timestamp, EventError> {
        match &self.stage_timestamp {
            Some(t) => parse_ts("stageTimestamp", t),
            None => self.received_at(),
        }
    }

    /// The idempotency key: `(auditID, stage, stageTimestamp)` as written.
    pub fn dedup_key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}",
            self.audit_id,
            self.stage,
            self.stage_timestamp
                .as_deref()
                .or(self.request_received_timestamp.as_deref())
                .unwrap_or("")
        )
    }

    /// The HTTP response code, if the event has one.
    pub fn code(&self) -> Option<i64> {
        self.response_status.as_ref().and_then(|s| s.code)
    }
}

/// Fails unless the (already parsed) JSON text is an object: serde also reads
/// a struct from an array of its fields, and an audit event or list never is one.
pub fn require_object(json: &[u8], what: &str) -> Result<(), EventError> {
    match json.trim_ascii_start().first() {
        Some(b'{') => Ok(()),
        _ => Err(EventError::Malformed(format!(
            "expected {what} as a JSON object, found a JSON array"
        ))),
    }
}

fn parse_ts(field: &'static str, value: &str) -> Result<Timestamp, EventError> {
    value
        .parse::<Timestamp>()
        .map_err(|_| EventError::BadTimestamp {
            field,
            value: value.to_string(),
        })
}

/// An `EventList` (`audit.k8s.io/v1` or `v1beta1`) with typed items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    /// `EventList`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `audit.k8s.io/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// List metadata (ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// The events.
    #[serde(default)]
    pub items: Vec<Event>,
}

impl EventList {
    /// A `audit.k8s.io/v1` list holding `items`.
    pub fn v1(items: Vec<Event>) -> EventList {
        EventList {
            kind: Some("EventList".into()),
            api_version: Some(AUDIT_V1.into()),
            metadata: Some(Value::Object(Default::default())),
            items,
        }
    }
}

/// An `EventList` whose items are kept as the exact bytes received, so that
/// one malformed item does not fail the whole list and stored events are
/// byte-for-byte what the apiserver sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEventList {
    /// `EventList`.
    #[serde(default)]
    pub kind: Option<Value>,
    /// `audit.k8s.io/v1`.
    #[serde(default)]
    pub api_version: Option<Value>,
    /// The items, unparsed.
    #[serde(default)]
    pub items: Vec<Box<RawValue>>,
}

impl RawEventList {
    /// Parses a list body, checking `kind` and `apiVersion` when present.
    pub fn from_slice(body: &[u8]) -> Result<RawEventList, EventError> {
        let list: RawEventList =
            serde_json::from_slice(body).map_err(|e| EventError::Malformed(e.to_string()))?;
        require_object(body, "an EventList")?;
        if let Some(kind) = &list.kind
            && kind.as_str() != Some("EventList")
        {
            return Err(EventError::WrongType {
                field: "kind",
                value: kind.to_string(),
            });
        }
        if let Some(v) = &list.api_version
            && v.as_str() != Some(AUDIT_V1)
            && v.as_str() != Some(AUDIT_V1BETA1)
        {
            return Err(EventError::WrongType {
                field: "apiVersion",
                value: v.to_string(),
            });
        }
        Ok(list)
    }
}

/// One item of an ingested batch: its bytes exactly as received, and the
/// validated event or why it cannot be indexed.
#[derive(Debug)]
pub struct DecodedItem {
    /// The item's JSON as received (stored byte for byte).
    pub raw: Box<RawValue>,
    /// The parsed and validated event, or the reason it was rejected.
    pub event: Result<Event, EventError>,
}

/// Decodes and validates the body of `POST /v1/events`: the list is checked
/// as a whole by [`RawEventList::from_slice`] (an error here rejects the whole
/// body), then every item is parsed and validated on its own, so one bad item
/// is reported without failing the others.
pub fn decode_batch(body: &[u8]) -> Result<Vec<DecodedItem>, EventError> {
    let list = RawEventList::from_slice(body)?;
    Ok(list
        .items
        .into_iter()
        .map(|raw| {
            let event = Event::from_json(raw.get());
            DecodedItem { raw, event }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGACY: &str = r#"{"annotations":{"authorization.k8s.io/decision":"allow"},"auditID":"14933b4e","kind":"Event","level":"Request","metadata":{"creationTimestamp":"2018-10-26T13:42:46Z"},"objectRef":{"apiVersion":"v1","name":"p","namespace":"default","resource":"pods","subresource":"attach"},"requestReceivedTimestamp":"2018-10-26T13:42:46.764713Z","requestURI":"/api/v1/x","responseStatus":{"code":101,"metadata":{}},"sourceIPs":["192.168.99.1"],"stage":"ResponseStarted","stageTimestamp":"2018-10-26T13:42:46.808261Z","timestamp":"2018-10-26T13:42:46Z","user":{"groups":["system:masters"],"username":"minikube-user"},"verb":"create"}"#;

    #[test]
    fn parses_legacy_shape() {
        let e = Event::from_json(LEGACY).unwrap();
        assert_eq!(e.user.username, "minikube-user");
        assert_eq!(e.code(), Some(101));
        assert_eq!(
            e.object_ref.as_ref().unwrap().subresource.as_deref(),
            Some("attach")
        );
        assert!(e.metadata.is_some());
    }

    #[test]
    fn rejects_placeholder_and_missing_fields() {
        assert!(matches!(
            Event::from_json(r#"{"kind": 0}"#),
            Err(EventError::Malformed(_))
        ));
        assert_eq!(
            Event::from_json(r#"{"stage":"ResponseComplete","verb":"get"}"#),
            Err(EventError::Missing("auditID"))
        );
        let bad_ts = LEGACY.replace("2018-10-26T13:42:46.764713Z", "yesterday");
        assert!(matches!(
            Event::from_json(&bad_ts),
            Err(EventError::BadTimestamp { .. })
        ));
    }

    #[test]
    fn raw_list_keeps_bad_items() {
        let body = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{LEGACY},{{"kind":0}}]}}"#
        );
        let list = RawEventList::from_slice(body.as_bytes()).unwrap();
        assert_eq!(list.items.len(), 2);
        assert_eq!(list.items[0].get(), LEGACY);
        assert!(Event::from_json(list.items[1].get()).is_err());
        assert!(RawEventList::from_slice(br#"{"kind":"PodList","items":[]}"#).is_err());
    }

    #[test]
    fn decode_batch_validates_each_item() {
        let body = format!(
            r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{LEGACY},{{"kind":0}},{{"auditID":"x"}}]}}"#
        );
        let items = decode_batch(body.as_bytes()).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].raw.get(), LEGACY);
        assert_eq!(items[0].event.as_ref().unwrap().audit_id, "14933b4e");
        assert!(matches!(items[1].event, Err(EventError::Malformed(_))));
        assert_eq!(items[2].event, Err(EventError::Missing("stage")));
        assert!(matches!(decode_batch(b"[]"), Err(EventError::Malformed(_))));
    }

    #[test]
    fn dedup_key_uses_stage_and_stage_timestamp() {
        let a = Event::from_json(LEGACY).unwrap();
        let mut b = a.clone();
        b.stage = "ResponseComplete".into();
        assert_ne!(a.dedup_key(), b.dedup_key());
        assert_eq!(a.dedup_key(), a.clone().dedup_key());
    }
}
