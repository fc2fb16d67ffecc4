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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::selector::{self, Selector};
use crate::template::{Names, Template};

pub use model::{Catalog, Cluster, IdentityProvider, Naming, SecretRef, Team, TeamCluster};
use raw::{KNOWN_KEYS, RawCertificateAuthority, RawNaming, Sp};
pub use raw::{ParseError, Parsed, RawCatalog, parse};
pub use report::{Problem, Report, Severity};

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

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

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

fn check_ca(
    raw: &Option<Sp<RawCertificateAuthority>>,
    path: &str,
    base: &BaseDir,
    ck: &mut Checker,
) -> Option<Vec<u8>> {
    let ca = raw.as_ref()?;
    let forms: Vec<&str> = [
        ca.value.file.as_ref().map(|_| "file"),
        ca.value.pem.as_ref().map(|_| "pem"),
        ca.value.data.as_ref().map(|_| "data"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if forms.len() != 1 {
        ck.error(
            path,
            pos(ca),
            format!(
                "give exactly one of file, pem or data (found {})",
                if forms.is_empty() {
                    "none".to_string()
                } else {
                    forms.join(", ")
                }
            ),
        );
        return None;
    }
    let (pem, field, at): (Vec<u8>, &str, _) = if let Some(file) = &ca.value.file {
        let field = format!("{path}.file");
        let resolved = match base.resolve(&file.value) {
            Ok(p) => p,
            Err(e) => {
                ck.error(&field, pos(file), e);
                return None;
            }
        };
        match std::fs::read(&resolved) {
            Ok(bytes) => (bytes, "file", pos(file)),
            Err(e) => {
                ck.error(
                    &field,
                    pos(file),
                    format!("cannot read CA file {}: {e}", resolved.display()),
                );
                return None;
            }
        }
    } else if let Some(pem) = &ca.value.pem {
        (pem.value.clone().into_bytes(), "pem", pos(pem))
    } else {
        let data = ca.value.data.as_ref().expect("one form is set");
        let compact: String = data.value.split_whitespace().collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) => (bytes, "data", pos(data)),
            Err(e) => {
                ck.error(
                    &format!("{path}.data"),
                    pos(data),
                    format!("data is not valid base64: {e}"),
                );
                return None;
            }
        }
    };
    let field_path = format!("{path}.{field}");
    match check_pem_certificates(&pem) {
        Ok(expired) => {
            for subject in expired {
                ck.warn(
                    &field_path,
                    at,
                    format!("certificate {subject} has expired"),
                );
            }
            Some(pem)
        }
        Err(e) => {
            ck.error(&field_path, at, e);
            None
        }
    }
}

/// Checks that `pem` holds at least one X.509 certificate and nothing else that
/// is broken. Returns the subjects of expired certificates.
pub fn check_pem_certificates(pem: &[u8]) -> Result<Vec<String>, String> {
    use x509_parser::pem::Pem;
    let mut count = 0;
    let mut expired = Vec::new();
    let now = jiff::Timestamp::now().as_second();
    for (i, block) in Pem::iter_from_buffer(pem).enumerate() {
        let block = block.map_err(|e| format!("PEM block {} is malformed: {e}", i + 1))?;
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "PEM block {} is a {:?}, expected a CERTIFICATE (a CA bundle holds certificates only)",
                i + 1,
                block.label
            ));
        }
        let cert = block
            .parse_x509()
            .map_err(|e| format!("PEM block {} is not a valid X.509 certificate: {e}", i + 1))?;
        if cert.validity().not_after.timestamp() < now {
            expired.push(format!("{:?}", cert.subject().to_string()));
        }
        count += 1;
    }
    if count == 0 {
        return Err(
            "no PEM certificate found (expected -----BEGIN CERTIFICATE----- blocks)".into(),
        );
    }
    Ok(expired)
}

fn check_identity_providers(
    raw: &RawCatalog,
    base: &BaseDir,
    ck: &mut Checker,
) -> Vec<IdentityProvider> {
    let list = raw.identity_providers.as_deref().unwrap_or_default();
    if list.is_empty() {
        ck.error(
            "identityProviders",
            None,
            "no identity provider is defined; add at least one with name, issuerURL and clientID",
        );
    }
    check_duplicates(
        list.iter()
            .enumerate()
            .filter_map(|(i, p)| p.value.name.as_ref().map(|n| (i, n))),
        "identityProviders",
        "identity provider",
        ck,
    );
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let p = &item.value;
        let path = format!("identityProviders[{i}]");
        let at = pos(item);
        let name = ck.required(&p.name, &format!("{path}.name"), at, "name");
        if let Some(name) = name {
            check_name(name, &format!("{path}.name"), opt_pos(&p.name), ck);
        }
        let issuer = ck
            .required(&p.issuer_url, &format!("{path}.issuerURL"), at, "issuerURL")
            .filter(|u| {
                check_https_url(
                    u,
                    &format!("{path}.issuerURL"),
                    opt_pos(&p.issuer_url),
                    "issuer URL",
                    ck,
                )
            });
        if let Some(u) = issuer.and_then(|u| url::Url::parse(u).ok())
            && (u.query().is_some() || u.fragment().is_some())
        {
            ck.error(
                &format!("{path}.issuerURL"),
                opt_pos(&p.issuer_url),
                "an OpenID Connect issuer URL has no query or fragment",
            );
        }
        let client_id = ck.required(&p.client_id, &format!("{path}.clientID"), at, "clientID");
        let client_secret = p.client_secret_ref.as_ref().and_then(|r| {
            let rpath = format!("{path}.clientSecretRef");
            match (&r.value.env, &r.value.file) {
                (Some(env), None) if !env.value.is_empty() => {
                    Some(SecretRef::Env(env.value.clone()))
                }
                (None, Some(file)) if !file.value.is_empty() => match base.resolve(&file.value) {
                    Ok(p) => Some(SecretRef::File(p)),
                    Err(e) => {
                        ck.error(&format!("{rpath}.file"), pos(file), e);
                        None
                    }
                },
                _ => {
                    ck.error(
                        &rpath,
                        pos(r),
                        "give exactly one of env (an environment variable name) or file (a path)",
                    );
                    None
                }
            }
        });
        let mut extra_scopes = Vec::new();
        for (j, scope) in p.extra_scopes.iter().flatten().enumerate() {
            let spath = format!("{path}.extraScopes[{j}]");
            if scope.value.is_empty() || scope.value.contains(char::is_whitespace) {
                ck.error(
                    &spath,
                    pos(scope),
                    format!("scope {:?} must be one word", scope.value),
                );
            } else if scope.value == "openid" {
                ck.warn(
                    &spath,
                    pos(scope),
                    "openid is always requested; no need to list it",
                );
            } else if extra_scopes.contains(&scope.value) {
                ck.warn(
                    &spath,
                    pos(scope),
                    format!("scope {:?} is listed twice", scope.value),
                );
            } else {
                extra_scopes.push(scope.value.clone());
            }
        }
        let grant_type = p.grant_type.as_ref().and_then(|g| {
            if GRANT_TYPES.contains(&g.value.as_str()) {
                (g.value != "auto").then(|| g.value.clone())
            } else {
                ck.error(
                    &format!("{path}.grantType"),
                    pos(g),
                    format!(
                        "unknown grant type {:?} (use one of {})",
                        g.value,
                        GRANT_TYPES.join(", ")
                    ),
                );
                None
            }
        });
        let pkce_method = p.pkce_method.as_ref().and_then(|m| {
            if PKCE_METHODS.contains(&m.value.as_str()) {
                Some(m.value.clone())
            } else {
                ck.error(
                    &format!("{path}.pkceMethod"),
                    pos(m),
                    format!(
                        "unknown PKCE method {:?} (use one of {})",
                        m.value,
                        PKCE_METHODS.join(", ")
                    ),
                );
                None
            }
        });
        let redirect_url = p
            .redirect_url
            .as_ref()
            .and_then(|r| match url::Url::parse(&r.value) {
                Ok(_) => Some(r.value.clone()),
                Err(e) => {
                    ck.error(
                        &format!("{path}.redirectURL"),
                        pos(r),
                        format!("redirect URL {:?} is not a valid URL: {e}", r.value),
                    );
                    None
                }
            });
        let mut listen_addresses = Vec::new();
        for (j, addr) in p.listen_addresses.iter().flatten().enumerate() {
            let valid = addr
                .value
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if valid {
                listen_addresses.push(addr.value.clone());
            } else {
                ck.error(
                    &format!("{path}.listenAddresses[{j}]"),
                    pos(addr),
                    format!(
                        "listen address {:?} must be HOST:PORT, e.g. 127.0.0.1:8000",
                        addr.value
                    ),
                );
            }
        }
        let mut extra_args = Vec::new();
        for (j, arg) in p.extra_args.iter().flatten().enumerate() {
            if arg.value.starts_with("--") {
                extra_args.push(arg.value.clone());
            } else {
                ck.error(
                    &format!("{path}.extraArgs[{j}]"),
                    pos(arg),
                    format!(
                        "extra argument {:?} must be a flag written as --name=value",
                        arg.value
                    ),
                );
            }
        }
        let ca = check_ca(
            &p.certificate_authority,
            &format!("{path}.certificateAuthority"),
            base,
            ck,
        );
        if let (Some(name), Some(issuer), Some(client_id)) = (name, issuer, client_id) {
            out.push(IdentityProvider {
                name: name.to_string(),
                issuer_url: issuer.to_string(),
                client_id: client_id.to_string(),
                client_secret,
                extra_scopes,
                grant_type,
                pkce_method,
                redirect_url,
                listen_addresses,
                auth_request_extra_params: p.auth_request_extra_params.clone().unwrap_or_default(),
                use_access_token: p.use_access_token.unwrap_or(false),
                certificate_authority_pem: ca,
                provide_cluster_info: p.provide_cluster_info.unwrap_or(false),
                extra_args,
            });
        }
    }
    out
}

fn check_clusters(raw: &RawCatalog, base: &BaseDir, ck: &mut Checker) -> Vec<Cluster> {
    let list = raw.clusters.as_deref().unwrap_or_default();
    if list.is_empty() {
        ck.error(
            "clusters",
            None,
            "no cluster is defined; add at least one with name and server",
        );
    }
    check_duplicates(
        list.iter()
            .enumerate()
            .filter_map(|(i, c)| c.value.name.as_ref().map(|n| (i, n))),
        "clusters",
        "cluster",
        ck,
    );
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let c = &item.value;
        let path = format!("clusters[{i}]");
        let at = pos(item);
        let name = ck.required(&c.name, &format!("{path}.name"), at, "name");
        if let Some(name) = name {
            check_name(name, &format!("{path}.name"), opt_pos(&c.name), ck);
        }
        let server = ck
            .required(&c.server, &format!("{path}.server"), at, "server")
            .filter(|s| {
                check_https_url(
                    s,
                    &format!("{path}.server"),
                    opt_pos(&c.server),
                    "server URL",
                    ck,
                )
            });
        let ca = check_ca(
            &c.certificate_authority,
            &format!("{path}.certificateAuthority"),
            base,
            ck,
        );
        let tls_server_name = c.tls_server_name.as_ref().and_then(|t| {
            let valid = !t.value.is_empty()
                && t.value
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '.' | '*'));
            if valid {
                Some(t.value.clone())
            } else {
                ck.error(
                    &format!("{path}.tlsServerName"),
                    pos(t),
                    format!("{:?} is not a DNS name", t.value),
                );
                None
            }
        });
        let proxy_url = c.proxy_url.as_ref().and_then(|p| match url::Url::parse(&p.value) {
            Ok(u) if matches!(u.scheme(), "http" | "https" | "socks5") && u.host_str().is_some() => {
                Some(p.value.clone())
            }
            Ok(u) => {
                ck.error(
                    &format!("{path}.proxyURL"),
                    pos(p),
                    format!("proxy URL {:?} must use http, https or socks5 and name a host (found {}://)", p.value, u.scheme()),
                );
                None
            }
            Err(e) => {
                ck.error(
                    &format!("{path}.proxyURL"),
                    pos(p),
                    format!("proxy URL {:?} is not a valid URL: {e}", p.value),
                );
                None
            }
        });
        let namespace = check_namespace(&c.namespace, &format!("{path}.namespace"), ck);
        let mut labels = BTreeMap::new();
        for (key, value) in c.labels.iter().flatten() {
            let lpath = format!("{path}.labels.{key}");
            if let Err(e) =
                selector::check_key(key).and_then(|_| selector::check_value(&value.value))
            {
                ck.error(&lpath, pos(value), e);
            } else {
                labels.insert(key.clone(), value.value.clone());
            }
        }
        if let (Some(name), Some(server)) = (name, server) {
            out.push(Cluster {
                name: name.to_string(),
                server: server.to_string(),
                certificate_authority_pem: ca,
                tls_server_name,
                proxy_url,
                namespace,
                labels,
            });
        }
    }
    out
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

fn check_teams(
    raw: &RawCatalog,
    idps: &[IdentityProvider],
    clusters: &[Cluster],
    ck: &mut Checker,
) -> Vec<Team> {
    let list = raw.teams.as_deref().unwrap_or_default();
    if list.is_empty() {
        ck.error(
            "teams",
            None,
            "no team is defined; add at least one with name and clusters",
        );
    }
    check_duplicates(
        list.iter()
            .enumerate()
            .filter_map(|(i, t)| t.value.name.as_ref().map(|n| (i, n))),
        "teams",
        "team",
        ck,
    );
    let raw_idp_names: BTreeSet<&str> = raw
        .identity_providers
        .iter()
        .flatten()
        .filter_map(|p| p.value.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let raw_cluster_names: BTreeSet<&str> = raw
        .clusters
        .iter()
        .flatten()
        .filter_map(|c| c.value.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let t = &item.value;
        let path = format!("teams[{i}]");
        let at = pos(item);
        let name = ck.required(&t.name, &format!("{path}.name"), at, "name");
        if let Some(name) = name {
            check_name(name, &format!("{path}.name"), opt_pos(&t.name), ck);
        }
        let idp = match &t.identity_provider {
            Some(p) if raw_idp_names.contains(p.value.as_str()) => Some(p.value.clone()),
            Some(p) => {
                ck.error(
                    &format!("{path}.identityProvider"),
                    pos(p),
                    format!(
                        "unknown identity provider {:?} (defined: {})",
                        p.value,
                        list_or_none(raw_idp_names.iter().copied())
                    ),
                );
                None
            }
            None if raw_idp_names.len() == 1 => raw_idp_names.iter().next().map(|s| s.to_string()),
            None => {
                ck.error(
                    &format!("{path}.identityProvider"),
                    at,
                    "identityProvider is missing; it is required when the catalog defines more than one",
                );
                None
            }
        };
        let team_ns = check_namespace(&t.namespace, &format!("{path}.namespace"), ck);
        let entries = t.clusters.as_deref().unwrap_or_default();
        if entries.is_empty() {
            ck.error(&format!("{path}.clusters"), at, "the team lists no cluster");
        }
        // Clusters keep the order they are listed in; a cluster named
        // explicitly takes that entry's namespace even if a selector listed it first.
        let mut chosen: Vec<(TeamCluster, bool)> = Vec::new();
        let mut explicit: HashMap<&str, usize> = HashMap::new();
        let add = |chosen: &mut Vec<(TeamCluster, bool)>, tc: TeamCluster, is_explicit: bool| {
            match chosen.iter_mut().find(|(c, _)| c.cluster == tc.cluster) {
                Some(existing) if is_explicit && !existing.1 => *existing = (tc, true),
                Some(_) => {}
                None => chosen.push((tc, is_explicit)),
            }
        };
        for (j, entry) in entries.iter().enumerate() {
            let e = &entry.value;
            let epath = format!("{path}.clusters[{j}]");
            let ns = check_namespace(&e.namespace, &format!("{epath}.namespace"), ck);
            match (&e.name, &e.selector) {
                (Some(n), None) => {
                    if let Some(first) = explicit.get(n.value.as_str()) {
                        ck.error(
                            &format!("{epath}.name"),
                            pos(n),
                            format!(
                                "cluster {:?} is listed twice (first at {path}.clusters[{first}])",
                                n.value
                            ),
                        );
                    } else if !raw_cluster_names.contains(n.value.as_str()) {
                        ck.error(
                            &epath,
                            pos(entry),
                            format!(
                                "unknown cluster {:?} (defined: {})",
                                n.value,
                                list_or_none(raw_cluster_names.iter().copied())
                            ),
                        );
                    } else {
                        explicit.insert(&n.value, j);
                        let tc = TeamCluster {
                            cluster: n.value.clone(),
                            namespace: ns.or_else(|| team_ns.clone()),
                        };
                        add(&mut chosen, tc, true);
                    }
                }
                (None, Some(s)) => match Selector::parse(&s.value) {
                    Ok(sel) => {
                        let matching: Vec<&Cluster> =
                            clusters.iter().filter(|c| sel.matches(&c.labels)).collect();
                        if matching.is_empty() {
                            ck.warn(
                                &format!("{epath}.selector"),
                                pos(s),
                                format!("selector {:?} matches no cluster", s.value),
                            );
                        }
                        for c in matching {
                            let tc = TeamCluster {
                                cluster: c.name.clone(),
                                namespace: ns.clone().or_else(|| team_ns.clone()),
                            };
                            add(&mut chosen, tc, false);
                        }
                    }
                    Err(err) => ck.error(&format!("{epath}.selector"), pos(s), err.to_string()),
                },
                (Some(_), Some(_)) => {
                    ck.error(&epath, pos(entry), "give either name or selector, not both")
                }
                (None, None) => ck.error(
                    &epath,
                    pos(entry),
                    "give a cluster name or a label selector",
                ),
            }
        }
        let mut chosen: Vec<TeamCluster> = chosen.into_iter().map(|(c, _)| c).collect();
        // Fall back to the cluster's own default namespace.
        for tc in &mut chosen {
            if tc.namespace.is_none() {
                tc.namespace = clusters
                    .iter()
                    .find(|c| c.name == tc.cluster)
                    .and_then(|c| c.namespace.clone());
            }
        }
        if let (Some(name), Some(idp)) = (name, idp) {
            out.push(Team {
                name: name.to_string(),
                identity_provider: idp,
                clusters: chosen,
            });
        }
    }
    let _ = idps;
    out
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// Two teams or clusters must not produce the same context name, and one user
/// or cluster name must not stand for two different entries.
fn check_generated_names(catalog: &Catalog, raw: &RawCatalog, ck: &mut Checker) {
    let naming_pos = |key: &str| -> Option<(u64, u64)> {
        let n = raw.naming.as_ref()?;
        match key {
            "context" => opt_pos(&n.context),
            "user" => opt_pos(&n.user),
            _ => opt_pos(&n.cluster),
        }
    };
    let mut contexts: HashMap<String, (String, String)> = HashMap::new();
    let mut users: HashMap<String, String> = HashMap::new();
    let mut cluster_names: HashMap<String, String> = HashMap::new();
    let mut reported = BTreeSet::new();
    for team in &catalog.teams {
        for tc in &team.clusters {
            let names = Names {
                cluster: &tc.cluster,
                team: &team.name,
                idp: &team.identity_provider,
                namespace: tc.namespace.as_deref().unwrap_or(""),
            };
            let context = catalog.naming.context.render(&names);
            let user = catalog.naming.user.render(&names);
            let cluster = catalog.naming.cluster.render(&names);
            let pair = (team.name.clone(), tc.cluster.clone());
            if let Some(other) = contexts.get(&context) {
                if *other != pair && reported.insert(("context", context.clone())) {
                    ck.error(
                        "naming.context",
                        naming_pos("context"),
                        format!(
                            "template {:?} gives context {context:?} to both team {:?} on cluster {:?} and team {:?} on cluster {:?}; include {{team}} and {{cluster}}",
                            catalog.naming.context.to_string(), other.0, other.1, pair.0, pair.1
                        ),
                    );
                }
            } else {
                contexts.insert(context, pair);
            }
            match users.get(&user) {
                Some(idp) if *idp != team.identity_provider => {
                    if reported.insert(("user", user.clone())) {
                        ck.error(
                            "naming.user",
                            naming_pos("user"),
                            format!(
                                "template {:?} gives user {user:?} to identity providers {idp:?} and {:?}; include {{idp}}",
                                catalog.naming.user.to_string(), team.identity_provider
                            ),
                        );
                    }
                }
                Some(_) => {}
                None => {
                    users.insert(user, team.identity_provider.clone());
                }
            }
            match cluster_names.get(&cluster) {
                Some(c) if *c != tc.cluster => {
                    if reported.insert(("cluster", cluster.clone())) {
                        ck.error(
                            "naming.cluster",
                            naming_pos("cluster"),
                            format!(
                                "template {:?} gives kubeconfig cluster {cluster:?} to clusters {c:?} and {:?}; include {{cluster}}",
                                catalog.naming.cluster.to_string(), tc.cluster
                            ),
                        );
                    }
                }
                Some(_) => {}
                None => {
                    cluster_names.insert(cluster, tc.cluster.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const CA_PEM: &str = include_str!("../../examples/ca/acme-root.pem");

    fn load(yaml: &str) -> Result<(Catalog, Report), Report> {
        let parsed = parse(yaml, "test.yaml").expect("parses");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
        validate(&parsed, &BaseDir::Dir(dir), "test.yaml")
    }

    const GOOD: &str = r#"
apiVersion: kubext.io/v1alpha1
kind: Catalog
metadata:
  name: acme
identityProviders:
  - name: corp
    issuerURL: https://login.acme.example/realms/k8s
    clientID: kubernetes
    extraScopes: [email, groups]
clusters:
  - name: prod-eu
    server: https://api.prod-eu.acme.example:6443
    certificateAuthority:
      file: ca/acme-root.pem
    namespace: default
    labels: {env: prod, region: eu}
  - name: prod-us
    server: https://api.prod-us.acme.example:6443
    labels: {env: prod, region: us}
  - name: dev
    server: https://api.dev.acme.example:6443
    labels: {env: dev, region: eu}
teams:
  - name: payments
    namespace: payments
    clusters:
      - name: dev
        namespace: payments-dev
      - selector: env=prod
"#;

    #[test]
    fn a_good_catalog_validates() {
        let (catalog, report) = load(GOOD).unwrap();
        assert_eq!(report.problems, vec![]);
        assert_eq!(catalog.name.as_deref(), Some("acme"));
        let team = catalog.team("payments").unwrap();
        assert_eq!(
            team.identity_provider, "corp",
            "the only provider is the default"
        );
        assert_eq!(
            team.clusters,
            vec![
                TeamCluster {
                    cluster: "dev".into(),
                    namespace: Some("payments-dev".into())
                },
                TeamCluster {
                    cluster: "prod-eu".into(),
                    namespace: Some("payments".into())
                },
                TeamCluster {
                    cluster: "prod-us".into(),
                    namespace: Some("payments".into())
                },
            ]
        );
        let prod_eu = catalog.cluster("prod-eu").unwrap();
        assert!(
            prod_eu
                .certificate_authority_pem
                .as_ref()
                .unwrap()
                .starts_with(b"-----BEGIN CERTIFICATE")
        );
    }

    #[test]
    fn listed_order_is_kept_and_explicit_entries_win() {
        let yaml = GOOD.replace(
            "      - name: dev\n        namespace: payments-dev\n      - selector: env=prod\n",
            "      - selector: env=prod\n      - name: prod-eu\n        namespace: pay-eu\n",
        );
        assert_ne!(yaml, GOOD);
        let (catalog, _) = load(&yaml).unwrap();
        let got: Vec<(&str, Option<&str>)> = catalog.teams[0]
            .clusters
            .iter()
            .map(|c| (c.cluster.as_str(), c.namespace.as_deref()))
            .collect();
        assert_eq!(
            got,
            [("prod-eu", Some("pay-eu")), ("prod-us", Some("payments"))]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_path_and_position() {
        let yaml = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
naming:
  context: "{cluster}-{region}"
identityProviders:
  - name: corp
    issuerURL: http://login.acme.example
    clientID: kubernetes
  - name: corp
    issuerURL: https://other.example
    clientID: k8s
    grantType: magic
clusters:
  - name: prod-eu
    server: "not a url"
    certificateAuthority:
      file: ca/missing.pem
  - name: prod-eu
    server: https://b.example
    certificateAuthority:
      pem: "hello"
    lables: {env: prod}
teams:
  - name: payments
    identityProvider: corp
    clusters:
      - name: prod-eu
  - name: ops
    identityProvider: corp
    clusters:
      - name: prod-us
      - selector: "env in (prod"
"#;
        let report = load(yaml).unwrap_err();
        let lines = report.lines();
        let text = lines.join("\n");
        let expect = [
            "test.yaml:4:12: naming.context: unknown placeholder {region}",
            "test.yaml:7:16: identityProviders[0].issuerURL: issuer URL \"http://login.acme.example\" must use https",
            "test.yaml:9:11: identityProviders[1].name: duplicate identity provider name \"corp\" (already used by identityProviders[0])",
            "test.yaml:12:16: identityProviders[1].grantType: unknown grant type \"magic\"",
            "test.yaml:15:13: clusters[0].server: server URL \"not a url\" is not a valid URL",
            "test.yaml:17:13: clusters[0].certificateAuthority.file: cannot read CA file",
            "test.yaml:18:11: clusters[1].name: duplicate cluster name \"prod-eu\" (already used by clusters[0])",
            "test.yaml:21:12: clusters[1].certificateAuthority.pem: no PEM certificate found",
            "test.yaml: clusters[1].lables: unknown field (known fields:",
            "test.yaml:31:9: teams[1].clusters[0]: unknown cluster \"prod-us\" (defined: \"prod-eu\")",
            "test.yaml:32:19: teams[1].clusters[1].selector: invalid label selector \"env in (prod\": a '(' is not closed",
        ];
        for want in expect {
            assert!(
                lines.iter().any(|l| l.starts_with(want)),
                "missing {want:?} in\n{text}"
            );
        }
        assert_eq!(report.errors().count(), expect.len(), "{text}");
    }

    #[test]
    fn ca_forms_and_bad_pem() {
        let data = base64::engine::general_purpose::STANDARD.encode(CA_PEM);
        let yaml = [
            "apiVersion: kubext.io/v1alpha1".to_string(),
            "kind: Catalog".into(),
            "identityProviders: [{name: i, issuerURL: 'https://i.example', clientID: c}]".into(),
            "clusters:".into(),
            format!("  - {{name: a, server: 'https://a.example', certificateAuthority: {{data: {data}}}}}"),
            "  - {name: b, server: 'https://b.example', certificateAuthority: {data: '!!notbase64'}}".into(),
            "  - {name: c, server: 'https://c.example', certificateAuthority: {file: x, pem: y}}".into(),
            "  - {name: d, server: 'https://d.example', certificateAuthority: {pem: \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}}".into(),
            "teams: [{name: t, clusters: [{name: a}]}]".into(),
        ]
        .join("\n");
        let report = load(&yaml).unwrap_err();
        let text = report.lines().join("\n");
        assert!(
            text.contains("clusters[1].certificateAuthority.data: data is not valid base64"),
            "{text}"
        );
        assert!(text.contains("clusters[2].certificateAuthority: give exactly one of file, pem or data (found file, pem)"), "{text}");
        assert!(
            text.contains("clusters[3].certificateAuthority.pem: PEM block 1 is a \"PRIVATE KEY\""),
            "{text}"
        );
        assert_eq!(report.errors().count(), 3, "{text}");
    }

    #[test]
    fn colliding_names_are_reported() {
        let yaml = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
naming:
  context: "{cluster}"
  user: "oidc"
identityProviders:
  - {name: a, issuerURL: "https://a.example", clientID: c}
  - {name: b, issuerURL: "https://b.example", clientID: c}
clusters:
  - {name: one, server: "https://one.example"}
teams:
  - {name: x, identityProvider: a, clusters: [{name: one}]}
  - {name: y, identityProvider: b, clusters: [{name: one}]}
"#;
        let report = load(yaml).unwrap_err();
        let text = report.lines().join("\n");
        assert!(text.contains("test.yaml:4:12: naming.context: template \"{cluster}\" gives context \"one\" to both team \"x\""), "{text}");
        assert!(text.contains("test.yaml:5:9: naming.user: template \"oidc\" gives user \"oidc\" to identity providers \"a\" and \"b\""), "{text}");
    }

    #[test]
    fn warnings_do_not_stop_the_catalog() {
        let yaml = r#"apiVersion: kubext.io/v1alpha1
kind: Catalog
identityProviders:
  - {name: a, issuerURL: "https://a.example", clientID: c, extraScopes: [openid, email]}
clusters:
  - {name: one, server: "https://one.example", labels: {env: dev}}
teams:
  - {name: x, clusters: [{name: one}, {selector: env=prod}]}
"#;
        let (_, report) = load(yaml).unwrap();
        let text = report.lines().join("\n");
        assert_eq!(report.warnings().count(), 2, "{text}");
        assert!(
            text.contains("selector \"env=prod\" matches no cluster"),
            "{text}"
        );
    }

    #[test]
    fn unreadable_yaml_is_a_parse_error() {
        assert!(
            parse("a: [", "x.yaml")
                .unwrap_err()
                .to_string()
                .contains("x.yaml")
        );
        assert!(
            parse("", "x.yaml")
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        assert!(
            parse("- a", "x.yaml")
                .unwrap_err()
                .to_string()
                .contains("not a mapping")
        );
        let err = parse("clusters: 3", "x.yaml").unwrap_err().to_string();
        assert!(err.contains("x.yaml"), "{err}");
    }

    #[test]
    fn relative_files_need_a_catalog_file() {
        let yaml = "apiVersion: kubext.io/v1alpha1\nkind: Catalog\nidentityProviders: [{name: i, issuerURL: 'https://i.example', clientID: c}]\n\
clusters: [{name: a, server: 'https://a.example', certificateAuthority: {file: ca.pem}}]\nteams: [{name: t, clusters: [{name: a}]}]\n";
        let parsed = parse(yaml, "https://x/catalog.yaml").unwrap();
        let report = validate(&parsed, &BaseDir::None, "https://x/catalog.yaml").unwrap_err();
        assert!(
            report.lines()[0].contains("cannot be resolved for a catalog read from a URL"),
            "{report}"
        );
    }
}
