//! The properties the fuzz targets `catalog` and `merge` (under `fuzz/`)
//! assert, shared with `tests/fuzz_regressions.rs`, which replays every input
//! the fuzzers found through the same checks.

use std::collections::HashSet;
use std::path::Path;

use kubectl_kubeconfig::catalog::{self, BaseDir};
use kubectl_kubeconfig::generate::{self, Secrets, Selection};
use kubectl_kubeconfig::merge::{self, SECTIONS};
use serde_json::{Map, Value};

fn touches_outside(v: &Value) -> bool {
    match v {
        Value::String(s) => Path::new(s).is_absolute() || s.contains(".."),
        Value::Array(a) => a.iter().any(touches_outside),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| touches_outside(&Value::String(k.clone())) || touches_outside(x)),
        _ => false,
    }
}

fn names(doc: &Value, section: &str) -> Vec<String> {
    doc[section]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    e["name"]
                        .as_str()
                        .expect("generated entries are named")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check_generated(doc: &Value) {
    let clusters = names(doc, "clusters");
    let users = names(doc, "users");
    let contexts = names(doc, "contexts");
    for list in [&clusters, &users, &contexts] {
        let unique: HashSet<&String> = list.iter().collect();
        assert_eq!(
            unique.len(),
            list.len(),
            "duplicate generated names: {list:?}"
        );
    }
    for ctx in doc["contexts"].as_array().into_iter().flatten() {
        let c = ctx["context"]["cluster"].as_str().expect("context.cluster");
        let u = ctx["context"]["user"].as_str().expect("context.user");
        assert!(
            clusters.iter().any(|n| n == c),
            "context names missing cluster {c:?}"
        );
        assert!(
            users.iter().any(|n| n == u),
            "context names missing user {u:?}"
        );
    }
    let yaml = merge::to_yaml(doc).expect("generated kubeconfig serialises");
    let back = merge::parse_document(&yaml, "generated")
        .unwrap_or_else(|e| panic!("generated YAML does not read back: {e}\n{yaml}"));
    assert!(
        merge::equivalent(&Value::Object(back), doc),
        "generated YAML reads back differently:\n{yaml}"
    );
}

/// The catalog reader (`catalog::parse`, `catalog::validate`), then
/// generation from every catalog that validates. Relative file references
/// resolve in `examples`; inputs naming an absolute path or `..` are skipped
/// so a fuzzer never reads devices or files elsewhere.
///
/// No panic in parsing, validation, reporting or generation; a validated
/// catalog generates kubeconfigs whose contexts name clusters and users
/// present in them, with unique names, and whose YAML (as written to disk)
/// reads back as the same document.
pub fn catalog(data: &[u8], examples: &Path) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(generic) = serde_saphyr::from_str::<Value>(text)
        && touches_outside(&generic)
    {
        return;
    }
    let Ok(parsed) = catalog::parse(text, "fuzz.yaml") else {
        return;
    };
    let (catalog, report) =
        match catalog::validate(&parsed, &BaseDir::Dir(examples.to_path_buf()), "fuzz.yaml") {
            Ok(ok) => ok,
            Err(report) => {
                assert!(report.has_errors());
                let _ = report.to_string();
                return;
            }
        };
    assert!(!report.has_errors());
    let _ = report.to_string();
    let Ok(pairs) = generate::select(&catalog, &Selection::default()) else {
        return;
    };
    let secrets: Secrets = catalog
        .identity_providers
        .iter()
        .filter(|idp| idp.client_secret.is_some())
        .map(|idp| (idp.name.clone(), "s3cret".to_string()))
        .collect();
    check_generated(&generate::kubeconfig(&catalog, &pairs, &secrets));
    for (_team, doc) in generate::kubeconfigs_per_team(&catalog, &pairs, &secrets) {
        check_generated(&doc);
    }
}

fn entries<'a>(doc: &'a Map<String, Value>, section: &str) -> &'a [Value] {
    doc.get(section)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn name(entry: &Value) -> &str {
    entry["name"].as_str().expect("parse_document checks names")
}

/// The kubeconfig merger (`merge::parse_document`, `merge::plan`) on two
/// arbitrary documents. Input: byte 0 bit 0 = `--overwrite`; the rest is the
/// target (the user's kubeconfig) and the source (the incoming one), split at
/// the first NUL byte.
///
/// The merger's promise, never to lose an unrelated entry: every cluster,
/// user and context of the target whose name the source does not use is in
/// the merged document, unchanged and in the same order; without
/// `--overwrite` every target entry survives unchanged; each source name is
/// present afterwards; other top-level fields of the target are kept; and the
/// merged document, written as YAML, reads back as the same document.
pub fn merge(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let overwrite = flags & 1 == 1;
    let (target, source) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let (Ok(target), Ok(source)) = (std::str::from_utf8(target), std::str::from_utf8(source))
    else {
        return;
    };
    let (Ok(target), Ok(source)) = (
        merge::parse_document(target, "target"),
        merge::parse_document(source, "source"),
    ) else {
        return;
    };
    let plan = merge::plan(&target, &source, overwrite);
    let _ = plan.to_string();
    let _ = plan.summary();
    let _ = plan.conflict_message("source", "target");
    let merged = &plan.merged;

    for (section, _) in SECTIONS {
        let theirs: HashSet<&str> = entries(&source, section).iter().map(name).collect();
        let ours = entries(&target, section);
        let after = entries(merged, section);
        let unrelated = |list: &[Value]| -> Vec<Value> {
            list.iter()
                .filter(|e| !theirs.contains(name(e)))
                .cloned()
                .collect()
        };
        assert_eq!(
            unrelated(ours),
            unrelated(after),
            "{section}: an entry the source does not name was lost or changed"
        );
        let ours_names: HashSet<&str> = ours.iter().map(name).collect();
        if !overwrite {
            let kept: Vec<&Value> = after
                .iter()
                .filter(|e| ours_names.contains(name(e)))
                .collect();
            let before: Vec<&Value> = ours.iter().collect();
            assert_eq!(
                before, kept,
                "{section}: a target entry changed without --overwrite"
            );
        }
        for n in &theirs {
            assert!(
                after.iter().any(|e| name(e) == *n),
                "{section}: source entry {n:?} is missing after the merge"
            );
        }
    }
    for (key, value) in &target {
        if SECTIONS.iter().any(|(s, _)| s == key) {
            continue;
        }
        if key == "current-context" && value.as_str().is_none_or(str::is_empty) {
            continue;
        }
        assert_eq!(
            merged.get(key),
            Some(value),
            "top-level field {key:?} changed"
        );
    }

    let yaml = merge::to_yaml(merged).expect("a merged document serialises");
    let back = merge::parse_document(&yaml, "merged")
        .unwrap_or_else(|e| panic!("merged YAML does not read back: {e}\n{yaml}"));
    assert!(
        merge::equivalent(&Value::Object(back), &Value::Object(merged.clone())),
        "merged YAML reads back differently:\n{yaml}"
    );
}
