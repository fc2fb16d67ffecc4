//! Google GKE: the apiserver's audit log as Cloud Logging `LogEntry`s
//! (`protoPayload.@type` `type.googleapis.com/google.cloud.audit.AuditLog`,
//! `serviceName` `k8s.io`, logs `cloudaudit.googleapis.com/activity` and
//! `/data_access`), read from `gcloud logging read --format=json` (a JSON
//! array), Cloud Storage sink files (one entry per line) and Pub/Sub messages
//! (one entry each).
//!
//! An entry is not an audit Event: this adapter builds one.
//!
//! | Event field | from |
//! |---|---|
//! | `verb` | the last segment of `methodName` (`io.k8s.core.v1.pods.create` → `create`) |
//! | `objectRef` | `resourceName` (`core/v1/namespaces/NS/RESOURCE/NAME[/SUB]`; `core` is the core group) |
//! | `requestURI` | rebuilt from `resourceName` (`/api/v1/…` or `/apis/GROUP/VERSION/…`; no query string) |
//! | `user.username` | `authenticationInfo.principalEmail` |
//! | `sourceIPs` | `requestMetadata.callerIp` |
//! | `userAgent` | `requestMetadata.callerSuppliedUserAgent` |
//! | `requestObject`, `responseObject` | `request`, `response` |
//! | `responseStatus.code` | `response.code` when present, else `status` (gRPC code → HTTP, `OK` → 201 for `create`, 200 otherwise) |
//! | `auditID` | `operation.id` (the apiserver's audit ID), else the entry's `insertId` |
//! | `annotations` | the entry's `labels` |
//! | `requestReceivedTimestamp`, `stageTimestamp` | the entry's `timestamp` |
//! | cluster | `resource.labels.cluster_name` |
//!
//! GKE does not carry the request's query string (a `LogEntry` has the
//! resource, not the URL: `requestURI` is the path alone, without
//! `?watch=true`, `?dryRun=All`, `?labelSelector=…`), nor the user's groups,
//! uid or extra, impersonation, or the stage: events have no groups; the stage is `ResponseComplete`, or
//! `ResponseStarted` for the first of two entries of one long request
//! (`operation.first` without `operation.last`); the level is
//! `RequestResponse`, `Request` or `Metadata` from which objects are present.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    CLOUD_ANNOTATION, CLUSTER_ANNOTATION, Context, DeadReason, Decoded, LOCATION_ANNOTATION,
    LOG_NAME_ANNOTATION, PROJECT_ANNOTATION, parse_unit, str_at,
};

/// `protoPayload.@type` of Cloud Audit Logs entries.
pub const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";
/// `protoPayload.serviceName` of Kubernetes audit entries.
pub const K8S_SERVICE: &str = "k8s.io";

/// Decodes a unit: one `LogEntry`, or a JSON array of them.
pub fn decode(unit: &[u8], ctx: &Context) -> Decoded {
    let mut out = Decoded::default();
    let Some(value) = parse_unit(unit, "a Cloud Logging LogEntry", &mut out) else {
        return out;
    };
    match value {
        Value::Array(entries) => {
            for (i, e) in entries.into_iter().enumerate() {
                entry(e, ctx, format!("[{i}]"), &mut out);
            }
        }
        e => entry(e, ctx, String::new(), &mut out),
    }
    out
}

/// Decodes one `LogEntry` value into `out`.
pub fn entry(e: Value, ctx: &Context, location: String, out: &mut Decoded) {
    let original = e.to_string();
    match to_event(&e, ctx) {
        Ok((event, ann)) => out.event_value(event, &ann, location, original.as_bytes()),
        Err(reason) => out.dead(reason, location, original),
    }
}

/// Provenance annotations to add to a built event.
type Provenance = BTreeMap<&'static str, String>;

fn to_event(e: &Value, ctx: &Context) -> Result<(Map<String, Value>, Provenance), DeadReason> {
    if !e.is_object() {
        return Err(DeadReason::Malformed("a LogEntry is a JSON object".into()));
    }
    let Some(p) = e.get("protoPayload") else {
        return Err(DeadReason::NotKubernetes("no protoPayload".into()));
    };
    let ty = str_at(p, &["@type"]).unwrap_or("");
    if ty != AUDIT_LOG_TYPE {
        return Err(DeadReason::NotKubernetes(format!(
            "protoPayload is {ty:?}, not an AuditLog"
        )));
    }
    let service = str_at(p, &["serviceName"]).unwrap_or("");
    if service != K8S_SERVICE {
        return Err(DeadReason::NotKubernetes(format!(
            "serviceName is {service:?}, not k8s.io"
        )));
    }
    let method = str_at(p, &["methodName"])
        .ok_or_else(|| DeadReason::Malformed("AuditLog without methodName".into()))?;
    let verb = method.rsplit('.').next().unwrap_or(method);
    let time = str_at(e, &["timestamp"])
        .ok_or_else(|| DeadReason::Malformed("LogEntry without timestamp".into()))?;
    let audit_id = str_at(e, &["operation", "id"])
        .filter(|s| !s.is_empty())
        .or_else(|| str_at(e, &["insertId"]))
        .ok_or_else(|| DeadReason::Malformed("LogEntry without insertId or operation.id".into()))?;

    let mut ev = Map::new();
    ev.insert("kind".into(), json!("Event"));
    ev.insert("apiVersion".into(), json!(crate::event::AUDIT_V1));
    let request = p.get("request").filter(|v| !v.is_null());
    let response = p.get("response").filter(|v| !v.is_null());
    let level = match (request, response) {
        (_, Some(_)) => "RequestResponse",
        (Some(_), None) => "Request",
        _ => "Metadata",
    };
    ev.insert("level".into(), json!(level));
    ev.insert("auditID".into(), json!(audit_id));
    let first = e
        .pointer("/operation/first")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let last = e
        .pointer("/operation/last")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let stage = if first && !last {
        "ResponseStarted"
    } else {
        "ResponseComplete"
    };
    ev.insert("stage".into(), json!(stage));
    ev.insert("verb".into(), json!(verb));
    let mut user = Map::new();
    user.insert(
        "username".into(),
        json!(str_at(p, &["authenticationInfo", "principalEmail"]).unwrap_or("")),
    );
    ev.insert("user".into(), Value::Object(user));
    if let Some(ip) = str_at(p, &["requestMetadata", "callerIp"]) {
        ev.insert("sourceIPs".into(), json!([ip]));
    }
    if let Some(ua) = str_at(p, &["requestMetadata", "callerSuppliedUserAgent"]) {
        ev.insert("userAgent".into(), json!(ua));
    }
    let resource_name = str_at(p, &["resourceName"]).unwrap_or("");
    // The path alone: the entry does not carry the query string.
    let (object_ref, uri) = object_ref(resource_name);
    ev.insert("requestURI".into(), json!(uri));
    if let Some(o) = object_ref {
        ev.insert("objectRef".into(), Value::Object(o));
    }
    let code = response
        .and_then(|r| r.get("code"))
        .and_then(Value::as_i64)
        .filter(|c| (100..=599).contains(c))
        .unwrap_or_else(|| {
            let grpc = p
                .pointer("/status/code")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            http_code(grpc, verb)
        });
    let mut status = Map::new();
    status.insert("code".into(), json!(code));
    if let Some(m) = p.pointer("/status/message").and_then(Value::as_str)
        && !m.is_empty()
    {
        status.insert("message".into(), json!(m));
    }
    ev.insert("responseStatus".into(), Value::Object(status));
    if let Some(r) = request {
        ev.insert("requestObject".into(), r.clone());
    }
    if let Some(r) = response {
        ev.insert("responseObject".into(), r.clone());
    }
    ev.insert("requestReceivedTimestamp".into(), json!(time));
    ev.insert("stageTimestamp".into(), json!(time));
    if let Some(Value::Object(labels)) = e.get("labels") {
        let ann: Map<String, Value> = labels
            .iter()
            .filter(|(_, v)| v.is_string())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !ann.is_empty() {
            ev.insert("annotations".into(), Value::Object(ann));
        }
    }

    let mut ann = BTreeMap::new();
    ann.insert(CLOUD_ANNOTATION, "gke".to_string());
    let cluster = str_at(e, &["resource", "labels", "cluster_name"])
        .map(str::to_string)
        .or_else(|| ctx.cluster.clone());
    if let Some(c) = cluster {
        ann.insert(CLUSTER_ANNOTATION, c);
    }
    if let Some(project) = str_at(e, &["resource", "labels", "project_id"]) {
        ann.insert(PROJECT_ANNOTATION, project.to_string());
    }
    if let Some(location) = str_at(e, &["resource", "labels", "location"]) {
        ann.insert(LOCATION_ANNOTATION, location.to_string());
    }
    if let Some(log) = str_at(e, &["logName"]) {
        ann.insert(LOG_NAME_ANNOTATION, log.to_string());
    }
    Ok((ev, ann))
}

/// Splits a GKE `resourceName` into an `objectRef` and a request URI.
fn object_ref(resource_name: &str) -> (Option<Map<String, Value>>, String) {
    let segs: Vec<&str> = resource_name.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 3 {
        return (None, format!("/{resource_name}"));
    }
    let (group, version, rest) = (segs[0], segs[1], &segs[2..]);
    let prefix = if group == "core" {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let uri = format!("{prefix}/{}", rest.join("/"));
    let (namespace, resource, name, sub) = match rest {
        ["namespaces", ns, res, tail @ ..]
            if !(rest.len() == 3 && matches!(*res, "status" | "finalize")) =>
        {
            (Some(*ns), *res, tail.first().copied(), tail.get(1).copied())
        }
        [res, tail @ ..] => (None, *res, tail.first().copied(), tail.get(1).copied()),
        [] => return (None, uri),
    };
    let mut o = Map::new();
    o.insert("resource".into(), json!(resource));
    if let Some(ns) = namespace {
        o.insert("namespace".into(), json!(ns));
    }
    if let Some(n) = name {
        o.insert("name".into(), json!(n));
    }
    if group != "core" {
        o.insert("apiGroup".into(), json!(group));
    }
    o.insert("apiVersion".into(), json!(version));
    if let Some(s) = sub {
        o.insert("subresource".into(), json!(s));
    }
    (Some(o), uri)
}

/// The HTTP code the apiserver answered, from the entry's gRPC status code
/// (`google.rpc.Code`) and the verb.
pub fn http_code(grpc: i64, verb: &str) -> i64 {
    match grpc {
        0 if verb == "create" => 201,
        0 => 200,
        1 => 499,
        3 | 11 => 400,
        9 => 422,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Format, decode as decode_any};

    fn entry_json(method: &str, resource: &str, status: Value, response: Option<Value>) -> Value {
        let mut p = json!({
            "@type": AUDIT_LOG_TYPE,
            "authenticationInfo": {"principalEmail": "alice@example.com"},
            "methodName": method,
            "requestMetadata": {"callerIp": "203.0.113.7", "callerSuppliedUserAgent": "kubectl/v1.30.0"},
            "resourceName": resource,
            "serviceName": "k8s.io",
            "status": status,
        });
        if let Some(r) = response {
            p["response"] = r;
        }
        json!({
            "insertId": "ins-1",
            "labels": {"authorization.k8s.io/decision": "allow"},
            "logName": "projects/demo/logs/cloudaudit.googleapis.com%2Factivity",
            "operation": {"first": true, "last": true, "id": "6c5bd3a8-0000", "producer": "k8s.io"},
            "protoPayload": p,
            "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-prod", "location": "europe-west1", "project_id": "demo"}},
            "timestamp": "2024-05-01T10:00:00.123456Z",
            "receiveTimestamp": "2024-05-01T10:00:01Z",
        })
    }

    #[test]
    fn maps_a_create_to_an_event() {
        let e = entry_json(
            "io.k8s.core.v1.pods.create",
            "core/v1/namespaces/prod/pods/web",
            json!({}),
            None,
        );
        let d = decode(e.to_string().as_bytes(), &Context::default());
        assert!(d.dead.is_empty(), "{:?}", d.dead);
        let ev = &d.events[0].event;
        assert_eq!(ev.verb, "create");
        assert_eq!(ev.user.username, "alice@example.com");
        assert_eq!(ev.audit_id, "6c5bd3a8-0000");
        assert_eq!(ev.code(), Some(201));
        assert_eq!(ev.stage, "ResponseComplete");
        assert_eq!(ev.request_uri, "/api/v1/namespaces/prod/pods/web");
        assert_eq!(ev.source_ips, vec!["203.0.113.7"]);
        let o = ev.object_ref.as_ref().unwrap();
        assert_eq!(o.resource.as_deref(), Some("pods"));
        assert_eq!(o.namespace.as_deref(), Some("prod"));
        assert_eq!(o.name.as_deref(), Some("web"));
        assert_eq!(o.api_group, None);
        assert_eq!(ev.annotations["authorization.k8s.io/decision"], "allow");
        assert_eq!(ev.annotations[CLUSTER_ANNOTATION], "gke-prod");
        assert_eq!(ev.annotations[PROJECT_ANNOTATION], "demo");
        assert_eq!(ev.annotations[LOCATION_ANNOTATION], "europe-west1");
        assert!(ev.user.groups.is_empty());
    }

    #[test]
    fn status_codes_and_subresources() {
        let e = entry_json(
            "io.k8s.core.v1.pods.exec.create",
            "core/v1/namespaces/prod/pods/web/exec",
            json!({"code": 7, "message": "forbidden"}),
            None,
        );
        let d = decode_any(Format::Gke, e.to_string().as_bytes(), &Context::default());
        let ev = &d.events[0].event;
        assert_eq!(ev.code(), Some(403));
        assert_eq!(
            ev.object_ref.as_ref().unwrap().subresource.as_deref(),
            Some("exec")
        );

        let e = entry_json(
            "io.k8s.apps.v1.deployments.get",
            "apps/v1/namespaces/prod/deployments/api",
            json!({"code": 5}),
            Some(json!({"kind": "Status", "code": 404, "reason": "NotFound"})),
        );
        let ev = &decode(e.to_string().as_bytes(), &Context::default()).events[0].event;
        assert_eq!(ev.code(), Some(404));
        assert_eq!(ev.level, "RequestResponse");
        assert_eq!(
            ev.request_uri,
            "/apis/apps/v1/namespaces/prod/deployments/api"
        );
        assert_eq!(
            ev.object_ref.as_ref().unwrap().api_group.as_deref(),
            Some("apps")
        );

        let e = entry_json(
            "io.k8s.authorization.rbac.v1.clusterroles.delete",
            "rbac.authorization.k8s.io/v1/clusterroles/view",
            json!({}),
            None,
        );
        let ev = &decode(e.to_string().as_bytes(), &Context::default()).events[0].event;
        let o = ev.object_ref.as_ref().unwrap();
        assert_eq!(
            (
                o.resource.as_deref(),
                o.name.as_deref(),
                o.namespace.as_deref()
            ),
            (Some("clusterroles"), Some("view"), None)
        );
        assert_eq!(ev.code(), Some(200));
    }

    #[test]
    fn arrays_and_non_kubernetes_entries() {
        let k8s = entry_json(
            "io.k8s.core.v1.namespaces.list",
            "core/v1/namespaces",
            json!({}),
            None,
        );
        let mut gce = k8s.clone();
        gce["protoPayload"]["serviceName"] = json!("compute.googleapis.com");
        let text =
            json!({"insertId": "t", "textPayload": "hello", "timestamp": "2024-05-01T10:00:00Z"});
        let unit = json!([k8s, gce, text]).to_string();
        assert_eq!(Format::detect(unit.as_bytes()), Some(Format::Gke));
        let d = decode(unit.as_bytes(), &Context::default());
        assert_eq!(d.events.len(), 1);
        let o = d.events[0].event.object_ref.as_ref().unwrap();
        assert_eq!(
            (o.resource.as_deref(), o.name.as_deref()),
            (Some("namespaces"), None)
        );
        assert_eq!(d.dead.len(), 2);
        assert!(d.dead.iter().all(|x| x.reason.label() == "not-kubernetes"));
        assert_eq!(d.dead[1].location, "[2]");
    }

    #[test]
    fn insert_id_is_the_audit_id_without_an_operation() {
        let mut e = entry_json(
            "io.k8s.core.v1.pods.get",
            "core/v1/namespaces/a/pods/b",
            json!({}),
            None,
        );
        e.as_object_mut().unwrap().remove("operation");
        let d = decode(e.to_string().as_bytes(), &Context::default());
        assert_eq!(d.events[0].event.audit_id, "ins-1");
    }
}
