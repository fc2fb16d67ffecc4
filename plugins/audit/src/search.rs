//! `search` (one page, newest first, or `--follow`) and `tail` (live only).

use std::collections::HashSet;
use std::io::Write;

use audit_api::api::{FollowParams, MAX_LIMIT, SearchParams};
use jiff::Timestamp;
use kubectl_kit::{KitError, OutputFormat};

use crate::cli::{Cli, SearchArgs, TailArgs};
use crate::filters::{self, Selection};
use crate::render::{self, Record, StreamPrinter};
use crate::sink::{EventStream, Sink};

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
    let sink = Sink::connect(
        &cli.sink,
        &cli.cluster,
        args.filters.namespace.as_deref(),
        args.follow,
    )
    .await?;

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
    let sink = Sink::connect(
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

fn follow_params(selection: &Selection) -> FollowParams {
    FollowParams { q: selection.q() }
}

async fn stream_events(
    mut stream: EventStream,
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
