//! The stream (and the object store for large events): created when
//! missing, checked when present.

use std::time::Duration;

use async_nats::jetstream::{self, object_store, stream};

use super::{NatsOptions, SUBJECT_PREFIX, SetupError};

/// What the sink needs of the stream.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Stream name.
    pub name: String,
    /// Replicas when created.
    pub replicas: usize,
    /// Age limit when created.
    pub max_age: Option<Duration>,
    /// Size limit when created.
    pub max_bytes: Option<i64>,
}

impl StreamSettings {
    /// From the `--nats*` flags.
    pub fn from_options(o: &NatsOptions) -> StreamSettings {
        StreamSettings {
            name: o.stream.clone(),
            replicas: o.replicas,
            max_age: o.max_age,
            max_bytes: o.max_bytes,
        }
    }

    fn wildcard() -> String {
        format!("{SUBJECT_PREFIX}.>")
    }

    fn objects_bucket(&self) -> String {
        format!("{}_LARGE", self.name)
    }
}

/// The subject of a cluster's events.
pub fn subject_for(cluster: &str) -> String {
    format!("{SUBJECT_PREFIX}.{cluster}")
}

/// An existing stream the sink cannot work with: asking again will not help.
#[derive(Debug, thiserror::Error)]
#[error(
    "the existing JetStream stream {name} cannot be the audit log: {problems}; fix it with the nats CLI (nats stream edit {name}) or give another --nats-stream"
)]
pub struct Unusable {
    /// The stream.
    pub name: String,
    /// What is wrong with it, `; `-separated.
    pub problems: String,
}

/// Why an existing stream cannot be the log of record; empty when it can.
pub fn problems(config: &stream::Config) -> Vec<String> {
    let mut out = Vec::new();
    let wildcard = StreamSettings::wildcard();
    if !config.subjects.iter().any(|s| *s == wildcard || s == ">") {
        out.push(format!(
            "its subjects {:?} do not include {wildcard}",
            config.subjects
        ));
    }
    if config.retention == stream::RetentionPolicy::WorkQueue {
        out.push(
            "it is a work queue: every sink replica must read every event, so use limits retention"
                .into(),
        );
    }
    if config.storage != stream::StorageType::File {
        out.push("it keeps messages in memory: the log of record needs file storage".into());
    }
    if config.no_ack {
        out.push("it does not acknowledge publishes (no_ack): the sink answers 200 only on an acknowledgement".into());
    }
    if config.duplicate_window.is_zero() {
        out.push("its duplicate window is 0: resent batches would be stored twice".into());
    }
    out
}

/// Creates the stream when missing; refuses one the sink cannot work with.
pub async fn ensure(
    js: &jetstream::Context,
    s: &StreamSettings,
) -> Result<stream::Stream, SetupError> {
    match js.get_stream(&s.name).await {
        Ok(mut existing) => {
            let info = existing
                .info()
                .await
                .map_err(|source| SetupError::StreamInfo {
                    name: s.name.clone(),
                    source,
                })?;
            let bad = problems(&info.config);
            if !bad.is_empty() {
                return Err(Unusable {
                    name: s.name.clone(),
                    problems: bad.join("; "),
                }
                .into());
            }
            if info.config.num_replicas != s.replicas {
                tracing::warn!(
                    stream = %s.name,
                    replicas = info.config.num_replicas,
                    wanted = s.replicas,
                    "the existing stream has another replica count than --nats-replicas; keeping it"
                );
            }
            Ok(existing)
        }
        Err(e)
            if matches!(
                e.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(ref j)
                    if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            let config = stream::Config {
                name: s.name.clone(),
                subjects: vec![StreamSettings::wildcard()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::Limits,
                num_replicas: s.replicas,
                max_age: s.max_age.unwrap_or_default(),
                max_bytes: s.max_bytes.unwrap_or(-1),
                duplicate_window: Duration::from_secs(120),
                description: Some("kubext audit events (audit-sink --nats)".into()),
                ..Default::default()
            };
            let created =
                js.create_stream(config)
                    .await
                    .map_err(|source| SetupError::CreateStream {
                        name: s.name.clone(),
                        replicas: s.replicas,
                        source,
                    })?;
            tracing::info!(stream = %s.name, replicas = s.replicas, "created the JetStream stream");
            Ok(created)
        }
        Err(source) => Err(SetupError::GetStream {
            name: s.name.clone(),
            source,
        }),
    }
}

/// The object store holding events larger than one message, created when missing.
pub async fn ensure_objects(
    js: &jetstream::Context,
    s: &StreamSettings,
) -> Result<object_store::ObjectStore, SetupError> {
    let bucket = s.objects_bucket();
    if let Ok(store) = js.get_object_store(&bucket).await {
        return Ok(store);
    }
    js.create_object_store(object_store::Config {
        bucket: bucket.clone(),
        description: Some("kubext audit events larger than the NATS max payload".into()),
        max_age: s.max_age.unwrap_or_default(),
        storage: stream::StorageType::File,
        num_replicas: s.replicas,
        ..Default::default()
    })
    .await
    .map_err(|source| SetupError::CreateObjects { bucket, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_the_sink_cannot_use_is_explained() {
        let good = stream::Config {
            name: "A".into(),
            subjects: vec!["kubext.audit.>".into()],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        assert!(problems(&good).is_empty(), "{:?}", problems(&good));
        let bad = stream::Config {
            subjects: vec!["other.>".into()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::Memory,
            ..good
        };
        let p = problems(&bad).join("; ");
        assert!(p.contains("do not include kubext.audit.>"), "{p}");
        assert!(p.contains("work queue"), "{p}");
        assert!(p.contains("file storage"), "{p}");
    }
}
