//! Translation of the shared query AST ([`audit_api::Query`]) into tantivy
//! queries over the schema of [`crate::index`].
//!
//! Hand-written rather than tantivy's `QueryParser`: the language is
//! `audit-api`'s — one parser and AST for `kubectl audit` and the sink,
//! which also evaluates it in memory for follow (`Query::matches`) — not
//! Lucene's syntax. Its fields map onto our own schema (keywords, the code
//! range, annotation keys and values, phrases over the free text), and a
//! phrase ending in `*` has a bounded expansion with a message saying what
//! to do ([`MAX_PREFIX_EXPANSIONS`]). Translating the parsed AST keeps one
//! parser and one meaning for every client.

use std::ops::Bound;

use audit_api::fields::tokenize;
use audit_api::{Pattern, Query as AuditQuery};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery, RegexPhraseQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;

use super::error::IndexError;
use super::schema::IndexFields;

/// How many index words the last word of a phrase ending in `*` (such as
/// `web-7f9c*`) may expand to in one index segment. Past it the search fails
/// with a message asking for a longer prefix rather than silently answering
/// a part of the matches.
pub const MAX_PREFIX_EXPANSIONS: u32 = 1 << 16;

/// Escapes regex meta characters.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn pattern_regex(prefix: &str, p: &Pattern) -> String {
    match p {
        Pattern::Exact(s) => format!("{}{}", regex_escape(prefix), regex_escape(s)),
        Pattern::Prefix(s) => format!("{}{}.*", regex_escape(prefix), regex_escape(s)),
        Pattern::Glob(parts) => format!(
            "{}{}",
            regex_escape(prefix),
            parts
                .iter()
                .map(|x| regex_escape(x))
                .collect::<Vec<_>>()
                .join(".*")
        ),
    }
}

fn keyword_query(
    field: tantivy::schema::Field,
    prefix: &str,
    p: &Pattern,
) -> Result<Box<dyn Query>, IndexError> {
    Ok(match p {
        Pattern::Exact(s) => Box::new(TermQuery::new(
            Term::from_field_text(field, &format!("{prefix}{s}")),
            IndexRecordOption::Basic,
        )),
        _ => Box::new(RegexQuery::from_pattern(&pattern_regex(prefix, p), field)?),
    })
}

/// Turns the failure of a phrase ending in `*` whose last word expands to
/// too many index words into the caller's mistake, with what to do.
pub fn explain(e: IndexError) -> IndexError {
    match e {
        IndexError::Tantivy(tantivy::TantivyError::InvalidArgument(m))
            if m.contains("max expansions") =>
        {
            IndexError::BadRequest(format!(
                "a phrase ending in `*` (such as web-7f9c*) matches more than {MAX_PREFIX_EXPANSIONS} different words: type more letters before the `*`"
            ))
        }
        e => e,
    }
}

/// Builds the tantivy query for `q`.
pub fn to_tantivy(q: &AuditQuery, f: &IndexFields) -> Result<Box<dyn Query>, IndexError> {
    Ok(match q {
        AuditQuery::All => Box::new(AllQuery),
        AuditQuery::Field { field, pattern } => match f.keyword(*field) {
            Some(tf) => keyword_query(tf, "", pattern)?,
            None => Box::new(EmptyQuery),
        },
        AuditQuery::Code(c) => {
            let (lo, hi) = c.bounds();
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_u64(f.code, u64::from(lo))),
                Bound::Included(Term::from_field_u64(f.code, u64::from(hi))),
            ))
        }
        AuditQuery::Annotation { key, value: None } => Box::new(TermQuery::new(
            Term::from_field_text(f.annotation_key, key),
            IndexRecordOption::Basic,
        )),
        AuditQuery::Annotation {
            key,
            value: Some(p),
        } => keyword_query(f.annotation, &format!("{key}="), p)?,
        // A term the tokenizer splits into several words is a phrase, quoted
        // or not: `web-7f9c-x2` means these words side by side, in order.
        AuditQuery::Text { text, .. } => {
            let mut terms: Vec<Term> = tokenize(text)
                .iter()
                .map(|w| Term::from_field_text(f.text, w))
                .collect();
            match terms.len() {
                0 => Box::new(EmptyQuery),
                1 => Box::new(TermQuery::new(
                    terms.pop().expect("one"),
                    IndexRecordOption::Basic,
                )),
                _ => Box::new(PhraseQuery::new(terms)),
            }
        }
        AuditQuery::TextPrefix(p) => {
            let words = tokenize(p);
            let Some((last, before)) = words.split_last() else {
                return Ok(Box::new(EmptyQuery));
            };
            let prefix = format!("{}.*", regex_escape(last));
            if before.is_empty() {
                Box::new(RegexQuery::from_pattern(&prefix, f.text)?)
            } else {
                let mut regexes: Vec<String> = before.iter().map(|w| regex_escape(w)).collect();
                regexes.push(prefix);
                let mut q = RegexPhraseQuery::new(f.text, regexes);
                q.set_max_expansions(MAX_PREFIX_EXPANSIONS);
                Box::new(q)
            }
        }
        AuditQuery::Not(inner) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
            (Occur::MustNot, to_tantivy(inner, f)?),
        ])),
        AuditQuery::And(qs) => Box::new(BooleanQuery::new(
            qs.iter()
                .map(|q| Ok((Occur::Must, to_tantivy(q, f)?)))
                .collect::<Result<_, IndexError>>()?,
        )),
        AuditQuery::Or(qs) => Box::new(BooleanQuery::new(
            qs.iter()
                .map(|q| Ok((Occur::Should, to_tantivy(q, f)?)))
                .collect::<Result<_, IndexError>>()?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_regex() {
        assert_eq!(
            pattern_regex(
                "",
                &Pattern::Prefix("system:serviceaccount:kube-system.x".into())
            ),
            r"system:serviceaccount:kube\-system\.x.*"
        );
        assert_eq!(
            pattern_regex("k=", &Pattern::Glob(vec!["a".into(), "b".into()])),
            "k=a.*b"
        );
    }
}
