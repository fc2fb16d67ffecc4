//! What a plugin's `main` calls: runtime, error rendering, exit codes.

use std::future::Future;
use std::io::{self, Write};
use std::process::ExitCode;

use crate::{EXIT_ERROR, EXIT_OK, KitError};

/// Installs rustls' ring crypto provider as the process default, once: the
/// first call builds and installs it, later calls only check a flag. Call it
/// before building a TLS configuration; [`run`] does.
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs an async plugin body on a tokio runtime and turns its result into an exit code.
pub fn run<F, Fut>(body: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let result = runtime.block_on(body());
    // Don't wait for lingering background tasks (e.g. idle connections).
    runtime.shutdown_background();
    finish(result)
}

/// Runs a synchronous plugin body and turns its result into an exit code.
///
/// Nothing is set up before the body: a synchronous body is typically a
/// fast path (an exec credential served from a cache) that must not pay for
/// what it does not use. A body that makes TLS connections calls
/// [`install_crypto_provider`] first, or starts its runtime through [`run`].
pub fn run_sync<F>(body: F) -> ExitCode
where
    F: FnOnce() -> anyhow::Result<()>,
{
    finish(body())
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => {
            // A closed pipe while flushing is not an error either.
            let _ = io::stdout().flush();
            ExitCode::from(EXIT_OK)
        }
        Err(err) => report(err),
    }
}

/// Whether an error chain contains a broken pipe.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn report(err: anyhow::Error) -> ExitCode {
    if is_broken_pipe(&err) {
        return ExitCode::from(EXIT_OK);
    }
    let code = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<KitError>().map(KitError::exit_code))
        .unwrap_or(EXIT_ERROR);
    let _ = writeln!(io::stderr(), "error: {err:#}");
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_found_in_the_chain() {
        let err =
            anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing table");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
