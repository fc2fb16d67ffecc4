//! `meta.k8s.io/v1` `Table` answers (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`),
//! which `kubectl get` prints: the columns a person reads an audit trail by.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::object::{ListMeta, Stored};

/// Whether the `Accept` header asks for a Table.
pub(crate) fn wants_table(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return false;
    };
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.first().is_some_and(|t| *t == "application/json")
            && params.contains(&"as=Table")
            && params.contains(&"g=meta.k8s.io")
            && params.contains(&"v=v1")
    })
}

/// What rows carry as `object` (`?includeObject=`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    /// Nothing.
    None,
    /// `PartialObjectMetadata` (the default).
    Metadata,
    /// The whole AuditEvent.
    Object,
}

/// An `includeObject` value the API does not serve.
#[derive(Debug, thiserror::Error)]
#[error("includeObject: unsupported value {0:?}: use None, Metadata or Object")]
pub(crate) struct UnsupportedIncludeObject(String);

impl IncludeObject {
    /// From the query parameter; unknown values are the caller's mistake.
    pub fn parse(v: Option<&str>) -> Result<IncludeObject, UnsupportedIncludeObject> {
        match v.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(UnsupportedIncludeObject(other.to_string())),
        }
    }
}

fn column(name: &str, kind: &str, format: &str, description: &str, priority: u8) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": priority})
}

/// Seconds precision is what a person reads; the event keeps microseconds.
fn short_time(ts: Option<&str>) -> String {
    match ts.and_then(|t| t.parse::<jiff::Timestamp>().ok()) {
        Some(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => ts.unwrap_or("").to_string(),
    }
}

/// The Table of `events`; a Cluster column when they come from more than one cluster.
pub(crate) fn table(events: &[Stored], meta: ListMeta, include: IncludeObject) -> Value {
    let clusters: BTreeSet<&str> = events
        .iter()
        .map(|s| audit_api::fields::event_cluster(&s.event))
        .collect();
    let with_cluster = clusters.len() > 1;
    let mut columns = vec![
        column("Time", "string", "date-time", "requestReceivedTimestamp", 0),
        column("User", "string", "", "user.username", 0),
        column("Verb", "string", "", "verb", 0),
        column(
            "Resource",
            "string",
            "",
            "objectRef.resource[/subresource]",
            0,
        ),
        column("Object", "string", "", "objectRef.namespace/name", 0),
        column("Code", "integer", "", "responseStatus.code", 0),
    ];
    if with_cluster {
        columns.push(column(
            "Cluster",
            "string",
            "",
            "the cluster the event came from",
            0,
        ));
    }
    columns.push(column("Stage", "string", "", "stage", 1));
    columns.push(column(
        "Name",
        "string",
        "name",
        "the AuditEvent's name: auditID.stage",
        1,
    ));
    let rows: Vec<Value> = events
        .iter()
        .map(|s| {
            let e = &s.event;
            let o = e.object_ref.clone().unwrap_or_default();
            let resource = match (o.resource.as_deref(), o.subresource.as_deref()) {
                (Some(r), Some(sub)) if !sub.is_empty() => format!("{r}/{sub}"),
                (Some(r), _) => r.to_string(),
                (None, _) => String::new(),
            };
            let object = match (
                o.namespace.as_deref().filter(|n| !n.is_empty()),
                o.name.as_deref(),
            ) {
                (Some(ns), Some(n)) => format!("{ns}/{n}"),
                (Some(ns), None) => format!("{ns}/"),
                (None, Some(n)) => n.to_string(),
                (None, None) => String::new(),
            };
            let mut cells = vec![
                json!(short_time(
                    e.request_received_timestamp
                        .as_deref()
                        .or(e.timestamp.as_deref())
                )),
                json!(e.user.username),
                json!(e.verb),
                json!(resource),
                json!(object),
                e.code().map_or(Value::Null, |c| json!(c)),
            ];
            if with_cluster {
                cells.push(json!(audit_api::fields::event_cluster(e)));
            }
            cells.push(json!(e.stage));
            let meta = s.metadata();
            cells.push(json!(meta.name));
            let mut row = json!({"cells": cells});
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": meta,
                    });
                }
                IncludeObject::Object => {
                    row["object"] = serde_json::to_value(s.object()).unwrap_or(Value::Null);
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_kubectls_accept_header() {
        assert!(wants_table(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        )));
        assert!(!wants_table(Some("application/json")));
        assert!(!wants_table(None));
    }
}
