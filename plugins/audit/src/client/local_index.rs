//! `--index DIR` (cargo feature `index`): answers searches and stats from a
//! copied sink data directory (or its `index/` directory) with the sink's own
//! index code, read-only and with no server — forensics on evidence. Only what
//! the sink had committed to its index is seen; its write-ahead log is not
//! replayed (that would write to the copy).

use std::path::{Path, PathBuf};

use audit_api::api::{SearchParams, SearchResponse, StatsParams, StatsResponse};
use audit_api::{Field, parse_query};
use audit_sink::index::{Partitions, SearchRequest};
use kubectl_kit::KitError;
use serde_json::value::RawValue;

/// An index directory opened read-only.
pub struct LocalIndex {
    partitions: Partitions,
    dir: PathBuf,
}

impl LocalIndex {
    /// Opens `dir`: a sink data directory (with `index/` inside) or the index directory itself.
    pub fn open(dir: &Path) -> anyhow::Result<LocalIndex> {
        let index_dir = if dir.join("index").is_dir() {
            dir.join("index")
        } else {
            dir.to_path_buf()
        };
        // Opening would create a missing directory: refuse instead, this mode only reads.
        if !index_dir.is_dir() {
            return Err(KitError::usage(format!(
                "--index {}: no such directory; point it at a copy of the sink's data directory (or its index/ directory)",
                dir.display()
            ))
            .into());
        }
        let partitions = Partitions::open(&index_dir).map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "--index {}: cannot open the index (is it a copy of an audit-sink data directory?)",
                dir.display()
            ))
        })?;
        if partitions.num_docs() == 0 {
            tracing::warn!(
                "{} holds no indexed events (events still only in the write-ahead log are not read)",
                index_dir.display()
            );
        }
        Ok(LocalIndex {
            partitions,
            dir: index_dir,
        })
    }

    /// Searches like `GET /v1/search`.
    pub fn search(&self, params: &SearchParams) -> anyhow::Result<SearchResponse> {
        let query = parse_query(params.q.as_deref().unwrap_or(""))
            .map_err(|e| KitError::usage(e.to_string()))?;
        let (since, until) = range(params.since.as_deref(), params.until.as_deref())?;
        let cursor = params
            .cursor
            .as_deref()
            .map(|c| {
                u64::from_str_radix(c, 16).map_err(|_| {
                    KitError::usage(format!(
                        "--page-token {c:?} was not printed by a previous search"
                    ))
                })
            })
            .transpose()?;
        let request = SearchRequest {
            query,
            since,
            until,
            limit: params
                .limit
                .unwrap_or(audit_api::api::DEFAULT_LIMIT)
                .clamp(1, audit_api::api::MAX_LIMIT),
            cursor,
        };
        let (raw, next) = self.partitions.search(&request).map_err(|e| {
            anyhow::Error::new(e).context(format!("searching {}", self.dir.display()))
        })?;
        let mut events = Vec::with_capacity(raw.len());
        for bytes in raw {
            let text = String::from_utf8(bytes)
                .map_err(|e| anyhow::anyhow!("a stored event is not UTF-8: {e}"))?;
            events.push(
                RawValue::from_string(text)
                    .map_err(|e| anyhow::anyhow!("a stored event is not JSON: {e}"))?,
            );
        }
        Ok(SearchResponse {
            events,
            next: next.map(|n| format!("{n:x}")),
        })
    }

    /// Counts like `GET /v1/stats`.
    pub fn stats(&self, params: &StatsParams) -> anyhow::Result<StatsResponse> {
        let query = parse_query(params.q.as_deref().unwrap_or(""))
            .map_err(|e| KitError::usage(e.to_string()))?;
        let (since, until) = range(params.since.as_deref(), params.until.as_deref())?;
        let by = params.by.as_deref().and_then(Field::from_name);
        let interval = params
            .interval
            .as_deref()
            .map(|i| {
                audit_api::time::parse_duration(i)
                    .map(|d| d.as_micros() as i64)
                    .map_err(|e| KitError::usage(format!("--interval: {e}")))
            })
            .transpose()?;
        self.partitions
            .stats(
                &query,
                since,
                until,
                by,
                params.top.unwrap_or(10).clamp(1, 10_000),
                interval,
            )
            .map_err(|e| {
                anyhow::Error::new(e).context(format!("counting in {}", self.dir.display()))
            })
    }
}

fn range(since: Option<&str>, until: Option<&str>) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let now = jiff::Timestamp::now();
    let one = |v: Option<&str>| -> anyhow::Result<Option<i64>> {
        v.map(|s| {
            audit_api::time::parse_time(s, now)
                .map(|t| t.as_microsecond())
                .map_err(|e| KitError::usage(e.to_string()).into())
        })
        .transpose()
    };
    Ok((one(since)?, one(until)?))
}
