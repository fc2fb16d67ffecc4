//! Ingest into the stream: every event published with its key as
//! `Nats-Msg-Id`, the batch answered only when every publish is acknowledged.

use std::path::Path;
use std::sync::Mutex;

use async_nats::jetstream::{self, message::PublishMessage, object_store::ObjectStore};
use audit_api::fields::{DEFAULT_CLUSTER, Field};
use bytes::Bytes;
use tantivy::schema::Value as _;

use super::{OBJECT_HEADER, subject_for};
use crate::deadletter::{DeadLetter, DeadLetterLog};
use crate::index::IndexFields;
use crate::pipeline::{Accepted, ExternalLog, IngestError, LogFuture};

/// Room left in a message for its headers.
const HEADER_ROOM: usize = 1024;

/// Publishes batches to the stream.
pub struct Publisher {
    js: jetstream::Context,
    objects: ObjectStore,
    max_payload: usize,
    fields: IndexFields,
    dead: Mutex<DeadLetterLog>,
}

impl Publisher {
    /// A publisher; invalid events go to the dead-letter log in `data_dir`.
    pub fn new(
        js: jetstream::Context,
        objects: ObjectStore,
        max_payload: usize,
        data_dir: &Path,
    ) -> std::io::Result<Publisher> {
        Ok(Publisher {
            js,
            objects,
            max_payload,
            fields: IndexFields::new(),
            dead: Mutex::new(DeadLetterLog::open(data_dir)?),
        })
    }

    fn cluster_of<'a>(&self, a: &'a Accepted) -> &'a str {
        self.fields
            .keyword(Field::Cluster)
            .and_then(|f| a.prepared.doc.get_first(f))
            .and_then(|v| v.as_str())
            .unwrap_or(DEFAULT_CLUSTER)
    }

    async fn publish(&self, events: Vec<Accepted>) -> Result<(), IngestError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| IngestError::Log(format!("{what}: {e}"));
        let mut acks = Vec::with_capacity(events.len());
        for a in &events {
            let cluster = self.cluster_of(a);
            // The event key: a resend within the stream's duplicate window
            // is dropped by the stream, later ones by the index.
            let id = format!("{cluster}:{:016x}", a.prepared.key);
            let bytes = a.raw.get().as_bytes();
            let message = if bytes.len() + HEADER_ROOM > self.max_payload {
                let mut reader = bytes;
                self.objects
                    .put(id.as_str(), &mut reader)
                    .await
                    .map_err(|e| fail("storing a large event in the object store", &e))?;
                PublishMessage::build()
                    .payload(Bytes::new())
                    .header(OBJECT_HEADER, id.as_str())
            } else {
                PublishMessage::build().payload(Bytes::copy_from_slice(bytes))
            };
            let ack = self
                .js
                .send_publish(subject_for(cluster), message.message_id(&id))
                .await
                .map_err(|e| fail("publishing", &e))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|e| fail("waiting for the acknowledgement", &e))?;
        }
        Ok(())
    }
}

impl ExternalLog for Publisher {
    fn append(&self, events: Vec<Accepted>, dead: Vec<DeadLetter>) -> LogFuture<'_> {
        Box::pin(async move {
            if !dead.is_empty() {
                let mut log = self.dead.lock().unwrap_or_else(|e| e.into_inner());
                for d in &dead {
                    log.append(d).map_err(|e| IngestError::Wal(e.to_string()))?;
                }
                log.sync().map_err(|e| IngestError::Wal(e.to_string()))?;
            }
            self.publish(events).await
        })
    }
}
