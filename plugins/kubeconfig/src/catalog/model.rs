//! The validated catalog that kubeconfig generation works from: every name
//! checked, every reference resolved, every default applied.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::template::Template;

/// A validated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// `metadata.name`, when given.
    pub name: Option<String>,
    /// Naming templates for generated entries.
    pub naming: Naming,
    /// Text shown by kubectl when `kubectl oidc-login` is not installed.
    pub install_hint: String,
    /// Identity providers, in document order.
    pub identity_providers: Vec<IdentityProvider>,
    /// Clusters, in document order.
    pub clusters: Vec<Cluster>,
    /// Teams, in document order, with selectors resolved to clusters.
    pub teams: Vec<Team>,
}

/// Templates for the names of generated contexts, users and clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// Context names, default `{cluster}-{team}`.
    pub context: Template,
    /// User names, default `oidc-{idp}`.
    pub user: Template,
    /// Cluster names, default `{cluster}`.
    pub cluster: Template,
}

/// A cluster of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Unique name.
    pub name: String,
    /// API server URL (`https://…`).
    pub server: String,
    /// The CA bundle (PEM) that signs the API server's certificate, if not a public CA.
    pub certificate_authority_pem: Option<Vec<u8>>,
    /// Name to check the server certificate against, when it differs from the URL's host.
    pub tls_server_name: Option<String>,
    /// Proxy for reaching the API server.
    pub proxy_url: Option<String>,
    /// Default namespace of contexts for this cluster.
    pub namespace: Option<String>,
    /// Labels teams select clusters by.
    pub labels: BTreeMap<String, String>,
}

/// Where a confidential client's secret comes from when a kubeconfig is generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable of the process that runs `generate`.
    Env(String),
    /// A file (relative paths are relative to the catalog file).
    File(PathBuf),
}

/// An OpenID Connect identity provider and the settings `kubectl oidc-login` gets for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// Unique name.
    pub name: String,
    /// Issuer URL (`https://…`).
    pub issuer_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// Where the client secret comes from, for confidential clients.
    pub client_secret: Option<SecretRef>,
    /// Scopes beyond `openid`.
    pub extra_scopes: Vec<String>,
    /// `--grant-type`, when not `auto`.
    pub grant_type: Option<String>,
    /// `--oidc-pkce-method`, when set.
    pub pkce_method: Option<String>,
    /// `--oidc-redirect-url`, when set.
    pub redirect_url: Option<String>,
    /// `--listen-address` values.
    pub listen_addresses: Vec<String>,
    /// `--oidc-auth-request-extra-params` values.
    pub auth_request_extra_params: BTreeMap<String, String>,
    /// `--oidc-use-access-token`.
    pub use_access_token: bool,
    /// CA bundle (PEM) of the issuer, passed as `--certificate-authority-data`.
    pub certificate_authority_pem: Option<Vec<u8>>,
    /// Whether the exec stanza sets `provideClusterInfo: true`.
    pub provide_cluster_info: bool,
    /// Further `kubectl oidc-login get-token` flags, appended as written.
    pub extra_args: Vec<String>,
}

/// A team and the clusters it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Unique name.
    pub name: String,
    /// The identity provider its members log in with.
    pub identity_provider: String,
    /// The clusters (by name), in the order listed, each with its context namespace.
    pub clusters: Vec<TeamCluster>,
}

/// One cluster of a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCluster {
    /// The catalog cluster's name.
    pub cluster: String,
    /// Namespace of the context: the entry's, else the team's, else the cluster's.
    pub namespace: Option<String>,
}

impl Catalog {
    /// The cluster with this name.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The identity provider with this name.
    pub fn identity_provider(&self, name: &str) -> Option<&IdentityProvider> {
        self.identity_providers.iter().find(|i| i.name == name)
    }

    /// The team with this name.
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.name == name)
    }
}
