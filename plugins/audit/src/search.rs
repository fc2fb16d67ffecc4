//! `search` (one page, newest first, or `--follow`) and `tail` (live only).

use std::collections::HashSet;
use std::io::Write;

use audit_api::api::{FollowParams, MAX_LIMIT, SearchParams};
use jiff::Timestamp;
use kubectl_kit::{KitError, OutputFormat};

use crate::cli::{Cli, SearchArgs, TailArgs};
use crate::filters::{self, Selection};
use crate::merge::{Follow, Sinks};
use crate::render::{self, Record, StreamPrinter};

const EVENT_FORMATS: &[OutputFormat] = &[
    OutputFormat::Table,
    OutputFormat::Wide,
    OutputFormat::Json,
    OutputFormat::Jsonl,
    OutputFormat::Yaml,
    OutputFormat::Name,
];

/// `kubectl audit search`.
pub async fn search(cli: &Cli, args: &SearchArgs) -> anyhow::Result<()> {
    let format = cli.output.require(EVENT_FORMATS)?;
    let selection = filters::build(&args.filters, Timestamp::now())?;
    if args.limit == 0 || args.limit > MAX_LIMIT {
        return Err(KitError::usage(format!(
            "--limit {} is out of range: use 1 to {MAX_LIMIT} (and --page-token for the next page)",
            args.limit
        ))
        .into());
    }
    if args.follow && selection.until.is_some() {
        return Err(KitError::usage(
            "--follow streams events as they arrive: it cannot be combined with --until/--to",
        )
        .into());
    }
    let sink = Sinks::connect(
        &cli.sink,
        &cli.cluster,
        args.filters.namespace.as_deref(),
        args.follow,
    )
    .await?;

    if args.all {
        let n =
            crate::export::all_events(&sink, &selection, format, args.page_token.clone()).await?;
        if n == 0 && matches!(format, OutputFormat::Table | OutputFormat::Wide) {
            eprintln!(
                "{}",
                nothing_found(
                    &selection,
                    args.filters.namespace.as_deref(),
                    Timestamp::now()
                )
            );
        }
        return Ok(());
    }

    // Open the live stream before the search so nothing falls in between.
    let stream = if args.follow {
        Some(sink.follow(&follow_params(&selection)).await?)
    } else {
        None
    };
    let page = sink
        .search(&SearchParams {
            q: selection.q(),
            since: selection.since_param(),
            until: selection.until_param(),
            limit: Some(args.limit),
            cursor: args.page_token.clone(),
        })
        .await?;
    let mut records: Vec<Record> = page.events.into_iter().map(Record::new).collect();

    let Some(stream) = stream else {
        if records.is_empty() && matches!(format, OutputFormat::Table | OutputFormat::Wide) {
            eprintln!(
                "{}",
                nothing_found(
                    &selection,
                    args.filters.namespace.as_deref(),
                    Timestamp::now()
                )
            );
            return Ok(());
        }
        let mut out = kubectl_kit::output::stdout();
        render::write_events(&mut out, format, &records)?;
        out.flush()?;
        if let Some(next) = page.next.filter(|_| records.len() >= args.limit) {
            eprintln!("More events match: run the same command with --page-token {next}");
        }
        return Ok(());
    };

    // Following reads like `tail -f`: the page oldest first, then what arrives.
    render::sort_oldest_first(&mut records);
    let seen: HashSet<_> = records.iter().map(Record::key).collect();
    let mut printer = StreamPrinter::new(format);
    {
        let mut out = kubectl_kit::output::stdout();
        printer.header(&mut out)?;
        for r in &records {
            printer.event(&mut out, r)?;
        }
    }
    stream_events(stream, &mut printer, seen).await
}

/// `kubectl audit tail`.
pub async fn tail(cli: &Cli, args: &TailArgs) -> anyhow::Result<()> {
    let format = cli.output.require(EVENT_FORMATS)?;
    let selection = filters::build(&args.filters, Timestamp::now())?;
    if selection.since.is_some() || selection.until.is_some() {
        return Err(KitError::usage(
            "tail shows events from now on: for earlier ones use `kubectl audit search --follow --since …`",
        )
        .into());
    }
    let sink = Sinks::connect(
        &cli.sink,
        &cli.cluster,
        args.filters.namespace.as_deref(),
        true,
    )
    .await?;
    let stream = sink.follow(&follow_params(&selection)).await?;
    if kubectl_kit::output::stderr_is_tty() {
        eprintln!(
            "Waiting for events from {} (Ctrl-C to stop)…",
            sink.address()
        );
    }
    let mut printer = StreamPrinter::new(format);
    printer.header(&mut kubectl_kit::output::stdout())?;
    stream_events(stream, &mut printer, HashSet::new()).await
}

/// What kubectl would say: which range was searched and how to widen it,
/// e.g. `No events found in namespace prod in the last 1h (since …).`
fn nothing_found(selection: &Selection, namespace: Option<&str>, now: Timestamp) -> String {
    let place = namespace.map_or(String::new(), |ns| format!(" in namespace {ns}"));
    let span = |since: Timestamp| human_span(now.duration_since(since));
    match (selection.since, selection.until) {
        (None, None) => format!(
            "No events found{place} in everything the sink holds (no time limit): check the filters and the query."
        ),
        (Some(since), None) => format!(
            "No events found{place} in the last {} (since {since}).\nSearch further back with --since, e.g. --since {}, or leave it out to search everything the sink holds.",
            span(since),
            wider_since(now.duration_since(since)),
        ),
        (None, Some(until)) => format!(
            "No events found{place} before {until}.\nMove the end of the range with --until (or leave it out to search up to now)."
        ),
        (Some(since), Some(until)) => format!(
            "No events found{place} between {since} and {until}.\nWiden the range with --since (start) and --until (end), or leave them out to search everything the sink holds."
        ),
    }
}

/// A duration as people write it after `--since`: `90m` → `1h30m`.
fn human_span(d: jiff::SignedDuration) -> String {
    // The range began a moment before this message: `--since 1h` is `1h`, not `1h2s`.
    let secs = match d.as_secs().max(0) {
        s if s >= 120 => (s + 30) / 60 * 60,
        s => s,
    };
    let (days, hours, mins, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut out = String::new();
    for (n, unit) in [(days, "d"), (hours, "h"), (mins, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

/// The next usual `--since` span beyond the one searched.
fn wider_since(searched: jiff::SignedDuration) -> &'static str {
    const STEPS: &[(&str, i64)] = &[
        ("1h", 3600),
        ("6h", 6 * 3600),
        ("24h", 86_400),
        ("7d", 7 * 86_400),
        ("30d", 30 * 86_400),
        ("365d", 365 * 86_400),
    ];
    STEPS
        .iter()
        .find(|(_, secs)| *secs > searched.as_secs() + 60)
        .map_or("3650d", |(name, _)| name)
}

fn follow_params(selection: &Selection) -> FollowParams {
    FollowParams { q: selection.q() }
}

async fn stream_events(
    mut stream: Follow,
    printer: &mut StreamPrinter,
    seen: HashSet<(String, String, Option<String>)>,
) -> anyhow::Result<()> {
    loop {
        let next = tokio::select! {
            next = stream.next() => next?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(raw) = next else {
            anyhow::bail!(
                "the audit sink ended the live stream (was it restarted?); run the command again to resume"
            );
        };
        let record = Record::new(raw);
        if seen.contains(&record.key()) {
            continue;
        }
        let mut out = kubectl_kit::output::stdout();
        printer.event(&mut out, &record)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn nothing_found_names_the_range_and_how_to_widen_it() {
        let now = at("2026-01-02T12:00:00Z");
        let sel = |since: Option<&str>, until: Option<&str>| Selection {
            query: String::new(),
            since: since.map(at),
            until: until.map(at),
        };
        let m = nothing_found(&sel(Some("2026-01-02T11:00:00Z"), None), Some("prod"), now);
        assert!(
            m.starts_with(
                "No events found in namespace prod in the last 1h (since 2026-01-02T11:00:00Z)."
            ),
            "{m}"
        );
        assert!(m.contains("--since 6h"), "{m}");
        let m = nothing_found(&sel(Some("2025-12-26T12:00:00Z"), None), None, now);
        assert!(
            m.contains("in the last 7d ") && m.contains("--since 30d"),
            "{m}"
        );
        let m = nothing_found(
            &sel(Some("2026-01-01T00:00:00Z"), Some("2026-01-01T06:30:00Z")),
            None,
            now,
        );
        assert!(
            m.contains("between 2026-01-01T00:00:00Z and 2026-01-01T06:30:00Z")
                && m.contains("--since")
                && m.contains("--until"),
            "{m}"
        );
        let m = nothing_found(&sel(None, None), None, now);
        assert!(m.contains("no time limit"), "{m}");
        assert_eq!(human_span(jiff::SignedDuration::from_secs(5400)), "1h30m");
    }
}
