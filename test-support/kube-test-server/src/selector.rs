//! `labelSelector` and `fieldSelector` query parameters, as the apiserver reads
//! them (set-based label requirements; field selectors on metadata.name,
//! metadata.namespace and a few per-kind fields such as a Secret's `type`).

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key.trim().to_string()));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(Requirement::Equals(k.trim().into(), v.trim().into()));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(Requirement::Equals(k.trim().into(), v.trim().into()));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let key = words[0].trim().to_string();
        let rest = words[1].trim();
        if let Some(set) = rest.strip_prefix("notin") {
            let values =
                parse_set(set).ok_or_else(|| format!("unable to parse requirement: {part:?}"))?;
            return Ok(Requirement::NotIn(key, values));
        }
        if let Some(set) = rest.strip_prefix("in") {
            let values =
                parse_set(set).ok_or_else(|| format!("unable to parse requirement: {part:?}"))?;
            return Ok(Requirement::In(key, values));
        }
        return Err(format!("unable to parse requirement: {part:?}"));
    }
    Ok(Requirement::Exists(part.trim().to_string()))
}

/// A parsed selector; matches everything when empty.
#[derive(Debug, Default)]
pub(crate) struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        let requirements = split_top_level(s)
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<_, _>>()?;
        Ok(Selector { requirements })
    }

    /// Field selectors only allow `=`, `==` and `!=`.
    pub(crate) fn parse_fields(s: &str) -> Result<Self, String> {
        let sel = Self::parse(s)?;
        for r in &sel.requirements {
            if !matches!(r, Requirement::Equals(..) | Requirement::NotEquals(..)) {
                return Err(format!("invalid selector: '{s}'; can't understand '{s}'"));
            }
        }
        Ok(sel)
    }

    pub(crate) fn matches(&self, lookup: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => lookup(k).as_deref() == Some(v.as_str()),
            Requirement::NotEquals(k, v) => lookup(k).as_deref() != Some(v.as_str()),
            Requirement::In(k, vs) => lookup(k).is_some_and(|x| vs.contains(&x)),
            Requirement::NotIn(k, vs) => lookup(k).is_none_or(|x| !vs.contains(&x)),
            Requirement::Exists(k) => lookup(k).is_some(),
            Requirement::DoesNotExist(k) => lookup(k).is_none(),
        })
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.requirements.iter().map(|r| match r {
            Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _)
            | Requirement::Exists(k)
            | Requirement::DoesNotExist(k) => k.as_str(),
        })
    }
}

pub(crate) fn label(obj: &Value, key: &str) -> Option<String> {
    obj["metadata"]["labels"][key].as_str().map(str::to_string)
}

/// The fields the apiserver lets you select on, per kind.
pub(crate) fn field(kind: &str, obj: &Value, key: &str) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    match key {
        "metadata.name" => s(&obj["metadata"]["name"]),
        "metadata.namespace" => Some(s(&obj["metadata"]["namespace"]).unwrap_or_default()),
        "type" if kind == "Secret" => s(&obj["type"]),
        "status.phase" if kind == "Namespace" => s(&obj["status"]["phase"]),
        _ => None,
    }
}

pub(crate) fn field_supported(kind: &str, key: &str) -> bool {
    matches!(key, "metadata.name" | "metadata.namespace")
        || (kind == "Secret" && key == "type")
        || (kind == "Namespace" && key == "status.phase")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({"metadata": {"name": "db", "namespace": "prod", "labels": {"app": "web", "tier": "back"}}, "type": "Opaque"})
    }

    fn labels_match(sel: &str) -> bool {
        Selector::parse(sel).unwrap().matches(|k| label(&obj(), k))
    }

    #[test]
    fn label_selectors() {
        assert!(labels_match("app=web"));
        assert!(labels_match("app==web,tier"));
        assert!(!labels_match("app!=web"));
        assert!(labels_match("app in (api, web),!missing"));
        assert!(!labels_match("app notin (web)"));
        assert!(!labels_match("missing"));
        assert!(labels_match(""));
    }

    #[test]
    fn field_selectors() {
        let sel = Selector::parse_fields("metadata.name=db,type=Opaque").unwrap();
        assert!(sel.matches(|k| field("Secret", &obj(), k)));
        let sel = Selector::parse_fields("metadata.name!=db").unwrap();
        assert!(!sel.matches(|k| field("Secret", &obj(), k)));
        assert!(Selector::parse_fields("metadata.name in (db)").is_err());
    }
}
