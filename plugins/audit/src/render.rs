//! Printing events and statistics: kubectl-style tables (and `-o wide`), the
//! original events as JSON, JSON lines or YAML, and a text histogram.

use std::io::Write;

use audit_api::Event;
use audit_api::api::StatsResponse;
use jiff::Timestamp;
use kubectl_kit::OutputFormat;
use kubectl_kit::output::{Table, human_age};
use serde_json::value::RawValue;

/// One event as received plus its parsed form (for the table columns).
pub struct Record {
    /// The event exactly as the sink returned it.
    pub raw: Box<RawValue>,
    /// Parsed, tolerant of missing fields.
    pub event: Event,
}

impl Record {
    /// Parses the raw event; an event that does not parse still prints in JSON formats.
    pub fn new(raw: Box<RawValue>) -> Record {
        let event = serde_json::from_str::<Event>(raw.get()).unwrap_or_default();
        Record { raw, event }
    }

    /// When the request was received.
    pub fn received(&self) -> Option<Timestamp> {
        self.event.received_at().ok()
    }

    /// `(auditID, stage)`, enough to tell two events apart in one listing.
    pub fn key(&self) -> (String, String, Option<String>) {
        (
            self.event.audit_id.clone(),
            self.event.stage.clone(),
            self.event.stage_timestamp.clone(),
        )
    }
}

/// Sorts oldest first (ties: by stage order, then auditID).
pub fn sort_oldest_first(records: &mut [Record]) {
    records.sort_by(|a, b| {
        a.received()
            .cmp(&b.received())
            .then_with(|| stage_rank(&a.event.stage).cmp(&stage_rank(&b.event.stage)))
            .then_with(|| a.event.stage_at().ok().cmp(&b.event.stage_at().ok()))
            .then_with(|| a.event.audit_id.cmp(&b.event.audit_id))
    });
}

fn stage_rank(stage: &str) -> usize {
    crate::filters::STAGES
        .iter()
        .position(|s| *s == stage)
        .unwrap_or(usize::MAX)
}

const HEADERS: [&str; 8] = [
    "TIME",
    "USER",
    "VERB",
    "RESOURCE",
    "NAMESPACE/NAME",
    "CODE",
    "SOURCE IP",
    "AGE",
];
const WIDE_HEADERS: [&str; 5] = ["STAGE", "USER AGENT", "AUDIT ID", "IMPERSONATED", "CLUSTER"];

/// The table cells of one event.
pub fn cells(event: &Event, wide: bool) -> Vec<String> {
    let received = event.received_at().ok();
    let time = received
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "<unknown>".into());
    let (resource, object) = match &event.object_ref {
        Some(o) => {
            let mut resource = o.resource.clone().unwrap_or_default();
            if let Some(sub) = o.subresource.as_deref().filter(|s| !s.is_empty()) {
                resource = format!("{resource}/{sub}");
            }
            let name = o.name.clone().unwrap_or_default();
            let object = match (
                o.namespace.as_deref().filter(|n| !n.is_empty()),
                name.is_empty(),
            ) {
                (Some(ns), false) => format!("{ns}/{name}"),
                (Some(ns), true) => format!("{ns}/"),
                (None, false) => name,
                (None, true) => String::new(),
            };
            (resource, object)
        }
        None => {
            let path = event
                .request_uri
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string();
            (path, String::new())
        }
    };
    let code = event
        .code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "-".into());
    let ip = event.source_ips.first().cloned().unwrap_or_default();
    let age = received
        .map(human_age)
        .unwrap_or_else(|| "<unknown>".into());
    let mut row = vec![
        time,
        or_dash(event.user.username.clone()),
        or_dash(event.verb.clone()),
        or_dash(resource),
        or_dash(object),
        code,
        or_dash(ip),
        age,
    ];
    if wide {
        row.push(or_dash(event.stage.clone()));
        row.push(or_dash(event.user_agent.clone().unwrap_or_default()));
        row.push(or_dash(event.audit_id.clone()));
        row.push(or_dash(
            event
                .impersonated_user
                .as_ref()
                .map(|u| u.username.clone())
                .unwrap_or_default(),
        ));
        row.push(audit_api::fields::event_cluster(event).to_string());
    }
    row
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

fn headers(wide: bool) -> Vec<&'static str> {
    let mut h = HEADERS.to_vec();
    if wide {
        h.extend(WIDE_HEADERS);
    }
    h
}

/// Writes events in the chosen format. Tables print `No events found.` on
/// stderr when empty, as kubectl does for empty lists.
pub fn write_events(
    out: &mut impl Write,
    format: OutputFormat,
    records: &[Record],
) -> std::io::Result<()> {
    match format {
        OutputFormat::Table | OutputFormat::Wide => {
            if records.is_empty() {
                eprintln!("No events found.");
                return Ok(());
            }
            let wide = format == OutputFormat::Wide;
            // Events of several clusters: say which (wide has the column anyway).
            let first = records
                .first()
                .map(|r| audit_api::fields::event_cluster(&r.event));
            let several = records
                .iter()
                .any(|r| Some(audit_api::fields::event_cluster(&r.event)) != first);
            let mut h = headers(wide);
            if several && !wide {
                h.insert(0, "CLUSTER");
            }
            let mut table = Table::new(h);
            for r in records {
                let mut row = cells(&r.event, wide);
                if several && !wide {
                    row.insert(0, audit_api::fields::event_cluster(&r.event).to_string());
                }
                table.row(row);
            }
            out.write_all(table.render().as_bytes())
        }
        OutputFormat::Json => {
            if records.is_empty() {
                return out.write_all(b"[]\n");
            }
            out.write_all(b"[\n")?;
            for (i, r) in records.iter().enumerate() {
                out.write_all(b"    ")?;
                out.write_all(pretty_json(r.raw.get(), 1).as_bytes())?;
                out.write_all(if i + 1 < records.len() { b",\n" } else { b"\n" })?;
            }
            out.write_all(b"]\n")
        }
        OutputFormat::Jsonl => {
            for r in records {
                write_jsonl(out, r)?;
            }
            Ok(())
        }
        OutputFormat::Yaml => {
            let values: Vec<serde_json::Value> = records
                .iter()
                .map(|r| serde_json::from_str(r.raw.get()).unwrap_or(serde_json::Value::Null))
                .collect();
            let text = kubectl_kit::output::to_yaml(&values)?;
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
            Ok(())
        }
        OutputFormat::Name => {
            for r in records {
                writeln!(out, "{}", r.event.audit_id)?;
            }
            Ok(())
        }
    }
}

/// One event on one line, exactly as received.
pub fn write_jsonl(out: &mut impl Write, record: &Record) -> std::io::Result<()> {
    let text = record.raw.get();
    if text.contains('\n') {
        // Raw JSON may hold insignificant newlines; JSON lines may not.
        let compact: serde_json::Value =
            serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        writeln!(out, "{compact}")
    } else {
        writeln!(out, "{text}")
    }
}

/// Re-indents JSON text with four spaces per level, keeping key order and
/// number spelling exactly as written (serde_json's `Value` would sort keys).
pub fn pretty_json(raw: &str, base_level: usize) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let mut level = base_level;
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = raw.chars().collect();
    let indent = |out: &mut String, level: usize| {
        out.push('\n');
        for _ in 0..level {
            out.push_str("    ");
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                let next = chars[i + 1..].iter().position(|c| !c.is_whitespace());
                if let Some(off) = next
                    && chars[i + 1 + off] == close
                {
                    out.push(c);
                    out.push(close);
                    i += off + 2;
                    continue;
                }
                out.push(c);
                level += 1;
                indent(&mut out, level);
            }
            '}' | ']' => {
                level = level.saturating_sub(1);
                indent(&mut out, level);
                out.push(c);
            }
            ',' => {
                out.push(',');
                indent(&mut out, level);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Prints events one by one as they stream in, in the chosen format; table
/// rows use fixed column widths because later rows are not known yet.
pub struct StreamPrinter {
    format: OutputFormat,
    header_done: bool,
    widths: Vec<usize>,
}

impl StreamPrinter {
    /// A printer for `format`.
    pub fn new(format: OutputFormat) -> StreamPrinter {
        let wide = format == OutputFormat::Wide;
        let mut widths = vec![20, 24, 8, 22, 36, 4, 15, 6];
        if wide {
            widths.extend([16, 30, 36, 12]);
        }
        StreamPrinter {
            format,
            header_done: false,
            widths,
        }
    }

    /// Prints the table header (once); other formats have none.
    pub fn header(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.header_done || !matches!(self.format, OutputFormat::Table | OutputFormat::Wide) {
            return Ok(());
        }
        self.header_done = true;
        let h: Vec<String> = headers(self.format == OutputFormat::Wide)
            .into_iter()
            .map(str::to_string)
            .collect();
        self.line(out, &h)
    }

    /// Prints one event and flushes, so a pipe sees it at once.
    pub fn event(&mut self, out: &mut impl Write, record: &Record) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Table | OutputFormat::Wide => {
                self.header(out)?;
                let row = cells(&record.event, self.format == OutputFormat::Wide);
                self.line(out, &row)?;
            }
            OutputFormat::Json | OutputFormat::Jsonl => write_jsonl(out, record)?,
            OutputFormat::Yaml => {
                let value: serde_json::Value =
                    serde_json::from_str(record.raw.get()).unwrap_or(serde_json::Value::Null);
                let text = kubectl_kit::output::to_yaml(&value)?;
                out.write_all(b"---\n")?;
                out.write_all(text.as_bytes())?;
                if !text.ends_with('\n') {
                    out.write_all(b"\n")?;
                }
            }
            OutputFormat::Name => writeln!(out, "{}", record.event.audit_id)?,
        }
        out.flush()
    }

    fn line(&self, out: &mut impl Write, cells: &[String]) -> std::io::Result<()> {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                line.push_str(cell);
            } else {
                let width = self.widths.get(i).copied().unwrap_or(0);
                line.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count()) + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())
    }
}

/// Writes a stats answer: the top-N table (value, count, share) and, when
/// asked, the histogram.
pub fn write_stats(
    out: &mut impl Write,
    format: OutputFormat,
    stats: &StatsResponse,
    by_label: &str,
    histogram: bool,
) -> std::io::Result<()> {
    match format {
        OutputFormat::Json => {
            let mut buf = Vec::new();
            kubectl_kit::output::write_json(&mut buf, stats)?;
            return out.write_all(&buf);
        }
        OutputFormat::Yaml => {
            let text = kubectl_kit::output::to_yaml(stats)?;
            return out.write_all(text.as_bytes());
        }
        _ => {}
    }
    let mut table = Table::new([by_label.to_uppercase(), "COUNT".into(), "SHARE".into()]);
    let mut shown = 0;
    for c in &stats.counts {
        shown += c.count;
        table.row([
            if c.value.is_empty() {
                "<none>".to_string()
            } else {
                c.value.clone()
            },
            c.count.to_string(),
            share(c.count, stats.total),
        ]);
    }
    // Fields with one value per event: what the top N leave out.
    if shown < stats.total && !stats.counts.is_empty() && !by_label.eq_ignore_ascii_case("group") {
        let rest = stats.total - shown;
        table.row([
            "(others)".to_string(),
            rest.to_string(),
            share(rest, stats.total),
        ]);
    }
    if stats.counts.is_empty() {
        writeln!(out, "No events found.")?;
    } else {
        out.write_all(table.render().as_bytes())?;
    }
    writeln!(out, "TOTAL   {}", stats.total)?;
    if histogram {
        writeln!(out)?;
        write_histogram(out, stats)?;
    }
    Ok(())
}

fn share(count: u64, total: u64) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{:.1}%", count as f64 * 100.0 / total as f64)
}

/// A text histogram: one line per bucket, a bar scaled to the largest bucket.
pub fn write_histogram(out: &mut impl Write, stats: &StatsResponse) -> std::io::Result<()> {
    const BAR: usize = 40;
    if stats.histogram.is_empty() {
        return writeln!(out, "(no histogram: no matching events in the range)");
    }
    let max = stats
        .histogram
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let width = stats
        .histogram
        .iter()
        .map(|b| b.start.chars().count())
        .max()
        .unwrap_or(0);
    let count_width = max.to_string().len();
    for b in &stats.histogram {
        let len = ((b.count as f64 / max as f64) * BAR as f64).round() as usize;
        let len = if b.count > 0 { len.max(1) } else { 0 };
        writeln!(
            out,
            "{:<width$}   {:>count_width$}   {}",
            b.start,
            b.count,
            "█".repeat(len)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_json_keeps_order_and_numbers() {
        let raw = r#"{"b":1.50,"a":[],"c":{"x":"a,b:{c}","y":[1, 2]},"d":{}}"#;
        let pretty = pretty_json(raw, 0);
        assert_eq!(
            pretty,
            "{\n    \"b\": 1.50,\n    \"a\": [],\n    \"c\": {\n        \"x\": \"a,b:{c}\",\n        \"y\": [\n            1,\n            2\n        ]\n    },\n    \"d\": {}\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(raw).unwrap()
        );
        let escaped = r#"{"q":"say \"hi\", {ok}"}"#;
        assert_eq!(
            pretty_json(escaped, 0),
            "{\n    \"q\": \"say \\\"hi\\\", {ok}\"\n}"
        );
    }

    #[test]
    fn histogram_bars_scale_to_the_largest_bucket() {
        let stats = StatsResponse {
            total: 6,
            histogram: vec![
                audit_api::api::HistogramBucket {
                    start: "2024-05-01T10:00:00Z".into(),
                    count: 4,
                },
                audit_api::api::HistogramBucket {
                    start: "2024-05-01T11:00:00Z".into(),
                    count: 0,
                },
                audit_api::api::HistogramBucket {
                    start: "2024-05-01T12:00:00Z".into(),
                    count: 2,
                },
            ],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_histogram(&mut out, &stats).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].matches('█').count(), 40);
        assert_eq!(lines[1].matches('█').count(), 0);
        assert_eq!(lines[2].matches('█').count(), 20);
    }
}
