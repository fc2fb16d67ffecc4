//! The little of `/openapi/v3` kubectl needs to validate on the server side:
//! the index of group versions and, for each, the PATCH operations of its
//! resources declaring the `fieldValidation` query parameter. With that,
//! `kubectl apply` and `kubectl create` send `fieldValidation=Strict` instead of
//! downloading schemas for client-side validation. No schemas are served.

use serde_json::{Map, Value, json};

use crate::store::ResourceType;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group version's document is.
pub(crate) fn index(types: &[ResourceType]) -> Value {
    let mut paths = Map::new();
    for t in types {
        let path = gv_path(&t.group, &t.version);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}")}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/{api/v1 | apis/group/version}`: the PATCH operations.
pub(crate) fn group_version(types: &[ResourceType], gv: &str) -> Option<Value> {
    let mut paths = Map::new();
    for t in types.iter().filter(|t| gv_path(&t.group, &t.version) == gv) {
        let scope = if t.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        paths.insert(
            format!("/{gv}{scope}/{}/{{name}}", t.plural),
            json!({
                "patch": {
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": {"group": t.group, "version": t.version, "kind": t.kind},
                    "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}]
                }
            }),
        );
    }
    (!paths.is_empty()).then(|| {
        json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": crate::discovery::GIT_VERSION},
            "paths": paths,
            "components": {"schemas": {}}
        })
    })
}
