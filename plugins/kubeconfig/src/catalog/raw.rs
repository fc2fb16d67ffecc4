//! The catalog as written: serde types in which every field is optional and
//! every value keeps the line and column it was written at, the keys each
//! object may have, and [`parse`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A value with the position it was written at.
pub(super) type Sp<T> = Spanned<T>;

/// A catalog as written, before validation. Every field is optional so that
/// missing ones are reported together by [`validate`](crate::catalog::validate()) instead of one by one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCatalog {
    pub(super) api_version: Option<Sp<String>>,
    pub(super) kind: Option<Sp<String>>,
    pub(super) metadata: Option<RawMetadata>,
    pub(super) naming: Option<RawNaming>,
    pub(super) install_hint: Option<Sp<String>>,
    pub(super) identity_providers: Option<Vec<Sp<RawIdentityProvider>>>,
    pub(super) clusters: Option<Vec<Sp<RawCluster>>>,
    pub(super) teams: Option<Vec<Sp<RawTeam>>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawMetadata {
    pub(super) name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawNaming {
    pub(super) context: Option<Sp<String>>,
    pub(super) user: Option<Sp<String>>,
    pub(super) cluster: Option<Sp<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawCertificateAuthority {
    pub(super) file: Option<Sp<String>>,
    pub(super) pem: Option<Sp<String>>,
    pub(super) data: Option<Sp<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawCluster {
    pub(super) name: Option<Sp<String>>,
    pub(super) server: Option<Sp<String>>,
    pub(super) certificate_authority: Option<Sp<RawCertificateAuthority>>,
    pub(super) tls_server_name: Option<Sp<String>>,
    #[serde(rename = "proxyURL")]
    pub(super) proxy_url: Option<Sp<String>>,
    pub(super) namespace: Option<Sp<String>>,
    pub(super) labels: Option<BTreeMap<String, Sp<String>>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawSecretRef {
    pub(super) env: Option<Sp<String>>,
    pub(super) file: Option<Sp<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawIdentityProvider {
    pub(super) name: Option<Sp<String>>,
    #[serde(rename = "issuerURL")]
    pub(super) issuer_url: Option<Sp<String>>,
    #[serde(rename = "clientID")]
    pub(super) client_id: Option<Sp<String>>,
    pub(super) client_secret_ref: Option<Sp<RawSecretRef>>,
    pub(super) extra_scopes: Option<Vec<Sp<String>>>,
    pub(super) grant_type: Option<Sp<String>>,
    pub(super) pkce_method: Option<Sp<String>>,
    #[serde(rename = "redirectURL")]
    pub(super) redirect_url: Option<Sp<String>>,
    pub(super) listen_addresses: Option<Vec<Sp<String>>>,
    pub(super) auth_request_extra_params: Option<BTreeMap<String, String>>,
    pub(super) use_access_token: Option<bool>,
    pub(super) certificate_authority: Option<Sp<RawCertificateAuthority>>,
    pub(super) provide_cluster_info: Option<bool>,
    pub(super) extra_args: Option<Vec<Sp<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawTeam {
    pub(super) name: Option<Sp<String>>,
    pub(super) identity_provider: Option<Sp<String>>,
    pub(super) namespace: Option<Sp<String>>,
    pub(super) clusters: Option<Vec<Sp<RawTeamCluster>>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawTeamCluster {
    pub(super) name: Option<Sp<String>>,
    pub(super) selector: Option<Sp<String>>,
    pub(super) namespace: Option<Sp<String>>,
}

/// The keys each object of the document may have, to report unknown ones
/// (usually typos) by path.
pub(super) const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "apiVersion",
            "kind",
            "metadata",
            "naming",
            "installHint",
            "identityProviders",
            "clusters",
            "teams",
        ],
    ),
    ("metadata", &["name", "labels", "annotations"]),
    ("naming", &["context", "user", "cluster"]),
    (
        "clusters[]",
        &[
            "name",
            "server",
            "certificateAuthority",
            "tlsServerName",
            "proxyURL",
            "namespace",
            "labels",
        ],
    ),
    ("clusters[].certificateAuthority", &["file", "pem", "data"]),
    (
        "identityProviders[]",
        &[
            "name",
            "issuerURL",
            "clientID",
            "clientSecretRef",
            "extraScopes",
            "grantType",
            "pkceMethod",
            "redirectURL",
            "listenAddresses",
            "authRequestExtraParams",
            "useAccessToken",
            "certificateAuthority",
            "provideClusterInfo",
            "extraArgs",
        ],
    ),
    (
        "identityProviders[].certificateAuthority",
        &["file", "pem", "data"],
    ),
    ("identityProviders[].clientSecretRef", &["env", "file"]),
    (
        "teams[]",
        &["name", "identityProvider", "namespace", "clusters"],
    ),
    ("teams[].clusters[]", &["name", "selector", "namespace"]),
];

/// The YAML could not be read as a catalog at all.
#[derive(Debug, thiserror::Error)]
#[error("catalog {source_name} is not readable YAML of the expected shape: {message}")]
pub struct ParseError {
    source_name: String,
    message: String,
}

/// A catalog parsed from YAML: its typed form and its generic form (for the
/// unknown-field check).
#[derive(Debug)]
pub struct Parsed {
    pub(super) raw: RawCatalog,
    pub(super) generic: serde_json::Value,
}

/// Parses catalog YAML. `source_name` names the file, URL or ConfigMap in errors.
pub fn parse(text: &str, source_name: &str) -> Result<Parsed, ParseError> {
    let fail = |e: serde_saphyr::Error| ParseError {
        source_name: source_name.to_string(),
        message: e.to_string(),
    };
    let generic: serde_json::Value = serde_saphyr::from_str(text).map_err(fail)?;
    if generic.is_null() {
        return Err(ParseError {
            source_name: source_name.to_string(),
            message: "the document is empty; a catalog starts with `apiVersion: kubext.io/v1alpha1` and `kind: Catalog`".into(),
        });
    }
    if !generic.is_object() {
        return Err(ParseError {
            source_name: source_name.to_string(),
            message: "the document is not a mapping; a catalog starts with `apiVersion: kubext.io/v1alpha1` and `kind: Catalog`".into(),
        });
    }
    let raw: RawCatalog = serde_saphyr::from_str(text).map_err(fail)?;
    Ok(Parsed { raw, generic })
}
