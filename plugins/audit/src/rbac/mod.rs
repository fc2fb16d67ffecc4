//! `rbac`: least-privilege Roles, ClusterRoles and bindings for one user,
//! service account or group, from the requests it was seen making and that
//! were allowed. Every matching event is read (the cursor is followed to the
//! end) and folded into a small aggregate as it streams past; `--existing`
//! compares that with what the subject's bindings in the cluster grant.

mod existing;
mod generate;
mod observed;

use std::fmt;
use std::io::{BufWriter, Write};

use audit_api::Event;
use audit_api::api::SearchParams;
use jiff::Timestamp;
use kubectl_kit::k8s_openapi::api::rbac::v1::Subject as RbacSubject;
use kubectl_kit::{KitError, OutputFormat};

use crate::cli::{Cli, RbacArgs};
use crate::client::kube_flags;
use crate::filters::{self, Selection};
use crate::merge::Sinks;
use observed::Observed;

/// Prefix of the generated objects' default name.
pub const NAME_PREFIX: &str = "kubext-rbac";

/// Whose permissions are generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A user, by the username the apiserver authenticated.
    User(String),
    /// A service account (user `system:serviceaccount:NS:NAME`).
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// Every member of a group.
    Group(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(name) => write!(f, "user {name:?}"),
            Subject::ServiceAccount { namespace, name } => {
                write!(f, "service account {namespace}/{name}")
            }
            Subject::Group(name) => write!(f, "group {name:?}"),
        }
    }
}

impl Subject {
    /// Reads `--user`, `--serviceaccount` or `--group`: exactly one, one value.
    pub fn from_args(args: &RbacArgs) -> Result<Subject, KitError> {
        let users = &args.filters.user;
        let groups = &args.filters.group;
        let given = usize::from(!users.is_empty())
            + usize::from(!groups.is_empty())
            + usize::from(args.serviceaccount.is_some());
        if given != 1 || users.len() > 1 || groups.len() > 1 {
            return Err(KitError::usage(
                "name one subject: --user NAME, --serviceaccount NAMESPACE/NAME or --group NAME (one value)",
            ));
        }
        let no_wildcard = |flag: &str, value: &str| {
            if value.contains('*') || value.trim().is_empty() {
                Err(KitError::usage(format!(
                    "{flag} {value:?}: RBAC is generated for one subject; give its exact name (no wildcards)"
                )))
            } else {
                Ok(value.trim().to_string())
            }
        };
        if let Some(user) = users.first() {
            let user = no_wildcard("--user", user)?;
            // A service account given as a user is bound as a service account.
            if let Some(rest) = user.strip_prefix("system:serviceaccount:")
                && let Some((namespace, name)) = rest.split_once(':')
                && !namespace.is_empty()
                && !name.is_empty()
                && !name.contains(':')
            {
                return Ok(Subject::ServiceAccount {
                    namespace: namespace.into(),
                    name: name.into(),
                });
            }
            return Ok(Subject::User(user));
        }
        if let Some(group) = groups.first() {
            return Ok(Subject::Group(no_wildcard("--group", group)?));
        }
        let sa = args.serviceaccount.as_deref().unwrap_or_default();
        let sa = no_wildcard("--serviceaccount", sa)?;
        match sa.split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(Subject::ServiceAccount {
                    namespace: namespace.into(),
                    name: name.into(),
                })
            }
            _ => Err(KitError::usage(format!(
                "--serviceaccount {sa:?}: write it as NAMESPACE/NAME, e.g. --serviceaccount ci/deployer"
            ))),
        }
    }

    /// `User alice`, `ServiceAccount ci/deployer`, `Group devs`: for the
    /// generated objects' annotation.
    pub fn reference(&self) -> String {
        match self {
            Subject::User(name) => format!("User {name}"),
            Subject::ServiceAccount { namespace, name } => {
                format!("ServiceAccount {namespace}/{name}")
            }
            Subject::Group(name) => format!("Group {name}"),
        }
    }

    /// The username the apiserver gives a user or service account.
    pub fn username(&self) -> Option<String> {
        match self {
            Subject::User(name) => Some(name.clone()),
            Subject::ServiceAccount { namespace, name } => {
                Some(format!("system:serviceaccount:{namespace}:{name}"))
            }
            Subject::Group(_) => None,
        }
    }

    /// Whether an event's request was made by the subject (exactly, whatever
    /// the query language's matching).
    pub fn made(&self, event: &Event) -> bool {
        match self {
            Subject::Group(group) => event.user.groups.iter().any(|g| g == group),
            _ => self.username().as_deref() == Some(event.user.username.as_str()),
        }
    }

    /// The subject of the generated bindings.
    pub fn rbac_subject(&self) -> RbacSubject {
        match self {
            Subject::User(name) => RbacSubject {
                kind: "User".into(),
                api_group: Some(generate::RBAC_GROUP.into()),
                name: name.clone(),
                namespace: None,
            },
            Subject::Group(name) => RbacSubject {
                kind: "Group".into(),
                api_group: Some(generate::RBAC_GROUP.into()),
                name: name.clone(),
                namespace: None,
            },
            Subject::ServiceAccount { namespace, name } => RbacSubject {
                kind: "ServiceAccount".into(),
                api_group: None,
                name: name.clone(),
                namespace: Some(namespace.clone()),
            },
        }
    }

    /// `kubext-rbac:alice`, `kubext-rbac:serviceaccount:ci:deployer`,
    /// `kubext-rbac:group:devs` (`/` and `%`, which object names cannot hold, as `-`).
    pub fn default_name(&self) -> String {
        let id = match self {
            Subject::User(name) => name.clone(),
            Subject::ServiceAccount { namespace, name } => {
                format!("serviceaccount:{namespace}:{name}")
            }
            Subject::Group(name) => format!("group:{name}"),
        };
        format!("{NAME_PREFIX}:{}", id.replace(['/', '%'], "-"))
    }
}

/// Checks a `--name` as the API server checks RBAC object names.
fn check_name(name: &str) -> Result<String, KitError> {
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '%']) {
        return Err(KitError::usage(format!(
            "--name {name:?} cannot name a Role: it must not be empty, \".\" or \"..\", nor contain \"/\" or \"%\""
        )));
    }
    Ok(name.to_string())
}

/// `kubectl audit rbac`.
pub async fn rbac(cli: &Cli, args: &RbacArgs) -> anyhow::Result<()> {
    let subject = Subject::from_args(args)?;
    let format = match (cli.output.output, args.existing) {
        (None, false) => OutputFormat::Yaml,
        (None, true) => OutputFormat::Table,
        (Some(f), false) if matches!(f, OutputFormat::Yaml | OutputFormat::Json) => f,
        (Some(f), true)
            if matches!(
                f,
                OutputFormat::Table | OutputFormat::Wide | OutputFormat::Yaml | OutputFormat::Json
            ) =>
        {
            f
        }
        (Some(_), existing) => {
            return Err(KitError::usage(if existing {
                "rbac --existing prints a table (default), -o wide, -o yaml or -o json"
            } else {
                "rbac prints objects to apply: -o yaml (default) or -o json"
            })
            .into());
        }
    };
    let name = match &args.role_name {
        Some(name) => check_name(name)?,
        None => subject.default_name(),
    };

    let mut filters = args.filters.clone();
    match &subject {
        Subject::Group(group) => filters.group = vec![group.clone()],
        _ => filters.user = subject.username().into_iter().collect(),
    }
    let selection = filters::build(&filters, Timestamp::now())?;
    let sink = Sinks::connect(
        &cli.sink,
        &cli.cluster,
        args.filters.namespace.as_deref(),
        false,
    )
    .await?;
    let observed = observe(&sink, &selection, &subject).await?;
    let searched = searched(&selection);

    if args.existing {
        let client = kube_flags(&cli.cluster, None).client().await?;
        let comparison = existing::compare(client, &subject, &observed).await?;
        return print_comparison(&subject, &comparison, &observed, format);
    }

    if observed.is_empty() {
        eprintln!(
            "No allowed requests of {subject} found in the audit events {searched}.\n\
             Search further back with --since, or check the subject's name with `kubectl audit stats --by user`."
        );
    }
    let generated = generate::generate(
        &observed,
        &subject,
        &generate::Options {
            name,
            resource_names: args.resource_names,
            cluster_scope: args.cluster_scope,
        },
    );
    let mut out = BufWriter::new(kubectl_kit::output::stdout());
    match format {
        OutputFormat::Json => generate::write_json(&mut out, generated.items())?,
        _ => generate::write_yaml(
            &mut out,
            &generate::header(&observed, &subject, &searched),
            &generated.items(),
        )?,
    }
    out.flush()?;
    Ok(())
}

/// Reads every event the selection matches, page after page, folding each
/// into the aggregate before asking for the next page.
async fn observe(
    sink: &Sinks,
    selection: &Selection,
    subject: &Subject,
) -> anyhow::Result<Observed> {
    let progress = kubectl_kit::output::stderr_is_tty();
    let mut observed = Observed::default();
    let mut cursor = None;
    let mut read = 0u64;
    loop {
        let page = sink
            .search(&SearchParams {
                q: selection.q(),
                since: selection.since_param(),
                until: selection.until_param(),
                limit: Some(crate::export::PAGE_SIZE),
                cursor: cursor.take(),
            })
            .await?;
        for raw in page.events {
            read += 1;
            match serde_json::from_str::<Event>(raw.get()) {
                Ok(event) if subject.made(&event) => observed.add(&event),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("skipping an event the sink sent that does not parse: {e}")
                }
            }
        }
        if progress {
            eprint!("\r{read} events read…");
        }
        match page.next.filter(|n| !n.is_empty()) {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    Ok(observed)
}

/// Which events were read, for the header: the query and the time range.
fn searched(selection: &Selection) -> String {
    let range = match (selection.since, selection.until) {
        (None, None) => "at any time (no time limit)".to_string(),
        (Some(s), None) => format!("received since {s}"),
        (None, Some(u)) => format!("received before {u}"),
        (Some(s), Some(u)) => format!("received from {s} to {u}"),
    };
    format!("matching `{}` {range}", selection.query)
}

fn print_comparison(
    subject: &Subject,
    comparison: &existing::Comparison,
    observed: &Observed,
    format: OutputFormat,
) -> anyhow::Result<()> {
    for missing in &comparison.missing_roles {
        eprintln!("warning: {missing} does not exist: it grants nothing");
    }
    let mut out = kubectl_kit::output::stdout();
    match format {
        OutputFormat::Json | OutputFormat::Yaml => {
            let value = serde_json::json!({
                "subject": subject.to_string(),
                "bindings": comparison.bindings,
                "observedRequests": observed.allowed,
                "unused": comparison.unused,
            });
            if format == OutputFormat::Json {
                kubectl_kit::output::write_json(&mut out, &value)?;
            } else {
                out.write_all(kubectl_kit::output::to_yaml(&value)?.as_bytes())?;
            }
        }
        _ => {
            if comparison.bindings.is_empty() {
                eprintln!("No RoleBinding or ClusterRoleBinding in the cluster names {subject}.");
                return Ok(());
            }
            if comparison.unused.is_empty() {
                eprintln!(
                    "Every rule granted to {subject} through {} was used ({} allowed requests observed).",
                    comparison.bindings.join(", "),
                    observed.allowed
                );
                return Ok(());
            }
            let wide = format == OutputFormat::Wide;
            let mut headers = vec!["BINDING", "ROLE", "NAMESPACE", "RESOURCE"];
            if wide {
                headers.push("RESOURCE NAMES");
            }
            headers.push("UNUSED VERBS");
            let mut table = kubectl_kit::output::Table::new(headers);
            for u in &comparison.unused {
                let resource = match (&u.non_resource_url, &u.api_group, &u.resource) {
                    (Some(url), _, _) => url.clone(),
                    (None, Some(group), Some(res)) => observed::ResourceKey {
                        api_group: group.clone(),
                        resource: res.clone(),
                    }
                    .display(),
                    _ => String::new(),
                };
                let mut row = vec![
                    u.binding.clone(),
                    u.role.clone(),
                    u.namespace.clone().unwrap_or_else(|| "*".into()),
                    resource,
                ];
                if wide {
                    row.push(if u.resource_names.is_empty() {
                        "*".into()
                    } else {
                        u.resource_names.join(",")
                    });
                }
                row.push(u.verbs.join(","));
                table.row(row);
            }
            out.write_all(table.render().as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_say_whose_they_are() {
        assert_eq!(
            Subject::User("alice@example.com".into()).default_name(),
            "kubext-rbac:alice@example.com"
        );
        assert_eq!(
            Subject::ServiceAccount {
                namespace: "ci".into(),
                name: "deployer".into()
            }
            .default_name(),
            "kubext-rbac:serviceaccount:ci:deployer"
        );
        assert_eq!(
            Subject::Group("org/devs".into()).default_name(),
            "kubext-rbac:group:org-devs"
        );
        assert!(check_name("a/b").is_err());
        assert!(check_name("..").is_err());
    }
}
