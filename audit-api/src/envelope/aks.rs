//! Azure AKS: the diagnostic setting categories `kube-audit` (every request)
//! and `kube-audit-admin` (without `get` and `list`), exported as resource
//! log records `{"time","resourceId","category","operationName","properties":
//! {"log":"<Event JSON>","stream","pod"}}`: one per line in storage account
//! blobs (`…/PT1H.json`), or a batch `{"records":[…]}` in an Event Hub body.
//!
//! The cluster is the last segment of `resourceId`
//! (`/SUBSCRIPTIONS/…/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/<name>`),
//! lower-cased: Azure resource names are case-insensitive and exports write
//! the id in upper case. Records of other categories (`kube-apiserver`,
//! `guard`, …) are kept as [`DeadReason::OtherCategory`].

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    CLOUD_ANNOTATION, CLUSTER_ANNOTATION, Context, DeadReason, Decoded, RESOURCE_ID_ANNOTATION,
    parse_unit, str_at,
};

/// The diagnostic categories holding audit events.
pub const AUDIT_CATEGORIES: [&str; 2] = ["kube-audit", "kube-audit-admin"];

/// The managed cluster's name in an AKS `resourceId`, lower-cased.
pub fn cluster_of_resource_id(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.split('/').collect();
    let i = segs
        .iter()
        .position(|s| s.eq_ignore_ascii_case("managedClusters"))?;
    segs.get(i + 1)
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
}

/// Decodes a unit: one record, or an Event Hub body `{"records":[…]}`.
pub fn decode(unit: &[u8], ctx: &Context) -> Decoded {
    let mut out = Decoded::default();
    let Some(value) = parse_unit(unit, "an AKS diagnostic record", &mut out) else {
        return out;
    };
    match value.get("records") {
        Some(Value::Array(records)) => {
            for (i, r) in records.iter().enumerate() {
                record(r, ctx, format!("records[{i}]"), &mut out);
            }
        }
        Some(_) => out.dead(
            DeadReason::Malformed("`records` is not an array".into()),
            "",
            unit.trim_ascii(),
        ),
        None => record(&value, ctx, String::new(), &mut out),
    }
    out
}

fn record(r: &Value, ctx: &Context, location: String, out: &mut Decoded) {
    let Some(category) = str_at(r, &["category"]) else {
        return out.dead(
            DeadReason::Malformed("a diagnostic record without `category`".into()),
            location,
            r.to_string(),
        );
    };
    if !AUDIT_CATEGORIES.contains(&category) {
        return out.dead(
            DeadReason::OtherCategory(category.to_string()),
            location,
            r.to_string(),
        );
    }
    let log = match r.pointer("/properties/log") {
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(v @ Value::Object(_)) => v.to_string().into_bytes(),
        _ => {
            return out.dead(
                DeadReason::Malformed("a kube-audit record without `properties.log`".into()),
                location,
                r.to_string(),
            );
        }
    };
    let mut ann = BTreeMap::new();
    ann.insert(CLOUD_ANNOTATION, "aks".to_string());
    let id = str_at(r, &["resourceId"]);
    if let Some(id) = id {
        ann.insert(RESOURCE_ID_ANNOTATION, id.to_string());
    }
    if let Some(c) = id
        .and_then(cluster_of_resource_id)
        .or_else(|| ctx.cluster.clone())
    {
        ann.insert(CLUSTER_ANNOTATION, c);
    }
    out.event(&log, &ann, location);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::envelope::Format;

    const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"z1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets","verb":"list","user":{"username":"masterclient","groups":["system:masters"]},"objectRef":{"resource":"secrets","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2024-05-01T10:00:00.000000Z","stageTimestamp":"2024-05-01T10:00:00.100000Z"}"#;
    const ID: &str = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD";

    fn rec(category: &str) -> Value {
        json!({
            "time": "2024-05-01T10:00:00.1000000Z",
            "resourceId": ID,
            "category": category,
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"log": EVENT, "stream": "stdout", "pod": "kube-apiserver-abc"}
        })
    }

    #[test]
    fn a_blob_line_is_one_event_with_its_cluster() {
        let unit = rec("kube-audit").to_string();
        assert_eq!(Format::detect(unit.as_bytes()), Some(Format::Aks));
        let d = decode(unit.as_bytes(), &Context::default());
        let ev = &d.events[0].event;
        assert_eq!(ev.audit_id, "z1");
        assert_eq!(ev.annotations[CLUSTER_ANNOTATION], "aks-prod");
        assert_eq!(ev.annotations[RESOURCE_ID_ANNOTATION], ID);
        assert_eq!(ev.user.groups, vec!["system:masters"]);
    }

    #[test]
    fn event_hub_bodies_skip_other_categories() {
        let unit =
            json!({"records": [rec("kube-audit-admin"), rec("kube-apiserver"), rec("guard")]})
                .to_string();
        let d = decode(unit.as_bytes(), &Context::default());
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.dead.len(), 2);
        assert_eq!(
            d.dead[0].reason,
            DeadReason::OtherCategory("kube-apiserver".into())
        );
        assert_eq!(d.dead[1].location, "records[2]");
    }

    #[test]
    fn resource_ids() {
        assert_eq!(cluster_of_resource_id(ID).as_deref(), Some("aks-prod"));
        assert_eq!(cluster_of_resource_id("/subscriptions/x"), None);
    }
}
