//! Merging one kubeconfig into another, entry by entry, without losing anything.
//!
//! Both documents are handled as generic YAML/JSON values, so fields this
//! crate does not model (extensions, `preferences`, exec `env`, fields newer
//! than our kube version…) pass through unchanged. Entries of the target
//! that the source does not mention are kept as they are; an entry with the
//! same name and different content is a conflict unless overwriting is asked for.
//!
//! Why this merge is hand-written: kube's `Kubeconfig::merge` implements
//! kubectl's *loading* rule (of several files, the first to set a value wins,
//! silently), which is right for reading `$KUBECONFIG` but not for editing a
//! file: here every conflicting entry is reported, replaced only when asked,
//! and the target's entries keep their order. Working on generic values also
//! keeps fields no typed model knows (newer than our kube version), which a
//! round trip through typed structs would risk dropping.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

/// The named lists of a kubeconfig, with the key holding each entry's content.
pub const SECTIONS: &[(&str, &str)] = &[
    ("clusters", "cluster"),
    ("users", "user"),
    ("contexts", "context"),
];

/// A kubeconfig that could not be read as one.
#[derive(Debug, thiserror::Error)]
#[error("{source_name} is not a kubeconfig: {message}")]
pub struct DocumentError {
    source_name: String,
    message: String,
}

/// Parses a kubeconfig (YAML or JSON) into a generic document. An empty file
/// is an empty kubeconfig.
pub fn parse_document(text: &str, source_name: &str) -> Result<Map<String, Value>, DocumentError> {
    let fail = |message: String| DocumentError {
        source_name: source_name.to_string(),
        message,
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_saphyr::from_str(text).map_err(|e| fail(e.to_string()))?;
    let map = match value {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        _ => return Err(fail("the document is not a mapping".into())),
    };
    for (section, _) in SECTIONS {
        match map.get(*section) {
            None | Some(Value::Null) | Some(Value::Array(_)) => {}
            Some(_) => return Err(fail(format!("{section} is not a list"))),
        }
        for (i, entry) in entries(&map, section).iter().enumerate() {
            if entry.get("name").and_then(Value::as_str).is_none() {
                return Err(fail(format!("{section}[{i}] has no name")));
            }
        }
    }
    Ok(map)
}

fn entries<'a>(doc: &'a Map<String, Value>, section: &str) -> &'a [Value] {
    doc.get(section)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn name_of(entry: &Value) -> &str {
    entry
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// What happens to one named entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Only in the source: added.
    Added,
    /// In both with the same content.
    Unchanged,
    /// Only in the target: kept as it is.
    Kept,
    /// In both with different content; replaced (overwrite) or refused (conflict).
    Changed {
        /// The fields that differ, e.g. `cluster.server`.
        fields: Vec<String>,
    },
}

/// One entry's line in the merge plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryChange {
    /// `clusters`, `users` or `contexts`.
    pub section: &'static str,
    /// The entry's name.
    pub name: String,
    /// What happens to it.
    pub change: Change,
}

/// The result of planning a merge: the merged document and what changed.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The target with the source merged in (conflicting entries replaced only
    /// when overwriting was asked for).
    pub merged: Map<String, Value>,
    /// Every entry of both documents and what happens to it.
    pub changes: Vec<EntryChange>,
    /// `current-context` before and after.
    pub current_context: (Option<String>, Option<String>),
    /// Whether overwriting was allowed.
    pub overwrite: bool,
}

impl Plan {
    /// The entries with the same name and different content.
    pub fn conflicts(&self) -> impl Iterator<Item = &EntryChange> {
        self.changes
            .iter()
            .filter(|c| matches!(c.change, Change::Changed { .. }))
    }

    /// Whether the merge would refuse to run (conflicts and no overwrite).
    pub fn refused(&self) -> bool {
        !self.overwrite && self.conflicts().next().is_some()
    }

    /// Whether writing the merged document would change the target.
    pub fn changes_target(&self) -> bool {
        self.current_context.0 != self.current_context.1
            || self.changes.iter().any(|c| {
                matches!(c.change, Change::Added)
                    || (self.overwrite && matches!(c.change, Change::Changed { .. }))
            })
    }

    /// Counts of added, changed, unchanged and kept entries.
    pub fn summary(&self) -> (usize, usize, usize, usize) {
        let count = |f: fn(&Change) -> bool| self.changes.iter().filter(|c| f(&c.change)).count();
        (
            count(|c| matches!(c, Change::Added)),
            count(|c| matches!(c, Change::Changed { .. })),
            count(|c| matches!(c, Change::Unchanged)),
            count(|c| matches!(c, Change::Kept)),
        )
    }

    /// The error to show when the merge is refused.
    pub fn conflict_message(&self, source: &str, target: &str) -> String {
        let mut msg = format!(
            "{} of {source} conflict with {target} (same name, different content):",
            plural(self.conflicts().count(), "entry", "entries")
        );
        for c in self.conflicts() {
            if let Change::Changed { fields } = &c.change {
                let _ = write!(
                    msg,
                    "\n  {} {:?}: {} differ",
                    singular(c.section),
                    c.name,
                    fields.join(", ")
                );
            }
        }
        msg.push_str(&format!(
            "\nnothing was written; rerun with --overwrite to replace them, or rename them in {source}"
        ));
        msg
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn singular(section: &str) -> &str {
    section.strip_suffix('s').unwrap_or(section)
}

impl fmt::Display for Plan {
    /// The diff, kubectl-style: one line per entry, grouped by section.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (section, _) in SECTIONS {
            let mine: Vec<&EntryChange> = self
                .changes
                .iter()
                .filter(|c| c.section == *section)
                .collect();
            if mine.is_empty() {
                continue;
            }
            writeln!(f, "{section}:")?;
            let width = mine.iter().map(|c| c.name.len()).max().unwrap_or(0);
            for c in mine {
                let (mark, what) = match &c.change {
                    Change::Added => ("+", "added".to_string()),
                    Change::Unchanged => ("=", "unchanged".to_string()),
                    Change::Kept => (" ", "kept".to_string()),
                    Change::Changed { fields } if self.overwrite => {
                        ("~", format!("changed: {}", fields.join(", ")))
                    }
                    Change::Changed { fields } => {
                        ("!", format!("conflict: {} differ", fields.join(", ")))
                    }
                };
                writeln!(f, "  {mark} {:<width$}   {what}", c.name)?;
            }
        }
        let (before, after) = &self.current_context;
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        if before == after {
            writeln!(f, "current-context: {} (kept)", show(before))?;
        } else {
            writeln!(f, "current-context: {} -> {}", show(before), show(after))?;
        }
        Ok(())
    }
}

/// Plans merging `source` into `target`.
///
/// Entries only in the target are kept in place; entries only in the source
/// are appended in source order; entries in both are compared as parsed values.
/// `current-context` is taken from the source only when the target has none.
/// Every other top-level field of the target is kept; the source's are ignored.
pub fn plan(target: &Map<String, Value>, source: &Map<String, Value>, overwrite: bool) -> Plan {
    let mut merged = target.clone();
    if merged.is_empty() {
        merged.insert("apiVersion".into(), Value::from("v1"));
        merged.insert("kind".into(), Value::from("Config"));
    }
    let mut changes = Vec::new();
    for (section, _) in SECTIONS {
        let theirs = entries(source, section);
        let mut list: Vec<Value> = entries(target, section).to_vec();
        // Names to positions, so large kubeconfigs merge in linear time. With
        // a name repeated in the target, the first one counts, as for kubectl.
        let mut position: HashMap<String, usize> = HashMap::new();
        for (i, entry) in list.iter().enumerate() {
            position.entry(name_of(entry).to_string()).or_insert(i);
        }
        let their_names: HashSet<&str> = theirs.iter().map(name_of).collect();
        for entry in &list {
            let name = name_of(entry);
            if !their_names.contains(name) {
                changes.push(EntryChange {
                    section,
                    name: name.to_string(),
                    change: Change::Kept,
                });
            }
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for entry in theirs {
            let name = name_of(entry);
            if !seen.insert(name) {
                // A name repeated within the source: the first one wins, as kubectl reads it.
                continue;
            }
            match position.get(name).copied() {
                None => {
                    position.insert(name.to_string(), list.len());
                    list.push(entry.clone());
                    changes.push(EntryChange {
                        section,
                        name: name.to_string(),
                        change: Change::Added,
                    });
                }
                Some(i) if equivalent(&list[i], entry) => changes.push(EntryChange {
                    section,
                    name: name.to_string(),
                    change: Change::Unchanged,
                }),
                Some(i) => {
                    let mut fields = Vec::new();
                    differences(&list[i], entry, "", &mut fields);
                    if overwrite {
                        list[i] = entry.clone();
                    }
                    changes.push(EntryChange {
                        section,
                        name: name.to_string(),
                        change: Change::Changed { fields },
                    });
                }
            }
        }
        if !list.is_empty() || merged.contains_key(*section) {
            merged.insert(section.to_string(), Value::Array(list));
        }
    }
    let current = |doc: &Map<String, Value>| {
        doc.get("current-context")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let before = current(target);
    let after = before.clone().or_else(|| current(source));
    if let Some(name) = &after {
        merged.insert("current-context".into(), Value::from(name.clone()));
    }
    Plan {
        merged,
        changes,
        current_context: (before, after),
        overwrite,
    }
}

/// Equality of parsed values, treating a missing field and an explicit null
/// (as kubectl writes `env: null`) as the same.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| {
                equivalent(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equivalent(a, b))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                differences(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &child,
                    out,
                );
            }
        }
        _ if !equivalent(a, b) => out.push(if path.is_empty() {
            "content".into()
        } else {
            path.to_string()
        }),
        _ => {}
    }
}

/// A value as YAML the way kubectl writes kubeconfigs: block style, long
/// single-line values (base64 CA data, tokens) kept on one line, multi-line
/// text as literal blocks.
pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String, serde_saphyr::ser::Error> {
    let options = serde_saphyr::ser_options! {
        folded_wrap_chars: 1_000_000,
    };
    serde_saphyr::to_string_with_options(value, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn target() -> Map<String, Value> {
        doc(json!({
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {"colors": true},
            "extensions": [{"name": "x", "extension": {"a": 1}}],
            "current-context": "home",
            "clusters": [
                {"name": "home", "cluster": {"server": "https://home:6443", "x-unknown": {"deep": [1, 2]}}},
                {"name": "shared", "cluster": {"server": "https://shared:6443"}},
                {"name": "prod", "cluster": {"server": "https://old-prod:6443"}},
            ],
            "users": [{"name": "me", "user": {"token": "abc", "exec": {"env": null, "command": "x"}}}],
            "contexts": [{"name": "home", "context": {"cluster": "home", "user": "me"}}],
        }))
    }

    fn source() -> Map<String, Value> {
        doc(json!({
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "prod",
            "clusters": [
                {"name": "shared", "cluster": {"server": "https://shared:6443"}},
                {"name": "prod", "cluster": {"server": "https://prod:6443", "tls-server-name": "api"}},
                {"name": "new", "cluster": {"server": "https://new:6443"}},
            ],
            "users": [{"name": "me", "user": {"token": "abc", "exec": {"command": "x"}}}],
            "contexts": [{"name": "new", "context": {"cluster": "new", "user": "me"}}],
        }))
    }

    #[test]
    fn plan_classifies_every_entry() {
        let p = plan(&target(), &source(), false);
        let got: Vec<(&str, &str, Change)> = p
            .changes
            .iter()
            .map(|c| (c.section, c.name.as_str(), c.change.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("clusters", "home", Change::Kept),
                ("clusters", "shared", Change::Unchanged),
                (
                    "clusters",
                    "prod",
                    Change::Changed {
                        fields: vec!["cluster.server".into(), "cluster.tls-server-name".into()]
                    }
                ),
                ("clusters", "new", Change::Added),
                ("users", "me", Change::Unchanged),
                ("contexts", "home", Change::Kept),
                ("contexts", "new", Change::Added),
            ]
        );
        assert!(p.refused());
        assert_eq!(p.summary(), (2, 1, 2, 2));
        let msg = p.conflict_message("src.yaml", "config");
        assert!(
            msg.contains("cluster \"prod\": cluster.server, cluster.tls-server-name differ"),
            "{msg}"
        );
        assert!(msg.contains("--overwrite"), "{msg}");
    }

    #[test]
    fn merged_document_keeps_unrelated_content() {
        let t = target();
        let p = plan(&t, &source(), false);
        let m = &p.merged;
        for key in ["preferences", "extensions", "apiVersion", "kind"] {
            assert_eq!(m[key], t[key], "{key}");
        }
        assert_eq!(
            m["current-context"], "home",
            "target's current context is kept"
        );
        assert_eq!(m["clusters"][0], t["clusters"][0], "unknown fields survive");
        assert_eq!(
            m["clusters"][2]["cluster"]["server"], "https://old-prod:6443",
            "no overwrite"
        );
        assert_eq!(m["clusters"][3]["name"], "new");
        assert_eq!(
            m["users"][0], t["users"][0],
            "equivalent entries are left as written"
        );

        let p = plan(&t, &source(), true);
        assert!(!p.refused());
        assert_eq!(p.merged["clusters"][2]["cluster"]["tls-server-name"], "api");
        assert!(
            p.to_string()
                .contains("~ prod     changed: cluster.server, cluster.tls-server-name"),
            "{p}"
        );
    }

    #[test]
    fn merging_into_nothing_takes_the_source() {
        let p = plan(&Map::new(), &source(), false);
        assert_eq!(p.merged["current-context"], "prod");
        assert_eq!(p.merged["apiVersion"], "v1");
        assert_eq!(p.summary(), (5, 0, 0, 0));
        assert!(
            p.to_string().contains("current-context: (none) -> prod"),
            "{p}"
        );
    }

    #[test]
    fn merging_twice_changes_nothing() {
        let first = plan(&target(), &source(), true).merged;
        let second = plan(&first, &source(), false);
        assert!(!second.changes_target());
        assert!(!second.refused());
    }

    #[test]
    fn documents_are_checked() {
        assert!(parse_document("", "x").unwrap().is_empty());
        assert!(
            parse_document("clusters: 3", "x")
                .unwrap_err()
                .to_string()
                .contains("clusters is not a list")
        );
        assert!(
            parse_document("users: [{user: {}}]", "x")
                .unwrap_err()
                .to_string()
                .contains("users[0] has no name")
        );
        assert!(parse_document("- 1", "x").is_err());
        let d = parse_document("{\"apiVersion\": \"v1\", \"clusters\": []}", "x.json").unwrap();
        assert_eq!(d["apiVersion"], "v1");
    }

    #[test]
    fn yaml_round_trip_is_equivalent() {
        let t = target();
        let text = to_yaml(&t).unwrap();
        let back = parse_document(&text, "x").unwrap();
        assert!(
            equivalent(&Value::Object(t), &Value::Object(back)),
            "{text}"
        );
    }
}
