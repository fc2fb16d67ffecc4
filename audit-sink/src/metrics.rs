//! The sink's Prometheus metrics: `prometheus-client` counters, histograms
//! and a label family in one [`Registry`], plus the gauges read from state
//! the sink keeps anyway (queue depth, lag, indexer health), exposed in the
//! OpenMetrics text format on `GET /metrics`.
//!
//! Counters are registered without their `_total` suffix: the OpenMetrics
//! encoder adds it, so the samples keep the names dashboards and alerts use
//! (`audit_sink_events_received_total`). Help texts are given without their
//! final full stop, which the registry adds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency histograms' buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A latency histogram with the sink's buckets (seconds). A scrape reads its
/// buckets, sum and count together, under the histogram's lock.
#[derive(Debug, Clone)]
pub struct Histogram(histogram::Histogram);

impl Default for Histogram {
    fn default() -> Self {
        Histogram(histogram::Histogram::new(BUCKETS))
    }
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        self.0.observe(d.as_secs_f64());
    }
}

/// The label set of `audit_sink_events_rejected_total`: `reason`.
type Reason = [(&'static str, &'static str); 1];

/// Every metric of the sink.
#[derive(Debug)]
pub struct Metrics {
    /// Events received in request bodies (valid or not).
    pub events_received: Counter,
    /// Valid events made durable.
    pub events_accepted: Counter,
    /// Events indexed for the first time.
    pub events_indexed: Counter,
    /// Events dropped as duplicates of stored ones.
    pub events_duplicate: Counter,
    /// Events older than the retention window, not indexed.
    pub events_expired: Counter,
    /// Rejected events and bodies by reason ([`Metrics::reject`]).
    rejected: Family<Reason, Counter>,
    /// Requests answered 429/503 because the indexer is behind.
    pub overloaded: Counter,
    /// Bytes appended to the write-ahead log.
    pub wal_bytes: Counter,
    /// fsync latency of the write-ahead log.
    pub wal_fsync: Histogram,
    /// Index commit latency.
    pub commit: Histogram,
    /// Search latency.
    pub search: Histogram,
    /// Events acknowledged and waiting for the index writer.
    pub pending_events: Arc<AtomicU64>,
    /// Time from the 200 to searchable, of the last commit (microseconds).
    pub index_lag_micros: Arc<AtomicU64>,
    /// Fleet mode: how far this replica's index is behind the stream
    /// (microseconds; `u64::MAX` while catching up before the first commit).
    pub log_lag_micros: Arc<AtomicU64>,
    /// Fleet mode: messages of the stream not yet delivered to this replica.
    pub log_pending: Arc<AtomicU64>,
    /// Fleet mode: the indexer thread has stopped (panicked); this replica
    /// no longer indexes anything until it is restarted.
    pub indexer_stopped: Arc<AtomicBool>,
    /// Documents in the index, set at each scrape ([`Metrics::encode`]).
    indexed_documents: Gauge,
    registry: Registry,
}

impl Default for Metrics {
    /// The sink's metrics, without the redaction's (tools and tests).
    fn default() -> Self {
        Metrics::new(|_| {})
    }
}

impl Metrics {
    /// The sink's metrics; `more` registers further ones (the redaction's)
    /// under the `audit_sink` prefix.
    pub fn new(more: impl FnOnce(&mut Registry)) -> Metrics {
        let m = Metrics {
            events_received: Counter::default(),
            events_accepted: Counter::default(),
            events_indexed: Counter::default(),
            events_duplicate: Counter::default(),
            events_expired: Counter::default(),
            rejected: Family::default(),
            overloaded: Counter::default(),
            wal_bytes: Counter::default(),
            wal_fsync: Histogram::default(),
            commit: Histogram::default(),
            search: Histogram::default(),
            pending_events: Arc::default(),
            index_lag_micros: Arc::default(),
            log_lag_micros: Arc::default(),
            log_pending: Arc::default(),
            indexer_stopped: Arc::default(),
            indexed_documents: Gauge::default(),
            registry: Registry::default(),
        };
        let mut r = Registry::with_prefix("audit_sink");
        let counters = [
            (
                "events_received",
                "Events received in request bodies",
                &m.events_received,
            ),
            (
                "events_accepted",
                "Valid events made durable (acknowledged)",
                &m.events_accepted,
            ),
            (
                "events_indexed",
                "Events added to the index",
                &m.events_indexed,
            ),
            (
                "events_duplicate",
                "Events already stored (same auditID, stage, stageTimestamp)",
                &m.events_duplicate,
            ),
            (
                "events_expired",
                "Events older than the retention window",
                &m.events_expired,
            ),
            (
                "overloaded",
                "Requests refused with 429/503 because the indexer is behind",
                &m.overloaded,
            ),
        ];
        for (name, help, c) in counters {
            r.register(name, help, c.clone());
        }
        r.register(
            "events_rejected",
            "Invalid events and bodies, kept in the dead-letter log",
            m.rejected.clone(),
        );
        r.register_with_unit(
            "wal",
            "Bytes appended to the write-ahead log",
            Unit::Bytes,
            m.wal_bytes.clone(),
        );
        let histograms = [
            (
                "wal_fsync",
                "fsync latency of the write-ahead log",
                &m.wal_fsync,
            ),
            ("index_commit", "Index commit latency", &m.commit),
            ("search", "Search and stats latency", &m.search),
        ];
        for (name, help, h) in histograms {
            r.register_with_unit(name, help, Unit::Seconds, h.0.clone());
        }
        r.register(
            "indexed_documents",
            "Documents in the index",
            m.indexed_documents.clone(),
        );
        r.register_collector(Box::new(StateGauges {
            pending_events: m.pending_events.clone(),
            index_lag_micros: m.index_lag_micros.clone(),
            log_lag_micros: m.log_lag_micros.clone(),
            log_pending: m.log_pending.clone(),
            indexer_stopped: m.indexer_stopped.clone(),
        }));
        more(&mut r);
        Metrics { registry: r, ..m }
    }

    /// Counts a rejection.
    pub fn reject(&self, reason: &'static str, n: u64) {
        self.rejected.get_or_create(&[("reason", reason)]).inc_by(n);
    }

    /// The OpenMetrics text exposition ([`CONTENT_TYPE`]), with
    /// `indexed_docs` documents in the index.
    pub fn encode(&self, indexed_docs: u64) -> String {
        self.indexed_documents
            .set(i64::try_from(indexed_docs).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing to a String cannot fail; the encoder's own errors are
        // formatting errors of the metric names, fixed above.
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("encoding metrics into a String");
        out
    }
}

/// The gauges kept as the sink's own state (the pipeline and `/readyz` read
/// them too), read at each scrape.
#[derive(Debug)]
struct StateGauges {
    pending_events: Arc<AtomicU64>,
    index_lag_micros: Arc<AtomicU64>,
    log_lag_micros: Arc<AtomicU64>,
    log_pending: Arc<AtomicU64>,
    indexer_stopped: Arc<AtomicBool>,
}

impl Collector for StateGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let seconds = |micros: u64| micros as f64 / 1e6;
        let lag = match self.log_lag_micros.load(Relaxed) {
            u64::MAX => f64::INFINITY,
            micros => seconds(micros),
        };
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let gauges: [(&str, &str, Option<&Unit>, Value); 5] = [
            (
                "pending_events",
                "Events acknowledged and waiting for the index writer (ingest waits for room beyond --max-pending-events).",
                None,
                Value::Int(int(self.pending_events.load(Relaxed))),
            ),
            (
                "index_lag",
                "Time from acknowledgement to searchable at the last commit.",
                Some(&Unit::Seconds),
                Value::Float(seconds(self.index_lag_micros.load(Relaxed))),
            ),
            (
                "log_lag",
                "Fleet mode: how far this replica's index is behind the JetStream stream (+Inf while it catches up).",
                Some(&Unit::Seconds),
                Value::Float(lag),
            ),
            (
                "log_pending_messages",
                "Fleet mode: stream messages not yet delivered to this replica.",
                None,
                Value::Int(int(self.log_pending.load(Relaxed))),
            ),
            (
                "indexer_stopped",
                "Fleet mode: 1 when the indexer thread has stopped and this replica indexes nothing until restarted.",
                None,
                Value::Int(i64::from(self.indexer_stopped.load(Relaxed))),
            ),
        ];
        for (name, help, unit, value) in gauges {
            let e = encoder.encode_descriptor(
                name,
                help,
                unit,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            match value {
                Value::Int(v) => ConstGauge::new(v).encode(e)?,
                Value::Float(v) => ConstGauge::new(v).encode(e)?,
            }
        }
        Ok(())
    }
}

/// A gauge's value: a count or a quantity (seconds).
enum Value {
    Int(i64),
    Float(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exposition Prometheus scrapes: every family once, the samples
    /// under the names dashboards and alerts use, and `# EOF` last.
    #[test]
    fn the_exposition_keeps_every_sample_name_and_ends_with_eof() {
        let m = Metrics::default();
        m.events_received.inc_by(3);
        m.reject("bad_body", 2);
        m.wal_fsync.observe(Duration::from_millis(3));
        m.log_lag_micros.store(u64::MAX, Relaxed);
        m.pending_events.store(7, Relaxed);
        let text = m.encode(42);
        for sample in [
            "audit_sink_events_received_total 3",
            "audit_sink_events_rejected_total{reason=\"bad_body\"} 2",
            "audit_sink_wal_fsync_seconds_bucket{le=\"0.005\"} 1",
            "audit_sink_wal_fsync_seconds_bucket{le=\"0.0025\"} 0",
            "audit_sink_wal_fsync_seconds_count 1",
            "audit_sink_pending_events 7",
            "audit_sink_indexed_documents 42",
            "audit_sink_indexer_stopped 0",
            "audit_sink_wal_bytes_total 0",
            "# HELP audit_sink_events_received Events received in request bodies.\n",
        ] {
            assert!(text.contains(sample), "{sample} missing in\n{text}");
        }
        let lag = text
            .lines()
            .find_map(|l| l.strip_prefix("audit_sink_log_lag_seconds "))
            .expect("log lag");
        assert_eq!(lag.parse::<f64>().unwrap(), f64::INFINITY, "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            !text.contains(".."),
            "a help text ends in two full stops:\n{text}"
        );
    }
}
