//! The `-o json|yaml` view: the Secret with its values decoded, written the way
//! a manifest would carry them (`stringData`), so it can be read, edited and
//! applied again.

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Map, Value, json};

use crate::values::{SecretValues, is_printable_text};

/// The Secret with text values under `stringData` (decoded) and any binary
/// value left base64-encoded under `data`, so every value survives the trip.
/// `managedFields` is dropped; with `only_key`, the other keys are too.
pub fn decoded_secret(secret: &Secret, only_key: Option<&str>) -> Value {
    let values = SecretValues::from_secret(secret);
    let mut string_data = Map::new();
    let mut data = Map::new();
    for (key, bytes) in &values.entries {
        if only_key.is_some_and(|k| k != key) {
            continue;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) if is_printable_text(bytes) => {
                string_data.insert(key.clone(), Value::String(text.to_string()));
            }
            _ => {
                data.insert(
                    key.clone(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
            }
        }
    }
    let mut metadata = serde_json::to_value(&secret.metadata).unwrap_or_else(|_| json!({}));
    if let Some(m) = metadata.as_object_mut() {
        m.remove("managedFields");
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Secret"));
    out.insert("metadata".into(), metadata);
    out.insert("type".into(), json!(values.secret_type));
    if let Some(immutable) = secret.immutable {
        out.insert("immutable".into(), json!(immutable));
    }
    if !string_data.is_empty() {
        out.insert("stringData".into(), Value::Object(string_data));
    }
    if !data.is_empty() {
        out.insert("data".into(), Value::Object(data));
    }
    Value::Object(out)
}

/// Several decoded Secrets as a `v1` `List`, as `kubectl get -o json` prints them.
pub fn decoded_list(secrets: &[Secret]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": secrets.iter().map(|s| decoded_secret(s, None)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_goes_to_string_data_binary_stays_encoded_and_round_trips() {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "s", "namespace": "ns", "managedFields": [{"manager": "kubectl"}]},
            "type": "Opaque",
            "data": {"password": "aHVudGVyMg==", "blob": "AP8B"}
        }))
        .unwrap();
        let out = decoded_secret(&secret, None);
        assert_eq!(out["stringData"]["password"], "hunter2");
        assert_eq!(out["data"]["blob"], "AP8B");
        assert!(out["metadata"].get("managedFields").is_none());
        // Reading the output back as a Secret gives the same values.
        let back: Secret = serde_json::from_value(out).unwrap();
        assert_eq!(
            SecretValues::from_secret(&back),
            SecretValues::from_secret(&secret)
        );

        let one = decoded_secret(&secret, Some("password"));
        assert!(one.get("data").is_none());
        assert_eq!(one["stringData"].as_object().unwrap().len(), 1);
        let list = decoded_list(&[secret]);
        assert_eq!(list["items"][0]["stringData"]["password"], "hunter2");
    }
}
