//! The catalog: a platform team's description of its clusters, identity
//! providers and teams (`apiVersion: kubext.io/v1alpha1`, `kind: Catalog`).
//!
//! A catalog is read in two steps. [`parse`] turns YAML into a raw document
//! that remembers where each value was written (line and column); it only fails
//! on YAML that cannot be read at all or a value of the wrong type.
//! [`validate`] then checks the raw document and reports *every* problem it
//! finds, each with its path in the document (`teams[1].clusters[0]`) and
//! position, before it hands out the validated [`Catalog`] model that
//! kubeconfig generation works from.

mod model;
mod raw;
mod report;
#[cfg(test)]
mod tests;
mod validate;

pub use model::{Catalog, Cluster, IdentityProvider, Naming, SecretRef, Team, TeamCluster};
pub use raw::{ParseError, Parsed, RawCatalog, parse};
pub use report::{Problem, Report, Severity};
pub use validate::{
    BaseDir, PemCertificatesError, check_pem_certificates, default_install_hint, validate,
};

/// The `apiVersion` this version of the plugin reads.
pub const API_VERSION: &str = "kubext.io/v1alpha1";
/// The `kind` of a catalog document.
pub const KIND: &str = "Catalog";

/// Default template for context names.
pub const DEFAULT_CONTEXT_TEMPLATE: &str = "{cluster}-{team}";
/// Default template for user names: one user per identity provider.
pub const DEFAULT_USER_TEMPLATE: &str = "oidc-{idp}";
/// Default template for cluster names.
pub const DEFAULT_CLUSTER_TEMPLATE: &str = "{cluster}";

/// The grant types `kubectl oidc-login get-token --grant-type` accepts.
pub const GRANT_TYPES: &[&str] = &[
    "auto",
    "authcode",
    "authcode-keyboard",
    "device-code",
    "password",
    "client-credentials",
];

/// The values of `kubectl oidc-login get-token --oidc-pkce-method`.
pub const PKCE_METHODS: &[&str] = &["auto", "no", "S256"];
