//! `cargo xtask bench`: the benchmarks of BENCHMARKS.md.
//!
//! `bench search` answers the same audit questions two ways over one corpus
//! (see [`crate::corpus`]): through the real `audit-sink` (imported with
//! `audit-sink import`, queried over `/v1/search` on loopback, first page and
//! the full result set by cursor) and the way people do it today, `jq` and
//! `rg` over the JSON lines. Every question's result sets must be identical
//! (the sink's events byte for byte equal to the lines `rg` prints, and the
//! same (auditID, stage, stageTimestamp) keys as `jq`), otherwise the run
//! fails: the benchmark is also a correctness test of the index.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::corpus;
use crate::workspace::Workspace;

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which benchmark.
    #[command(subcommand)]
    pub bench: Bench,
}

/// The benchmarks.
#[derive(Debug, clap::Subcommand)]
pub enum Bench {
    /// Audit search through the sink vs. `jq` and `rg` over the JSON lines (BENCHMARKS.md section 1).
    Search(SearchArgs),
}

/// Arguments of `cargo xtask bench search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Corpus (JSON lines, from `cargo xtask corpus`); default: generate one with --events and --seed.
    #[arg(long, value_name = "FILE")]
    pub corpus: Option<PathBuf>,
    /// Number of events: with --corpus, use only its first N lines; without, generate N.
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// Seed of the generated corpus (without --corpus).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Folder for generated files and the sink's data (default: target/bench/search).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// The sink's data directory (default: WORK_DIR/sink-data); emptied and imported into.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep an already imported --data-dir as it is (skip the import).
    #[arg(long)]
    pub reuse_data_dir: bool,
    /// Import the corpus, then stop (to import outside the measurement lock).
    #[arg(long)]
    pub import_only: bool,
    /// Timed runs of each question's first page (limit 100).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub page_runs: usize,
    /// Timed runs of each question's full result set (pages of 10000 by cursor).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub full_runs: usize,
    /// Use this audit-sink binary instead of building one.
    #[arg(long, value_name = "FILE")]
    pub sink: Option<PathBuf>,
    /// Build the sink with the dev profile (quick checks; never for figures).
    #[arg(long)]
    pub dev: bool,
    /// The jq to compare with.
    #[arg(long, value_name = "FILE", default_value = "jq")]
    pub jq: PathBuf,
    /// The ripgrep to compare with.
    #[arg(long, value_name = "FILE", default_value = "rg")]
    pub rg: PathBuf,
    /// User of the "one user in one hour" question (default: the user of the corpus's middle line).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Start of the one-hour window, `YYYY-MM-DDTHH` (default: the hour of the corpus's middle line).
    #[arg(long, value_name = "HOUR")]
    pub hour: Option<String>,
    /// Namespace of the "deletes of secrets" question.
    #[arg(long, value_name = "NS", default_value = "prod")]
    pub namespace: String,
    /// Word of the free-text question (a word only found inside requestObject/responseObject).
    #[arg(long, value_name = "WORD", default_value = corpus::RARE_WORD)]
    pub word: String,
    /// Ask only these questions (1-based, comma-separated: 1 user+hour, 2 secret deletes,
    /// 3 403s, 4 free text, 5 time range, 6 hyphenated term, 7 dotted term), e.g. to keep
    /// each locked run short.
    #[arg(long, value_name = "N,…", value_delimiter = ',')]
    pub only: Vec<usize>,
    /// Also write the report (markdown, with the machine and the command) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Runs `cargo xtask bench`.
pub fn run(ws: &Workspace, args: Args) -> Result<()> {
    match args.bench {
        Bench::Search(a) => search(ws, a),
    }
}

/// One audit question, asked three ways.
#[derive(Debug, Clone)]
pub struct Question {
    /// Short name for the table.
    pub name: String,
    /// The sink query (`q`).
    pub q: String,
    /// `since` (RFC 3339).
    pub since: Option<String>,
    /// `until` (RFC 3339).
    pub until: Option<String>,
    /// jq filter (with `--arg` pairs).
    pub jq_filter: String,
    /// `--arg NAME VALUE` pairs for jq.
    pub jq_args: Vec<(String, String)>,
    /// rg pipeline: the first stage reads the corpus, the others stdin.
    pub rg: Vec<Vec<String>>,
    /// Whether this is a field or time question (the issue's ≥ 100× goal).
    pub field_or_time: bool,
}

/// The seven benchmark questions over a corpus whose sample event gives the user and hour.
pub fn questions(user: &str, hour: &str, namespace: &str, word: &str) -> Result<Vec<Question>> {
    let start: jiff::Timestamp = format!("{hour}:00:00Z")
        .parse()
        .with_context(|| format!("hour {hour:?}: expected YYYY-MM-DDTHH"))?;
    let end = start + jiff::SignedDuration::from_hours(1);
    let (since, until) = (start.to_string(), end.to_string());
    let ts_prefix = format!("\"requestReceivedTimestamp\":\"{hour}:");
    let arg = |k: &str, v: &str| (k.to_string(), v.to_string());
    let rg = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if !word.chars().all(|c| c.is_ascii_alphanumeric()) || word.is_empty() {
        bail!("--word {word:?}: one ASCII word (letters and digits) is needed");
    }
    Ok(vec![
        Question {
            name: format!("user {user} in 1 h"),
            q: format!("user:{}", audit_api::query::quote_value(user)),
            since: Some(since.clone()),
            until: Some(until.clone()),
            jq_filter: "select(.user.username == $u and (.requestReceivedTimestamp | startswith($h)))"
                .into(),
            jq_args: vec![arg("u", user), arg("h", &format!("{hour}:"))],
            rg: vec![
                rg(&["-F", &format!("\"username\":\"{user}\"")]),
                rg(&["-F", &ts_prefix]),
            ],
            field_or_time: true,
        },
        Question {
            name: format!("deletes of secrets in {namespace}"),
            q: format!(
                "verb:delete resource:secrets ns:{}",
                audit_api::query::quote_value(namespace)
            ),
            since: None,
            until: None,
            jq_filter: "select(.verb == \"delete\" and .objectRef.resource == \"secrets\" and .objectRef.namespace == $ns)".into(),
            jq_args: vec![arg("ns", namespace)],
            rg: vec![
                rg(&["-F", "\"verb\":\"delete\""]),
                rg(&["-F", "\"resource\":\"secrets\""]),
                rg(&["-F", &format!("\"namespace\":\"{namespace}\"")]),
            ],
            field_or_time: true,
        },
        Question {
            name: "all 403s".into(),
            q: "code:403".into(),
            since: None,
            until: None,
            jq_filter: "select(.responseStatus.code == 403)".into(),
            jq_args: vec![],
            rg: vec![rg(&["-F", "\"code\":403"])],
            field_or_time: true,
        },
        Question {
            name: format!("free text `{word}` (requestObject)"),
            q: word.to_string(),
            since: None,
            until: None,
            jq_filter: format!(
                "select(.requestObject != null and (.requestObject | tostring | test(\"\\\\b{word}\\\\b\"; \"i\")))"
            ),
            jq_args: vec![],
            rg: vec![rg(&["-i", "-w", word])],
            field_or_time: false,
        },
        Question {
            name: "time range 1 h".into(),
            q: String::new(),
            since: Some(since),
            until: Some(until),
            jq_filter: "select(.requestReceivedTimestamp | startswith($h))".into(),
            jq_args: vec![arg("h", &format!("{hour}:"))],
            rg: vec![rg(&["-F", &ts_prefix])],
            field_or_time: true,
        },
        separated_term_question("hyphenated", "ledger-reconciler", "ledger-reconciler"),
        separated_term_question("dotted", "registry\\\\.k8s\\\\.io/pause", "registry.k8s.io/pause"),
    ])
}

/// A free-text term with separators inside, which the sink matches as a
/// phrase (its words side by side, in order); jq and rg look for the term
/// as written in `requestObject`. `jq_regex` is the term as a jq regex.
fn separated_term_question(kind: &str, jq_regex: &str, term: &str) -> Question {
    Question {
        name: format!("{kind} term `{term}` (requestObject)"),
        q: term.to_string(),
        since: None,
        until: None,
        jq_filter: format!(
            "select(.requestObject != null and (.requestObject | tostring | test(\"{jq_regex}\"; \"i\")))"
        ),
        jq_args: vec![],
        rg: vec![vec!["-i".into(), "-F".into(), term.to_string()]],
        field_or_time: false,
    }
}

/// The idempotency key of an event, used to compare result sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
struct Key {
    #[serde(rename = "auditID")]
    audit_id: String,
    stage: String,
    #[serde(rename = "stageTimestamp", default)]
    stage_timestamp: String,
    #[serde(rename = "requestReceivedTimestamp", default)]
    received: String,
}

impl Key {
    fn of(line: &[u8]) -> Result<Key> {
        serde_json::from_slice(line).with_context(|| {
            format!(
                "not an audit event: {}",
                String::from_utf8_lossy(&line[..line.len().min(200)])
            )
        })
    }

    fn id(&self) -> (String, String, String) {
        (
            self.audit_id.clone(),
            self.stage.clone(),
            self.stage_timestamp.clone(),
        )
    }
}

/// p50 and p99 (nearest rank) of durations.
pub fn percentiles(samples: &[Duration]) -> (Duration, Duration) {
    let mut s = samples.to_vec();
    s.sort();
    if s.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let rank = |p: f64| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    (rank(0.50), rank(0.99))
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// What a whole run measured for one question.
struct Row {
    name: String,
    matches: usize,
    page: (Duration, Duration),
    full: (Duration, Duration),
    pages: usize,
    jq: Duration,
    rg: Duration,
    field_or_time: bool,
}

fn which(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn search(ws: &Workspace, a: SearchArgs) -> Result<()> {
    let command_line = format!(
        "cargo xtask bench search {}",
        std::env::args().skip(3).collect::<Vec<_>>().join(" ")
    );
    let jq = which(&a.jq).with_context(|| {
        format!(
            "{} not found: install jq (apt-get install jq) or pass --jq",
            a.jq.display()
        )
    })?;
    let rg = which(&a.rg).with_context(|| {
        format!(
            "{} not found: install ripgrep (apt-get install ripgrep, or cargo install ripgrep) or pass --rg",
            a.rg.display()
        )
    })?;
    if a.page_runs == 0 || a.full_runs == 0 {
        bail!("--page-runs and --full-runs must be at least 1");
    }
    let work = a
        .work_dir
        .clone()
        .unwrap_or_else(|| ws.target_dir.join("bench/search"));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let corpus_path = prepare_corpus(ws, &a, &work)?;
    let corpus_bytes = std::fs::metadata(&corpus_path)?.len();
    let data_dir = a.data_dir.clone().unwrap_or_else(|| work.join("sink-data"));
    let bin = ws.audit_sink(a.sink.as_deref(), a.dev)?;

    let import = import_corpus(&bin, &corpus_path, &data_dir, a.reuse_data_dir)?;
    println!(
        "corpus {} ({corpus_bytes} bytes, {} events); data dir {}: {}",
        corpus_path.display(),
        import.events,
        data_dir.display(),
        import.describe()
    );
    if a.import_only {
        return Ok(());
    }

    let sample = middle_event(&corpus_path)?;
    let user = a.user.clone().unwrap_or(sample.0);
    let hour = a.hour.clone().unwrap_or(sample.1);
    let mut questions = questions(&user, &hour, &a.namespace, &a.word)?;
    if let Some(bad) = a.only.iter().find(|n| **n == 0 || **n > questions.len()) {
        bail!(
            "--only {bad}: questions are numbered 1 to {}",
            questions.len()
        );
    }
    if !a.only.is_empty() {
        questions = questions
            .into_iter()
            .enumerate()
            .filter(|(i, _)| a.only.contains(&(i + 1)))
            .map(|(_, q)| q)
            .collect();
    }

    let load_before = load_average();
    let started_at = jiff::Timestamp::now();
    let server = Server::start(&bin, &data_dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let client = reqwest::Client::builder()
        .no_gzip()
        .timeout(Duration::from_secs(600))
        .build()?;
    let base = server.url.clone();
    let total = rt.block_on(stored_total(&client, &base))?;
    if total != import.events {
        bail!(
            "the sink holds {total} events but the corpus has {}: the import lost or duplicated events",
            import.events
        );
    }

    // Warm the page cache for the baselines the way a second grep would find it.
    let warm = Instant::now();
    let mut f = File::open(&corpus_path)?;
    let mut buf = vec![0u8; 1 << 20];
    while f.read(&mut buf)? > 0 {}
    let warm = warm.elapsed();

    let mut rows = Vec::new();
    for q in &questions {
        eprintln!("… {}", q.name);
        let sink_full = rt.block_on(full_set(&client, &base, q))?;
        let (jq_time, jq_out) = run_jq(&jq, q, &corpus_path)?;
        let (rg_time, rg_out) = run_rg(&rg, q, &corpus_path)?;
        compare(q, &sink_full.0, &jq_out, &rg_out)?;
        // Two untimed rounds so both timings see a warm index.
        for _ in 0..2 {
            rt.block_on(first_page(&client, &base, q))?;
        }
        let mut page = Vec::with_capacity(a.page_runs);
        for _ in 0..a.page_runs {
            let t = Instant::now();
            rt.block_on(first_page(&client, &base, q))?;
            page.push(t.elapsed());
        }
        let mut full = Vec::with_capacity(a.full_runs);
        for _ in 0..a.full_runs {
            let t = Instant::now();
            let (events, _) = rt.block_on(full_set(&client, &base, q))?;
            full.push(t.elapsed());
            if events.len() != sink_full.0.len() {
                bail!(
                    "{}: the sink answered {} events once and {} another time",
                    q.name,
                    sink_full.0.len(),
                    events.len()
                );
            }
        }
        rows.push(Row {
            name: q.name.clone(),
            matches: sink_full.0.len(),
            page: percentiles(&page),
            full: percentiles(&full),
            pages: sink_full.1,
            jq: jq_time,
            rg: rg_time,
            field_or_time: q.field_or_time,
        });
    }
    drop(server);
    let load_after = load_average();

    let table = table(&rows);
    let mut report = String::new();
    let _ = writeln!(report, "## Audit search: sink vs. jq and rg\n");
    let _ = writeln!(report, "- command: `{command_line}`");
    let _ = writeln!(
        report,
        "- date: {}; machine: {} cores, {} memory; load average before {load_before}, after {load_after}",
        started_at.strftime("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_total()
    );
    let _ = writeln!(
        report,
        "- corpus: `{}`, {} events, {corpus_bytes} bytes of JSON lines ({:.2} GB); reading it once (page cache warm-up before jq/rg): {}",
        corpus_path.display(),
        import.events,
        corpus_bytes as f64 / 1e9,
        ms(warm)
    );
    let _ = writeln!(
        report,
        "- sink: `{}`; import: {}",
        bin.display(),
        import.describe()
    );
    let _ = writeln!(
        report,
        "- questions: user `{user}`, hour `{hour}`, namespace `{}`, word `{}`; sink over HTTP on loopback \
         (keep-alive client, time until the answer is parsed), first page = `limit=100`, \
         full set = pages of `limit=10000` by cursor; p50/p99 by nearest rank over {} first-page and {} full-set runs after 2 warm-up runs; \
         jq and rg: one run each, wall time, output captured",
        a.namespace, a.word, a.page_runs, a.full_runs
    );
    let _ = writeln!(
        report,
        "- every question's result sets are identical: sink events byte for byte = the lines rg prints, and the same (auditID, stage, stageTimestamp) set as jq\n"
    );
    report.push_str(&table);
    println!("\n{report}");
    if let Some(path) = &a.report {
        std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn table(rows: &[Row]) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| query | matches | sink first page p50 / p99 | sink full set p50 / p99 (pages) | jq wall | rg wall | jq / sink full set (p50) | jq / sink first page (p50) | rg / sink full set (p50) |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        let _ = writeln!(
            t,
            "| {}{} | {} | {} / {} | {} / {} ({}) | {} | {} | {:.0}× | {:.0}× | {:.1}× |",
            r.name,
            if r.field_or_time { "" } else { " ¹" },
            r.matches,
            ms(r.page.0),
            ms(r.page.1),
            ms(r.full.0),
            ms(r.full.1),
            r.pages,
            ms(r.jq),
            ms(r.rg),
            ratio(r.jq, r.full.0),
            ratio(r.jq, r.page.0),
            ratio(r.rg, r.full.0),
        );
    }
    let _ = writeln!(
        t,
        "\n¹ full text; the issue's ≥ 100× goal is for the field and time questions."
    );
    t
}

fn prepare_corpus(ws: &Workspace, a: &SearchArgs, work: &Path) -> Result<PathBuf> {
    match (&a.corpus, a.events) {
        (Some(c), None) => {
            if !c.is_file() {
                bail!(
                    "--corpus {}: no such file; write one with `cargo xtask corpus --out FILE`",
                    c.display()
                );
            }
            reject_gzip(c)?;
            Ok(c.clone())
        }
        (Some(c), Some(n)) => {
            reject_gzip(c)?;
            let out = work.join(format!("corpus-first-{n}.jsonl"));
            let mut r = BufReader::with_capacity(
                1 << 20,
                File::open(c).with_context(|| format!("opening {}", c.display()))?,
            );
            let mut w = std::io::BufWriter::with_capacity(1 << 20, File::create(&out)?);
            let mut line = Vec::new();
            for i in 0..n {
                line.clear();
                if r.read_until(b'\n', &mut line)? == 0 {
                    bail!("--events {n}: {} has only {i} lines", c.display());
                }
                w.write_all(&line)?;
            }
            w.flush()?;
            Ok(out)
        }
        (None, n) => {
            let n = n.unwrap_or(5_000_000);
            let out = work.join(format!("corpus-seed{}-{n}.jsonl", a.seed));
            let t = corpus::load_templates(&corpus::default_data_dir(ws))?;
            let start: jiff::Timestamp = corpus::DEFAULT_START.parse()?;
            let spec = corpus::Spec {
                events: n,
                seed: a.seed,
                start_micros: start.as_microsecond(),
                span_micros: 7 * 86_400_000_000,
            };
            corpus::write_file(&t.templates, &spec, &out)?;
            Ok(out)
        }
    }
}

fn reject_gzip(path: &Path) -> Result<()> {
    let mut magic = [0u8; 2];
    let gz = File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b];
    if gz {
        bail!(
            "{} is gzip'd: jq and rg need the plain JSON lines; gunzip it first",
            path.display()
        );
    }
    Ok(())
}

/// How the data directory was filled.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
struct ImportInfo {
    events: u64,
    seconds: f64,
    index_bytes: u64,
    data_bytes: u64,
    reused: bool,
}

impl ImportInfo {
    fn describe(&self) -> String {
        format!(
            "{}{:.0} s ({:.0} events/s) with `audit-sink import`; index {:.2} GB on disk ({:.0} bytes/event), data dir {:.2} GB",
            if self.reused {
                "imported earlier in "
            } else {
                "imported in "
            },
            self.seconds,
            self.events as f64 / self.seconds.max(1e-9),
            self.index_bytes as f64 / 1e9,
            self.index_bytes as f64 / self.events.max(1) as f64,
            self.data_bytes as f64 / 1e9
        )
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn import_corpus(bin: &Path, corpus: &Path, data_dir: &Path, reuse: bool) -> Result<ImportInfo> {
    let info_path = data_dir.with_extension("import.json");
    if reuse {
        if !data_dir.join("index").is_dir() {
            bail!(
                "--reuse-data-dir: {} holds no index; import first (drop --reuse-data-dir)",
                data_dir.display()
            );
        }
        let text = std::fs::read_to_string(&info_path).with_context(|| {
            format!(
                "--reuse-data-dir: {} is missing (the import was not made by this bench)",
                info_path.display()
            )
        })?;
        let mut info: ImportInfo = serde_json::from_str(&text)?;
        info.reused = true;
        return Ok(info);
    }
    if data_dir.exists() {
        let looks_like_sink = ["LOCK", "wal", "index"]
            .iter()
            .any(|f| data_dir.join(f).exists());
        let empty = std::fs::read_dir(data_dir)?.next().is_none();
        if !looks_like_sink && !empty {
            bail!(
                "{} exists and is not a sink data directory; choose another --data-dir",
                data_dir.display()
            );
        }
        std::fs::remove_dir_all(data_dir)
            .with_context(|| format!("emptying {}", data_dir.display()))?;
    }
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("import")
        .arg("--no-progress")
        .args(["-o", "json"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg(corpus)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("starting {}", bin.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("audit-sink import failed ({}): {stdout}", out.status);
    }
    // One summary per file: stored, duplicates, dead letters by reason.
    let summaries: Vec<serde_json::Value> = serde_json::from_str(&stdout)
        .with_context(|| format!("unexpected output of audit-sink import: {stdout}"))?;
    let count = |key: &str| -> u64 { summaries.iter().filter_map(|s| s[key].as_u64()).sum() };
    let (imported, duplicates) = (count("stored"), count("duplicates"));
    let invalid: u64 = summaries
        .iter()
        .filter_map(|s| s["deadLetters"].as_object())
        .flat_map(|m| m.values())
        .filter_map(serde_json::Value::as_u64)
        .sum();
    let lines = corpus_lines(corpus)?;
    if imported != lines || duplicates != 0 || invalid != 0 {
        bail!(
            "audit-sink import stored {imported} of {lines} lines ({duplicates} duplicates, {invalid} dead letters): every corpus event must be stored once"
        );
    }
    let info = ImportInfo {
        events: imported,
        seconds,
        index_bytes: dir_bytes(&data_dir.join("index")),
        data_bytes: dir_bytes(data_dir),
        reused: false,
    };
    std::fs::write(&info_path, serde_json::to_string_pretty(&info)?)?;
    Ok(info)
}

/// Non-blank lines of the corpus (one event each).
fn corpus_lines(path: &Path) -> Result<u64> {
    let r =
        BufReader::new(File::open(path).with_context(|| format!("opening {}", path.display()))?);
    let mut n = 0;
    for line in r.split(b'\n') {
        if !line?.trim_ascii().is_empty() {
            n += 1;
        }
    }
    Ok(n)
}

/// User and hour (`YYYY-MM-DDTHH`) of the line in the middle of the corpus.
fn middle_event(path: &Path) -> Result<(String, String)> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len / 2))?;
    let mut r = BufReader::new(f);
    let mut line = Vec::new();
    if len / 2 > 0 {
        r.read_until(b'\n', &mut line)?;
    }
    line.clear();
    if r.read_until(b'\n', &mut line)? == 0 {
        // Tiny corpus: take the first line.
        let mut r = BufReader::new(File::open(path)?);
        r.read_until(b'\n', &mut line)?;
    }
    #[derive(Deserialize)]
    struct Sample {
        user: audit_api::UserInfo,
        #[serde(rename = "requestReceivedTimestamp")]
        received: String,
    }
    let s: Sample = serde_json::from_slice(line.trim_ascii())
        .context("the corpus's middle line is not an audit event with requestReceivedTimestamp")?;
    let hour = s.received.get(..13).context("short timestamp")?.to_string();
    Ok((s.user.username, hour))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn memory_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let kb: f64 = s
                .lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some(format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        })
        .unwrap_or_else(|| "?".into())
}

/// The sink, serving on a free loopback port; stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &Path, data_dir: &Path) -> Result<Server> {
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} serve", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let server = Server {
            url: line
                .trim()
                .strip_prefix("listening on ")
                .map(str::to_string)
                .unwrap_or_default(),
            child,
        };
        if server.url.is_empty() {
            bail!("audit-sink serve did not say where it listens (first line: {line:?})");
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM for a graceful stop, SIGKILL if it takes too long.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn stored_total(client: &reqwest::Client, base: &str) -> Result<u64> {
    let resp = client
        .get(format!("{base}{}", audit_api::STATS_PATH))
        .send()
        .await?;
    let status = resp.status();
    let body = resp.text().await?;
    if !status.is_success() {
        bail!("GET /v1/stats answered {status}: {body}");
    }
    let stats: audit_api::StatsResponse = serde_json::from_str(&body)?;
    Ok(stats.total)
}

async fn search_page(
    client: &reqwest::Client,
    base: &str,
    q: &Question,
    limit: usize,
    cursor: Option<&str>,
) -> Result<audit_api::SearchResponse> {
    let mut params: Vec<(&str, String)> = vec![("q", q.q.clone()), ("limit", limit.to_string())];
    if let Some(s) = &q.since {
        params.push(("since", s.clone()));
    }
    if let Some(u) = &q.until {
        params.push(("until", u.clone()));
    }
    if let Some(c) = cursor {
        params.push(("cursor", c.to_string()));
    }
    let resp = client
        .get(format!("{base}{}", audit_api::SEARCH_PATH))
        .query(&params)
        .send()
        .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        bail!(
            "{}: GET /v1/search answered {status}: {}",
            q.name,
            String::from_utf8_lossy(&body)
        );
    }
    serde_json::from_slice(&body).with_context(|| format!("{}: parsing the search answer", q.name))
}

async fn first_page(client: &reqwest::Client, base: &str, q: &Question) -> Result<usize> {
    Ok(
        search_page(client, base, q, audit_api::api::DEFAULT_LIMIT, None)
            .await?
            .events
            .len(),
    )
}

/// Every matching event (raw JSON as served) and the number of pages.
async fn full_set(
    client: &reqwest::Client,
    base: &str,
    q: &Question,
) -> Result<(Vec<Box<serde_json::value::RawValue>>, usize)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = search_page(
            client,
            base,
            q,
            audit_api::api::MAX_LIMIT,
            cursor.as_deref(),
        )
        .await?;
        pages += 1;
        all.extend(page.events);
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    Ok((all, pages))
}

fn run_jq(jq: &Path, q: &Question, corpus: &Path) -> Result<(Duration, Vec<u8>)> {
    let mut cmd = Command::new(jq);
    cmd.arg("-c");
    for (k, v) in &q.jq_args {
        cmd.arg("--arg").arg(k).arg(v);
    }
    cmd.arg(&q.jq_filter).arg(corpus);
    let t = Instant::now();
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("starting {}", jq.display()))?;
    let elapsed = t.elapsed();
    if !out.status.success() {
        bail!("{}: jq failed ({})", q.name, out.status);
    }
    Ok((elapsed, out.stdout))
}

fn run_rg(rg: &Path, q: &Question, corpus: &Path) -> Result<(Duration, Vec<u8>)> {
    let plain = ["--no-line-number", "--no-filename", "--color", "never"];
    let t = Instant::now();
    let mut children: Vec<Child> = Vec::new();
    let mut prev: Option<std::process::ChildStdout> = None;
    for (i, stage) in q.rg.iter().enumerate() {
        let mut cmd = Command::new(rg);
        cmd.args(plain).args(stage);
        if i == 0 {
            cmd.arg(corpus);
        } else {
            cmd.stdin(Stdio::from(prev.take().context("pipe")?));
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", rg.display()))?;
        prev = child.stdout.take();
        children.push(child);
    }
    let mut output = Vec::new();
    prev.context("no rg stage")?.read_to_end(&mut output)?;
    for mut c in children {
        let status = c.wait()?;
        // rg exits 1 when nothing matched.
        if !matches!(status.code(), Some(0 | 1)) {
            bail!("{}: rg failed ({status})", q.name);
        }
    }
    Ok((t.elapsed(), output))
}

/// Fails unless the sink, jq and rg found the same events.
fn compare(
    q: &Question,
    sink: &[Box<serde_json::value::RawValue>],
    jq_out: &[u8],
    rg_out: &[u8],
) -> Result<()> {
    let sink_lines: Vec<&[u8]> = sink.iter().map(|r| r.get().as_bytes()).collect();
    let jq_lines: Vec<&[u8]> = jq_out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let rg_lines: Vec<&[u8]> = rg_out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let keys = |lines: &[&[u8]]| -> Result<Vec<Key>> { lines.iter().map(|l| Key::of(l)).collect() };
    let sink_keys = keys(&sink_lines)?;
    // Newest first, each event once.
    for w in sink_keys.windows(2) {
        if w[0].received < w[1].received {
            bail!(
                "{}: the sink's answer is not newest first ({} before {})",
                q.name,
                w[0].received,
                w[1].received
            );
        }
    }
    let sink_set: BTreeSet<_> = sink_keys.iter().map(Key::id).collect();
    if sink_set.len() != sink_keys.len() {
        bail!(
            "{}: the sink returned {} events but only {} distinct keys (duplicates across pages)",
            q.name,
            sink_keys.len(),
            sink_set.len()
        );
    }
    for (tool, lines) in [("jq", &jq_lines), ("rg", &rg_lines)] {
        let set: BTreeSet<_> = keys(lines)?.iter().map(Key::id).collect();
        if set != sink_set || lines.len() != sink_lines.len() {
            let missing: Vec<_> = set.difference(&sink_set).take(3).collect();
            let extra: Vec<_> = sink_set.difference(&set).take(3).collect();
            bail!(
                "{}: result sets differ: sink {} events, {tool} {} ({} distinct); only in {tool}: {missing:?}; only in the sink: {extra:?}",
                q.name,
                sink_lines.len(),
                lines.len(),
                set.len()
            );
        }
    }
    let mut a = sink_lines.clone();
    let mut b = rg_lines.clone();
    a.sort_unstable();
    b.sort_unstable();
    if a != b {
        bail!(
            "{}: the sink's events are not byte for byte the corpus lines rg found",
            q.name
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(
            percentiles(&d),
            (Duration::from_millis(50), Duration::from_millis(99))
        );
        let d: Vec<Duration> = (1..=20).rev().map(Duration::from_millis).collect();
        assert_eq!(
            percentiles(&d),
            (Duration::from_millis(10), Duration::from_millis(20))
        );
    }

    #[test]
    fn questions_quote_values_and_bound_the_hour() {
        let q = questions("alice@example.com", "2026-11-04T13", "prod", "needle").unwrap();
        assert_eq!(q[0].since.as_deref(), Some("2026-11-04T13:00:00Z"));
        assert_eq!(q[0].until.as_deref(), Some("2026-11-04T14:00:00Z"));
        assert!(audit_api::parse_query(&q[0].q).is_ok());
        assert!(questions("a", "2026-11-04", "prod", "x").is_err());
        assert!(questions("a", "2026-11-04T13", "prod", "two words").is_err());
        for q in &q[5..] {
            assert!(matches!(
                audit_api::parse_query(&q.q),
                Ok(audit_api::Query::Text { .. })
            ));
        }
    }
}
