//! PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (applied
//! as a merge patch, which is what it amounts to for maps such as labels,
//! annotations and a Secret's data) and JSON patch (RFC 6902), with the
//! `json-patch` crate.

use serde_json::Value;

/// Why a JSON patch was not applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JsonPatchError {
    /// The body is not a list of RFC 6902 operations.
    #[error("the body is not a JSON patch (a list of operations): {0}")]
    Invalid(#[source] serde_json::Error),
    /// An operation failed (missing path, failed test…); nothing was changed.
    #[error(transparent)]
    Failed(#[from] json_patch::PatchError),
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// RFC 6902 operations: add, remove, replace, move, copy, test; all or nothing.
pub(crate) fn json_patch(doc: &mut Value, ops: &Value) -> Result<(), JsonPatchError> {
    let patch: json_patch::Patch =
        serde_json::from_value(ops.clone()).map_err(JsonPatchError::Invalid)?;
    json_patch::patch(doc, &patch)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch() {
        let mut doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "data": {"k": "dg=="}});
        merge(
            &mut doc,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}, "type": "Opaque"}),
        );
        assert_eq!(
            doc,
            json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "data": {"k": "dg=="}, "type": "Opaque"})
        );
    }

    #[test]
    fn json_patch_ops() {
        let mut doc = json!({"metadata": {"labels": {"a/b": "1"}}, "list": [1, 2]});
        json_patch(
            &mut doc,
            &json!([
                {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
                {"op": "add", "path": "/list/-", "value": 3},
                {"op": "remove", "path": "/list/0"},
                {"op": "test", "path": "/list", "value": [2, 3]},
            ]),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"metadata": {"labels": {"a/b": "2"}}, "list": [2, 3]})
        );
        let before = doc.clone();
        let err = json_patch(
            &mut doc,
            &json!([
                {"op": "add", "path": "/list/-", "value": 4},
                {"op": "remove", "path": "/nope"},
            ]),
        )
        .unwrap_err();
        assert!(matches!(err, JsonPatchError::Failed(_)), "{err}");
        assert_eq!(doc, before, "a failed patch changes nothing");
        let err = json_patch(&mut doc, &json!({"op": "add"})).unwrap_err();
        assert!(matches!(err, JsonPatchError::Invalid(_)), "{err}");
    }
}
