//! Where a catalog is read from: a file (or stdin), an `https://` URL, or a
//! ConfigMap in a cluster.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kubectl_kit::{KitError, KubeFlags};

use crate::catalog::{self, BaseDir, Catalog, ParseError, Report};

/// The ConfigMap key read when `--configmap-key` is not given and the
/// ConfigMap holds more than one key.
pub const DEFAULT_CONFIGMAP_KEY: &str = "catalog.yaml";

/// Where to read a catalog from.
#[derive(Debug, Clone)]
pub enum CatalogSource {
    /// A file; `-` reads standard input.
    File(PathBuf),
    /// An `https://` URL.
    Url(String),
    /// A ConfigMap in the cluster of the given kubeconfig flags.
    ConfigMap {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The data key holding the catalog.
        key: Option<String>,
        /// How to reach the cluster.
        flags: KubeFlags,
    },
}

impl CatalogSource {
    /// `--catalog` text: a URL when it starts with `https://` or `http://`, else a path.
    pub fn from_arg(arg: &str) -> CatalogSource {
        if arg.starts_with("https://") || arg.starts_with("http://") {
            CatalogSource::Url(arg.to_string())
        } else {
            CatalogSource::File(PathBuf::from(arg))
        }
    }

    /// `--from-configmap NAMESPACE/NAME`.
    pub fn configmap(
        reference: &str,
        key: Option<String>,
        flags: KubeFlags,
    ) -> Result<CatalogSource, kubectl_kit::KitError> {
        match reference.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(CatalogSource::ConfigMap {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                    key,
                    flags,
                })
            }
            _ => Err(kubectl_kit::KitError::usage(format!(
                "--from-configmap {reference:?}: expected NAMESPACE/NAME, e.g. platform/kubeconfig-catalog"
            ))),
        }
    }
}

/// A catalog's text and what is needed to validate it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The YAML text.
    pub text: String,
    /// How the source is named in messages.
    pub name: String,
    /// Where relative paths in the catalog are resolved.
    pub base: BaseDir,
}

/// Why a catalog's text could not be read; each variant names the file, URL
/// or ConfigMap involved and keeps the underlying cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Standard input could not be read.
    #[error("cannot read the catalog from standard input")]
    Stdin(#[source] std::io::Error),
    /// The catalog file could not be read.
    #[error("cannot read catalog {}: check the --catalog path", path.display())]
    ReadFile {
        /// The `--catalog` path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A catalog URL that is not `https://`.
    #[error(
        "catalog URL {url} must use https: a catalog decides which servers and identity providers people trust"
    )]
    NotHttps {
        /// The URL given.
        url: String,
    },
    /// The `--catalog-certificate-authority` file could not be read.
    #[error("cannot read --catalog-certificate-authority {}", path.display())]
    ReadCertificateAuthority {
        /// The file given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The `--catalog-certificate-authority` file holds no usable certificates.
    #[error("{} is not a PEM certificate bundle", path.display())]
    CertificateAuthorityBundle {
        /// The file given.
        path: PathBuf,
        /// Why it was refused.
        #[source]
        source: reqwest::Error,
    },
    /// The `--catalog-certificate-authority` file holds no certificate (a key,
    /// or not PEM at all).
    #[error(
        "{} holds no PEM certificate (expected -----BEGIN CERTIFICATE----- blocks): give the CA that signed the catalog server's certificate",
        path.display()
    )]
    NoCertificate {
        /// The file given.
        path: PathBuf,
    },
    /// The HTTPS client could not be built.
    #[error("cannot set up the HTTPS client")]
    HttpClient(#[source] reqwest::Error),
    /// The request failed before an answer (DNS, connection, TLS, timeout).
    #[error("cannot fetch catalog {url}")]
    Request {
        /// The catalog URL.
        url: String,
        /// The failure, with its causes.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("cannot fetch catalog {url}: the server answered {status}")]
    Status {
        /// The catalog URL.
        url: String,
        /// The HTTP status.
        status: reqwest::StatusCode,
    },
    /// The answer's body could not be read as text.
    #[error("cannot read catalog {url}")]
    Body {
        /// The catalog URL.
        url: String,
        /// Why the body could not be read.
        #[source]
        source: reqwest::Error,
    },
    /// Reaching the cluster or reading the ConfigMap failed (the API
    /// server's `Status` is kept).
    #[error(transparent)]
    Kube(#[from] KitError),
    /// The ConfigMap has no key holding the catalog.
    #[error(
        "configmap {namespace}/{name} has no key {key:?} (keys: {}); pass --configmap-key",
        keys.join(", ")
    )]
    MissingKey {
        /// The ConfigMap's namespace.
        namespace: String,
        /// The ConfigMap's name.
        name: String,
        /// The key looked for.
        key: String,
        /// The keys it has.
        keys: Vec<String>,
    },
}

/// Why a fetched catalog could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The text is not YAML of the catalog's shape.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The catalog has errors; the report lists them all (and its warnings).
    #[error(transparent)]
    Invalid(#[from] Report),
}

/// Options for fetching a catalog over HTTPS.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// An extra CA bundle (PEM) to trust, besides the system's roots.
    pub certificate_authority: Option<PathBuf>,
    /// Timeout of the whole request.
    pub timeout: Option<Duration>,
}

/// Reads the catalog's text.
pub async fn fetch(source: &CatalogSource, options: &FetchOptions) -> Result<Fetched, FetchError> {
    match source {
        CatalogSource::File(path) if path.as_os_str() == "-" => {
            let text = std::io::read_to_string(std::io::stdin()).map_err(FetchError::Stdin)?;
            Ok(Fetched {
                text,
                name: "<stdin>".into(),
                base: BaseDir::Dir(std::env::current_dir().unwrap_or_default()),
            })
        }
        CatalogSource::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| FetchError::ReadFile {
                path: path.clone(),
                source,
            })?;
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            Ok(Fetched {
                text,
                name: path.display().to_string(),
                base: BaseDir::Dir(dir),
            })
        }
        CatalogSource::Url(url) => fetch_url(url, options).await,
        CatalogSource::ConfigMap {
            namespace,
            name,
            key,
            flags,
        } => fetch_configmap(namespace, name, key.as_deref(), flags).await,
    }
}

async fn fetch_url(url: &str, options: &FetchOptions) -> Result<Fetched, FetchError> {
    if !url.starts_with("https://") {
        return Err(FetchError::NotHttps {
            url: url.to_string(),
        });
    }
    let mut builder = reqwest::Client::builder()
        .timeout(options.timeout.unwrap_or(Duration::from_secs(30)))
        .user_agent(concat!("kubectl-kubeconfig/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &options.certificate_authority {
        let pem = std::fs::read(ca).map_err(|source| FetchError::ReadCertificateAuthority {
            path: ca.clone(),
            source,
        })?;
        let bundle = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
            FetchError::CertificateAuthorityBundle {
                path: ca.clone(),
                source,
            }
        })?;
        // reqwest skips whatever is not a certificate: an empty bundle
        // would silently leave only the system roots.
        if bundle.is_empty() {
            return Err(FetchError::NoCertificate { path: ca.clone() });
        }
        for cert in bundle {
            builder = builder.add_root_certificate(cert);
        }
    }
    let client = builder.build().map_err(FetchError::HttpClient)?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|source| FetchError::Request {
            url: url.to_string(),
            source,
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status,
        });
    }
    let text = response.text().await.map_err(|source| FetchError::Body {
        url: url.to_string(),
        source,
    })?;
    Ok(Fetched {
        text,
        name: url.to_string(),
        base: BaseDir::None,
    })
}

/// An error with its causes, as reqwest hides the interesting part (TLS, DNS) in them.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let s = cause.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = cause.source();
    }
    text
}

async fn fetch_configmap(
    namespace: &str,
    name: &str,
    key: Option<&str>,
    flags: &KubeFlags,
) -> Result<Fetched, FetchError> {
    let client = flags.client().await?;
    let api: kube::Api<ConfigMap> = kube::Api::namespaced(client, namespace);
    let what = format!("get configmap {name:?} in namespace {namespace:?}");
    let cm = api
        .get(name)
        .await
        .map_err(|e| kubectl_kit::api_error(e, &what))?;
    let data = cm.data.unwrap_or_default();
    let chosen = match key {
        Some(k) => k.to_string(),
        None if data.len() == 1 => data.keys().next().cloned().unwrap_or_default(),
        None => DEFAULT_CONFIGMAP_KEY.to_string(),
    };
    let text = data
        .get(&chosen)
        .cloned()
        .ok_or_else(|| FetchError::MissingKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
            key: chosen.clone(),
            keys: data.keys().cloned().collect(),
        })?;
    Ok(Fetched {
        text,
        name: format!("configmap/{name} -n {namespace} (key {chosen})"),
        base: BaseDir::None,
    })
}

/// Parses and validates fetched text: the catalog and its warnings, or an
/// error holding the full [`Report`] (or the YAML error).
pub fn load(fetched: &Fetched) -> Result<(Catalog, Report), LoadError> {
    let parsed = catalog::parse(&fetched.text, &fetched.name)?;
    Ok(catalog::validate(&parsed, &fetched.base, &fetched.name)?)
}
