//! `audit-sink import`: ingest audit log files — the apiserver's log backend
//! (`--audit-log-path`: one JSON event per line, rotated files possibly
//! gzip'd) and the managed clusters' exports (EKS, GKE, AKS; see
//! [`audit_api::envelope`]) — through the same write-ahead log and dedup as
//! the webhook path. Files are read by [`audit_api::logfile`], the reader
//! `kubectl audit import` shares.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use audit_api::envelope::{self, Context, Format};
use audit_api::logfile::{FileSummary, LogFile, LogFileError};
use serde_json::value::RawValue;

use crate::deadletter::DeadLetter;
use crate::deadletter::Output;
use crate::pipeline::{Accepted, Duplicates, IngestError, Sink};

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The files.
    pub files: Vec<PathBuf>,
    /// Events per write-ahead log append.
    pub batch: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// The format, or `None` to tell it from each file's content.
    pub format: Option<Format>,
    /// The cluster of events whose file does not name one.
    pub cluster: Option<String>,
}

/// Why an import stopped. Events of earlier batches are stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file cannot be opened, recognised or read.
    #[error(transparent)]
    File(#[from] LogFileError),
    /// A decoded event is not JSON any more.
    #[error("re-reading a decoded event of {}:{line}", path.display())]
    Decoded {
        /// The file.
        path: PathBuf,
        /// Where in it, from 1.
        line: u64,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A batch could not be stored.
    #[error("storing the events of {}", path.display())]
    Store {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: IngestError,
    },
}

/// Prints what an import did: one line per file under a header (and a
/// pointer to `audit-sink dead-letters` when records were set aside), or the
/// summaries as one JSON array.
pub fn write_summaries(
    out: &mut impl Write,
    summaries: &[FileSummary],
    output: Output,
) -> io::Result<()> {
    if output == Output::Json {
        serde_json::to_writer_pretty(&mut *out, summaries)?;
        return writeln!(out);
    }
    writeln!(
        out,
        "{:<40}  {:<9}  {:>8}  {:>10}  DEAD LETTERS",
        "FILE", "FORMAT", "STORED", "DUPLICATES"
    )?;
    for s in summaries {
        writeln!(
            out,
            "{:<40}  {:<9}  {:>8}  {:>10}  {}",
            s.file,
            s.format,
            s.stored,
            s.duplicates,
            s.dead_text()
        )?;
    }
    let dead: u64 = summaries.iter().map(FileSummary::dead_total).sum();
    if dead > 0 {
        writeln!(
            out,
            "{dead} record(s) not stored were kept with their reason in the dead-letter log (audit-sink dead-letters)."
        )?;
    }
    Ok(())
}

/// Imports `opts.files` into `sink`, one [`FileSummary`] per file.
pub fn import(sink: &Sink, opts: &ImportOptions) -> Result<Vec<FileSummary>, ImportError> {
    let total: u64 = opts
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if opts.progress {
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
    let ctx = Context {
        cluster: opts.cluster.clone(),
    };
    let mut summaries = Vec::with_capacity(opts.files.len());
    let mut done_bytes = 0u64;
    for path in &opts.files {
        let mut file = LogFile::open(path)?;
        let format = file.format(opts.format)?;
        let mut summary = FileSummary::new(path, format);
        let mut written = 0u64;
        // One per append: told by the indexer once it has taken the events.
        let mut counts: Vec<Duplicates> = Vec::new();
        let mut accepted = Vec::new();
        let mut dead = Vec::new();
        while let Some(unit) = file.next_unit()? {
            let decoded = envelope::decode(format, &unit.bytes, &ctx);
            for e in decoded.events {
                let raw = RawValue::from_string(e.json).map_err(|source| ImportError::Decoded {
                    path: path.clone(),
                    line: unit.line,
                    source,
                })?;
                // Redacted before anything is written, as on every ingest path.
                let raw = sink.shared.redaction.event(raw);
                match Accepted::parse(raw, &sink.shared.parts.fields) {
                    Ok(a) => accepted.push(a),
                    Err(err) => {
                        summary.dead(&envelope::DeadReason::InvalidEvent(err.to_string()));
                        dead.push(DeadLetter::new(
                            "event",
                            format!("invalid-event: {err}"),
                            Some(format!("{}:{}", path.display(), unit.line)),
                            &sink.shared.redaction.rejected(&unit.bytes),
                        ));
                    }
                }
            }
            for d in decoded.dead {
                summary.dead(&d.reason);
                let at = if d.location.is_empty() {
                    format!("{}:{}", path.display(), unit.line)
                } else {
                    format!("{}:{} {}", path.display(), unit.line, d.location)
                };
                dead.push(DeadLetter::new(
                    "event",
                    d.reason.to_string(),
                    Some(at),
                    &sink.shared.redaction.rejected(&d.bytes),
                ));
            }
            if accepted.len() >= opts.batch || dead.len() >= opts.batch {
                written += flush(sink, path, &mut accepted, &mut dead, &mut counts)?;
                bar.set_position(done_bytes + file.position());
                bar.set_message(format!("{}: {written} events", path.display()));
            }
        }
        written += flush(sink, path, &mut accepted, &mut dead, &mut counts)?;
        // Duplicates are found by the indexer: each append tells its own.
        let mut unknown = false;
        for c in counts {
            match c.count_blocking() {
                Some(n) => summary.duplicates += n,
                None => unknown = true,
            }
        }
        if unknown {
            tracing::warn!(file = %path.display(), "index writes fail: the events are durable in the write-ahead log and indexed later, but some duplicates were not told apart; they are counted as stored");
        }
        summary.duplicates = summary.duplicates.min(written);
        summary.stored = written - summary.duplicates;
        done_bytes += file.len();
        bar.set_position(done_bytes);
        summaries.push(summary);
    }
    bar.finish_and_clear();
    Ok(summaries)
}

/// Appends the batch durably; returns how many events it held, and keeps
/// where its duplicates will be told in `counts`.
fn flush(
    sink: &Sink,
    path: &Path,
    accepted: &mut Vec<Accepted>,
    dead: &mut Vec<DeadLetter>,
    counts: &mut Vec<Duplicates>,
) -> Result<u64, ImportError> {
    let failed = |source| ImportError::Store {
        path: path.to_path_buf(),
        source,
    };
    if accepted.is_empty() && dead.is_empty() {
        return Ok(0);
    }
    let n = accepted.len();
    loop {
        match sink.reserve(n) {
            Ok(()) => break,
            Err(IngestError::Overloaded) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(failed(e)),
        }
    }
    counts.push(
        sink.ingest_blocking(std::mem::take(accepted), std::mem::take(dead))
            .map_err(failed)?,
    );
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn summaries() -> Vec<FileSummary> {
        vec![
            FileSummary {
                file: "audit.log".into(),
                format: "apiserver".into(),
                stored: 600,
                duplicates: 0,
                dead_letters: BTreeMap::from([("malformed".to_string(), 1)]),
            },
            FileSummary {
                file: "audit-2025-01-10T12-00-00.log.gz".into(),
                format: "apiserver".into(),
                stored: 400,
                duplicates: 200,
                dead_letters: BTreeMap::new(),
            },
        ]
    }

    fn printed(summaries: &[FileSummary], output: Output) -> String {
        let mut out = Vec::new();
        write_summaries(&mut out, summaries, output).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_summary_table_has_one_aligned_line_per_file_and_points_at_the_dead_letters() {
        let text = printed(&summaries(), Output::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(
            lines[0],
            "FILE                                      FORMAT       STORED  DUPLICATES  DEAD LETTERS"
        );
        assert_eq!(
            lines[1],
            "audit.log                                 apiserver       600           0  malformed 1"
        );
        assert_eq!(
            lines[2],
            "audit-2025-01-10T12-00-00.log.gz          apiserver       400         200  none"
        );
        assert_eq!(
            lines[3],
            "1 record(s) not stored were kept with their reason in the dead-letter log (audit-sink dead-letters)."
        );
        // Nothing set aside: no pointer to the dead-letter log.
        let clean = printed(&summaries()[1..], Output::Table);
        assert_eq!(clean.lines().count(), 2, "{clean}");
    }

    #[test]
    fn the_json_summary_is_one_array_with_camel_case_fields() {
        let text = printed(&summaries(), Output::Json);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[0]["deadLetters"]["malformed"], 1, "{text}");
        assert_eq!(v[1]["duplicates"], 200, "{text}");
        assert!(text.ends_with("]\n"), "{text:?}");
    }
}
