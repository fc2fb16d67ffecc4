//! Translation of the shared query AST ([`audit_api::Query`]) into tantivy
//! queries over the schema of [`crate::index`].

use std::ops::Bound;

use audit_api::fields::tokenize;
use audit_api::{Pattern, Query as AuditQuery};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::index::{IndexError, IndexFields};

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
        AuditQuery::Text { text, phrase } => {
            let words = tokenize(text);
            let terms: Vec<Term> = words
                .iter()
                .map(|w| Term::from_field_text(f.text, w))
                .collect();
            match terms.len() {
                0 => Box::new(EmptyQuery),
                1 => Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::Basic)),
                _ if *phrase => Box::new(PhraseQuery::new(terms)),
                _ => Box::new(BooleanQuery::new(
                    terms
                        .into_iter()
                        .map(|t| {
                            (
                                Occur::Must,
                                Box::new(TermQuery::new(t, IndexRecordOption::Basic))
                                    as Box<dyn Query>,
                            )
                        })
                        .collect(),
                )),
            }
        }
        AuditQuery::TextPrefix(p) => Box::new(RegexQuery::from_pattern(
            &format!("{}.*", regex_escape(p)),
            f.text,
        )?),
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
