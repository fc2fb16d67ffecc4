//! The ingest pipeline: write-ahead log with group commit, then the indexer.
//!
//! ```text
//! handler ──WalRequest──▶ wal thread: append all queued requests, one fsync,
//!                          reply 200s ──IndexJob──▶ indexer thread: dedup,
//!                          add to day index, commit every interval,
//!                          checkpoint, trim the log, feed /v1/follow
//! ```
//! [`Sink::reserve`] bounds the events acknowledged but not yet handed to the
//! index writer (the queue between the log and the indexer), so memory stays
//! bounded; a request that finds the queue full waits up to
//! [`SinkOptions::overload_wait`] for room, then gets 429 with `Retry-After`.
//! Events already in the writer are bounded by its memory budget and become
//! searchable at the next commit.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use audit_api::Event;
use audit_api::fields::EventFields;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::deadletter::{DeadLetter, DeadLetterLog};
use crate::index::{
    DAY_MICROS, IndexError, IndexFields, Partitions, Prepared, Writers, prepare, prepare_json,
};
use crate::metrics::Metrics;
use crate::wal::{self, Wal, WalPos};

/// How the pipeline is tuned.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// Data directory (`wal/`, `index/`, `dead-letters.jsonl`).
    pub data_dir: PathBuf,
    /// Longest time from 200 to searchable (index commit cadence).
    pub commit_interval: Duration,
    /// Events acknowledged but not yet handed to the index writer beyond
    /// which ingest waits for room, then answers 429.
    pub max_pending_events: usize,
    /// How long an ingest request waits for room in a full queue before it
    /// is answered 429.
    pub overload_wait: Duration,
    /// Index writer memory per open day, bytes.
    pub writer_memory: usize,
    /// Indexing threads per open day.
    pub writer_threads: usize,
    /// Drop day partitions older than this.
    pub retention: Option<Duration>,
    /// What every ingest path redacts before storing (see [`crate::redaction`]).
    pub redact: crate::redaction::RedactOptions,
}

impl SinkOptions {
    /// Defaults for `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> SinkOptions {
        SinkOptions {
            data_dir: data_dir.into(),
            commit_interval: Duration::from_millis(500),
            max_pending_events: 25_000,
            overload_wait: Duration::from_secs(2),
            writer_memory: 128 * 1024 * 1024,
            writer_threads: 2,
            retention: None,
            redact: crate::redaction::RedactOptions::default(),
        }
    }
}

/// A validated event, its bytes as received and its ready index document.
/// Building the document here (in the request handlers, in parallel) keeps
/// the single indexer thread to dedup and `add_document`.
pub struct Accepted {
    /// Original JSON.
    pub raw: Box<RawValue>,
    /// The index document.
    pub prepared: Prepared,
}

impl Accepted {
    /// Parses, validates and builds the document of one event in one pass
    /// over its bytes (see [`crate::index::prepare_json`]).
    pub fn parse(raw: Box<RawValue>, f: &IndexFields) -> Result<Accepted, audit_api::EventError> {
        let prepared = prepare_json(raw.get().as_bytes(), f)?;
        Ok(Accepted { raw, prepared })
    }

    /// Builds the document of an already parsed and validated `event`.
    pub fn new(
        event: &Event,
        raw: Box<RawValue>,
        f: &IndexFields,
    ) -> Result<Accepted, audit_api::EventError> {
        let prepared = prepare(event, raw.get().as_bytes(), f)?;
        Ok(Accepted { raw, prepared })
    }
}

/// An event streamed to `/v1/follow` subscribers once searchable.
pub struct FollowItem {
    /// Its queryable fields.
    pub fields: EventFields,
    /// Original JSON.
    pub raw: Box<RawValue>,
}

/// Why an ingest did not become durable.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Too many events waiting for the index.
    #[error("the indexer is behind; retry later")]
    Overloaded,
    /// The sink is shutting down.
    #[error("the sink is shutting down")]
    Closed,
    /// Writing the log failed.
    #[error("write-ahead log: {0}")]
    Wal(String),
    /// The data directory's file system is full (or over quota).
    #[error("write-ahead log: no space left on the data directory's file system: {0}")]
    NoSpace(String),
    /// The replicated log (fleet mode) did not acknowledge every event.
    #[error("the replicated log (NATS JetStream) did not store the batch: {0}")]
    Log(String),
}

/// What [`ExternalLog::append`] returns.
pub type LogFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), IngestError>> + Send + 'a>>;

/// A log of record outside the data directory (fleet mode: a NATS JetStream
/// stream) taking the place of the write-ahead log. Its own consumer feeds
/// the index, so the sink's queue to the indexer is not used.
pub trait ExternalLog: Send + Sync {
    /// Makes `events` durable in the log and keeps `dead` in the dead-letter
    /// log; resolves once every event is acknowledged.
    fn append(&self, events: Vec<Accepted>, dead: Vec<DeadLetter>) -> LogFuture<'_>;
}

impl IngestError {
    fn from_io(e: &std::io::Error) -> IngestError {
        use std::io::ErrorKind::{QuotaExceeded, StorageFull};
        if matches!(e.kind(), StorageFull | QuotaExceeded) {
            IngestError::NoSpace(e.to_string())
        } else {
            IngestError::Wal(e.to_string())
        }
    }
}

struct WalRequest {
    events: Vec<Accepted>,
    dead: Vec<DeadLetter>,
    reply: oneshot::Sender<Result<(), IngestError>>,
    /// Told how many of `events` the index already had, when asked.
    duplicates: Option<oneshot::Sender<u64>>,
}

/// How many events of a durable batch the index already had (duplicates),
/// known once the indexer has taken them: see [`Sink::ingest_counting`].
pub struct Duplicates(Option<oneshot::Receiver<u64>>);

impl Duplicates {
    /// Waits until the indexer has taken the batch; `None` when that cannot
    /// be told (fleet mode: the stream's consumer indexes; or index writes
    /// fail and the events wait in the write-ahead log).
    pub async fn count(self) -> Option<u64> {
        self.0?.await.ok()
    }

    /// Blocking variant of [`Duplicates::count`] for non-async callers.
    pub fn count_blocking(self) -> Option<u64> {
        self.0?.blocking_recv().ok()
    }
}

/// The events of one group commit of the log, in log order.
struct IndexJob {
    events: Vec<Accepted>,
    /// The requests `events` came from, in order: how many events each
    /// holds, and where to tell its duplicates when it asked.
    requests: Vec<(usize, Option<oneshot::Sender<u64>>)>,
    /// End of the group in the log: every event before it is in `events`
    /// or in an earlier job.
    pos: WalPos,
    acked: Instant,
}

/// State shared by the HTTP handlers and the pipeline threads.
pub struct Shared {
    /// The index partitions (for searches).
    pub parts: Arc<Partitions>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Live stream of newly searchable events.
    pub follow: broadcast::Sender<Arc<FollowItem>>,
    /// Redaction every ingest path applies before anything is written.
    pub redaction: crate::redaction::Redaction,
    pending: AtomicUsize,
    max_pending: usize,
    /// Signalled whenever queued events leave the queue.
    room: tokio::sync::Notify,
    overload_wait: Duration,
    closing: AtomicBool,
    replaying: AtomicBool,
    index_failing: AtomicBool,
    /// Fleet mode: `/readyz` fails while the index lags the stream by more.
    max_lag: Option<Duration>,
}

impl Shared {
    /// The state both modes share: the opened index, the data directory's
    /// redaction rules and the metrics; `replaying` while a log left by the
    /// previous run is still being indexed.
    fn new(
        parts: Arc<Partitions>,
        opts: &SinkOptions,
        replaying: bool,
        max_lag: Option<Duration>,
    ) -> Result<Shared, OpenError> {
        let (follow, _) = broadcast::channel(4096);
        let redaction = crate::redaction::Redaction::open(&opts.data_dir, &opts.redact)?;
        Ok(Shared {
            parts,
            metrics: Arc::new(Metrics::new(|r| redaction.register_metrics(r))),
            follow,
            redaction,
            pending: AtomicUsize::new(0),
            max_pending: opts.max_pending_events,
            room: tokio::sync::Notify::new(),
            overload_wait: opts.overload_wait,
            closing: AtomicBool::new(false),
            replaying: AtomicBool::new(replaying),
            index_failing: AtomicBool::new(false),
            max_lag,
        })
    }

    /// Events acknowledged but not yet handed to the index writer.
    pub fn pending(&self) -> usize {
        self.pending.load(Relaxed)
    }
    /// Whether new ingest would be refused.
    pub fn overloaded(&self) -> bool {
        self.pending() >= self.max_pending
    }
    /// Takes `n` events off the queue and wakes requests waiting for room.
    fn release(&self, n: usize) {
        let left = self.pending.fetch_sub(n, Relaxed).saturating_sub(n);
        self.metrics.pending_events.store(left as u64, Relaxed);
        self.room.notify_waiters();
    }
    /// Whether shutdown started.
    pub fn closing(&self) -> bool {
        self.closing.load(Relaxed)
    }
    /// Whether the write-ahead log left by the previous run is still being
    /// indexed (its events are not all searchable yet).
    pub fn replaying(&self) -> bool {
        self.replaying.load(Relaxed)
    }
    /// Whether the last index commit failed (e.g. a full disk); the indexer
    /// retries from the write-ahead log until it succeeds.
    pub fn index_failing(&self) -> bool {
        self.index_failing.load(Relaxed)
    }
    /// Fleet mode: the indexer thread has stopped (a panic); the replica
    /// indexes nothing more until restarted.
    pub fn indexer_stopped(&self) -> bool {
        self.metrics.indexer_stopped.load(Relaxed)
    }
    /// Records whether index writes fail (the fleet mode's indexer; the
    /// embedded log's indexer sets the flag in place).
    #[cfg(feature = "server")]
    pub(crate) fn set_index_failing(&self, failing: bool) {
        self.index_failing.store(failing, Relaxed);
    }
    /// Fleet mode: how far this replica's index is behind the stream, when
    /// that is more than `--max-lag` (`Duration::MAX` while catching up).
    pub fn lagging(&self) -> Option<Duration> {
        let max = self.max_lag?;
        let lag = match self.metrics.log_lag_micros.load(Relaxed) {
            u64::MAX => Duration::MAX,
            l => Duration::from_micros(l),
        };
        (lag > max).then_some(lag)
    }
}

/// The running pipeline.
pub struct Sink {
    /// Shared state.
    pub shared: Arc<Shared>,
    wal_tx: Mutex<Option<mpsc::Sender<WalRequest>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Fleet mode: the log of record instead of the write-ahead log.
    external: Option<Arc<dyn ExternalLog>>,
    _lock: File,
}

/// Why the data directory cannot be opened. Each names the directory or
/// file involved.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory cannot be created.
    #[error("creating data directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The lock file cannot be created.
    #[error("creating {}", path.display())]
    CreateLock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the data directory.
    #[error(
        "data directory {} is in use by another audit-sink process; stop it first, or use another --data-dir",
        dir.display()
    )]
    InUse {
        /// The data directory.
        dir: PathBuf,
    },
    /// The lock file cannot be locked.
    #[error("locking {}", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The index cannot be opened.
    #[error("opening the index in {}", dir.display())]
    Index {
        /// The data directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: IndexError,
    },
    /// The write-ahead log (or its checkpoint) cannot be read or created.
    #[error("reading the write-ahead log in {}", dir.display())]
    Wal {
        /// The log's directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The dead-letter log cannot be opened.
    #[error("opening the dead-letter log in {}", dir.display())]
    DeadLetters {
        /// The data directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The redaction key cannot be read or created.
    #[error(transparent)]
    Redaction(#[from] crate::redaction::KeyError),
    /// A pipeline thread cannot be started.
    #[error("starting the {name} thread")]
    Thread {
        /// The thread's name.
        name: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Why the indexer stops, or a retry of the index from the log fails.
#[derive(Debug, thiserror::Error)]
enum IndexLoopError {
    /// The log cannot be read.
    #[error("reading the write-ahead log in {}", dir.display())]
    Wal {
        /// The log's directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A record read again from the log cannot be indexed.
    #[error("indexing from the write-ahead log")]
    Reindex {
        /// The first failure.
        #[source]
        source: IndexError,
    },
    /// An index write or commit failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Takes the data directory's lock file (released by the OS on exit, even on kill -9).
fn lock_data_dir(dir: &Path) -> Result<File, OpenError> {
    std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join("LOCK");
    let f = match File::create(&path) {
        Ok(f) => f,
        Err(source) => return Err(OpenError::CreateLock { path, source }),
    };
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(OpenError::InUse {
            dir: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(OpenError::Lock { path, source }),
    }
}

/// The data directory's index, opened.
fn open_index(data_dir: &Path) -> Result<Arc<Partitions>, OpenError> {
    Partitions::open(&data_dir.join("index"))
        .map(Arc::new)
        .map_err(|source| OpenError::Index {
            dir: data_dir.to_path_buf(),
            source,
        })
}

impl Sink {
    /// Opens the data directory, replays the write-ahead log into the index,
    /// and starts the log writer and indexer threads.
    pub fn open(opts: SinkOptions) -> Result<Sink, OpenError> {
        let lock = lock_data_dir(&opts.data_dir)?;
        let wal_dir = opts.data_dir.join("wal");
        let parts = open_index(&opts.data_dir)?;
        let writers = Writers::new(parts.clone(), opts.writer_memory, opts.writer_threads, 2);

        // What the index may not have committed: find where the log ends
        // (cutting off a torn tail) before a new segment is opened after
        // it. The indexer thread indexes it before anything new, while the
        // sink already serves searches and takes new batches.
        let wal_err = |source| OpenError::Wal {
            dir: wal_dir.clone(),
            source,
        };
        let checkpoint = wal::read_checkpoint(&wal_dir).map_err(wal_err)?;
        let mut replay_to = None;
        wal::replay(&wal_dir, checkpoint, |_, pos| replay_to = Some(pos)).map_err(wal_err)?;

        let wal = Wal::create(&wal_dir).map_err(wal_err)?;
        let dead =
            DeadLetterLog::open(&opts.data_dir).map_err(|source| OpenError::DeadLetters {
                dir: opts.data_dir.clone(),
                source,
            })?;
        let shared = Arc::new(Shared::new(parts, &opts, replay_to.is_some(), None)?);
        let (wal_tx, wal_rx) = mpsc::channel::<WalRequest>(1024);
        let (idx_tx, idx_rx) = std_mpsc::channel::<IndexJob>();
        let s1 = shared.clone();
        let t1 = std::thread::Builder::new()
            .name("audit-wal".into())
            .spawn(move || wal_loop(wal, dead, wal_rx, idx_tx, s1))
            .map_err(|source| OpenError::Thread {
                name: "audit-wal",
                source,
            })?;
        let s2 = shared.clone();
        let t2 = std::thread::Builder::new()
            .name("audit-indexer".into())
            .spawn(move || {
                if let Err(e) = index_loop(writers, idx_rx, s2, opts, wal_dir, replay_to) {
                    tracing::error!(error = &e as &dyn std::error::Error, "indexer stopped");
                }
            })
            .map_err(|source| OpenError::Thread {
                name: "audit-indexer",
                source,
            })?;
        Ok(Sink {
            shared,
            wal_tx: Mutex::new(Some(wal_tx)),
            threads: Mutex::new(vec![t1, t2]),
            external: None,
            _lock: lock,
        })
    }

    /// Opens the data directory's index with `log` as the log of record
    /// (fleet mode). The caller starts the indexer that feeds the index from
    /// that log ([`Sink::add_thread`]); `/readyz` fails while the index lags
    /// it by more than `max_lag`.
    pub fn open_external(
        opts: SinkOptions,
        log: Arc<dyn ExternalLog>,
        max_lag: Option<Duration>,
    ) -> Result<Sink, OpenError> {
        let lock = lock_data_dir(&opts.data_dir)?;
        let parts = open_index(&opts.data_dir)?;
        let shared = Arc::new(Shared::new(parts, &opts, false, max_lag)?);
        Ok(Sink {
            shared,
            wal_tx: Mutex::new(None),
            threads: Mutex::new(Vec::new()),
            external: Some(log),
            _lock: lock,
        })
    }

    /// Adds a pipeline thread, joined by [`Sink::shutdown`].
    pub fn add_thread(&self, t: JoinHandle<()>) {
        self.threads.lock().expect("lock").push(t);
    }

    /// Reserves room for `n` events; fails at once when the queue is full.
    pub fn reserve(&self, n: usize) -> Result<(), IngestError> {
        let r = self.try_reserve(n);
        if matches!(r, Err(IngestError::Overloaded)) {
            self.shared.metrics.overloaded.inc();
        }
        r
    }

    fn try_reserve(&self, n: usize) -> Result<(), IngestError> {
        if self.shared.closing() {
            return Err(IngestError::Closed);
        }
        let before = self.shared.pending.fetch_add(n, Relaxed);
        if before > 0 && before + n > self.shared.max_pending {
            self.shared.pending.fetch_sub(n, Relaxed);
            return Err(IngestError::Overloaded);
        }
        self.shared
            .metrics
            .pending_events
            .store((before + n) as u64, Relaxed);
        Ok(())
    }

    /// Waits until the queue is not full, at most until `deadline`;
    /// whether it has room.
    pub async fn wait_for_room(&self, deadline: tokio::time::Instant) -> bool {
        let has_room = || (!self.shared.overloaded() || self.shared.closing()).then_some(());
        self.until_room(deadline, has_room).await.is_some()
    }

    /// Reserves room for `n` events, waiting for the indexer up to
    /// `deadline` while the queue is full; then fails with
    /// [`IngestError::Overloaded`].
    pub async fn reserve_by(
        &self,
        n: usize,
        deadline: tokio::time::Instant,
    ) -> Result<(), IngestError> {
        let attempt = || match self.try_reserve(n) {
            Err(IngestError::Overloaded) => None,
            r => Some(r),
        };
        match self.until_room(deadline, attempt).await {
            Some(r) => r,
            None => {
                self.shared.metrics.overloaded.inc();
                Err(IngestError::Overloaded)
            }
        }
    }

    /// Calls `attempt` now and each time events leave the queue, until it
    /// gives an answer or `deadline` passes (then once more).
    async fn until_room<T>(
        &self,
        deadline: tokio::time::Instant,
        mut attempt: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        loop {
            // Registered before the attempt, so a release in between is not missed.
            let notified = self.shared.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(r) = attempt() {
                return Some(r);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return attempt();
            }
        }
    }

    /// How long an ingest request may wait for room ([`SinkOptions::overload_wait`]).
    pub fn overload_wait(&self) -> Duration {
        self.shared.overload_wait
    }

    fn sender(&self) -> Result<mpsc::Sender<WalRequest>, IngestError> {
        self.wal_tx
            .lock()
            .expect("lock")
            .clone()
            .ok_or(IngestError::Closed)
    }

    fn release(&self, n: usize) {
        self.shared.release(n);
    }

    /// Makes `events` (reserved with [`Sink::reserve`]) and `dead` letters
    /// durable; returns once they are fsync'd.
    pub async fn ingest(
        &self,
        events: Vec<Accepted>,
        dead: Vec<DeadLetter>,
    ) -> Result<(), IngestError> {
        self.ingest_with(events, dead, None).await
    }

    /// Like [`Sink::ingest`], and then tells how many of `events` the index
    /// already had (an import reports them as duplicates).
    pub async fn ingest_counting(
        &self,
        events: Vec<Accepted>,
        dead: Vec<DeadLetter>,
    ) -> Result<Duplicates, IngestError> {
        let (tx, rx) = oneshot::channel();
        let external = self.external.is_some();
        self.ingest_with(events, dead, Some(tx)).await?;
        Ok(Duplicates((!external).then_some(rx)))
    }

    async fn ingest_with(
        &self,
        events: Vec<Accepted>,
        dead: Vec<DeadLetter>,
        duplicates: Option<oneshot::Sender<u64>>,
    ) -> Result<(), IngestError> {
        let n = events.len();
        if let Some(log) = &self.external {
            // The stream's own consumer feeds the index: nothing waits in our queue.
            let r = if self.shared.closing() {
                Err(IngestError::Closed)
            } else {
                log.append(events, dead).await
            };
            self.release(n);
            if r.is_ok() {
                self.shared.metrics.events_accepted.inc_by(n as u64);
            }
            return r;
        }
        let (reply, rx) = oneshot::channel();
        let tx = match self.sender() {
            Ok(tx) => tx,
            Err(e) => {
                self.release(n);
                return Err(e);
            }
        };
        if tx
            .send(WalRequest {
                events,
                dead,
                reply,
                duplicates,
            })
            .await
            .is_err()
        {
            self.release(n);
            return Err(IngestError::Closed);
        }
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(IngestError::Closed),
        }
    }

    // The hand-off to the log writer is the one of `ingest_counting`, with
    // `blocking_send` and `blocking_recv` in place of their `.await`s: tokio's
    // channel has no send that is both, so the few lines stand twice.

    /// Blocking variant of [`Sink::ingest_counting`] for non-async callers
    /// (import); not in fleet mode.
    pub fn ingest_blocking(
        &self,
        events: Vec<Accepted>,
        dead: Vec<DeadLetter>,
    ) -> Result<Duplicates, IngestError> {
        let n = events.len();
        let (reply, rx) = oneshot::channel();
        let (dup_tx, dup_rx) = oneshot::channel();
        let tx = match self.sender() {
            Ok(tx) => tx,
            Err(e) => {
                self.release(n);
                return Err(e);
            }
        };
        if tx
            .blocking_send(WalRequest {
                events,
                dead,
                reply,
                duplicates: Some(dup_tx),
            })
            .is_err()
        {
            self.release(n);
            return Err(IngestError::Closed);
        }
        match rx.blocking_recv() {
            Ok(r) => r.map(|()| Duplicates(Some(dup_rx))),
            Err(_) => Err(IngestError::Closed),
        }
    }

    /// Stops accepting, drains the log writer and the indexer (final commit).
    pub fn shutdown(&self) {
        self.shared.closing.store(true, Relaxed);
        self.wal_tx.lock().expect("lock").take();
        let threads: Vec<_> = self.threads.lock().expect("lock").drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn wal_loop(
    mut wal: Wal,
    mut dead: DeadLetterLog,
    mut rx: mpsc::Receiver<WalRequest>,
    idx_tx: std_mpsc::Sender<IndexJob>,
    shared: Arc<Shared>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut group = vec![first];
        while group.len() < 512 {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let result = (|| -> std::io::Result<WalPos> {
            let mut bytes = 0u64;
            let mut any_dead = false;
            for r in &group {
                for e in &r.events {
                    wal.append(e.raw.get().as_bytes())?;
                    bytes += e.raw.get().len() as u64 + 8;
                }
                for d in &r.dead {
                    dead.append(d)?;
                    any_dead = true;
                }
            }
            if any_dead {
                dead.sync()?;
            }
            let pos = wal.sync()?;
            shared.metrics.wal_bytes.inc_by(bytes);
            Ok(pos)
        })();
        shared.metrics.wal_fsync.observe(started.elapsed());
        match result {
            Ok(pos) => {
                let acked = Instant::now();
                // One job for the whole group: `pos` is the end of the
                // group, and the indexer checkpoints the log at the `pos` of
                // the last job it took. A job per request would let a commit
                // between two of them checkpoint past events not yet in
                // the index; a crash then would skip them on replay.
                let mut events = Vec::with_capacity(group.iter().map(|r| r.events.len()).sum());
                let mut replies = Vec::with_capacity(group.len());
                let mut requests = Vec::with_capacity(group.len());
                for r in group {
                    requests.push((r.events.len(), r.duplicates));
                    events.extend(r.events);
                    replies.push(r.reply);
                }
                shared.metrics.events_accepted.inc_by(events.len() as u64);
                let _ = idx_tx.send(IndexJob {
                    events,
                    requests,
                    pos,
                    acked,
                });
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "write-ahead log append failed");
                // Nothing of this group was acknowledged: cut it off the log.
                if let Err(e) = wal.rollback() {
                    tracing::error!(error = %e, "cannot truncate the failed write-ahead log append yet; retrying before the next one");
                }
                for r in group {
                    shared.release(r.events.len());
                    let _ = r.reply.send(Err(IngestError::from_io(&e)));
                }
            }
        }
    }
}

/// After a failed index write, how long the indexer waits before it tries
/// again from the write-ahead log.
const INDEX_RETRY: Duration = Duration::from_secs(1);

/// Indexes again, into fresh writers, every record of the log between the
/// last checkpoint and `to`: what a failed writer may have lost.
fn reindex_from_wal(
    writers: &mut Writers,
    parts: &Partitions,
    wal_dir: &Path,
    from: Option<WalPos>,
    to: WalPos,
    cutoff_day: i64,
) -> Result<(u64, u64), IndexLoopError> {
    let mut first_err = None;
    let mut new = 0;
    let n = wal::read_range(wal_dir, from, to, |payload, _| {
        match prepare_json(payload, &parts.fields) {
            Ok(p) if p.day < cutoff_day => {}
            Ok(p) => match writers.add(p) {
                Ok(true) => new += 1,
                Ok(false) => {}
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            },
            Err(e) => tracing::warn!(error = %e, "skipping unreadable write-ahead log record"),
        }
    })
    .map_err(|source| IndexLoopError::Wal {
        dir: wal_dir.to_path_buf(),
        source,
    })?;
    match first_err {
        Some(source) => Err(IndexLoopError::Reindex { source }),
        None => Ok((n, new)),
    }
}

/// Records that the index has committed everything in the log before
/// `pos`: writes the checkpoint and deletes the segments before it. A
/// checkpoint that cannot be written only means more to replay
/// (deduplicated) after a restart.
fn advance_checkpoint(wal_dir: &Path, pos: WalPos, checkpoint: &mut Option<WalPos>) {
    match wal::write_checkpoint(wal_dir, pos) {
        Ok(()) => {
            *checkpoint = Some(pos);
            if let Err(e) = wal::delete_before(wal_dir, pos) {
                tracing::warn!(error = %e, "deleting old write-ahead log segments");
            }
        }
        Err(e) => tracing::warn!(error = %e, "writing the write-ahead log checkpoint"),
    }
}

fn index_loop(
    mut writers: Writers,
    rx: std_mpsc::Receiver<IndexJob>,
    shared: Arc<Shared>,
    opts: SinkOptions,
    wal_dir: PathBuf,
    replay_to: Option<WalPos>,
) -> Result<(), IndexLoopError> {
    let new_writers = || {
        Writers::new(
            shared.parts.clone(),
            opts.writer_memory,
            opts.writer_threads,
            2,
        )
    };
    let mut last_commit = Instant::now();
    let mut uncommitted = 0usize;
    // Events received while index writes fail: they stay counted in the
    // queue (ingest backs off) until the log has been indexed again.
    let mut held = 0usize;
    let mut last_pos: Option<WalPos> = None;
    // Everything up to here is committed to the index.
    let mut checkpoint = wal::read_checkpoint(&wal_dir).map_err(|source| IndexLoopError::Wal {
        dir: wal_dir.clone(),
        source,
    })?;
    let mut oldest_ack: Option<Instant> = None;
    let mut follow_buf: Vec<Arc<FollowItem>> = Vec::new();
    let mut last_retention = Instant::now() - Duration::from_secs(3600);
    let mut cutoff_day = i64::MIN;
    let mut disconnected = false;
    // Set when an index write failed (a full disk): the writers were
    // discarded and nothing is added until the log since `checkpoint` has
    // been indexed again into fresh ones.
    let mut failed_at: Option<Instant> = None;
    let mut recovered = false;
    let fail = |e: &(dyn std::error::Error + 'static),
                writers: &mut Writers,
                failed_at: &mut Option<Instant>| {
        if failed_at.is_none() {
            tracing::error!(
                error = e,
                "index write failed; ingest continues into the write-ahead log, retrying the index from it"
            );
        }
        *failed_at = Some(Instant::now());
        shared.index_failing.store(true, Relaxed);
        *writers = new_writers();
    };
    // First the log the previous run left: a failure here (a full disk) is
    // retried from the log like any other failed index write.
    if let Some(to) = replay_to {
        let started = Instant::now();
        last_pos = Some(to);
        let r = reindex_from_wal(
            &mut writers,
            &shared.parts,
            &wal_dir,
            checkpoint,
            to,
            i64::MIN,
        )
        .and_then(|counts| Ok(writers.commit().map(|()| counts)?));
        match r {
            Ok((replayed, new)) => {
                shared.metrics.events_indexed.inc_by(new);
                advance_checkpoint(&wal_dir, to, &mut checkpoint);
                tracing::info!(
                    replayed,
                    new,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "replayed write-ahead log"
                );
            }
            Err(e) => fail(&e, &mut writers, &mut failed_at),
        }
        shared.replaying.store(false, Relaxed);
    }
    loop {
        if let Some(ret) = opts.retention
            && last_retention.elapsed() >= Duration::from_secs(60)
        {
            last_retention = Instant::now();
            let now = jiff::Timestamp::now().as_microsecond();
            cutoff_day = (now - ret.as_micros() as i64).div_euclid(DAY_MICROS);
            match writers.drop_before(cutoff_day) {
                Ok(days) if !days.is_empty() => {
                    tracing::info!(?days, "retention dropped day partitions")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "retention failed"),
            }
        }
        let wait = opts.commit_interval.saturating_sub(last_commit.elapsed());
        match rx.recv_timeout(wait.max(Duration::from_millis(1))) {
            Ok(job) => {
                let want_follow = shared.follow.receiver_count() > 0;
                let n = job.events.len();
                uncommitted += n;
                oldest_ack.get_or_insert(job.acked);
                last_pos = Some(job.pos);
                if failed_at.is_none() {
                    // Each event with the request it came from.
                    let mut batch: Vec<(usize, Accepted)> = job
                        .requests
                        .iter()
                        .enumerate()
                        .flat_map(|(i, (len, _))| std::iter::repeat_n(i, *len))
                        .zip(job.events)
                        .collect();
                    let mut duplicates = vec![0u64; job.requests.len()];
                    // Group by day: switching between day partitions can cost a commit.
                    batch.sort_by_key(|(_, a)| a.prepared.day);
                    for (request, a) in batch {
                        if a.prepared.day < cutoff_day {
                            shared.metrics.events_expired.inc();
                            continue;
                        }
                        match writers.add(a.prepared) {
                            Ok(true) => {
                                shared.metrics.events_indexed.inc();
                                // The query fields are only needed (and
                                // only built) while someone follows.
                                if want_follow && let Ok(event) = Event::from_json(a.raw.get()) {
                                    follow_buf.push(Arc::new(FollowItem {
                                        fields: EventFields::from_event(&event),
                                        raw: a.raw,
                                    }));
                                }
                            }
                            Ok(false) => {
                                shared.metrics.events_duplicate.inc();
                                duplicates[request] += 1;
                            }
                            Err(e) => {
                                fail(&e, &mut writers, &mut failed_at);
                                break;
                            }
                        }
                    }
                    // After a failed write nothing is told: the events are
                    // indexed again from the log, later.
                    if failed_at.is_none() {
                        for ((_, tx), n) in job.requests.into_iter().zip(duplicates) {
                            if let Some(tx) = tx {
                                let _ = tx.send(n);
                            }
                        }
                    }
                }
                // In the writer (or to be indexed again from the log): off
                // the queue, searchable at the next commit.
                if failed_at.is_none() {
                    shared.release(n);
                } else {
                    held += n;
                }
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            Err(std_mpsc::RecvTimeoutError::Disconnected) => disconnected = true,
        }
        if let Some(at) = failed_at
            && (at.elapsed() >= INDEX_RETRY || disconnected)
        {
            let r = match last_pos {
                Some(to) => reindex_from_wal(
                    &mut writers,
                    &shared.parts,
                    &wal_dir,
                    checkpoint,
                    to,
                    cutoff_day,
                )
                .map(|_| ()),
                None => Ok(()),
            };
            match r.and_then(|()| Ok(writers.commit()?)) {
                Ok(()) => {
                    failed_at = None;
                    shared.index_failing.store(false, Relaxed);
                    tracing::info!(
                        "index writes work again; indexed the write-ahead log since the last commit"
                    );
                    recovered = true;
                }
                Err(e) if disconnected => return Err(e),
                Err(e) => fail(&e, &mut writers, &mut failed_at),
            }
        }
        if failed_at.is_none()
            && (last_commit.elapsed() >= opts.commit_interval || disconnected || recovered)
        {
            recovered = false;
            if uncommitted > 0 || writers.dirty() || last_pos != checkpoint {
                let started = Instant::now();
                if let Err(e) = writers.commit() {
                    if disconnected {
                        return Err(e.into());
                    }
                    fail(&e, &mut writers, &mut failed_at);
                    continue;
                }
                shared.metrics.commit.observe(started.elapsed());
                if let Some(pos) = last_pos {
                    advance_checkpoint(&wal_dir, pos, &mut checkpoint);
                }
                if let Some(t) = oldest_ack.take() {
                    shared
                        .metrics
                        .index_lag_micros
                        .store(t.elapsed().as_micros() as u64, Relaxed);
                }
                if held > 0 {
                    shared.release(std::mem::take(&mut held));
                }
                uncommitted = 0;
                for item in follow_buf.drain(..) {
                    let _ = shared.follow.send(item);
                }
            }
            last_commit = Instant::now();
        }
        if disconnected {
            writers.close()?;
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testgen::{self, Level};

    fn accepted(sink: &Sink, seed: u64, n: usize) -> Vec<Accepted> {
        let start: jiff::Timestamp = "2025-05-01T00:00:00Z".parse().unwrap();
        testgen::events(seed, n, Level::Metadata, start, 1_000)
            .into_iter()
            .map(|s| {
                let raw = RawValue::from_string(s).unwrap();
                Accepted::parse(raw, &sink.shared.parts.fields).unwrap()
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_makes_requests_wait_for_room_then_refuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = SinkOptions::new(dir.path());
        opts.max_pending_events = 10;
        let sink = Arc::new(Sink::open(opts).unwrap());
        let now = tokio::time::Instant::now;

        // Ten events reserved and not yet handed over: the queue is full.
        sink.reserve(10).unwrap();
        assert!(sink.shared.overloaded());
        assert!(matches!(sink.reserve(5), Err(IngestError::Overloaded)));
        let t = Instant::now();
        let r = sink.reserve_by(5, now() + Duration::from_millis(300)).await;
        assert!(matches!(r, Err(IngestError::Overloaded)), "{r:?}");
        assert!(
            t.elapsed() >= Duration::from_millis(290),
            "{:?}",
            t.elapsed()
        );
        assert!(!sink.wait_for_room(now() + Duration::from_millis(100)).await);

        // Requests waiting for room get it as soon as the indexer takes the
        // reserved events, long before their deadline.
        let gate = tokio::spawn({
            let s = sink.clone();
            async move { s.wait_for_room(now() + Duration::from_secs(20)).await }
        });
        let waiter = tokio::spawn({
            let s = sink.clone();
            async move { s.reserve_by(5, now() + Duration::from_secs(20)).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiter.is_finished() && !gate.is_finished());
        let t = Instant::now();
        sink.ingest(accepted(&sink, 1, 10), Vec::new())
            .await
            .unwrap();
        waiter.await.unwrap().unwrap();
        assert!(gate.await.unwrap());
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        assert_eq!(sink.shared.pending(), 5);

        // The five reserved events and the first ten become searchable.
        sink.ingest(accepted(&sink, 2, 5), Vec::new())
            .await
            .unwrap();
        sink.shutdown();
        assert_eq!(sink.shared.parts.num_docs(), 15);
        assert_eq!(sink.shared.pending(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_checkpoint_never_passes_an_event_that_is_not_committed() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = SinkOptions::new(dir.path());
        // A commit after nearly every group of concurrent requests.
        opts.commit_interval = Duration::from_millis(1);
        let sink = Arc::new(Sink::open(opts).unwrap());
        let wal_dir = dir.path().join("wal");
        let stop = Arc::new(AtomicBool::new(false));

        // What a crash at any moment would replay starts at the checkpoint:
        // every record before it must be in the committed index.
        let checker = std::thread::spawn({
            let parts = sink.shared.parts.clone();
            let stop = stop.clone();
            move || {
                let (mut rounds, mut checked) = (0u64, 0u64);
                while !stop.load(Relaxed) {
                    let Some(cp) = wal::read_checkpoint(&wal_dir).unwrap() else {
                        continue;
                    };
                    let from = WalPos {
                        segment: cp.segment,
                        offset: 0,
                    };
                    wal::read_range(&wal_dir, Some(from), cp, |payload, _| {
                        let p = prepare_json(payload, &parts.fields).unwrap();
                        let part = parts.get_or_create(p.day).unwrap();
                        assert!(
                            crate::index::committed_contains(&part, &parts.fields, p.time, p.key)
                                .unwrap(),
                            "an event before checkpoint {cp:?} is not in the committed index"
                        );
                        checked += 1;
                    })
                    .unwrap();
                    rounds += 1;
                }
                (rounds, checked)
            }
        });

        let mut senders = Vec::new();
        for s in 0..12u64 {
            let sink = sink.clone();
            senders.push(tokio::spawn(async move {
                for b in 0..50u64 {
                    let events = accepted(&sink, 1_000 + s * 100 + b, 20);
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
                    sink.reserve_by(events.len(), deadline).await.unwrap();
                    sink.ingest(events, Vec::new()).await.unwrap();
                }
            }));
        }
        for t in senders {
            t.await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.store(true, Relaxed);
        let (rounds, checked) = checker.join().unwrap();
        assert!(
            rounds > 10 && checked > 0,
            "{rounds} rounds, {checked} records"
        );
        sink.shutdown();
        assert_eq!(sink.shared.parts.num_docs(), 12 * 50 * 20);
    }
}
