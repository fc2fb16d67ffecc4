//! `?watch=true`: a stream of `{"type": ..., "object": ...}` lines. Without a
//! resourceVersion (or with "0") it starts with an ADDED event per existing
//! object; from a resourceVersion it replays the changes made after it (410
//! Expired when that is older than the history kept); `sendInitialEvents=true`
//! ends the initial events with a BOOKMARK, as watch-list clients expect.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderValue, Response, header};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::state::Shared;
use crate::status::ApiError;
use crate::store::{ResourceType, StoreEvent};
use crate::table;
use crate::wire::{ObjectSelector, query_param};

/// A response body fed from a channel, one chunk per event.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

struct Filter {
    rt: ResourceType,
    namespace: String,
    name: String,
    selector: ObjectSelector,
    as_table: bool,
    include_object: String,
}

impl Filter {
    fn matches(&self, event: &StoreEvent) -> bool {
        let obj = &event.object;
        event.group == self.rt.group
            && event.plural == self.rt.plural
            && (self.namespace.is_empty() || event.namespace == self.namespace)
            && (self.name.is_empty()
                || obj["metadata"]["name"].as_str() == Some(self.name.as_str()))
            && self.selector.matches(obj)
    }

    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        let object = if self.as_table {
            let rv = obj["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string);
            table::table(
                &self.rt,
                std::slice::from_ref(obj),
                rv,
                &self.include_object,
            )
        } else {
            let mut o = obj.clone();
            o["apiVersion"] = json!(self.rt.api_version());
            o["kind"] = json!(self.rt.kind);
            o
        };
        let mut bytes =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }

    fn bookmark(&self, resource_version: u64) -> Bytes {
        let object = json!({
            "kind": self.rt.kind,
            "apiVersion": self.rt.api_version(),
            "metadata": {
                "resourceVersion": resource_version.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"},
            },
        });
        let mut bytes =
            serde_json::to_vec(&json!({"type": "BOOKMARK", "object": object})).unwrap_or_default();
        bytes.push(b'\n');
        Bytes::from(bytes)
    }
}

fn error_line(err: &ApiError) -> Bytes {
    let mut bytes = b"{\"type\":\"ERROR\",\"object\":".to_vec();
    bytes.extend_from_slice(&err.body);
    bytes.extend_from_slice(b"}\n");
    Bytes::from(bytes)
}

pub(crate) fn watch(
    shared: &Shared,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    query: &str,
    as_table: bool,
    include_object: &str,
) -> Result<Response<Body>, ApiError> {
    let selector = ObjectSelector::from_query(rt, query)?;
    let since = match query_param(query, "resourceVersion").as_deref() {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?,
        ),
    };
    let send_initial = query_param(query, "sendInitialEvents").as_deref() == Some("true");
    let timeout = query_param(query, "timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let filter = Filter {
        rt: rt.clone(),
        namespace: namespace.to_string(),
        name: name.to_string(),
        selector,
        as_table,
        include_object: include_object.to_string(),
    };

    let mut initial: Vec<Bytes> = Vec::new();
    let mut receiver = {
        let inner = shared.lock();
        let current = inner.store.current_resource_version();
        match since {
            None => {
                let (receiver, _) = inner.store.subscribe(current);
                let ns = (!namespace.is_empty()).then_some(namespace);
                for obj in inner.store.list(&rt.group, &rt.plural, ns) {
                    let event = StoreEvent {
                        kind: "ADDED",
                        group: rt.group.clone(),
                        plural: rt.plural.clone(),
                        namespace: obj["metadata"]["namespace"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        resource_version: current,
                        object: obj,
                    };
                    if filter.matches(&event) {
                        initial.push(filter.line("ADDED", &event.object));
                    }
                }
                if send_initial {
                    initial.push(filter.bookmark(current));
                }
                Some(receiver)
            }
            Some(rv) => match inner.store.subscribe(rv) {
                (receiver, Some(past)) => {
                    for event in past.iter().filter(|e| filter.matches(e)) {
                        initial.push(filter.line(event.kind, &event.object));
                    }
                    Some(receiver)
                }
                (_, None) => {
                    initial.push(error_line(&ApiError::expired(format!(
                        "too old resource version: {rv} ({current})"
                    ))));
                    None
                }
            },
        }
    };

    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        for line in initial {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let Some(receiver) = receiver.as_mut() else {
            return;
        };
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                event = receiver.recv() => match event {
                    Ok(event) => {
                        if filter.matches(&event) && tx.send(filter.line(event.kind, &event.object)).await.is_err() {
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx.send(error_line(&ApiError::expired("the watch fell behind; start again".into()))).await;
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });

    let mut resp = Response::new(Body::new(ChannelBody(rx)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
