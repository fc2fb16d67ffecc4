//! The binaries kubext ships, and the krew texts of the four plugins.

/// A binary built from one workspace package.
#[derive(Debug)]
pub struct Binary {
    /// The cargo package (`-p`) that builds it.
    pub package: &'static str,
    /// The binary's file name without `.exe`.
    pub bin: &'static str,
    /// The package's folder, relative to the workspace root.
    pub folder: &'static str,
    /// What krew shows, for the binaries that are kubectl plugins.
    pub plugin: Option<Plugin>,
}

/// The krew manifest texts of a plugin.
#[derive(Debug)]
pub struct Plugin {
    /// The krew plugin name (`kubectl krew install kubext/NAME`), also the manifest's file stem.
    pub name: &'static str,
    /// One line, at most 50 characters: `krew search` cuts there.
    pub short_description: &'static str,
    /// Shown by `kubectl krew info`; paragraphs separated by blank lines.
    pub description: &'static str,
    /// Said after install, before the completion helper's instructions (may be empty).
    pub caveats: &'static str,
}

impl Binary {
    /// The plugin's completion helper kubectl ≥ 1.26 looks up on `PATH`
    /// (`kubectl-view_secret` → `kubectl_complete-view_secret`).
    pub fn completion_helper(&self) -> Option<String> {
        self.plugin.as_ref()?;
        self.bin
            .strip_prefix("kubectl-")
            .map(|rest| format!("kubectl_complete-{rest}"))
    }

    /// How kubectl users type the command (`kubectl view-secret`), or the binary name.
    pub fn invocation(&self) -> String {
        match self.bin.strip_prefix("kubectl-") {
            Some(rest) => format!("kubectl {}", rest.replace('_', "-")),
            None => self.bin.to_string(),
        }
    }
}

/// Every binary kubext ships, in the order of the root README.
pub const BINARIES: &[Binary] = &[
    Binary {
        package: "kubectl-oidc-login",
        bin: "kubectl-oidc_login",
        folder: "plugins/oidc-login",
        plugin: Some(Plugin {
            name: "oidc-login",
            short_description: "Log in to clusters with OpenID Connect",
            description: "\
An exec credential plugin for OpenID Connect, a drop-in replacement for
int128/kubelogin: kubeconfigs written for kubelogin work unchanged.

It logs in with the authorization code flow and PKCE (browser on a loopback
redirect), the keyboard flow, the device authorization grant, the password
grant or client credentials; verifies the id_token; caches tokens in files
(0600) or the OS keyring and refreshes them before they expire, with one
login even when many kubectl processes ask at once.

Subcommands: get-token (what kubectl calls), setup (first login and the
apiserver flags to use), whoami, clean, logout.",
            caveats: "\
To use it, add an exec user to your kubeconfig, e.g. with
`kubectl oidc-login setup --oidc-issuer-url=ISSUER --oidc-client-id=ID`.",
        }),
    },
    Binary {
        package: "kubectl-view-secret",
        bin: "kubectl-view_secret",
        folder: "plugins/view-secret",
        plugin: Some(Plugin {
            name: "view-secret",
            short_description: "Decode Secrets, certificates and Helm releases",
            description: "\
Reads a Secret's keys decoded, without base64 gymnastics: one key, a key
picked interactively, or all of them. Understands TLS certificates (subject,
SANs, expiry), docker config secrets (registries and users) and Helm release
secrets (chart, version, status, values); -o json|yaml prints the Secret with
decoded values.

This plugin replaces elsesiy's view-secret of the same name: krew keys
installs by name, so uninstall that one first (kubectl krew uninstall view-secret).",
            caveats: "",
        }),
    },
    Binary {
        package: "kubectl-kubeconfig",
        bin: "kubectl-kubeconfig",
        folder: "plugins/kubeconfig",
        plugin: Some(Plugin {
            name: "kubeconfig",
            short_description: "Standard kubeconfigs from a cluster catalog",
            description: "\
Generates company-standard kubeconfigs from a catalog of clusters, identity
providers and teams (a YAML file, an HTTPS URL or a ConfigMap), with OIDC
login wired in through kubectl oidc-login; kubeconfigs for service accounts
(TokenRequest); safe merges into your kubeconfig (diff, backup, atomic
write); and a check of every context (reachable, who am I).",
            caveats: "\
Generated kubeconfigs log in with `kubectl oidc-login`:
install it too (kubectl krew install kubext/oidc-login).",
        }),
    },
    Binary {
        package: "kubectl-audit",
        bin: "kubectl-audit",
        folder: "plugins/audit",
        plugin: Some(Plugin {
            name: "audit",
            short_description: "Search and follow Kubernetes audit events",
            description: "\
Asks kubext's audit-sink who did what: search audit events by user, verb,
resource, namespace, name, status or free text over a time range; follow new
events live; summarise by user, verb, resource or code; show the timeline of
one object; import audit log files. Reaches the sink directly or through the
API server's service proxy with your kubectl credentials.",
            caveats: "\
It needs a running audit-sink: see the deploy/ folder of the repository.",
        }),
    },
    Binary {
        package: "audit-sink",
        bin: "audit-sink",
        folder: "audit-sink",
        plugin: None,
    },
];

/// The binaries that are krew plugins.
pub fn plugins() -> impl Iterator<Item = (&'static Binary, &'static Plugin)> {
    BINARIES
        .iter()
        .filter_map(|b| b.plugin.as_ref().map(|p| (b, p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_descriptions_fit_krew_search() {
        for (_, plugin) in plugins() {
            assert!(
                plugin.short_description.chars().count() <= 50,
                "{}: {:?} is longer than 50 characters",
                plugin.name,
                plugin.short_description
            );
            assert!(!plugin.short_description.contains('\n'));
        }
    }

    #[test]
    fn helper_and_invocation_names_follow_kubectl() {
        let view = BINARIES
            .iter()
            .find(|b| b.bin == "kubectl-view_secret")
            .unwrap();
        assert_eq!(
            view.completion_helper().as_deref(),
            Some("kubectl_complete-view_secret")
        );
        assert_eq!(view.invocation(), "kubectl view-secret");
        let sink = BINARIES.iter().find(|b| b.bin == "audit-sink").unwrap();
        assert_eq!(sink.completion_helper(), None);
        assert_eq!(sink.invocation(), "audit-sink");
    }
}
