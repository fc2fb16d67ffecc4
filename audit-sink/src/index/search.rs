//! Searches: the pages of events matching a query of `audit-api`'s
//! language in a time range, newest first, paged by cursor.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use audit_api::Query as AuditQuery;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::schema::Value;
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use super::error::IndexError;
use super::partitions::{Partition, Partitions};
use super::query::to_tantivy;

/// A parsed search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// The query.
    pub query: AuditQuery,
    /// Inclusive lower bound, microseconds.
    pub since: Option<i64>,
    /// Exclusive upper bound, microseconds.
    pub until: Option<i64>,
    /// Page size.
    pub limit: usize,
    /// Only events with a smaller sort key (the previous page's last).
    pub cursor: Option<u64>,
}

/// The documents of one search page, found and not yet read (see
/// [`Partitions::search_hits`]).
pub struct Hits {
    hits: Vec<(u64, Arc<Partition>, DocAddress)>,
    searchers: HashMap<i64, tantivy::Searcher>,
    raw: tantivy::schema::Field,
    /// Cursor of the next page, `None` on the last.
    pub next: Option<u64>,
}

impl Hits {
    /// How many events the page holds.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether the page is empty.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Reads the events in order, handing each one's original bytes to
    /// `emit`; stops early when `emit` answers `false`.
    pub fn for_each_event(
        &mut self,
        mut emit: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), IndexError> {
        for (_, p, addr) in &self.hits {
            let searcher = self
                .searchers
                .entry(p.day)
                .or_insert_with(|| p.reader.searcher());
            let doc: TantivyDocument = searcher.doc(*addr)?;
            let raw = doc
                .get_first(self.raw)
                .and_then(|v| v.as_bytes())
                .unwrap_or_default();
            if !emit(raw) {
                break;
            }
        }
        Ok(())
    }
}
impl Partitions {
    /// The tantivy query of `req_query` restricted to `[since, until)` and
    /// to sort keys below `cursor`.
    pub(super) fn filtered(
        &self,
        req_query: &AuditQuery,
        since: Option<i64>,
        until: Option<i64>,
        cursor: Option<u64>,
    ) -> Result<Box<dyn Query>, IndexError> {
        let f = &self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, to_tantivy(req_query, f)?)];
        if since.is_some() || until.is_some() {
            let lo = since.map_or(Bound::Unbounded, |s| {
                Bound::Included(Term::from_field_i64(f.time, s))
            });
            let hi = until.map_or(Bound::Unbounded, |u| {
                Bound::Excluded(Term::from_field_i64(f.time, u))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        if let Some(c) = cursor {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Unbounded,
                    Bound::Excluded(Term::from_field_u64(f.sortkey, c)),
                )),
            ));
        }
        Ok(if clauses.len() == 1 {
            clauses.pop().expect("one").1
        } else {
            Box::new(BooleanQuery::new(clauses))
        })
    }

    /// Original events matching `req`, newest first, and the next cursor.
    pub fn search(&self, req: &SearchRequest) -> Result<(Vec<Vec<u8>>, Option<u64>), IndexError> {
        let mut hits = self.search_hits(req)?;
        let mut out = Vec::with_capacity(hits.len());
        hits.for_each_event(|raw| {
            out.push(raw.to_vec());
            true
        })?;
        Ok((out, hits.next))
    }

    /// The documents matching `req`, newest first, found but not read yet:
    /// [`Hits::for_each_event`] reads them one at a time, so an answer can
    /// be streamed without holding the page.
    pub fn search_hits(&self, req: &SearchRequest) -> Result<Hits, IndexError> {
        let query = self.filtered(&req.query, req.since, req.until, req.cursor)?;
        let want = req.limit + 1;
        let mut hits: Vec<(u64, Arc<Partition>, DocAddress)> = Vec::new();
        // Documents are read with the very searcher that found them: a
        // commit or merge in between changes the segment list, and a
        // DocAddress from an older one names another (or no) document.
        let mut searchers = HashMap::new();
        for p in self.overlapping(req.since, req.until) {
            if hits.len() >= want {
                break;
            }
            let searcher = searchers
                .entry(p.day)
                .or_insert_with(|| p.reader.searcher());
            let top: Vec<(Option<u64>, DocAddress)> = searcher.search(
                &query,
                &TopDocs::with_limit(want - hits.len())
                    .order_by_fast_field::<u64>("sortkey", Order::Desc),
            )?;
            for (sk, addr) in top {
                hits.push((sk.unwrap_or(0), p.clone(), addr));
            }
        }
        let next = if hits.len() > req.limit {
            hits.truncate(req.limit);
            hits.last().map(|h| h.0)
        } else {
            None
        };
        Ok(Hits {
            hits,
            searchers,
            raw: self.fields.raw,
            next,
        })
    }
}
