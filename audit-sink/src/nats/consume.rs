//! This replica's durable consumer feeding its own index: messages are
//! acknowledged only after the index commit that holds them, so whatever
//! a crash loses is delivered again (and deduplicated).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::message::Acker;
use async_nats::jetstream::object_store::ObjectStore;
use async_nats::jetstream::stream::Stream;
use audit_api::Event;
use audit_api::fields::EventFields;
use futures_util::StreamExt as _;
use serde_json::value::RawValue;
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc;

use super::error::ObjectError;
use super::{NatsOptions, OBJECT_HEADER, SUBJECT_PREFIX, SetupError, SubjectsError};
use crate::index::{DAY_MICROS, Writers, prepare_json};
use crate::pipeline::{FollowItem, Shared, Sink, SinkOptions};

/// How long the server waits for an acknowledgement before delivering a
/// message again: longer than any commit interval plus a slow commit.
const ACK_WAIT: Duration = Duration::from_secs(60);
/// Messages delivered and not yet acknowledged (uncommitted) at most.
const MAX_ACK_PENDING: i64 = 200_000;

/// A consumer name from a host name: dots and other characters NATS does
/// not allow in a durable name become `_`.
pub fn durable_name(replica: &str) -> String {
    replica
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Checks `--index-subjects`: `kubext.audit.` and one token, a cluster
/// name or a NATS wildcard (`*`, `>`), as the subjects the sink publishes.
pub fn check_subjects(subjects: &[String]) -> Result<(), SubjectsError> {
    for s in subjects {
        let Some(rest) = s
            .strip_prefix(&format!("{SUBJECT_PREFIX}."))
            .filter(|r| !r.is_empty())
        else {
            return Err(SubjectsError::Prefix { subject: s.clone() });
        };
        if rest.contains('.') {
            return Err(SubjectsError::Dotted { subject: s.clone() });
        }
        let token = rest == "*"
            || rest == ">"
            || rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !token {
            return Err(SubjectsError::Token { subject: s.clone() });
        }
    }
    Ok(())
}

/// This replica's durable consumer, created when missing; its subjects
/// follow `--index-subjects`.
pub async fn durable(stream: &Stream, opts: &NatsOptions) -> Result<PullConsumer, SetupError> {
    check_subjects(&opts.index_subjects)?;
    let name = durable_name(&opts.replica_name);
    let config = pull::Config {
        durable_name: Some(name.clone()),
        description: Some(format!("audit-sink replica {}", opts.replica_name)),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ack_wait: ACK_WAIT,
        max_ack_pending: MAX_ACK_PENDING,
        filter_subjects: opts.index_subjects.clone(),
        ..Default::default()
    };
    match stream.get_consumer::<pull::Config>(&name).await {
        Ok(mut existing) => {
            let info = existing
                .info()
                .await
                .map_err(|source| SetupError::ConsumerInfo {
                    name: name.clone(),
                    source,
                })?;
            if info.config.filter_subjects != config.filter_subjects {
                tracing::info!(consumer = %name, subjects = ?config.filter_subjects, "changing the subjects this replica indexes");
                return stream
                    .update_consumer(config)
                    .await
                    .map_err(|source| SetupError::UpdateConsumer { name, source });
            }
            Ok(existing)
        }
        Err(_) => stream
            .create_consumer(config)
            .await
            .map_err(|source| SetupError::CreateConsumer { name, source }),
    }
}

/// One message handed to the indexer.
struct Delivered {
    payload: bytes::Bytes,
    acker: Acker,
    /// When the stream stored it, microseconds since the epoch.
    published: i64,
    /// Messages after it not yet delivered to this consumer.
    pending: u64,
}

/// Starts the consumer task and the indexer thread of `sink`.
pub fn start(
    sink: &Sink,
    opts: SinkOptions,
    consumer: PullConsumer,
    objects: ObjectStore,
) -> std::io::Result<()> {
    let shared = sink.shared.clone();
    let (tx, rx) = mpsc::channel::<Delivered>(8192);
    let handle = tokio::runtime::Handle::current();
    let catching_up = consumer.cached_info().num_pending > 0;
    if catching_up {
        shared.metrics.log_lag_micros.store(u64::MAX, Relaxed);
    }
    tokio::spawn(consume(consumer, objects, tx, shared.clone()));
    let thread = std::thread::Builder::new()
        .name("audit-indexer".into())
        .spawn(move || {
            let mut watch = IndexerWatch {
                metrics: shared.metrics.clone(),
                finished: false,
            };
            index_loop(rx, shared, opts, handle);
            watch.finished = true;
        })?;
    sink.add_thread(thread);
    Ok(())
}

/// Marks the indexer stopped when its thread ends other than by returning
/// at shutdown (a panic): `/readyz` then answers 503 with the reason and
/// `audit_sink_indexer_stopped` is 1, instead of a replica that looks
/// healthy while its index no longer moves.
struct IndexerWatch {
    metrics: Arc<crate::metrics::Metrics>,
    finished: bool,
}

impl Drop for IndexerWatch {
    fn drop(&mut self) {
        if !self.finished {
            self.metrics.indexer_stopped.store(true, Relaxed);
            tracing::error!(
                "the indexer thread stopped; this replica indexes nothing more until it is restarted"
            );
        }
    }
}

async fn consume(
    consumer: PullConsumer,
    objects: ObjectStore,
    tx: mpsc::Sender<Delivered>,
    shared: Arc<Shared>,
) {
    let mut warned: Option<Instant> = None;
    let mut warn = |what: &str, e: &dyn std::fmt::Display| {
        if warned.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
            warned = Some(Instant::now());
            tracing::warn!(error = %e, "{what}");
        }
    };
    while !shared.closing() {
        let mut messages = match consumer
            .stream()
            .max_messages_per_batch(2_000)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await
        {
            Ok(m) => m,
            Err(e) => {
                warn("cannot read the stream yet; retrying", &e);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        while let Some(m) = messages.next().await {
            let msg = match m {
                Ok(msg) => msg,
                Err(e) => {
                    warn("reading the stream", &e);
                    continue;
                }
            };
            let (published, pending) = match msg.info() {
                Ok(i) => (
                    (i.published.unix_timestamp_nanos() / 1000) as i64,
                    i.pending,
                ),
                Err(_) => (jiff::Timestamp::now().as_microsecond(), 0),
            };
            let object = msg
                .headers
                .as_ref()
                .and_then(|h| h.get(OBJECT_HEADER))
                .map(|v| v.as_str().to_string());
            let payload = match object {
                None => msg.payload.clone(),
                Some(name) => loop {
                    match read_object(&objects, &name).await {
                        Ok(b) => break b,
                        Err(e) => {
                            warn("reading a large event from the object store; retrying", &e);
                            if shared.closing() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                },
            };
            let (_, acker) = msg.split();
            let d = Delivered {
                payload,
                acker,
                published,
                pending,
            };
            if tx.send(d).await.is_err() {
                return;
            }
        }
    }
}

async fn read_object(objects: &ObjectStore, name: &str) -> Result<bytes::Bytes, ObjectError> {
    let mut object = objects.get(name).await?;
    let mut out = Vec::new();
    object.read_to_end(&mut out).await?;
    Ok(out.into())
}

fn index_loop(
    mut rx: mpsc::Receiver<Delivered>,
    shared: Arc<Shared>,
    opts: SinkOptions,
    handle: tokio::runtime::Handle,
) {
    // The commit-interval timeout below is a tokio timer: it needs the runtime.
    let _runtime = handle.enter();
    let new_writers = || {
        Writers::new(
            shared.parts.clone(),
            opts.writer_memory,
            opts.writer_threads,
            2,
        )
    };
    let mut writers = new_writers();
    let mut last_commit = Instant::now();
    // Delivered and in the writer, acknowledged after the next commit.
    let mut uncommitted: Vec<Acker> = Vec::new();
    let mut newest: Option<(i64, u64)> = None;
    let mut follow_buf: Vec<Arc<FollowItem>> = Vec::new();
    let mut last_retention = Instant::now() - Duration::from_secs(3600);
    let mut cutoff_day = i64::MIN;
    loop {
        if let Some(ret) = opts.retention
            && last_retention.elapsed() >= Duration::from_secs(60)
        {
            last_retention = Instant::now();
            let now = jiff::Timestamp::now().as_microsecond();
            cutoff_day = (now - ret.as_micros() as i64).div_euclid(DAY_MICROS);
            if let Err(e) = writers.drop_before(cutoff_day) {
                tracing::error!(error = %e, "retention failed");
            }
        }
        let closing = shared.closing();
        let wait = opts
            .commit_interval
            .saturating_sub(last_commit.elapsed())
            .max(Duration::from_millis(1));
        let mut batch = Vec::new();
        if !closing && let Ok(Some(d)) = handle.block_on(tokio::time::timeout(wait, rx.recv())) {
            batch.push(d);
        }
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let want_follow = shared.follow.receiver_count() > 0;
        for d in batch {
            newest = Some((d.published, d.pending));
            let prepared = std::str::from_utf8(&d.payload)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    prepare_json(text.as_bytes(), &shared.parts.fields)
                        .map(|p| (p, text))
                        .map_err(|e| e.to_string())
                });
            match prepared {
                Ok((p, text)) => {
                    if p.day < cutoff_day {
                        shared.metrics.events_expired.inc();
                    } else {
                        match writers.add(p) {
                            Ok(true) => {
                                shared.metrics.events_indexed.inc();
                                if want_follow
                                    && let Ok(event) = Event::from_json(text)
                                    && let Ok(raw) = RawValue::from_string(text.to_string())
                                {
                                    follow_buf.push(Arc::new(FollowItem {
                                        fields: EventFields::from_event(&event),
                                        raw,
                                    }));
                                }
                            }
                            Ok(false) => {
                                shared.metrics.events_duplicate.inc();
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "index write failed; the stream delivers the uncommitted events again");
                                shared.set_index_failing(true);
                                writers = new_writers();
                                uncommitted.clear();
                                continue;
                            }
                        }
                    }
                }
                // Only a foreign publisher puts invalid events on our subjects.
                Err(e) => {
                    shared.metrics.reject("invalid_in_log", 1);
                    tracing::warn!(error = %e, "skipping an invalid event in the stream");
                }
            }
            uncommitted.push(d.acker);
        }
        if last_commit.elapsed() >= opts.commit_interval || closing {
            if !uncommitted.is_empty() || writers.dirty() {
                let started = Instant::now();
                match writers.commit() {
                    Ok(()) => {
                        shared.metrics.commit.observe(started.elapsed());
                        shared.set_index_failing(false);
                        let ackers = std::mem::take(&mut uncommitted);
                        let acks = async move {
                            for a in ackers {
                                if let Err(e) = a.ack().await {
                                    tracing::debug!(error = %e, "acknowledging; the message comes again and is deduplicated");
                                }
                            }
                        };
                        if closing {
                            handle.block_on(acks);
                        } else {
                            handle.spawn(acks);
                        }
                        for item in follow_buf.drain(..) {
                            let _ = shared.follow.send(item);
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "index commit failed; the stream delivers the uncommitted events again");
                        shared.set_index_failing(true);
                        writers = new_writers();
                        uncommitted.clear();
                        follow_buf.clear();
                    }
                }
            }
            // How far this replica's index is behind the stream.
            let lag = match newest {
                Some((_, 0)) if uncommitted.is_empty() => 0,
                Some((published, _)) => {
                    (jiff::Timestamp::now().as_microsecond() - published).max(0) as u64
                }
                None => shared.metrics.log_lag_micros.load(Relaxed),
            };
            shared.metrics.log_lag_micros.store(lag, Relaxed);
            if let Some((_, pending)) = newest {
                shared.metrics.log_pending.store(pending, Relaxed);
            }
            last_commit = Instant::now();
        }
        if closing {
            if let Err(e) = writers.close() {
                tracing::error!(error = %e, "closing the index");
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_indexer_is_marked_stopped_and_a_finished_one_is_not() {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let m = metrics.clone();
        let r = std::thread::spawn(move || {
            let _watch = IndexerWatch {
                metrics: m,
                finished: false,
            };
            panic!("an indexer bug");
        })
        .join();
        assert!(r.is_err());
        assert!(metrics.indexer_stopped.load(Relaxed));

        let metrics = Arc::new(crate::metrics::Metrics::default());
        let mut watch = IndexerWatch {
            metrics: metrics.clone(),
            finished: false,
        };
        watch.finished = true;
        drop(watch);
        assert!(!metrics.indexer_stopped.load(Relaxed));
        assert!(metrics.encode(0).contains("audit_sink_indexer_stopped 0"));
    }

    #[test]
    fn index_subjects_name_a_cluster_or_a_whole_token_wildcard() {
        for ok in [
            "kubext.audit.prod-eu",
            "kubext.audit.*",
            "kubext.audit.>",
            "kubext.audit.a_1",
        ] {
            check_subjects(&[ok.to_string()]).unwrap();
        }
        for bad in [
            "kubext.audit.",
            "kubext.audit.prod-*",
            "kubext.audit.a.b",
            "other.>",
            "kubext.audit.a b",
        ] {
            let e = check_subjects(&[bad.to_string()]).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
