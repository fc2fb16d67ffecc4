//! What a value is, from the Secret's `type`, the key and the value's shape.

use crate::{certs, docker, helm, values};

/// The Secret type of registry credentials in the current format.
pub const DOCKER_CONFIG_JSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
/// The Secret type of registry credentials in the legacy format.
pub const DOCKERCFG_TYPE: &str = "kubernetes.io/dockercfg";

/// The kinds of content the plugin knows how to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// One or more PEM certificates (any Secret type).
    Certificates,
    /// `{"auths": {…}}` registry credentials.
    DockerConfigJson,
    /// The legacy registry-credentials map.
    DockerCfg,
    /// A Helm release payload.
    HelmRelease,
    /// Bytes that are not printable text.
    Binary,
    /// Anything else: shown as it is.
    Text,
}

/// Decides what `value` (stored under `key` in a Secret of `secret_type`) is.
/// The type and key decide first; the value's shape decides for Opaque and
/// unknown types.
pub fn detect(secret_type: &str, key: &str, value: &[u8]) -> Content {
    if secret_type == helm::HELM_SECRET_TYPE && key == helm::RELEASE_KEY {
        return Content::HelmRelease;
    }
    if secret_type == DOCKER_CONFIG_JSON_TYPE && key == ".dockerconfigjson" {
        return Content::DockerConfigJson;
    }
    if secret_type == DOCKERCFG_TYPE && key == ".dockercfg" {
        return Content::DockerCfg;
    }
    if !values::is_printable_text(value) {
        return Content::Binary;
    }
    if certs::looks_like_certificates(value) {
        return Content::Certificates;
    }
    if helm::looks_like_payload(value)
        && helm::decode_payload(value).is_ok_and(|json| helm::parse_release(&json).is_ok())
    {
        return Content::HelmRelease;
    }
    if docker::looks_like_config_json(value) {
        return Content::DockerConfigJson;
    }
    Content::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_key_come_first() {
        assert_eq!(
            detect("helm.sh/release.v1", "release", b"H4sI..."),
            Content::HelmRelease
        );
        assert_eq!(
            detect(DOCKER_CONFIG_JSON_TYPE, ".dockerconfigjson", b"{}"),
            Content::DockerConfigJson
        );
        assert_eq!(
            detect(DOCKERCFG_TYPE, ".dockercfg", b"{}"),
            Content::DockerCfg
        );
    }

    #[test]
    fn shape_decides_otherwise() {
        let pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(
            detect("kubernetes.io/tls", "tls.crt", pem),
            Content::Certificates
        );
        assert_eq!(detect("Opaque", "ca.crt", pem), Content::Certificates);
        assert_eq!(
            detect("Opaque", "cfg", br#"{"auths":{"r":{}}}"#),
            Content::DockerConfigJson
        );
        assert_eq!(
            detect("Opaque", "blob", &[0, 159, 146, 150]),
            Content::Binary
        );
        assert_eq!(detect("Opaque", "password", b"hunter2"), Content::Text);
        // Starts like a Helm payload but is not one.
        assert_eq!(detect("Opaque", "x", b"H4sIhello"), Content::Text);
    }
}
