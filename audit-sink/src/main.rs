//! `audit-sink`: receive the kube-apiserver's audit webhook batches, keep
//! them durable and searchable, and answer searches (`serve`); import log
//! backend files (`import`); inspect rejected input (`dead-letters`).
//!
//! Exit codes: 0 success, 1 error, 2 usage error.

use std::process::ExitCode;

use anyhow::Context as _;
use audit_sink::deadletter::{Listing, Output};
use audit_sink::pipeline::{Sink, SinkOptions};
use clap::Parser as _;

mod cli;

use cli::{Cli, Command, DeadLetterArgs, ImportArgs, ServeArgs};

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve(*a),
        Command::Import(a) => {
            init_logs(false);
            import(a)
        }
        Command::DeadLetters(a) => dead_letters(a),
        Command::Completion { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "audit-sink",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<()> {
    init_logs(a.log_format == "json");
    let opts = a.options()?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(audit_sink::server::serve(
        opts,
        shutdown_signal(),
        |scheme, addr| {
            use std::io::Write as _;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "listening on {scheme}://{addr}");
            let _ = out.flush();
        },
    ))?;
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}

fn import(a: ImportArgs) -> anyhow::Result<()> {
    let sink = Sink::open(SinkOptions {
        redact: a.redaction.options(),
        ..SinkOptions::new(&a.data.data_dir)
    })?;
    let output = a.output;
    let progress = !a.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let opts = audit_sink::import::ImportOptions {
        files: a.files,
        batch: audit_api::DEFAULT_BATCH_SIZE,
        progress,
        format: audit_api::envelope::parse_format_flag(&a.format)?,
        cluster: a.audit_cluster,
    };
    let result = audit_sink::import::import(&sink, &opts);
    sink.shutdown();
    let summaries = result?;
    let output = if output == "json" {
        Output::Json
    } else {
        Output::Table
    };
    match audit_sink::import::write_summaries(&mut std::io::stdout().lock(), &summaries, output) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn dead_letters(a: DeadLetterArgs) -> anyhow::Result<()> {
    let listing = Listing::read(&a.data.data_dir, a.tail)?;
    let output = if a.output == "json" {
        Output::Json
    } else {
        Output::Table
    };
    match listing.write(&mut std::io::stdout().lock(), output) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
