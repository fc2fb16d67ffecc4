//! Label and field selectors as `kubectl get -l/--field-selector` and the API
//! server read them, parsed into kube's own [`Selector`] and [`Expression`]
//! (kube builds and matches selectors but has no string parser): the one
//! parser for every plugin and the API test server.
//!
//! - Label selectors: `env=prod`, `tier==web`, `team!=ops`,
//!   `region in (eu,us)`, `zone notin (a)`, `gpu`, `!legacy`, joined by
//!   commas; keys and values are checked as the API server checks them.
//! - Field selectors: `metadata.name=db`, `==` as `=`, `!=`; `\` escapes `\`,
//!   `,` and `=` in values.
//!
//! An empty selector selects everything ([`Selector::selects_all`]), as it
//! does for the API server.

pub use kube::core::{Expression, Selector, SelectorExt};

/// A selector that could not be parsed, with the whole selector and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} selector {selector:?}: {reason}")]
pub struct SelectorError {
    /// `label` or `field`.
    pub kind: &'static str,
    /// The selector as given.
    pub selector: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A label key or value that Kubernetes would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LabelError(String);

/// Parses a label selector (`kubectl get -l`).
pub fn parse_label_selector(text: &str) -> Result<Selector, SelectorError> {
    let fail = |reason: String| SelectorError {
        kind: "label",
        selector: text.to_string(),
        reason,
    };
    if text.trim().is_empty() {
        return Ok(Selector::default());
    }
    let mut expressions = Vec::new();
    for part in split_top_level(text).map_err(fail)? {
        expressions.push(parse_expression(part.trim()).map_err(fail)?);
    }
    Ok(expressions.into_iter().collect())
}

/// Parses a field selector (`kubectl get --field-selector`): `=`, `==` and
/// `!=` only.
pub fn parse_field_selector(text: &str) -> Result<Selector, SelectorError> {
    let fail = |reason: String| SelectorError {
        kind: "field",
        selector: text.to_string(),
        reason,
    };
    let mut expressions = Vec::new();
    for term in split_escaped(text) {
        if term.trim().is_empty() {
            continue;
        }
        let (key, equal, value) = if let Some((k, v)) = term.split_once("!=") {
            (k, false, v)
        } else if let Some((k, v)) = term.split_once("==") {
            (k, true, v)
        } else if let Some((k, v)) = term.split_once('=') {
            (k, true, v)
        } else {
            return Err(fail(format!(
                "{term:?} has no operator: field selectors take =, == or !="
            )));
        };
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(fail(format!("{term:?} has no field name")));
        }
        let value = unescape(value.trim()).map_err(fail)?;
        expressions.push(if equal {
            Expression::Equal(key, value)
        } else {
            Expression::NotEqual(key, value)
        });
    }
    Ok(expressions.into_iter().collect())
}

/// The keys a selector tests, in the order written.
pub fn selector_keys(selector: &Selector) -> Vec<String> {
    selector
        .clone()
        .into_iter()
        .map(|e| match e {
            Expression::In(k, _)
            | Expression::NotIn(k, _)
            | Expression::Equal(k, _)
            | Expression::NotEqual(k, _)
            | Expression::Exists(k)
            | Expression::DoesNotExist(k) => k,
        })
        .collect()
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => {
                if depth > 0 {
                    return Err("nested parentheses".into());
                }
                depth += 1;
            }
            ')' => {
                if depth == 0 {
                    return Err("a ')' without its '('".into());
                }
                depth -= 1;
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '(' is not closed".into());
    }
    parts.push(&text[start..]);
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err("an empty requirement between commas".into());
    }
    Ok(parts)
}

fn parse_expression(part: &str) -> Result<Expression, String> {
    let key_ok = |key: &str| check_label_key(key).map_err(|e| e.0);
    let value_ok = |value: &str| check_label_value(value).map_err(|e| e.0);
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        key_ok(key)?;
        return Ok(Expression::DoesNotExist(key.to_string()));
    }
    if let Some((key, value)) = part.split_once("!=") {
        let (key, value) = (key.trim(), value.trim());
        key_ok(key)?;
        value_ok(value)?;
        return Ok(Expression::NotEqual(key.into(), value.into()));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        let (key, value) = (key.trim(), value.trim());
        key_ok(key)?;
        value_ok(value)?;
        return Ok(Expression::Equal(key.into(), value.into()));
    }
    if let Some(open) = part.find('(') {
        let head = part[..open].trim();
        let Some(body) = part[open + 1..].strip_suffix(')') else {
            return Err(format!("{part:?}: text after ')'"));
        };
        let (key, operator) = head
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| format!("{part:?}: expected \"KEY in (…)\" or \"KEY notin (…)\""))?;
        let key = key.trim();
        key_ok(key)?;
        let mut values = std::collections::BTreeSet::new();
        for value in body.split(',').map(str::trim) {
            value_ok(value)?;
            values.insert(value.to_string());
        }
        return match operator {
            "in" => Ok(Expression::In(key.into(), values)),
            "notin" => Ok(Expression::NotIn(key.into(), values)),
            other => Err(format!(
                "unknown operator {other:?} (use in, notin, =, == or !=)"
            )),
        };
    }
    if part.contains(char::is_whitespace) {
        return Err(format!(
            "{part:?}: expected an operator (=, ==, !=, in, notin)"
        ));
    }
    key_ok(part)?;
    Ok(Expression::Exists(part.to_string()))
}

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name
/// of at most 63 characters.
pub fn check_label_key(key: &str) -> Result<(), LabelError> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty()
                || prefix.len() > 253
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            {
                return Err(LabelError(format!(
                    "label key {key:?} has an invalid prefix"
                )));
            }
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err(LabelError("a label key is empty".into()));
    }
    if !is_label_name(name) {
        return Err(LabelError(format!(
            "label key {key:?} is invalid: at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )));
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 characters of the label-name
/// alphabet.
pub fn check_label_value(value: &str) -> Result<(), LabelError> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err(LabelError(format!(
            "label value {value:?} is invalid: at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        )))
    }
}

fn is_label_name(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    s.len() <= 63
        && s.chars().all(ok_char)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Splits on unescaped commas, keeping escapes for [`unescape`].
fn split_escaped(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ',' => out.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    out.push(current);
    out
}

fn unescape(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => {
                    return Err(format!(
                        "invalid escape in {value:?}: only \\\\, \\, and \\= may be escaped"
                    ));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let s = parse_label_selector(
            "env=prod, tier==web,region in (us, eu),zone notin (a),gpu,!legacy,team!=ops",
        )
        .unwrap();
        assert_eq!(
            s.to_string(),
            "env=prod,tier=web,region in (eu,us),zone notin (a),gpu,!legacy,team!=ops"
        );
        assert_eq!(
            selector_keys(&s),
            ["env", "tier", "region", "zone", "gpu", "legacy", "team"]
        );
    }

    #[test]
    fn matches_like_kubernetes() {
        let prod_eu = labels(&[("env", "prod"), ("region", "eu")]);
        let dev_us = labels(&[("env", "dev"), ("region", "us"), ("legacy", "")]);
        let sel = |t: &str| parse_label_selector(t).unwrap();
        assert!(sel("env=prod").matches(&prod_eu));
        assert!(!sel("env=prod").matches(&dev_us));
        assert!(sel("region in (eu,us),!legacy").matches(&prod_eu));
        assert!(!sel("region in (eu,us),!legacy").matches(&dev_us));
        assert!(sel("env!=prod").matches(&dev_us));
        assert!(
            sel("tier!=web").matches(&dev_us),
            "absent label satisfies !="
        );
        assert!(sel("zone notin (a)").matches(&prod_eu));
        assert!(sel("legacy").matches(&dev_us));
        assert!(sel("").matches(&dev_us), "empty selects everything");
    }

    #[test]
    fn rejects_malformed_label_selectors() {
        for bad in [
            "env=prod,",
            "region in (eu",
            "region within (eu)",
            "env=pr od",
            "-env=prod",
            "env=prod)",
            "a b",
            "Region/x=y",
        ] {
            let err = parse_label_selector(bad).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid label selector {bad:?}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn field_selectors() {
        let s = parse_field_selector("metadata.name=db,type==kubernetes.io/tls").unwrap();
        let fields = labels(&[("metadata.name", "db"), ("type", "kubernetes.io/tls")]);
        assert!(s.matches(&fields));
        let s = parse_field_selector(r"metadata.name!=a\,b\=c\\").unwrap();
        assert_eq!(
            s.clone().into_iter().next(),
            Some(Expression::NotEqual(
                "metadata.name".into(),
                r"a,b=c\".into()
            ))
        );
        assert!(parse_field_selector("").unwrap().selects_all());
        for bad in ["metadata.name in (db)", "metadata.name", r"a=\x", "=x"] {
            let err = parse_field_selector(bad).unwrap_err();
            assert!(err.to_string().contains("invalid field selector"), "{err}");
        }
    }
}
