//! `import FILE…`: reads audit log files written by the apiserver's log
//! backend (one JSON event per line, gzip'd rotations too) and sends them to
//! the sink as `EventList` batches, the way the webhook backend would. The
//! sink deduplicates, so importing a file twice stores its events once.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use anyhow::Context as _;
use audit_api::api::MAX_LIMIT;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kubectl_kit::{KitError, OutputFormat};
use serde::Serialize;

use crate::cli::{Cli, ImportArgs};
use crate::sink::Sink;

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
    /// Lines skipped because they are not JSON objects.
    pub skipped: u64,
    /// Batches sent.
    pub batches: u64,
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

    let mut summary = ImportSummary::default();
    let mut batch: Vec<String> = Vec::with_capacity(args.batch_size);
    for path in &args.files {
        progress.set_message(path.display().to_string());
        summary.files += 1;
        let reader = open_log(path, &progress)?;
        for (index, line) in reader.lines().enumerate() {
            let line = line
                .with_context(|| format!("cannot read {} at line {}", path.display(), index + 1))?;
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            if let Err(why) = check_line(text) {
                summary.skipped += 1;
                progress.suspend(|| {
                    eprintln!("warning: {}:{}: skipped, {why}", path.display(), index + 1)
                });
                continue;
            }
            batch.push(text.to_string());
            if batch.len() == args.batch_size {
                send_batch(&sink, &mut batch, &mut summary).await?;
            }
        }
    }
    send_batch(&sink, &mut batch, &mut summary).await?;
    progress.finish_and_clear();

    let mut out = kubectl_kit::output::stdout();
    match format {
        OutputFormat::Json => kubectl_kit::output::write_json(&mut out, &summary)?,
        OutputFormat::Yaml => out.write_all(kubectl_kit::output::to_yaml(&summary)?.as_bytes())?,
        _ => {
            writeln!(
                out,
                "Imported {} events from {} file(s) into {} in {} batch(es): {} accepted, {} rejected, {} line(s) skipped.",
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

/// Opens a log file, decompressing it when it starts with the gzip magic.
fn open_log(path: &Path, progress: &ProgressBar) -> anyhow::Result<Box<dyn BufRead>> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let counted = progress.wrap_read(head.chain(file));
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(counted))))
    } else {
        Ok(Box::new(BufReader::new(counted)))
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A line must be a JSON object; the sink judges whether it is a valid event.
fn check_line(text: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => {
            if o.get("kind").and_then(|k| k.as_str()) == Some("EventList") {
                Err("an EventList, not one event per line".into())
            } else {
                Ok(())
            }
        }
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(format!("not JSON ({e})")),
    }
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

async fn send_batch(
    sink: &Sink,
    batch: &mut Vec<String>,
    summary: &mut ImportSummary,
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
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_list_body_is_a_gzip_d_list_of_the_lines() {
        let body = event_list_body(&[r#"{"a":1}"#.into(), r#"{"b":2}"#.into()]).unwrap();
        let mut text = String::new();
        MultiGzDecoder::new(&body[..])
            .read_to_string(&mut text)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["kind"], "EventList");
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        assert_eq!(v["items"][1]["b"], 2);
    }

    #[test]
    fn lines_must_be_objects() {
        assert!(check_line(r#"{"kind": 0}"#).is_ok());
        assert!(check_line("[1]").unwrap_err().contains("not a JSON object"));
        assert!(check_line("{oops").unwrap_err().contains("not JSON"));
        assert!(check_line(r#"{"kind":"EventList","items":[]}"#).is_err());
    }
}
