//! `import FILE…`: reads audit log files — the apiserver's log backend (one
//! JSON event per line, gzip'd rotations too) and the managed clusters'
//! exports (EKS, GKE, AKS; see `audit_api::envelope`) — with the reader
//! `audit-sink import` shares (`audit_api::logfile`), and sends the events to
//! the sink as `EventList` batches, the way the webhook backend would. The
//! sink deduplicates, so importing a file twice stores its events once; each
//! batch asks it to say how many it already had (`?report=duplicates`), so a
//! file's summary counts those as duplicates too. A batch holds the events
//! of one file, so each file's counts are its own.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use audit_api::api::MAX_LIMIT;
use audit_api::envelope::{self, Context, DeadRecord};
use audit_api::logfile::{FileSummary, LogFile};
use flate2::Compression;
use flate2::write::GzEncoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kubectl_kit::{KitError, OutputFormat};
use serde::Serialize;

use crate::cli::{Cli, ImportArgs};
use crate::client::Sink;

/// What an import did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Files read.
    pub files: usize,
    /// Events sent to the sink.
    pub sent: u64,
    /// Events the sink stored (or already had).
    pub accepted: u64,
    /// Events the sink refused and kept in its dead-letter log.
    pub rejected: u64,
    /// Records not sent: not events (see `perFile[].deadLetters` for why).
    pub skipped: u64,
    /// Batches sent.
    pub batches: u64,
    /// One summary per file: events stored, duplicates, dead letters by reason.
    pub per_file: Vec<FileSummary>,
}

/// `kubectl audit import`.
pub async fn import(cli: &Cli, args: &ImportArgs) -> anyhow::Result<()> {
    let format =
        cli.output
            .require(&[OutputFormat::Table, OutputFormat::Json, OutputFormat::Yaml])?;
    if args.batch_size == 0 || args.batch_size > MAX_LIMIT {
        return Err(KitError::usage(format!(
            "--batch-size {} is out of range: use 1 to {MAX_LIMIT} (the apiserver sends 400)",
            args.batch_size
        ))
        .into());
    }
    let mut total_bytes = 0;
    for path in &args.files {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            return Err(KitError::usage(format!(
                "{} is a directory: name the log files, e.g. {}/audit.log*",
                path.display(),
                path.display()
            ))
            .into());
        }
        total_bytes += meta.len();
    }
    let mut dead_file = match &args.dead_letters {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("cannot create --dead-letters {}", p.display()))?,
        )),
        None => None,
    };
    let sink = Sink::connect(&cli.sink, &cli.cluster, None, false).await?;

    let progress = ProgressBar::with_draw_target(
        Some(total_bytes),
        if args.no_progress || !kubectl_kit::output::stderr_is_tty() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} {wide_msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta})",
        )
        .expect("the progress template is valid")
        .progress_chars("=> "),
    );

    let forced =
        envelope::parse_format_flag(&args.format).map_err(|e| KitError::usage(e.to_string()))?;
    let ctx = Context {
        cluster: args.audit_cluster.clone(),
    };
    let mut summary = ImportSummary::default();
    let mut seen: HashSet<[u8; 16]> = HashSet::new();
    let mut batch: Vec<String> = Vec::with_capacity(args.batch_size);
    let mut done_bytes = 0u64;
    for path in &args.files {
        progress.set_message(path.display().to_string());
        summary.files += 1;
        let mut file = LogFile::open(path)?;
        let file_format = file.format(forced)?;
        let mut fs = FileSummary::new(path, file_format);
        while let Some(unit) = file.next_unit()? {
            let decoded = envelope::decode(file_format, &unit.bytes, &ctx);
            for d in &decoded.dead {
                fs.dead(&d.reason);
                summary.skipped += 1;
                report_dead(path, unit.line, d, &progress, dead_file.as_mut())?;
            }
            for e in decoded.events {
                if !seen.insert(key_digest(&e.event.dedup_key())) {
                    fs.duplicates += 1;
                    continue;
                }
                batch.push(e.json);
                if batch.len() == args.batch_size {
                    send_batch(&sink, &mut batch, &mut summary, &mut fs).await?;
                    progress.set_position(done_bytes + file.position());
                }
            }
        }
        send_batch(&sink, &mut batch, &mut summary, &mut fs).await?;
        done_bytes += file.len();
        progress.set_position(done_bytes);
        summary.per_file.push(fs);
    }
    progress.finish_and_clear();
    if let Some(f) = dead_file.as_mut() {
        f.flush().context("cannot write --dead-letters")?;
    }

    let mut out = kubectl_kit::output::stdout();
    match format {
        OutputFormat::Json => kubectl_kit::output::write_json(&mut out, &summary)?,
        OutputFormat::Yaml => out.write_all(kubectl_kit::output::to_yaml(&summary)?.as_bytes())?,
        _ => {
            let mut table = kubectl_kit::output::Table::new([
                "FILE",
                "FORMAT",
                "STORED",
                "DUPLICATES",
                "DEAD LETTERS",
            ]);
            for f in &summary.per_file {
                table.row([
                    f.file.clone(),
                    f.format.clone(),
                    f.stored.to_string(),
                    f.duplicates.to_string(),
                    f.dead_text(),
                ]);
            }
            out.write_all(table.render().as_bytes())?;
            writeln!(
                out,
                "Imported {} events from {} file(s) into {} in {} batch(es): {} accepted, {} rejected, {} record(s) not sent.",
                summary.sent,
                summary.files,
                sink.address(),
                summary.batches,
                summary.accepted,
                summary.rejected,
                summary.skipped
            )?;
            if summary.rejected > 0 {
                writeln!(
                    out,
                    "The sink kept the rejected events in its dead-letter log: see them and why with `audit-sink dead-letters` on the sink's host (with its --data-dir)."
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// 128 bits of the dedup key: enough to tell the events of one import apart
/// without keeping every key.
fn key_digest(key: &str) -> [u8; 16] {
    use std::hash::{DefaultHasher, Hasher};
    let mut out = [0u8; 16];
    for (i, seed) in [1u64, 2].into_iter().enumerate() {
        let mut h = DefaultHasher::new();
        h.write_u64(seed);
        h.write(key.as_bytes());
        out[i * 8..i * 8 + 8].copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// Warns about a record that is not sent, and keeps it in `--dead-letters`.
fn report_dead(
    path: &Path,
    line: u64,
    d: &DeadRecord,
    progress: &ProgressBar,
    file: Option<&mut std::io::BufWriter<std::fs::File>>,
) -> anyhow::Result<()> {
    let at = if d.location.is_empty() {
        format!("{}:{line}", path.display())
    } else {
        format!("{}:{line} {}", path.display(), d.location)
    };
    progress.suspend(|| eprintln!("warning: {at}: not stored, {}", d.reason));
    if let Some(f) = file {
        let entry = serde_json::json!({
            "reason": d.reason.to_string(),
            "source": at,
            "body": String::from_utf8_lossy(&d.bytes),
        });
        serde_json::to_writer(&mut *f, &entry)?;
        f.write_all(b"\n")?;
    }
    Ok(())
}

/// The `EventList` body around raw event lines, gzip'd.
pub fn event_list_body(items: &[String]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(br#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["#)?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            gz.write_all(b",")?;
        }
        gz.write_all(item.as_bytes())?;
    }
    gz.write_all(b"]}")?;
    gz.finish()
}

/// Sends one batch of `file`'s events; counts what the sink stored and what
/// it already had (all stored when it cannot tell: a sink in fleet mode, or
/// an older one).
async fn send_batch(
    sink: &Sink,
    batch: &mut Vec<String>,
    summary: &mut ImportSummary,
    file: &mut FileSummary,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let body = event_list_body(batch).context("cannot compress a batch")?;
    let answer = sink.ingest(body).await.with_context(|| {
        format!(
            "sending batch {} ({} events) failed; events sent before it are stored, and importing again is safe (the sink drops duplicates)",
            summary.batches + 1,
            batch.len()
        )
    })?;
    summary.batches += 1;
    summary.sent += batch.len() as u64;
    summary.accepted += answer.accepted;
    summary.rejected += answer.rejected;
    let duplicates = answer.duplicates.unwrap_or(0).min(answer.accepted);
    file.duplicates += duplicates;
    file.stored += answer.accepted - duplicates;
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn event_list_body_is_a_gzip_d_list_of_the_lines() {
        let body = event_list_body(&[r#"{"a":1}"#.into(), r#"{"b":2}"#.into()]).unwrap();
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&body[..])
            .read_to_string(&mut text)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["kind"], "EventList");
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        assert_eq!(v["items"][1]["b"], 2);
    }
}
