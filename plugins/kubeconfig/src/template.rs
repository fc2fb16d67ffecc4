//! Naming templates such as `{cluster}-{team}` for the names of generated
//! contexts, users and clusters.

use std::fmt;

/// The placeholders a naming template may use.
pub const PLACEHOLDERS: &[&str] = &["cluster", "team", "idp", "namespace"];

/// A parsed naming template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(String),
}

/// Why a template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{name}` that is not one of [`PLACEHOLDERS`].
    #[error("unknown placeholder {{{0}}} (use {known})", known = known())]
    UnknownPlaceholder(String),
    /// A `{` without `}` or a stray `}`.
    #[error("unbalanced braces at character {0} (placeholders look like {{cluster}})")]
    Unbalanced(usize),
    /// The template is empty.
    #[error("the template is empty")]
    Empty,
}

fn known() -> String {
    PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The values substituted into a template.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// The catalog cluster's name.
    pub cluster: &'a str,
    /// The team's name.
    pub team: &'a str,
    /// The identity provider's name.
    pub idp: &'a str,
    /// The context's namespace.
    pub namespace: &'a str,
}

impl Template {
    /// Parses a template, rejecting unknown placeholders and unbalanced braces.
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        if source.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        if c == '{' {
                            return Err(TemplateError::Unbalanced(i + 1));
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(TemplateError::Unbalanced(i + 1));
                    }
                    if !PLACEHOLDERS.contains(&name.as_str()) {
                        return Err(TemplateError::UnknownPlaceholder(name));
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Placeholder(name));
                }
                '}' => return Err(TemplateError::Unbalanced(i + 1)),
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_string(),
            parts,
        })
    }

    /// Whether the template uses a placeholder.
    pub fn uses(&self, placeholder: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Placeholder(n) if n == placeholder))
    }

    /// The name for these values.
    pub fn render(&self, names: &Names<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Placeholder(p) => out.push_str(match p.as_str() {
                    "cluster" => names.cluster,
                    "team" => names.team,
                    "idp" => names.idp,
                    _ => names.namespace,
                }),
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: Names<'static> = Names {
        cluster: "prod-eu",
        team: "payments",
        idp: "corp",
        namespace: "pay",
    };

    #[test]
    fn renders_placeholders() {
        let t = Template::parse("{cluster}-{team}").unwrap();
        assert_eq!(t.render(&NAMES), "prod-eu-payments");
        let t = Template::parse("oidc:{idp}/{namespace}@x").unwrap();
        assert_eq!(t.render(&NAMES), "oidc:corp/pay@x");
        assert!(t.uses("idp") && !t.uses("team"));
    }

    #[test]
    fn rejects_unknown_placeholders_and_braces() {
        assert_eq!(
            Template::parse("{cluster}-{region}"),
            Err(TemplateError::UnknownPlaceholder("region".into()))
        );
        assert_eq!(
            Template::parse("{cluster"),
            Err(TemplateError::Unbalanced(1))
        );
        assert_eq!(Template::parse("a}b"), Err(TemplateError::Unbalanced(2)));
        assert_eq!(Template::parse(""), Err(TemplateError::Empty));
        let msg = TemplateError::UnknownPlaceholder("x".into()).to_string();
        assert!(
            msg.contains("{cluster}, {team}, {idp}, {namespace}"),
            "{msg}"
        );
    }
}
