//! The positions behind `metadata.resourceVersion`: every event that becomes
//! searchable gets the next number of this process, and the latest
//! [`CAPACITY`] of them are kept so a watch can start from the position of
//! the list before it (`kubectl get -w` lists, then watches from the list's
//! `resourceVersion`) without missing what was stored in between (fewer
//! when they are large: at most [`CAPACITY_BYTES`]).
//!
//! A resource version reads `EPOCH-SEQ`: the sink's start time (so a version
//! from an earlier run is recognised) and the position. A watch from a
//! position no longer kept, or from another run, is answered `410 Expired`
//! like the apiserver answers a too old resource version: list again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::pipeline::{FollowItem, Shared};

/// Events kept for watches that start from a list's position, at most.
pub(crate) const CAPACITY: usize = 16_384;
/// Bytes of kept events (their JSON), at most.
pub(crate) const CAPACITY_BYTES: usize = 64 << 20;

/// An event with its position.
pub(crate) type Positioned = (u64, Arc<FollowItem>);

struct Inner {
    /// The kept events, oldest first, positions consecutive.
    kept: VecDeque<Positioned>,
    /// Position of the newest event (0: none yet).
    last: u64,
    /// JSON bytes of `kept`.
    bytes: usize,
}

/// Recent events by position, and the live stream of them.
pub(crate) struct History {
    epoch: String,
    inner: Mutex<Inner>,
    live: broadcast::Sender<Positioned>,
}

/// Why a watch cannot start at a resource version.
#[derive(Debug, PartialEq)]
pub(crate) enum Unusable {
    /// Not a resource version this API hands out.
    Malformed,
    /// From an earlier run of the sink, or older than what is kept.
    Expired,
}

/// What a watch starts with.
pub(crate) struct Start {
    /// Kept events after the asked position, oldest first.
    pub replay: Vec<Positioned>,
    /// Everything after them.
    pub live: broadcast::Receiver<Positioned>,
}

impl History {
    /// Records every event `shared` makes searchable from now on (the
    /// subscription is taken before this returns).
    pub(crate) fn start(shared: &Shared) -> Arc<History> {
        let epoch = format!("{:x}", jiff::Timestamp::now().as_microsecond());
        let (live, _) = broadcast::channel(4096);
        let h = Arc::new(History {
            epoch,
            inner: Mutex::new(Inner {
                kept: VecDeque::with_capacity(CAPACITY),
                last: 0,
                bytes: 0,
            }),
            live,
        });
        let mut rx = shared.follow.subscribe();
        let weak = Arc::downgrade(&h);
        tokio::spawn(async move {
            loop {
                let r = rx.recv().await;
                let Some(h) = weak.upgrade() else { return };
                match r {
                    Ok(item) => h.push(item),
                    Err(broadcast::error::RecvError::Lagged(n)) => h.skip(n),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        h
    }

    fn push(&self, item: Arc<FollowItem>) {
        let mut g = self.inner.lock().expect("history lock");
        g.last += 1;
        let p = (g.last, item);
        g.bytes += p.1.raw.get().len();
        g.kept.push_back(p.clone());
        while g.kept.len() > CAPACITY || (g.bytes > CAPACITY_BYTES && g.kept.len() > 1) {
            if let Some((_, old)) = g.kept.pop_front() {
                g.bytes -= old.raw.get().len();
            }
        }
        // Sent under the lock: a watch starting sees each event either in
        // its replay or live, never both, never neither.
        let _ = self.live.send(p);
    }

    /// `n` events were missed: positions before them can no longer be honoured.
    fn skip(&self, n: u64) {
        let mut g = self.inner.lock().expect("history lock");
        tracing::warn!(
            skipped = n,
            "aggregated API fell behind the indexed events; watches from earlier resource versions will be told to list again"
        );
        g.last += n;
        g.kept.clear();
        g.bytes = 0;
    }

    /// The current position.
    pub(crate) fn last(&self) -> u64 {
        self.inner.lock().expect("history lock").last
    }

    /// Resource version of the current position.
    pub(crate) fn current(&self) -> String {
        self.version(self.last())
    }

    /// Resource version of position `pos`.
    pub(crate) fn version(&self, pos: u64) -> String {
        format!("{}-{pos}", self.epoch)
    }

    /// Starts a watch after resource version `rv` (`None`: from now).
    pub(crate) fn watch_from(&self, rv: Option<&str>) -> Result<Start, Unusable> {
        let g = self.inner.lock().expect("history lock");
        let live = self.live.subscribe();
        let Some(rv) = rv else {
            return Ok(Start {
                replay: Vec::new(),
                live,
            });
        };
        let (epoch, pos) = rv.split_once('-').ok_or(Unusable::Malformed)?;
        let pos: u64 = pos.parse().map_err(|_| Unusable::Malformed)?;
        if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Unusable::Malformed);
        }
        if epoch != self.epoch || pos > g.last {
            return Err(Unusable::Expired);
        }
        // Kept: positions first..=last; everything after `pos` must be.
        let first = g.last + 1 - g.kept.len() as u64;
        if pos + 1 < first {
            return Err(Unusable::Expired);
        }
        let skip = (pos + 1 - first) as usize;
        Ok(Start {
            replay: g.kept.iter().skip(skip).cloned().collect(),
            live,
        })
    }

    /// The message of a 410 for `rv`, as the apiserver words it.
    pub(crate) fn too_old(&self, rv: &str) -> String {
        format!("too old resource version: {rv} ({})", self.current())
    }
}
