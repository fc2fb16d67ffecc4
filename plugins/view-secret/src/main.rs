//! `kubectl view-secret`: print a Secret's values decoded.

fn main() -> std::process::ExitCode {
    kubectl_kit::run_sync(|| Ok(()))
}
