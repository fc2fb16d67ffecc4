//! Discovery (`/apis`, `/apis/audit.kubext.io`, `/apis/audit.kubext.io/v1alpha1`),
//! `/version`, and the OpenAPI documents (`/openapi/v2`, `/openapi/v3`) kubectl
//! and the aggregator read.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::status::json_response;
use super::{API_VERSION, GROUP, KIND, RESOURCE, VERSION};

fn group_version() -> Value {
    json!({"groupVersion": API_VERSION, "version": VERSION})
}

fn group() -> Value {
    json!({
        "name": GROUP,
        "versions": [group_version()],
        "preferredVersion": group_version(),
    })
}

/// `/apis`: the one group.
pub(crate) fn apis() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": [group()]}),
    )
}

/// `/apis/audit.kubext.io`.
pub(crate) fn api_group() -> Response {
    let mut g = group();
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    json_response(StatusCode::OK, &g)
}

/// `/apis/audit.kubext.io/v1alpha1`: the APIResourceList.
pub(crate) fn resources() -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": API_VERSION,
            "resources": [{
                "name": RESOURCE,
                "singularName": "auditevent",
                "namespaced": true,
                "kind": KIND,
                "verbs": ["get", "list", "watch"],
                "categories": ["kubext"],
            }],
        }),
    )
}

/// `/version`: the sink's version in the apiserver's shape.
pub(crate) fn version() -> Response {
    let v = env!("CARGO_PKG_VERSION");
    let mut parts = v.split('.');
    json_response(
        StatusCode::OK,
        &json!({
            "major": parts.next().unwrap_or("0"),
            "minor": parts.next().unwrap_or("0"),
            "gitVersion": format!("v{v}"),
            "gitCommit": "",
            "gitTreeState": "",
            "buildDate": "",
            "goVersion": "",
            "compiler": "rustc",
            "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        }),
    )
}

const DEFINITION: &str = "io.kubext.audit.v1alpha1.AuditEvent";
const LIST_DEFINITION: &str = "io.kubext.audit.v1alpha1.AuditEventList";

fn gvk(kind: &str) -> Value {
    json!([{"group": GROUP, "version": VERSION, "kind": kind}])
}

/// The schemas of AuditEvent and AuditEventList; `ref_prefix` is
/// `#/definitions/` (v2) or `#/components/schemas/` (v3).
fn schemas(ref_prefix: &str) -> Value {
    json!({
        DEFINITION: {
            "description": "One audit event as the kube-apiserver sent it to the sink, read-only.",
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string", "description": "audit.kubext.io/v1alpha1"},
                "kind": {"type": "string", "description": "AuditEvent"},
                "metadata": {
                    "type": "object",
                    "description": "name: auditID.stage (stage in lower case); namespace: objectRef.namespace; creationTimestamp: stageTimestamp.",
                    "properties": {
                        "name": {"type": "string"},
                        "namespace": {"type": "string"},
                        "creationTimestamp": {"type": "string", "format": "date-time"},
                    },
                },
                "event": {
                    "type": "object",
                    "description": "The audit.k8s.io/v1 Event, unchanged.",
                    "x-kubernetes-preserve-unknown-fields": true,
                },
            },
            "x-kubernetes-group-version-kind": gvk(KIND),
        },
        LIST_DEFINITION: {
            "description": "A page of AuditEvents, newest first; metadata.continue names the next page.",
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {
                    "type": "object",
                    "properties": {"continue": {"type": "string"}},
                },
                "items": {"type": "array", "items": {"$ref": format!("{ref_prefix}{DEFINITION}")}},
            },
            "x-kubernetes-group-version-kind": gvk("AuditEventList"),
        },
    })
}

fn path_items(ref_prefix: &str, v3: bool) -> Value {
    let response = |def: &str| {
        let schema = json!({"$ref": format!("{ref_prefix}{def}")});
        if v3 {
            json!({"description": "OK", "content": {"application/json": {"schema": schema}}})
        } else {
            json!({"description": "OK", "schema": schema})
        }
    };
    let op = |id: &str, verb: &str, def: &str| {
        json!({
            "operationId": id,
            "x-kubernetes-action": verb,
            "x-kubernetes-group-version-kind": {"group": GROUP, "version": VERSION, "kind": KIND},
            "responses": {"200": response(def)},
        })
    };
    let base = format!("/apis/{GROUP}/{VERSION}");
    json!({
        format!("{base}/{RESOURCE}"): {"get": op("listAuditEventForAllNamespaces", "list", LIST_DEFINITION)},
        format!("{base}/namespaces/{{namespace}}/{RESOURCE}"): {"get": op("listNamespacedAuditEvent", "list", LIST_DEFINITION)},
        format!("{base}/namespaces/{{namespace}}/{RESOURCE}/{{name}}"): {"get": op("readNamespacedAuditEvent", "get", DEFINITION)},
    })
}

/// `/openapi/v2`.
pub(crate) fn openapi_v2() -> Response {
    let prefix = "#/definitions/";
    json_response(
        StatusCode::OK,
        &json!({
            "swagger": "2.0",
            "info": {"title": "kubext audit-sink", "version": env!("CARGO_PKG_VERSION")},
            "paths": path_items(prefix, false),
            "definitions": schemas(prefix),
        }),
    )
}

/// The path of the group-version's OpenAPI v3 document.
pub(crate) fn openapi_v3_path() -> String {
    format!("/openapi/v3/apis/{GROUP}/{VERSION}")
}

/// `/openapi/v3`: where each group-version's document is.
pub(crate) fn openapi_v3_root() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"paths": {
            format!("apis/{GROUP}/{VERSION}"): {"serverRelativeURL": openapi_v3_path()},
        }}),
    )
}

/// `/openapi/v3/apis/audit.kubext.io/v1alpha1`.
pub(crate) fn openapi_v3() -> Response {
    let prefix = "#/components/schemas/";
    json_response(
        StatusCode::OK,
        &json!({
            "openapi": "3.0.0",
            "info": {"title": "kubext audit-sink", "version": env!("CARGO_PKG_VERSION")},
            "paths": path_items(prefix, true),
            "components": {"schemas": schemas(prefix)},
        }),
    )
}
