//! Helm release secrets (`helm.sh/release.v1`, key `release`).
//!
//! Helm stores a release as JSON, gzip-compressed, then base64-encoded into a
//! string; the Secret's data holds that string (which the API base64-encodes
//! once more on the wire). So from the bytes of the `release` key: base64 →
//! gzip → JSON. Very old releases may lack the gzip layer.
//!
//! Why this decoder is hand-written: Helm's release format is only
//! implemented by Helm itself (Go); no maintained Rust crate reads it. It is
//! three layers the workspace already has crates for (`base64`, `flate2`,
//! `serde_json`), and only the fields shown are modelled, so a newer Helm
//! adding fields does not break it.

use std::fmt::Write as _;
use std::io::Read as _;

use base64::Engine as _;
use serde::Deserialize;

/// The Secret type Helm 3 stores releases under.
pub const HELM_SECRET_TYPE: &str = "helm.sh/release.v1";
/// The key holding the release.
pub const RELEASE_KEY: &str = "release";
/// gzip's magic bytes.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// Upper bound on the decompressed size, against gzip bombs.
const MAX_RELEASE_BYTES: u64 = 256 * 1024 * 1024;

/// Why a value could not be read as a Helm release.
#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    /// The stored string was not base64.
    #[error("the release is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// gzip failed.
    #[error("the release is not valid gzip: {0}")]
    Gzip(std::io::Error),
    /// The payload was larger than we accept.
    #[error("the release is larger than {MAX_RELEASE_BYTES} bytes once decompressed")]
    TooLarge,
    /// Not the JSON of a release.
    #[error("the release is not Helm release JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Turns the bytes of a release secret's `release` key into the release JSON.
pub fn decode_payload(stored: &[u8]) -> Result<Vec<u8>, HelmError> {
    let text: Vec<u8> = stored
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(text)?;
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes);
    }
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .take(MAX_RELEASE_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(HelmError::Gzip)?;
    if json.len() as u64 > MAX_RELEASE_BYTES {
        return Err(HelmError::TooLarge);
    }
    Ok(json)
}

/// Whether `value` looks like Helm's payload: the base64 of gzip starts with `H4sI`.
pub fn looks_like_payload(value: &[u8]) -> bool {
    value.starts_with(b"H4sI")
}

#[derive(Debug, Deserialize, Default)]
struct RawRelease {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    info: RawInfo,
    #[serde(default)]
    chart: RawChart,
    #[serde(default)]
    config: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Default)]
struct RawInfo {
    #[serde(default)]
    status: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    first_deployed: Option<String>,
    #[serde(default)]
    last_deployed: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RawChart {
    #[serde(default)]
    metadata: RawChartMetadata,
}

#[derive(Debug, Deserialize, Default)]
struct RawChartMetadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default, rename = "appVersion")]
    app_version: String,
}

/// What people look for in a Helm release.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmRelease {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Revision number.
    pub revision: i64,
    /// `deployed`, `superseded`, `failed`, …
    pub status: String,
    /// Helm's description of the last action.
    pub description: String,
    /// Chart name.
    pub chart: String,
    /// Chart version.
    pub chart_version: String,
    /// The application version the chart declares.
    pub app_version: String,
    /// When the release was first deployed (as Helm wrote it).
    pub first_deployed: Option<String>,
    /// When this revision was deployed.
    pub last_deployed: Option<String>,
    /// The values the user supplied (`helm get values`).
    pub values: serde_json::Value,
}

/// Reads the release JSON.
pub fn parse_release(json: &[u8]) -> Result<HelmRelease, HelmError> {
    let raw: RawRelease = serde_json::from_slice(json)?;
    Ok(HelmRelease {
        name: raw.name,
        namespace: raw.namespace,
        revision: raw.version,
        status: raw.info.status,
        description: raw.info.description,
        chart: raw.chart.metadata.name,
        chart_version: raw.chart.metadata.version,
        app_version: raw.chart.metadata.app_version,
        first_deployed: raw.info.first_deployed,
        last_deployed: raw.info.last_deployed,
        values: raw
            .config
            .filter(|v| !v.is_null())
            .unwrap_or_else(|| serde_json::json!({})),
    })
}

/// The release summary; with `show_values`, the user-supplied values as YAML.
pub fn render(release: &HelmRelease, show_values: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Release:      {}", release.name);
    let _ = writeln!(out, "Namespace:    {}", release.namespace);
    let _ = writeln!(out, "Revision:     {}", release.revision);
    let _ = writeln!(out, "Status:       {}", release.status);
    let _ = writeln!(
        out,
        "Chart:        {}-{}",
        release.chart, release.chart_version
    );
    let _ = writeln!(out, "App version:  {}", release.app_version);
    if let Some(t) = &release.first_deployed {
        let _ = writeln!(out, "First deployed: {t}");
    }
    if let Some(t) = &release.last_deployed {
        let _ = writeln!(out, "Last deployed:  {t}");
    }
    if !release.description.is_empty() {
        let _ = writeln!(out, "Description:  {}", release.description);
    }
    if show_values {
        out.push_str("Values:\n");
        let empty = release.values.as_object().is_some_and(|m| m.is_empty());
        if empty {
            out.push_str("  {}\n");
        } else {
            let yaml = kubectl_kit::output::to_yaml(&release.values)
                .unwrap_or_else(|e| format!("(cannot show the values: {e})\n"));
            for line in yaml.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn release_json() -> serde_json::Value {
        serde_json::json!({
            "name": "shop",
            "namespace": "prod",
            "version": 4,
            "info": {
                "first_deployed": "2024-01-02T03:04:05Z",
                "last_deployed": "2024-02-03T04:05:06Z",
                "deleted": "",
                "description": "Upgrade complete",
                "status": "deployed"
            },
            "chart": {"metadata": {"name": "nginx", "version": "15.4.2", "appVersion": "1.25.3"}, "values": {"replicas": 1}},
            "config": {"replicas": 3, "image": {"tag": "1.25.3"}},
            "manifest": "---\n"
        })
    }

    /// What Helm stores in the Secret's data: base64(gzip(json)).
    fn helm_payload(json: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json).unwrap();
        base64::engine::general_purpose::STANDARD
            .encode(gz.finish().unwrap())
            .into_bytes()
    }

    #[test]
    fn payload_decodes_to_the_release() {
        let json = serde_json::to_vec(&release_json()).unwrap();
        let stored = helm_payload(&json);
        assert!(looks_like_payload(&stored));
        assert_eq!(decode_payload(&stored).unwrap(), json);
        let release = parse_release(&json).unwrap();
        assert_eq!(release.name, "shop");
        assert_eq!(release.revision, 4);
        assert_eq!(release.chart, "nginx");
        assert_eq!(release.chart_version, "15.4.2");
        assert_eq!(release.app_version, "1.25.3");
        assert_eq!(release.status, "deployed");
        assert_eq!(release.values["replicas"], 3);
    }

    #[test]
    fn values_only_with_the_flag() {
        let release = parse_release(&serde_json::to_vec(&release_json()).unwrap()).unwrap();
        let short = render(&release, false);
        assert!(short.contains("Chart:        nginx-15.4.2\n"), "{short}");
        assert!(!short.contains("replicas"));
        let long = render(&release, true);
        assert!(long.contains("Values:\n"), "{long}");
        assert!(long.contains("  replicas: 3\n"), "{long}");
    }

    #[test]
    fn uncompressed_and_broken_payloads() {
        let json = br#"{"name":"old","version":1}"#;
        let stored = base64::engine::general_purpose::STANDARD.encode(json);
        assert_eq!(decode_payload(stored.as_bytes()).unwrap(), json);
        assert!(matches!(decode_payload(b"%%%"), Err(HelmError::Base64(_))));
        let truncated = base64::engine::general_purpose::STANDARD.encode([0x1f, 0x8b, 0x08, 0, 0]);
        assert!(matches!(
            decode_payload(truncated.as_bytes()),
            Err(HelmError::Gzip(_))
        ));
        assert!(matches!(parse_release(b"[1]"), Err(HelmError::Json(_))));
    }
}
