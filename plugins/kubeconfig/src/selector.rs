//! Kubernetes label selectors (`env=prod,region in (eu,us),!legacy`), used by
//! teams to pick clusters by their labels.

use std::collections::BTreeMap;
use std::fmt;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value` or `key==value`.
    Equals(String, String),
    /// `key!=value`: the label is absent or has another value.
    NotEquals(String, String),
    /// `key in (a,b)`.
    In(String, Vec<String>),
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn(String, Vec<String>),
    /// `key`: the label is present.
    Exists(String),
    /// `!key`: the label is absent.
    DoesNotExist(String),
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// Why a selector could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector {selector:?}: {reason}")]
pub struct SelectorError {
    selector: String,
    reason: String,
}

impl Selector {
    /// Parses the selector syntax of `kubectl get -l`.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let fail = |reason: String| SelectorError {
            selector: text.to_string(),
            reason,
        };
        if text.trim().is_empty() {
            return Err(fail(
                "it is empty; write e.g. \"env=prod\" or \"region in (eu,us)\"".into(),
            ));
        }
        let mut requirements = Vec::new();
        for part in split_top_level(text).map_err(fail)? {
            requirements.push(parse_requirement(part.trim()).map_err(fail)?);
        }
        Ok(Selector { requirements })
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::DoesNotExist(k) => !labels.contains_key(k),
        })
    }

    /// The requirements, in the order written.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r {
                Requirement::Equals(k, v) => format!("{k}={v}"),
                Requirement::NotEquals(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::DoesNotExist(k) => format!("!{k}"),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
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

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_key(key)?;
        return Ok(Requirement::DoesNotExist(key.to_string()));
    }
    if let Some((key, value)) = part.split_once("!=") {
        let (key, value) = (key.trim(), value.trim());
        check_key(key)?;
        check_value(value)?;
        return Ok(Requirement::NotEquals(key.into(), value.into()));
    }
    if let Some((key, value)) = part.split_once("==").or_else(|| part.split_once('=')) {
        let (key, value) = (key.trim(), value.trim());
        check_key(key)?;
        check_value(value)?;
        return Ok(Requirement::Equals(key.into(), value.into()));
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
        check_key(key)?;
        let values: Vec<String> = body.split(',').map(|v| v.trim().to_string()).collect();
        for value in &values {
            check_value(value)?;
        }
        return match operator {
            "in" => Ok(Requirement::In(key.into(), values)),
            "notin" => Ok(Requirement::NotIn(key.into(), values)),
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
    check_key(part)?;
    Ok(Requirement::Exists(part.to_string()))
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at
/// most 63 characters.
pub fn check_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty()
                || prefix.len() > 253
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            {
                return Err(format!("label key {key:?} has an invalid prefix"));
            }
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err("a label key is empty".into());
    }
    if !is_label_name(name) {
        return Err(format!(
            "label key {key:?} is invalid: at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A label value: empty, or at most 63 characters of the label-name alphabet.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() || is_label_name(value) {
        Ok(())
    } else {
        Err(format!(
            "label value {value:?} is invalid: at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

fn is_label_name(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    s.len() <= 63
        && s.chars().all(ok_char)
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let s = Selector::parse(
            "env=prod, tier==web,region in (eu, us),zone notin (a),gpu,!legacy,team!=ops",
        )
        .unwrap();
        assert_eq!(
            s.requirements(),
            &[
                Requirement::Equals("env".into(), "prod".into()),
                Requirement::Equals("tier".into(), "web".into()),
                Requirement::In("region".into(), vec!["eu".into(), "us".into()]),
                Requirement::NotIn("zone".into(), vec!["a".into()]),
                Requirement::Exists("gpu".into()),
                Requirement::DoesNotExist("legacy".into()),
                Requirement::NotEquals("team".into(), "ops".into()),
            ]
        );
        assert_eq!(
            s.to_string(),
            "env=prod,tier=web,region in (eu,us),zone notin (a),gpu,!legacy,team!=ops"
        );
    }

    #[test]
    fn matches_like_kubernetes() {
        let prod_eu = labels(&[("env", "prod"), ("region", "eu")]);
        let dev_us = labels(&[("env", "dev"), ("region", "us"), ("legacy", "")]);
        let sel = |t: &str| Selector::parse(t).unwrap();
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
    }

    #[test]
    fn rejects_malformed_selectors() {
        for bad in [
            "",
            "env=prod,",
            "region in (eu",
            "region within (eu)",
            "env=pr od",
            "-env=prod",
            "env=prod)",
            "a b",
            "Region/x=y",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
