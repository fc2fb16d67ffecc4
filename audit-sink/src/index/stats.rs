//! Stats: counts of the events matching a query, grouped by a field and
//! over time (tantivy aggregations summed over the day partitions).

use std::collections::{BTreeMap, HashMap};

use audit_api::Query as AuditQuery;
use audit_api::api::{FieldCount, HistogramBucket, StatsResponse};
use audit_api::fields::Field;
use tantivy::aggregation::AggregationCollector;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::collector::Count;

use super::error::IndexError;
use super::partitions::Partitions;

impl Partitions {
    /// Counts by field and a histogram over time.
    pub fn stats(
        &self,
        query: &AuditQuery,
        since: Option<i64>,
        until: Option<i64>,
        by: Option<Field>,
        top: usize,
        interval_micros: Option<i64>,
    ) -> Result<StatsResponse, IndexError> {
        let by_name = match by {
            None => None,
            Some(Field::Code) => Some("code"),
            Some(f) if f.spec().groupable && self.fields.keyword(f).is_some() => Some(f.name()),
            Some(f) => {
                return Err(IndexError::BadRequest(format!(
                    "cannot group by `{}`; groupable fields: {}",
                    f.name(),
                    audit_api::fields::groupable_names()
                )));
            }
        };
        let q = self.filtered(query, since, until, None)?;
        let mut aggs = serde_json::Map::new();
        if let Some(name) = by_name {
            aggs.insert(
                "by".into(),
                serde_json::json!({"terms": {"field": name, "size": 65_000}}),
            );
        }
        if let Some(iv) = interval_micros {
            aggs.insert(
                "hist".into(),
                serde_json::json!({"histogram": {"field": "time", "interval": iv as f64, "min_doc_count": 1}}),
            );
        }
        let aggs: Aggregations = serde_json::from_value(serde_json::Value::Object(aggs))
            .map_err(|e| IndexError::BadRequest(format!("aggregation: {e}")))?;
        let mut total = 0u64;
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut hist: BTreeMap<i64, u64> = BTreeMap::new();
        for p in self.overlapping(since, until) {
            let searcher = p.reader.searcher();
            let collector = AggregationCollector::from_aggs(aggs.clone(), Default::default());
            let (n, res) = searcher.search(&q, &(Count, collector))?;
            total += n as u64;
            let v =
                serde_json::to_value(&res).map_err(|e| IndexError::BadRequest(e.to_string()))?;
            for b in v
                .pointer("/by/buckets")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
            {
                let key = match &b["key"] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n
                        .as_f64()
                        .map_or_else(|| n.to_string(), |f| format!("{}", f as i64)),
                    other => other.to_string(),
                };
                *counts.entry(key).or_default() += b["doc_count"].as_u64().unwrap_or(0);
            }
            for b in v
                .pointer("/hist/buckets")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
            {
                let key = b["key"].as_f64().unwrap_or(0.0) as i64;
                *hist.entry(key).or_default() += b["doc_count"].as_u64().unwrap_or(0);
            }
        }
        let mut counts: Vec<FieldCount> = counts
            .into_iter()
            .map(|(value, count)| FieldCount { value, count })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        counts.truncate(top);
        let histogram = hist
            .into_iter()
            .map(|(k, count)| HistogramBucket {
                start: jiff::Timestamp::from_microsecond(k)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                count,
            })
            .collect();
        Ok(StatsResponse {
            total,
            by: by_name.map(str::to_string),
            counts,
            histogram,
        })
    }
}
