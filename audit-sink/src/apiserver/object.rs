//! The `AuditEvent` object: the stored event unchanged under `event`, with
//! object metadata derived from it.
//!
//! ```json
//! {"apiVersion":"audit.kubext.io/v1alpha1","kind":"AuditEvent",
//!  "metadata":{"name":"AUDITID.STAGE","namespace":"…","creationTimestamp":"stageTimestamp"},
//!  "event":{…}}
//! ```

use audit_api::Event;
use serde::Serialize;
use serde_json::value::RawValue;

use super::{API_VERSION, KIND};

/// `metadata` of an AuditEvent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metadata {
    /// `AUDITID.STAGE`, the stage in lower case (`…​.responsecomplete`).
    pub name: String,
    /// `objectRef.namespace`; absent for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `stageTimestamp` as the event has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Position of a watched event (see `history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// One stored event, parsed once for its metadata and table cells.
pub(crate) struct Stored {
    /// The original bytes.
    pub raw: Box<RawValue>,
    /// The parsed event.
    pub event: Event,
}

impl Stored {
    /// Parses stored bytes (`None` if they are not an event, which the index never holds).
    pub fn parse(raw: &[u8]) -> Option<Stored> {
        let text = std::str::from_utf8(raw).ok()?;
        let raw = RawValue::from_string(text.to_string()).ok()?;
        let event: Event = serde_json::from_str(raw.get()).ok()?;
        Some(Stored { raw, event })
    }

    /// The object metadata.
    pub fn metadata(&self) -> Metadata {
        let e = &self.event;
        Metadata {
            name: format!("{}.{}", e.audit_id, e.stage.to_ascii_lowercase()),
            namespace: e
                .object_ref
                .as_ref()
                .and_then(|o| o.namespace.clone())
                .filter(|n| !n.is_empty()),
            creation_timestamp: e
                .stage_timestamp
                .clone()
                .or_else(|| e.request_received_timestamp.clone()),
            resource_version: None,
        }
    }

    /// The AuditEvent object.
    pub fn object(&self) -> Object<'_> {
        self.object_at(None)
    }

    /// The AuditEvent object with its `metadata.resourceVersion` (a watch's).
    pub fn object_at(&self, resource_version: Option<String>) -> Object<'_> {
        let mut metadata = self.metadata();
        metadata.resource_version = resource_version;
        Object {
            api_version: API_VERSION,
            kind: KIND,
            metadata,
            event: &self.raw,
        }
    }
}

/// An AuditEvent as served.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Object<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    event: &'a RawValue,
}

/// `metadata` of a list.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMeta {
    /// The sink's position when the list was made: watch from it to get
    /// every event stored after the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The cursor of the next page.
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_: Option<String>,
}

/// An `AuditEventList`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct List<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ListMeta,
    pub items: Vec<Object<'a>>,
}
