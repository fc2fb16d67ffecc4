//! Validation: [`validate`] checks a parsed catalog section by section
//! (document and naming here; identity providers, clusters, teams, the names
//! they generate and certificate authorities in their own modules), reports
//! every problem with its path and position, and hands out the model.

mod ca;
mod clusters;
mod identity_providers;
mod names;
mod teams;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::raw::{KNOWN_KEYS, Parsed, RawNaming, Sp};
use super::{
    API_VERSION, Catalog, DEFAULT_CLUSTER_TEMPLATE, DEFAULT_CONTEXT_TEMPLATE,
    DEFAULT_USER_TEMPLATE, KIND, Naming, Problem, Report, Severity,
};
use crate::template::Template;

pub use ca::{PemCertificatesError, check_pem_certificates};
use clusters::check_clusters;
use identity_providers::check_identity_providers;
use names::check_generated_names;
use teams::check_teams;

/// Where relative file references (`certificateAuthority.file`,
/// `clientSecretRef.file`) are resolved.
#[derive(Debug, Clone)]
pub enum BaseDir {
    /// The directory of the catalog file.
    Dir(PathBuf),
    /// The catalog came from a URL or ConfigMap: relative paths are an error.
    None,
}

impl BaseDir {
    fn resolve(&self, path: &str) -> Result<PathBuf, String> {
        let p = Path::new(path);
        if p.is_absolute() {
            return Ok(p.to_path_buf());
        }
        match self {
            BaseDir::Dir(dir) => Ok(dir.join(p)),
            BaseDir::None => Err(format!(
                "relative path {path:?} cannot be resolved for a catalog read from a URL or ConfigMap; inline the content (pem/data) or use an absolute path"
            )),
        }
    }
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, severity: Severity, path: &str, at: Option<(u64, u64)>, message: String) {
        self.problems.push(Problem {
            severity,
            path: path.to_string(),
            position: at,
            message,
        });
    }
    fn error(&mut self, path: &str, at: Option<(u64, u64)>, message: impl Into<String>) {
        self.push(Severity::Error, path, at, message.into());
    }
    fn warn(&mut self, path: &str, at: Option<(u64, u64)>, message: impl Into<String>) {
        self.push(Severity::Warning, path, at, message.into());
    }

    /// A required, non-empty string.
    fn required<'a>(
        &mut self,
        value: &'a Option<Sp<String>>,
        path: &str,
        parent_at: Option<(u64, u64)>,
        what: &str,
    ) -> Option<&'a str> {
        match value {
            Some(v) if !v.value.trim().is_empty() => Some(v.value.as_str()),
            Some(v) => {
                self.error(path, pos(v), format!("{what} is empty"));
                None
            }
            None => {
                self.error(path, parent_at, format!("{what} is missing"));
                None
            }
        }
    }
}

fn pos<T>(s: &Sp<T>) -> Option<(u64, u64)> {
    let (line, column) = (s.referenced.line(), s.referenced.column());
    (line > 0).then_some((line, column))
}

fn opt_pos<T>(s: &Option<Sp<T>>) -> Option<(u64, u64)> {
    s.as_ref().and_then(pos)
}

/// Checks a parsed catalog and returns the validated model, or a report of
/// every problem found. Warnings are returned with the model.
pub fn validate(
    parsed: &Parsed,
    base: &BaseDir,
    source_name: &str,
) -> Result<(Catalog, Report), Report> {
    let mut ck = Checker {
        problems: Vec::new(),
    };
    let raw = &parsed.raw;
    check_unknown_keys(&parsed.generic, "", "", &mut ck);

    match &raw.api_version {
        Some(v) if v.value == API_VERSION => {}
        Some(v) => ck.error(
            "apiVersion",
            pos(v),
            format!(
                "unsupported apiVersion {:?}; this version of kubectl-kubeconfig reads {API_VERSION:?}",
                v.value
            ),
        ),
        None => ck.error(
            "apiVersion",
            None,
            format!("apiVersion is missing; write `apiVersion: {API_VERSION}`"),
        ),
    }
    match &raw.kind {
        Some(v) if v.value == KIND => {}
        Some(v) => ck.error(
            "kind",
            pos(v),
            format!("kind is {:?}, expected {KIND:?}", v.value),
        ),
        None => ck.error(
            "kind",
            None,
            format!("kind is missing; write `kind: {KIND}`"),
        ),
    }

    let naming = check_naming(raw.naming.as_ref(), &mut ck);
    let identity_providers = check_identity_providers(raw, base, &mut ck);
    let clusters = check_clusters(raw, base, &mut ck);
    let teams = check_teams(raw, &identity_providers, &clusters, &mut ck);

    let catalog = Catalog {
        name: raw.metadata.as_ref().and_then(|m| m.name.clone()),
        naming,
        install_hint: raw
            .install_hint
            .as_ref()
            .map(|h| h.value.clone())
            .unwrap_or_else(default_install_hint),
        identity_providers,
        clusters,
        teams,
    };
    check_generated_names(&catalog, raw, &mut ck);

    // Document order; problems without a position (missing top-level fields,
    // unknown fields) come first.
    ck.problems.sort_by_key(|p| p.position.unwrap_or((0, 0)));
    let report = Report {
        source: source_name.to_string(),
        problems: ck.problems,
    };
    if report.has_errors() {
        Err(report)
    } else {
        Ok((catalog, report))
    }
}

/// The install hint kubectl shows when `kubectl oidc-login` is missing.
pub fn default_install_hint() -> String {
    "kubectl oidc-login logs you in to this cluster and is not installed. Install it with krew \
(https://krew.sigs.k8s.io/docs/user-guide/setup/install/):\n\
\n  kubectl krew index add kubext https://github.com/kubext/krew-index.git\
\n  kubectl krew install kubext/oidc-login\n"
        .to_string()
}

fn check_unknown_keys(value: &serde_json::Value, path: &str, shape: &str, ck: &mut Checker) {
    match value {
        serde_json::Value::Object(map) => {
            let Some((_, known)) = KNOWN_KEYS.iter().find(|(s, _)| *s == shape) else {
                return;
            };
            for (key, child) in map {
                let child_path = join(path, key);
                if !known.contains(&key.as_str()) {
                    let suggestion = known
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(key))
                        .map(|k| format!(" (did you mean {k:?}?)"))
                        .unwrap_or_else(|| format!(" (known fields: {})", known.join(", ")));
                    ck.error(&child_path, None, format!("unknown field{suggestion}"));
                    continue;
                }
                let child_shape = join(shape, key);
                check_unknown_keys(child, &child_path, &child_shape, ck);
            }
        }
        serde_json::Value::Array(items) => {
            let item_shape = format!("{shape}[]");
            for (i, item) in items.iter().enumerate() {
                check_unknown_keys(item, &format!("{path}[{i}]"), &item_shape, ck);
            }
        }
        _ => {}
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn check_naming(raw: Option<&RawNaming>, ck: &mut Checker) -> Naming {
    let mut one = |value: Option<&Sp<String>>, key: &str, default: &str| -> Template {
        let fallback = Template::parse(default).expect("default templates are valid");
        let Some(v) = value else { return fallback };
        match Template::parse(&v.value) {
            Ok(t) => t,
            Err(e) => {
                ck.error(&format!("naming.{key}"), pos(v), format!("{e}"));
                fallback
            }
        }
    };
    let field = |get: fn(&RawNaming) -> Option<&Sp<String>>| raw.and_then(get);
    Naming {
        context: one(
            field(|n| n.context.as_ref()),
            "context",
            DEFAULT_CONTEXT_TEMPLATE,
        ),
        user: one(field(|n| n.user.as_ref()), "user", DEFAULT_USER_TEMPLATE),
        cluster: one(
            field(|n| n.cluster.as_ref()),
            "cluster",
            DEFAULT_CLUSTER_TEMPLATE,
        ),
    }
}

/// Names become kubeconfig entry names and file names: keep them simple.
fn check_name(name: &str, path: &str, at: Option<(u64, u64)>, ck: &mut Checker) {
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !ok {
        ck.error(
            path,
            at,
            format!(
                "name {name:?} may only contain letters, digits, '-', '_' and '.' (and not start with '.')"
            ),
        );
    }
}

fn check_duplicates<'a>(
    names: impl Iterator<Item = (usize, &'a Sp<String>)>,
    list: &str,
    what: &str,
    ck: &mut Checker,
) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names {
        if let Some(first) = seen.get(name.value.as_str()) {
            ck.error(
                &format!("{list}[{i}].name"),
                pos(name),
                format!(
                    "duplicate {what} name {:?} (already used by {list}[{first}])",
                    name.value
                ),
            );
        } else {
            seen.insert(&name.value, i);
        }
    }
}

fn check_https_url(
    text: &str,
    path: &str,
    at: Option<(u64, u64)>,
    what: &str,
    ck: &mut Checker,
) -> bool {
    if !text.contains("://") && !text.contains(char::is_whitespace) {
        ck.error(
            path,
            at,
            format!("{what} {text:?} must use https: write it as https://{text}"),
        );
        return false;
    }
    match url::Url::parse(text) {
        Err(e) => {
            ck.error(path, at, format!("{what} {text:?} is not a valid URL: {e}"));
            false
        }
        Ok(u) if u.scheme() != "https" => {
            ck.error(
                path,
                at,
                format!("{what} {text:?} must use https (found {}://)", u.scheme()),
            );
            false
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => {
            ck.error(path, at, format!("{what} {text:?} has no host"));
            false
        }
        Ok(_) => true,
    }
}

fn check_namespace(value: &Option<Sp<String>>, path: &str, ck: &mut Checker) -> Option<String> {
    let v = value.as_ref()?;
    let valid = !v.value.is_empty()
        && v.value.len() <= 63
        && v.value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.value.starts_with('-')
        && !v.value.ends_with('-');
    if valid {
        Some(v.value.clone())
    } else {
        ck.error(
            path,
            pos(v),
            format!(
                "namespace {:?} is not a valid Kubernetes namespace name (lower-case letters, digits and '-', at most 63)",
                v.value
            ),
        );
        None
    }
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
