//! `audit-sink import`: ingest files written by the apiserver's log backend
//! (`--audit-log-path`: one JSON event per line, rotated files possibly
//! gzip'd) through the same write-ahead log and dedup as the webhook path.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use anyhow::Context as _;
use audit_api::Event;
use serde_json::value::RawValue;

use crate::deadletter::DeadLetter;
use crate::pipeline::{Accepted, IngestError, Sink};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Non-blank lines read.
    pub lines: u64,
    /// Valid events written (duplicates included).
    pub accepted: u64,
    /// Invalid lines kept in the dead-letter log.
    pub rejected: u64,
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
}

/// Imports `files` into `sink`, showing a progress bar on stderr when `progress`.
pub fn import(
    sink: &Sink,
    files: &[PathBuf],
    batch: usize,
    progress: bool,
) -> anyhow::Result<ImportSummary> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if progress {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {wide_bar} {bytes}/{total_bytes} {msg} ({eta})",
            )
            .expect("valid template"),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut summary = ImportSummary::default();
    let mut done_bytes = 0u64;
    for path in files {
        let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let mut magic = [0u8; 2];
        let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let count = Arc::new(AtomicU64::new(0));
        let counting = Counting {
            inner: file,
            count: count.clone(),
        };
        let reader: Box<dyn BufRead> = if gz {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(counting),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, counting))
        };
        let mut accepted = Vec::new();
        let mut dead = Vec::new();
        let mut line_no = 0u64;
        let mut reader = reader;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .with_context(|| format!("reading {} (line {})", path.display(), line_no + 1))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            summary.lines += 1;
            let source = Some(format!("{}:{line_no}", path.display()));
            let parsed = std::str::from_utf8(text)
                .map_err(|e| format!("not UTF-8: {e}"))
                .and_then(|s| {
                    let raw = RawValue::from_string(s.to_string())
                        .map_err(|e| format!("not JSON: {e}"))?;
                    let raw = sink.shared.redaction.event(raw);
                    let event = Event::from_json(raw.get()).map_err(|e| e.to_string())?;
                    Accepted::new(&event, raw, &sink.shared.parts.fields).map_err(|e| e.to_string())
                });
            match parsed {
                Ok(a) => accepted.push(a),
                Err(reason) => dead.push(DeadLetter::new(
                    "event",
                    reason,
                    source,
                    &sink.shared.redaction.rejected(text),
                )),
            }
            if accepted.len() >= batch {
                flush(sink, &mut accepted, &mut dead, &mut summary)?;
                bar.set_position(done_bytes + count.load(Relaxed));
                bar.set_message(format!("{} events", summary.accepted));
            }
        }
        flush(sink, &mut accepted, &mut dead, &mut summary)?;
        done_bytes += count.load(Relaxed);
        bar.set_position(done_bytes);
        bar.set_message(format!("{} events", summary.accepted));
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn flush(
    sink: &Sink,
    accepted: &mut Vec<Accepted>,
    dead: &mut Vec<DeadLetter>,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    if accepted.is_empty() && dead.is_empty() {
        return Ok(());
    }
    let n = accepted.len();
    loop {
        match sink.reserve(n) {
            Ok(()) => break,
            Err(IngestError::Overloaded) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.into()),
        }
    }
    summary.accepted += n as u64;
    summary.rejected += dead.len() as u64;
    sink.ingest_blocking(std::mem::take(accepted), std::mem::take(dead))?;
    Ok(())
}
