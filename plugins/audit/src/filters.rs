//! Turns the friendly flags (`--user`, `--verb`, `--resource deploy`, …) and
//! the free-text query into one query in the sink's language, checked locally
//! with the shared parser before any request is made.

use audit_api::time::parse_time;
use jiff::Timestamp;
use kubectl_kit::KitError;

use crate::cli::{FilterArgs, TimeArgs};
use crate::resources;

/// The stages an audit event can be in.
pub const STAGES: &[&str] = &[
    "RequestReceived",
    "ResponseStarted",
    "ResponseComplete",
    "Panic",
];

/// The subresources of an interactive session into a pod.
pub const SESSION_SUBRESOURCES: &[&str] = &["exec", "attach", "portforward"];

/// A query and time range ready to send.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// The query in the sink's language (empty matches everything).
    pub query: String,
    /// Inclusive lower bound on `requestReceivedTimestamp`.
    pub since: Option<Timestamp>,
    /// Exclusive upper bound.
    pub until: Option<Timestamp>,
}

impl Selection {
    /// The query, `None` when empty.
    pub fn q(&self) -> Option<String> {
        (!self.query.is_empty()).then(|| self.query.clone())
    }

    /// `since` as RFC 3339.
    pub fn since_param(&self) -> Option<String> {
        self.since.map(|t| t.to_string())
    }

    /// `until` as RFC 3339.
    pub fn until_param(&self) -> Option<String> {
        self.until.map(|t| t.to_string())
    }
}

/// Builds the selection for `search`, `tail` and `stats`.
pub fn build(filters: &FilterArgs, now: Timestamp) -> Result<Selection, KitError> {
    let mut terms: Vec<String> = Vec::new();

    let free_text = filters.query.join(" ");
    if !free_text.trim().is_empty() {
        check_query(&free_text, "the query")?;
    }

    terms.extend(any_of("user", &filters.user));
    terms.extend(any_of("group", &filters.group));
    let verbs: Vec<String> = filters
        .verb
        .iter()
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    terms.extend(any_of("verb", &verbs));

    let mut resource_terms = Vec::new();
    for typed in &filters.resource {
        resource_terms.push(resource_term(typed)?);
    }
    terms.extend(any_of_terms(resource_terms));

    if let Some(name) = &filters.name {
        terms.push(term("name", name));
    }
    let subs: Vec<String> = filters
        .subresource
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    terms.extend(any_of("subresource", &subs));
    if filters.exec {
        let sessions: Vec<String> = SESSION_SUBRESOURCES.iter().map(|s| s.to_string()).collect();
        terms.extend(any_of("subresource", &sessions));
    }
    if let Some(ns) = &filters.namespace {
        terms.push(term("ns", ns));
    }
    let mut codes = Vec::new();
    for status in &filters.status {
        codes.push(status_value(status)?);
    }
    terms.extend(any_of("code", &codes));
    if let Some(stage) = &filters.stage {
        terms.push(term("stage", &stage_value(stage)?));
    }
    terms.extend(any_of("cluster", &filters.audit_cluster));

    if !free_text.trim().is_empty() {
        if terms.is_empty() {
            terms.push(free_text.trim().to_string());
        } else {
            terms.push(format!("({})", free_text.trim()));
        }
    }
    let query = terms.join(" ");
    if !query.is_empty() {
        check_query(&query, "the query built from the flags")?;
    }
    let (since, until) = time_range(&filters.time, now)?;
    Ok(Selection {
        query,
        since,
        until,
    })
}

/// Resolves `--since/--until/--from/--to` into instants, checking their order.
pub fn time_range(
    time: &TimeArgs,
    now: Timestamp,
) -> Result<(Option<Timestamp>, Option<Timestamp>), KitError> {
    let since = match (&time.since, &time.from) {
        (Some(s), _) => Some(relative_or_absolute("--since", s, now)?),
        (None, Some(f)) => Some(absolute("--from", f)?),
        (None, None) => None,
    };
    let until = match (&time.until, &time.to) {
        (Some(u), _) => Some(relative_or_absolute("--until", u, now)?),
        (None, Some(t)) => Some(absolute("--to", t)?),
        (None, None) => None,
    };
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(KitError::usage(format!(
            "the time range is empty: its start ({s}) is not before its end ({u})"
        )));
    }
    Ok((since, until))
}

fn relative_or_absolute(flag: &str, text: &str, now: Timestamp) -> Result<Timestamp, KitError> {
    parse_time(text, now).map_err(|e| KitError::usage(format!("{flag}: {e}")))
}

fn absolute(flag: &str, text: &str) -> Result<Timestamp, KitError> {
    text.trim().parse::<Timestamp>().map_err(|_| {
        KitError::usage(format!(
            "{flag} {text:?} is not an RFC 3339 time: write it like 2024-05-01T10:00:00Z (or use --since/--until for durations such as 2h)"
        ))
    })
}

/// Checks a query with the shared parser; the error shows where it went wrong.
pub fn check_query(query: &str, what: &str) -> Result<(), KitError> {
    audit_api::parse_query(query)
        .map(|_| ())
        .map_err(|e| KitError::usage(describe_parse_error(query, what, &e)))
}

/// A parse error with the query and a caret under the position.
pub fn describe_parse_error(query: &str, what: &str, e: &audit_api::ParseError) -> String {
    // The parser counts characters, not bytes.
    format!(
        "{what} is not valid at position {}: expected {}, found {}\n  {query}\n  {}^\n  hint: see the query syntax in `kubectl audit search --help` and the README",
        e.position,
        e.expected,
        e.found,
        " ".repeat(e.position)
    )
}

/// One `field:value` term, quoting the value when the syntax needs it.
pub fn term(field: &str, value: &str) -> String {
    format!("{field}:{}", quote(value.trim()))
}

fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.starts_with('-')
        && value
            .chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '\\'));
    if plain {
        value.to_string()
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

/// `field:v1` or `(field:v1 OR field:v2 …)`; `None` for no values.
pub fn any_of(field: &str, values: &[String]) -> Option<String> {
    let terms: Vec<String> = values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| term(field, v))
        .collect();
    any_of_terms(terms)
}

fn any_of_terms(mut terms: Vec<String>) -> Option<String> {
    terms.dedup();
    match terms.len() {
        0 => None,
        1 => terms.pop(),
        _ => Some(format!("({})", terms.join(" OR "))),
    }
}

fn resource_term(typed: &str) -> Result<String, KitError> {
    let resolved = resources::resolve(typed).ok_or_else(|| {
        KitError::usage(format!(
            "--resource {typed:?} is not a resource name: use a kubectl name such as pods, po, deploy, svc, cm, secrets or deployments.apps"
        ))
    })?;
    Ok(match resolved.group {
        Some(group) => format!(
            "({} {})",
            term("resource", &resolved.plural),
            term("apigroup", &group)
        ),
        None => term("resource", &resolved.plural),
    })
}

/// `403`, `4xx`, `5XX` → the query value; anything else is a usage error.
fn status_value(text: &str) -> Result<String, KitError> {
    let t = text.trim().to_ascii_lowercase();
    let bytes = t.as_bytes();
    let ok = bytes.len() == 3
        && (1..=5).contains(&(bytes[0].wrapping_sub(b'0')))
        && ((bytes[1].is_ascii_digit() && bytes[2].is_ascii_digit()) || &t[1..] == "xx");
    if ok {
        Ok(t)
    } else {
        Err(KitError::usage(format!(
            "--status {text:?} is not a response code: use a code such as 403 or a class such as 4xx"
        )))
    }
}

fn stage_value(text: &str) -> Result<String, KitError> {
    STAGES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(text.trim()))
        .map(|s| s.to_string())
        .ok_or_else(|| {
            KitError::usage(format!(
                "--stage {text:?} is not an audit stage: use one of {}",
                STAGES.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn filters() -> FilterArgs {
        FilterArgs::default()
    }

    #[test]
    fn flags_build_a_query() {
        let mut f = filters();
        f.user = vec!["alice".into()];
        f.verb = vec!["GET".into(), "list".into()];
        f.resource = vec!["secret".into()];
        f.namespace = Some("prod".into());
        f.status = vec!["4xx".into()];
        let s = build(&f, now()).unwrap();
        assert_eq!(
            s.query,
            "user:alice (verb:get OR verb:list) resource:secrets ns:prod code:4xx"
        );
    }

    #[test]
    fn resources_with_groups_and_exec_sessions() {
        let mut f = filters();
        f.resource = vec!["deployments.apps".into()];
        f.exec = true;
        let s = build(&f, now()).unwrap();
        assert_eq!(
            s.query,
            "(resource:deployments apigroup:apps) (subresource:exec OR subresource:attach OR subresource:portforward)"
        );
    }

    #[test]
    fn free_text_is_and_ed_in_parentheses() {
        let mut f = filters();
        f.query = vec!["nginx".into(), "OR".into(), "redis".into()];
        assert_eq!(build(&f, now()).unwrap().query, "nginx OR redis");
        f.verb = vec!["create".into()];
        assert_eq!(
            build(&f, now()).unwrap().query,
            "verb:create (nginx OR redis)"
        );
    }

    #[test]
    fn values_that_need_quotes_are_quoted() {
        assert_eq!(term("user", "system:admin"), "user:system:admin");
        assert_eq!(
            term("ua", "kubectl/v1.32 (linux)"),
            "ua:\"kubectl/v1.32 (linux)\""
        );
        assert_eq!(term("name", "a\"b"), "name:\"a\\\"b\"");
    }

    #[test]
    fn bad_status_stage_and_resource_are_usage_errors() {
        for (status, ok) in [
            ("403", true),
            ("4xx", true),
            ("5XX", true),
            ("4x", false),
            ("forbidden", false),
            ("699", false),
        ] {
            let mut f = filters();
            f.status = vec![status.into()];
            assert_eq!(build(&f, now()).is_ok(), ok, "{status}");
        }
        let mut f = filters();
        f.stage = Some("responsecomplete".into());
        assert_eq!(build(&f, now()).unwrap().query, "stage:ResponseComplete");
        f.stage = Some("done".into());
        let err = build(&f, now()).unwrap_err();
        assert_eq!(err.exit_code(), kubectl_kit::EXIT_USAGE);
        let mut f = filters();
        f.resource = vec!["pods/exec".into()];
        assert!(
            build(&f, now())
                .unwrap_err()
                .to_string()
                .contains("not a resource name")
        );
    }

    #[test]
    fn time_ranges() {
        let t = TimeArgs {
            since: Some("2h".into()),
            ..Default::default()
        };
        let (s, u) = time_range(&t, now()).unwrap();
        assert_eq!(s.unwrap().to_string(), "2024-05-01T10:00:00Z");
        assert!(u.is_none());
        let t = TimeArgs {
            from: Some("2024-05-01T10:00:00+02:00".into()),
            to: Some("2024-05-01T09:00:00Z".into()),
            ..Default::default()
        };
        let (s, u) = time_range(&t, now()).unwrap();
        assert_eq!(s.unwrap().to_string(), "2024-05-01T08:00:00Z");
        assert_eq!(u.unwrap().to_string(), "2024-05-01T09:00:00Z");
        let t = TimeArgs {
            from: Some("2h".into()),
            ..Default::default()
        };
        assert!(
            time_range(&t, now())
                .unwrap_err()
                .to_string()
                .contains("RFC 3339")
        );
        let t = TimeArgs {
            since: Some("1h".into()),
            until: Some("2h".into()),
            ..Default::default()
        };
        assert!(
            time_range(&t, now())
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }

    #[test]
    fn parse_errors_point_at_the_position() {
        let mut f = filters();
        f.query = vec!["verb:delete (ns:prod".into()];
        let err = build(&f, now()).unwrap_err();
        assert_eq!(err.exit_code(), kubectl_kit::EXIT_USAGE);
        let text = err.to_string();
        assert!(text.contains("position"), "{text}");
        assert!(text.contains("verb:delete (ns:prod\n"), "{text}");
        assert!(text.contains('^'), "{text}");
    }
}
