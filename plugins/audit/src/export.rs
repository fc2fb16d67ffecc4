//! `search --all`: every matching event, newest first, following the
//! sink's cursor page after page to the end and writing each page out before
//! asking for the next, so memory stays that of one page however many events
//! match. `-o json` and `-o yaml` write one array, streamed too.

use std::io::{BufWriter, Write};

use audit_api::api::SearchParams;
use kubectl_kit::OutputFormat;

use crate::filters::Selection;
use crate::merge::Sinks;
use crate::render::{self, Record, StreamPrinter};

/// Events asked for per request.
pub const PAGE_SIZE: usize = 1000;

/// Writes every event matching `selection` (from `cursor` on, when given);
/// returns how many. A progress line goes to stderr on a terminal.
pub async fn all_events(
    sink: &Sinks,
    selection: &Selection,
    format: OutputFormat,
    cursor: Option<String>,
) -> anyhow::Result<u64> {
    let progress = kubectl_kit::output::stderr_is_tty();
    let mut out = BufWriter::with_capacity(1 << 16, kubectl_kit::output::stdout());
    let mut writer = ArrayWriter::new(format);
    let mut cursor = cursor;
    let mut count = 0u64;
    loop {
        let page = sink
            .search(&SearchParams {
                q: selection.q(),
                since: selection.since_param(),
                until: selection.until_param(),
                limit: Some(PAGE_SIZE),
                cursor: cursor.take(),
            })
            .await?;
        for raw in page.events {
            writer.event(&mut out, &Record::new(raw))?;
            count += 1;
        }
        // The events of a page reach a pipe before the next page is asked for.
        out.flush()?;
        if progress {
            eprint!("\r{count} events…");
        }
        match page.next.filter(|n| !n.is_empty()) {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    writer.end(&mut out, count)?;
    out.flush()?;
    if progress {
        // Clear the progress line.
        eprint!("\r\x1b[K");
    }
    Ok(count)
}

/// Writes events one at a time in `format`; json and yaml as one array.
struct ArrayWriter {
    format: OutputFormat,
    table: StreamPrinter,
    first: bool,
}

impl ArrayWriter {
    fn new(format: OutputFormat) -> ArrayWriter {
        ArrayWriter {
            format,
            table: StreamPrinter::new(format),
            first: true,
        }
    }

    fn event(&mut self, out: &mut impl Write, record: &Record) -> std::io::Result<()> {
        let first = std::mem::replace(&mut self.first, false);
        match self.format {
            OutputFormat::Json => {
                out.write_all(if first { b"[\n    " } else { b",\n    " })?;
                out.write_all(render::pretty_json(record.raw.get(), 1).as_bytes())
            }
            OutputFormat::Jsonl => render::write_jsonl(out, record),
            OutputFormat::Name => writeln!(out, "{}", record.event.audit_id),
            OutputFormat::Yaml => {
                // A list of one, written after the others, is the same list.
                let value: serde_json::Value =
                    serde_json::from_str(record.raw.get()).unwrap_or(serde_json::Value::Null);
                let text = kubectl_kit::output::to_yaml(&[value])?;
                out.write_all(text.as_bytes())?;
                if !text.ends_with('\n') {
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
            OutputFormat::Table | OutputFormat::Wide => self.table.event(out, record),
        }
    }

    fn end(&mut self, out: &mut impl Write, count: u64) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Json if count == 0 => out.write_all(b"[]\n"),
            OutputFormat::Json => out.write_all(b"\n]\n"),
            OutputFormat::Yaml if count == 0 => out.write_all(b"[]\n"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn record(id: &str) -> Record {
        Record::new(
            RawValue::from_string(format!(
                r#"{{"auditID":"{id}","stage":"ResponseComplete","verb":"get","n":1.50}}"#
            ))
            .unwrap(),
        )
    }

    fn written(format: OutputFormat, ids: &[&str]) -> String {
        let mut w = ArrayWriter::new(format);
        let mut out = Vec::new();
        for id in ids {
            w.event(&mut out, &record(id)).unwrap();
        }
        w.end(&mut out, ids.len() as u64).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_and_yaml_are_one_array_written_piecewise() {
        for n in [0, 1, 3] {
            let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let json: Vec<serde_json::Value> =
                serde_json::from_str(&written(OutputFormat::Json, &ids)).unwrap();
            assert_eq!(json.len(), n);
            let yaml: Vec<serde_json::Value> =
                serde_saphyr::from_str(&written(OutputFormat::Yaml, &ids)).unwrap();
            assert_eq!(yaml.len(), n);
            if n > 0 {
                assert_eq!(json[n - 1]["auditID"], format!("id{}", n - 1));
                assert_eq!(yaml[0]["auditID"], "id0");
            }
        }
        // Numbers as the sink sent them.
        assert!(written(OutputFormat::Json, &["a"]).contains("1.50"));
        assert_eq!(written(OutputFormat::Name, &["a", "b"]), "a\nb\n");
    }
}
