//! Prometheus metrics, kept in atomics and rendered by hand in the text
//! exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A latency histogram with fixed buckets (seconds).
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i].fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                self.counts[i].load(Relaxed)
            );
        }
        let n = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {n}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {n}");
    }
}

/// Every metric of the sink.
#[derive(Default)]
pub struct Metrics {
    /// Events received in request bodies (valid or not).
    pub events_received: AtomicU64,
    /// Valid events made durable.
    pub events_accepted: AtomicU64,
    /// Events indexed for the first time.
    pub events_indexed: AtomicU64,
    /// Events dropped as duplicates of stored ones.
    pub events_duplicate: AtomicU64,
    /// Events older than the retention window, not indexed.
    pub events_expired: AtomicU64,
    /// Rejected events and bodies by reason.
    pub rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Requests answered 429/503 because the indexer is behind.
    pub overloaded: AtomicU64,
    /// Bytes appended to the write-ahead log.
    pub wal_bytes: AtomicU64,
    /// fsync latency of the write-ahead log.
    pub wal_fsync: Histogram,
    /// Events acknowledged and waiting for the index writer.
    pub pending_events: AtomicU64,
    /// Time from the 200 to searchable, of the last commit (microseconds).
    pub index_lag_micros: AtomicU64,
    /// Fleet mode: how far this replica's index is behind the stream
    /// (microseconds; `u64::MAX` while catching up before the first commit).
    pub log_lag_micros: AtomicU64,
    /// Fleet mode: messages of the stream not yet delivered to this replica.
    pub log_pending: AtomicU64,
    /// Fleet mode: the indexer thread has stopped (panicked); this replica
    /// no longer indexes anything until it is restarted.
    pub indexer_stopped: AtomicBool,
    /// Index commit latency.
    pub commit: Histogram,
    /// Search latency.
    pub search: Histogram,
}

impl Metrics {
    /// Counts a rejection.
    pub fn reject(&self, reason: &'static str, n: u64) {
        *self
            .rejected
            .lock()
            .expect("metrics lock")
            .entry(reason)
            .or_default() += n;
    }

    /// Renders the text exposition format.
    pub fn render(&self, indexed_docs: u64) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: f64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        counter(
            &mut out,
            "audit_sink_events_received_total",
            "Events received in request bodies.",
            self.events_received.load(Relaxed),
        );
        counter(
            &mut out,
            "audit_sink_events_accepted_total",
            "Valid events made durable (acknowledged).",
            self.events_accepted.load(Relaxed),
        );
        counter(
            &mut out,
            "audit_sink_events_indexed_total",
            "Events added to the index.",
            self.events_indexed.load(Relaxed),
        );
        counter(
            &mut out,
            "audit_sink_events_duplicate_total",
            "Events already stored (same auditID, stage, stageTimestamp).",
            self.events_duplicate.load(Relaxed),
        );
        counter(
            &mut out,
            "audit_sink_events_expired_total",
            "Events older than the retention window.",
            self.events_expired.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP audit_sink_events_rejected_total Invalid events and bodies, kept in the dead-letter log.\n# TYPE audit_sink_events_rejected_total counter"
        );
        for (reason, n) in self.rejected.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "audit_sink_events_rejected_total{{reason=\"{reason}\"}} {n}"
            );
        }
        counter(
            &mut out,
            "audit_sink_overloaded_total",
            "Requests refused with 429/503 because the indexer is behind.",
            self.overloaded.load(Relaxed),
        );
        counter(
            &mut out,
            "audit_sink_wal_bytes_total",
            "Bytes appended to the write-ahead log.",
            self.wal_bytes.load(Relaxed),
        );
        self.wal_fsync.render(
            "audit_sink_wal_fsync_seconds",
            "fsync latency of the write-ahead log.",
            &mut out,
        );
        gauge(
            &mut out,
            "audit_sink_pending_events",
            "Events acknowledged and waiting for the index writer (ingest waits for room beyond --max-pending-events).",
            self.pending_events.load(Relaxed) as f64,
        );
        gauge(
            &mut out,
            "audit_sink_index_lag_seconds",
            "Time from acknowledgement to searchable at the last commit.",
            self.index_lag_micros.load(Relaxed) as f64 / 1e6,
        );
        let lag = self.log_lag_micros.load(Relaxed);
        gauge(
            &mut out,
            "audit_sink_log_lag_seconds",
            "Fleet mode: how far this replica's index is behind the JetStream stream (+Inf while it catches up).",
            if lag == u64::MAX {
                f64::INFINITY
            } else {
                lag as f64 / 1e6
            },
        );
        gauge(
            &mut out,
            "audit_sink_log_pending_messages",
            "Fleet mode: stream messages not yet delivered to this replica.",
            self.log_pending.load(Relaxed) as f64,
        );
        gauge(
            &mut out,
            "audit_sink_indexer_stopped",
            "Fleet mode: 1 when the indexer thread has stopped and this replica indexes nothing until restarted.",
            if self.indexer_stopped.load(Relaxed) {
                1.0
            } else {
                0.0
            },
        );
        gauge(
            &mut out,
            "audit_sink_indexed_documents",
            "Documents in the index.",
            indexed_docs as f64,
        );
        self.commit.render(
            "audit_sink_index_commit_seconds",
            "Index commit latency.",
            &mut out,
        );
        self.search.render(
            "audit_sink_search_seconds",
            "Search and stats latency.",
            &mut out,
        );
        out
    }
}
