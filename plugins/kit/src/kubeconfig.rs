//! Reading and resolving kubeconfigs the way kubectl does.

use std::ffi::OsString;
use std::path::PathBuf;

use kube::config::{AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig};

use crate::{KitError, KubeFlags};

/// Where the kubeconfig came from and what the flags select in it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The merged kubeconfig.
    pub kubeconfig: Kubeconfig,
    /// The files it was read from, in precedence order.
    pub files: Vec<PathBuf>,
    /// The selected context's name.
    pub context_name: String,
    /// The selected context (with `--cluster`/`--user` applied).
    pub context: Context,
    /// The selected cluster's name.
    pub cluster_name: String,
    /// The selected cluster.
    pub cluster: Cluster,
    /// The selected user's name (empty when the context names none).
    pub user_name: String,
    /// The selected user.
    pub user: AuthInfo,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
}

impl KubeFlags {
    /// The kubeconfig files in precedence order: `--kubeconfig`, else each path
    /// of `$KUBECONFIG` that exists, else `~/.kube/config`.
    pub fn kubeconfig_files(&self) -> Result<Vec<PathBuf>, KitError> {
        self.kubeconfig_files_in(&KubeconfigEnv::from_process())
    }

    /// [`KubeFlags::kubeconfig_files`] with the environment given explicitly.
    pub fn kubeconfig_files_in(&self, env: &KubeconfigEnv) -> Result<Vec<PathBuf>, KitError> {
        if let Some(path) = &self.kubeconfig {
            if !path.exists() {
                return Err(KitError::Kubeconfig {
                    message: format!(
                        "kubeconfig {} (from --kubeconfig) does not exist: check the path",
                        path.display()
                    ),
                });
            }
            return Ok(vec![path.clone()]);
        }
        if let Some(value) = &env.kubeconfig {
            let paths: Vec<PathBuf> = std::env::split_paths(value)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            if !paths.is_empty() {
                // kubectl skips listed files that do not exist.
                return Ok(paths.into_iter().filter(|p| p.exists()).collect());
            }
        }
        Ok(env
            .home
            .iter()
            .map(|home| home.join(".kube").join("config"))
            .filter(|p| p.exists())
            .collect())
    }

    /// Reads and merges the kubeconfig files: the first file to set a value wins,
    /// as with kubectl.
    pub fn load_kubeconfig(&self) -> Result<Kubeconfig, KitError> {
        let files = self.kubeconfig_files()?;
        load_files(&files)
    }

    /// Resolves context, cluster, user and namespace from the flags.
    pub fn resolve(&self) -> Result<Resolved, KitError> {
        self.resolve_in(&KubeconfigEnv::from_process())
    }

    /// [`KubeFlags::resolve`] with the environment given explicitly.
    pub fn resolve_in(&self, env: &KubeconfigEnv) -> Result<Resolved, KitError> {
        let files = self.kubeconfig_files_in(env)?;
        let kubeconfig = load_files(&files)?;
        let context_name = match (&self.context, &kubeconfig.current_context) {
            (Some(name), _) => name.clone(),
            (None, Some(name)) if !name.is_empty() => name.clone(),
            _ => {
                return Err(KitError::Kubeconfig {
                    message: format!(
                        "no context selected: {} sets no current-context; pass --context NAME or run `kubectl config use-context NAME`",
                        describe_files(&files)
                    ),
                });
            }
        };
        let mut context = kubeconfig
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .and_then(|c| c.context.clone())
            .ok_or_else(|| KitError::Kubeconfig {
                message: format!(
                    "context {context_name:?} does not exist in {}; known contexts: {}",
                    describe_files(&files),
                    names(kubeconfig.contexts.iter().map(|c| &c.name))
                ),
            })?;
        if let Some(cluster) = &self.cluster {
            context.cluster = cluster.clone();
        }
        if let Some(user) = &self.user {
            context.user = Some(user.clone());
        }
        let cluster_name = context.cluster.clone();
        let cluster = kubeconfig
            .clusters
            .iter()
            .find(|c| c.name == cluster_name)
            .and_then(|c| c.cluster.clone())
            .ok_or_else(|| KitError::Kubeconfig {
                message: format!(
                    "cluster {cluster_name:?} (of context {context_name:?}) does not exist in {}; known clusters: {}",
                    describe_files(&files),
                    names(kubeconfig.clusters.iter().map(|c| &c.name))
                ),
            })?;
        let user_name = context.user.clone().unwrap_or_default();
        let user = if user_name.is_empty() {
            AuthInfo::default()
        } else {
            kubeconfig
                .auth_infos
                .iter()
                .find(|u| u.name == user_name)
                .and_then(|u| u.auth_info.clone())
                .ok_or_else(|| KitError::Kubeconfig {
                    message: format!(
                        "user {user_name:?} (of context {context_name:?}) does not exist in {}; known users: {}",
                        describe_files(&files),
                        names(kubeconfig.auth_infos.iter().map(|u| &u.name))
                    ),
                })?
        };
        let namespace = self
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .or_else(|| context.namespace.clone().filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "default".to_string());
        Ok(Resolved {
            kubeconfig,
            files,
            context_name,
            context,
            cluster_name,
            cluster,
            user_name,
            user,
            namespace,
        })
    }

    /// The namespace the command works in: `-n`, else the context's, else `default`.
    pub fn namespace(&self) -> Result<String, KitError> {
        if let Some(ns) = self.namespace.as_ref().filter(|n| !n.is_empty()) {
            return Ok(ns.clone());
        }
        Ok(self.resolve()?.namespace)
    }

    /// A [`kube::Config`] for the selected context, with `-n` as its default
    /// namespace and `--request-timeout` applied.
    pub async fn config(&self) -> Result<kube::Config, KitError> {
        let resolved = self.resolve()?;
        self.config_for(&resolved).await
    }

    /// A [`kube::Config`] for an already resolved selection.
    pub async fn config_for(&self, resolved: &Resolved) -> Result<kube::Config, KitError> {
        let options = KubeConfigOptions {
            context: Some(resolved.context_name.clone()),
            cluster: Some(resolved.cluster_name.clone()),
            user: Some(resolved.user_name.clone()).filter(|u| !u.is_empty()),
        };
        let mut config = kube::Config::from_custom_kubeconfig(resolved.kubeconfig.clone(), &options)
            .await
            .map_err(|e| KitError::Kubeconfig {
                message: format!(
                    "kubeconfig context {:?} cannot be used: {e}; check it with `kubectl config view --minify --context {}`",
                    resolved.context_name, resolved.context_name
                ),
            })?;
        config.default_namespace = resolved.namespace.clone();
        // kube retries 429/503/504 for up to many minutes; a command-line tool
        // must fail promptly with the server's answer instead.
        config.default_retry = false;
        if let Some(timeout) = self.request_timeout.filter(|t| !t.is_zero()) {
            config.read_timeout = Some(timeout);
            config.connect_timeout = Some(timeout);
            config.write_timeout = Some(timeout);
        }
        Ok(config)
    }

    /// A kube client for the selected context.
    pub async fn client(&self) -> Result<kube::Client, KitError> {
        self.client_for(&self.resolve()?).await
    }

    /// A kube client for an already resolved selection, so a caller that needs
    /// the [`Resolved`] too reads the kubeconfig only once.
    pub async fn client_for(&self, resolved: &Resolved) -> Result<kube::Client, KitError> {
        let config = self.config_for(resolved).await?;
        kube::Client::try_from(config).map_err(|e| KitError::Connection {
            what: format!("connect to cluster {:?}", resolved.cluster_name),
            message: e.to_string(),
            hint: Some(
                "check the cluster's server URL and certificate settings in your kubeconfig".into(),
            ),
        })
    }
}

fn load_files(files: &[PathBuf]) -> Result<Kubeconfig, KitError> {
    let mut merged = Kubeconfig::default();
    for file in files {
        let config = Kubeconfig::read_from(file).map_err(|e| KitError::Kubeconfig {
            message: format!(
                "cannot read kubeconfig {}: {e}; fix the file or point --kubeconfig elsewhere",
                file.display()
            ),
        })?;
        merged = merged.merge(config).map_err(|e| KitError::Kubeconfig {
            message: format!("cannot merge kubeconfig {}: {e}", file.display()),
        })?;
    }
    Ok(merged)
}

/// The parts of the environment that decide which kubeconfig files are read.
#[derive(Debug, Clone, Default)]
pub struct KubeconfigEnv {
    /// `$KUBECONFIG`: paths joined by `:` (`;` on Windows).
    pub kubeconfig: Option<OsString>,
    /// The home directory holding `.kube/config`.
    pub home: Option<PathBuf>,
}

impl KubeconfigEnv {
    /// This process's `$KUBECONFIG` and `$HOME`.
    pub fn from_process() -> Self {
        KubeconfigEnv {
            kubeconfig: std::env::var_os("KUBECONFIG"),
            home: std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .map(PathBuf::from),
        }
    }
}

fn describe_files(files: &[PathBuf]) -> String {
    match files {
        [] => {
            "the kubeconfig (none found: set --kubeconfig or $KUBECONFIG, or create ~/.kube/config)"
                .into()
        }
        [one] => format!("kubeconfig {}", one.display()),
        many => format!(
            "kubeconfigs {}",
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(PATH_LIST_SEPARATOR)
        ),
    }
}

/// How `$KUBECONFIG` separates its files on this platform, so an error lists
/// them as the user would write them.
const PATH_LIST_SEPARATOR: &str = if cfg!(windows) { ";" } else { ":" };

fn names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let list: Vec<&str> = names.map(String::as_str).collect();
    if list.is_empty() {
        "(none)".into()
    } else {
        list.join(", ")
    }
}
