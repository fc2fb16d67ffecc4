//! A live stream of events (`tail`, `--follow`): the sink's server-sent
//! events, or a Kubernetes watch of `auditevents`.

use std::collections::VecDeque;

use serde_json::value::RawValue;

use super::api::WatchDecoder;
use super::error::SinkError;
use super::reply::ReplyBody;
use super::sse::SseDecoder;

/// A live stream of events from `/v1/follow`.
pub struct EventStream {
    body: ReplyBody,
    decoder: StreamDecoder,
    pending: VecDeque<String>,
    address: String,
}

/// How a live stream is framed: the sink's server-sent events, or a
/// Kubernetes watch.
enum StreamDecoder {
    Sse(SseDecoder),
    Watch(WatchDecoder),
}

impl StreamDecoder {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        match self {
            StreamDecoder::Sse(d) => d.push(bytes),
            StreamDecoder::Watch(d) => d.push(bytes),
        }
    }

    fn finish(&mut self) -> Option<String> {
        match self {
            StreamDecoder::Sse(d) => d.finish(),
            StreamDecoder::Watch(d) => d.finish(),
        }
    }

    /// The error the API server ended a watch with.
    fn failure(&mut self) -> Option<String> {
        match self {
            StreamDecoder::Sse(_) => None,
            StreamDecoder::Watch(d) => d.failure.take(),
        }
    }
}

impl EventStream {
    /// The sink's own `/v1/follow`: server-sent events.
    pub(crate) fn sse(body: ReplyBody, address: String) -> EventStream {
        EventStream::new(body, StreamDecoder::Sse(SseDecoder::default()), address)
    }

    /// A watch of `auditevents` through the Kubernetes API.
    pub(crate) fn watch(body: ReplyBody, address: String) -> EventStream {
        EventStream::new(body, StreamDecoder::Watch(WatchDecoder::default()), address)
    }

    fn new(body: ReplyBody, decoder: StreamDecoder, address: String) -> EventStream {
        EventStream {
            body,
            decoder,
            pending: VecDeque::new(),
            address,
        }
    }

    /// The next event; `None` when the sink ends the stream.
    pub async fn next(&mut self) -> anyhow::Result<Option<Box<RawValue>>> {
        loop {
            if self.pending.is_empty()
                && let Some(message) = self.decoder.failure()
            {
                return Err(SinkError::Unreachable {
                    address: self.address.clone(),
                    message: format!("the API server ended the watch: {message}"),
                    hint: "run the command again to resume".into(),
                }
                .into());
            }
            if let Some(data) = self.pending.pop_front() {
                match RawValue::from_string(data) {
                    Ok(raw) => return Ok(Some(raw)),
                    Err(e) => {
                        tracing::warn!("skipping an unreadable event from the stream: {e}");
                        continue;
                    }
                }
            }
            match self.body.chunk().await {
                Ok(Some(bytes)) => self.pending.extend(self.decoder.push(&bytes)),
                Ok(None) => match self.decoder.finish() {
                    Some(last) => self.pending.push_back(last),
                    None => return Ok(None),
                },
                Err(message) => {
                    return Err(SinkError::Unreachable {
                        address: self.address.clone(),
                        message: format!("the live stream broke: {message}"),
                        hint: "run the command again to resume".into(),
                    }
                    .into());
                }
            }
        }
    }
}
