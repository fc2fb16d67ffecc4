//! A Secret's values as they are stored, with the API's base64 already removed.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;

/// The decoded contents of one Secret: what every mode of the plugin works from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretValues {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// The Secret's `type` (`Opaque` when unset, as the API server defaults it).
    pub secret_type: String,
    /// Every key with its bytes, sorted by key.
    pub entries: BTreeMap<String, Vec<u8>>,
}

impl SecretValues {
    /// Reads a Secret as the API returned it. `data` is already base64-decoded by
    /// the deserialiser; `stringData` (never returned by a real API server, but
    /// present in manifests) is merged in and wins, as it does on write.
    pub fn from_secret(secret: &Secret) -> Self {
        let mut entries: BTreeMap<String, Vec<u8>> = secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        for (k, v) in secret.string_data.iter().flatten() {
            entries.insert(k.clone(), v.clone().into_bytes());
        }
        SecretValues {
            name: secret.metadata.name.clone().unwrap_or_default(),
            namespace: secret.metadata.namespace.clone().unwrap_or_default(),
            secret_type: secret
                .type_
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "Opaque".to_string()),
            entries,
        }
    }

    /// The keys, sorted.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// Whether the Secret holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether `bytes` can be shown as text on a terminal: valid UTF-8 with no
/// control characters other than tab, newline and carriage return (an escape
/// sequence hidden in a value must not reach the terminal).
pub fn is_printable_text(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn data_is_read_and_string_data_wins() {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some("db".into()),
                namespace: Some("prod".into()),
                ..Default::default()
            },
            data: Some(
                [
                    ("user".to_string(), ByteString(b"admin".to_vec())),
                    ("password".to_string(), ByteString(b"old".to_vec())),
                ]
                .into(),
            ),
            string_data: Some([("password".to_string(), "new".to_string())].into()),
            ..Default::default()
        };
        let values = SecretValues::from_secret(&secret);
        assert_eq!(values.name, "db");
        assert_eq!(values.namespace, "prod");
        assert_eq!(values.secret_type, "Opaque");
        assert_eq!(values.keys(), ["password", "user"]);
        assert_eq!(values.entries["password"], b"new");
        assert!(!values.is_empty());
    }

    #[test]
    fn the_api_base64_is_removed_by_deserialising() {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x"},
            "type": "kubernetes.io/basic-auth",
            "data": {"password": "aHVudGVyMg=="}
        }))
        .unwrap();
        let values = SecretValues::from_secret(&secret);
        assert_eq!(values.entries["password"], b"hunter2");
        assert_eq!(values.secret_type, "kubernetes.io/basic-auth");
    }

    #[test]
    fn printable_text_excludes_binary_and_escapes() {
        assert!(is_printable_text(b"hello\nworld\t\r\n"));
        assert!(is_printable_text("grüße".as_bytes()));
        assert!(!is_printable_text(&[0xff, 0xfe, 0x00]));
        assert!(!is_printable_text(b"a\0b"));
        assert!(!is_printable_text(b"\x1b[31mred"));
    }
}
