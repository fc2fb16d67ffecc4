//! `fieldSelector` over AuditEvents, parsed as the apiserver parses field
//! selectors (`a=b,c!=d`, `==` as `=`, `\` escapes `\`, `,` and `=`), then
//! turned into the sink's query.
//!
//! The plugins and the test server parse selectors with
//! `kubectl_kit::selector` into kube's `Selector`; the sink does not link the
//! plugins' client-side kit, and what it needs is its own query rather than a
//! `Selector`, so the field-selector grammar is parsed here.

use audit_api::{CodeMatch, Field, Pattern, Query};

/// One `field op value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    field: String,
    equal: bool,
    value: String,
}

/// Splits on unescaped `,` and unescapes each term's value.
fn terms(selector: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in selector.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    out.push(cur);
    out
}

fn unescape(v: &str, term: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence in {term:?}: only \\\\, \\, and \\= may be escaped"
                    ));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn parse(selector: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for term in terms(selector) {
        if term.is_empty() {
            continue;
        }
        let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = term.split_once("==") {
            (f, true, v)
        } else if let Some((f, v)) = term.split_once('=') {
            (f, true, v)
        } else {
            return Err(format!(
                "invalid selector: '{selector}'; can't understand '{term}'"
            ));
        };
        out.push(Requirement {
            field: field.trim().to_string(),
            equal,
            value: unescape(value, &term)?,
        });
    }
    Ok(out)
}

/// The stage of an event name suffix (`responsecomplete` → `ResponseComplete`).
pub(crate) fn stage_of(suffix: &str) -> Option<&'static str> {
    [
        "RequestReceived",
        "ResponseStarted",
        "ResponseComplete",
        "Panic",
    ]
    .into_iter()
    .find(|s| s.eq_ignore_ascii_case(suffix))
}

/// The query matching the AuditEvent named `name`: `AUDITID.STAGE`, or a
/// bare auditID (every stage).
pub(crate) fn name_query(name: &str) -> Query {
    let exact = |field, v: &str| Query::Field {
        field,
        pattern: Pattern::Exact(v.to_string()),
    };
    match name
        .rsplit_once('.')
        .and_then(|(id, s)| Some((id, stage_of(s)?)))
    {
        Some((id, stage)) => {
            Query::And(vec![exact(Field::AuditId, id), exact(Field::Stage, stage)])
        }
        None => exact(Field::AuditId, name),
    }
}

/// The query of a `fieldSelector`; the message is the 400's when it is wrong.
pub(crate) fn field_selector_query(selector: &str) -> Result<Query, String> {
    let mut all = Vec::new();
    for r in parse(selector)? {
        let field = match r.field.as_str() {
            "user" => Some(Field::User),
            "verb" => Some(Field::Verb),
            "resource" => Some(Field::Resource),
            "name" => Some(Field::Name),
            "stage" => Some(Field::Stage),
            "cluster" => Some(Field::Cluster),
            "metadata.namespace" => Some(Field::Namespace),
            "code" | "metadata.name" => None,
            other => return Err(format!("field label not supported: {other}")),
        };
        let q = match (field, r.field.as_str()) {
            (Some(f), _) => Query::Field {
                field: f,
                pattern: Pattern::Exact(r.value.clone()),
            },
            (None, "code") => match r.value.parse::<u16>() {
                Ok(c) => Query::Code(CodeMatch::Exact(c)),
                Err(_) => {
                    return Err(format!(
                        "invalid field selector value {:?} for code: use an HTTP status code such as 403",
                        r.value
                    ));
                }
            },
            _ => name_query(&r.value),
        };
        all.push(if r.equal { q } else { Query::Not(Box::new(q)) });
    }
    Ok(match all.len() {
        0 => Query::All,
        1 => all.pop().expect("one"),
        _ => Query::And(all),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_apiserver() {
        assert_eq!(
            parse("verb=delete,user!=bob,code==404").unwrap(),
            vec![
                Requirement {
                    field: "verb".into(),
                    equal: true,
                    value: "delete".into()
                },
                Requirement {
                    field: "user".into(),
                    equal: false,
                    value: "bob".into()
                },
                Requirement {
                    field: "code".into(),
                    equal: true,
                    value: "404".into()
                },
            ]
        );
        assert_eq!(parse(r"name=a\,b").unwrap()[0].value, "a,b");
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(
            parse("verb").unwrap_err(),
            "invalid selector: 'verb'; can't understand 'verb'"
        );
    }

    #[test]
    fn unknown_labels_and_bad_codes_are_refused() {
        assert_eq!(
            field_selector_query("colour=red").unwrap_err(),
            "field label not supported: colour"
        );
        assert!(
            field_selector_query("code=abc")
                .unwrap_err()
                .contains("403")
        );
        assert_eq!(
            field_selector_query("code!=200").unwrap(),
            Query::Not(Box::new(Query::Code(CodeMatch::Exact(200))))
        );
    }

    #[test]
    fn names_are_audit_id_and_stage() {
        assert_eq!(
            name_query("abc-1.responsecomplete"),
            Query::And(vec![
                Query::Field {
                    field: Field::AuditId,
                    pattern: Pattern::Exact("abc-1".into())
                },
                Query::Field {
                    field: Field::Stage,
                    pattern: Pattern::Exact("ResponseComplete".into())
                },
            ])
        );
        assert_eq!(
            name_query("abc-1"),
            Query::Field {
                field: Field::AuditId,
                pattern: Pattern::Exact("abc-1".into())
            }
        );
    }
}
