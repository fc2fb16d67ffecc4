//! `kubectl audit`: search, follow and summarise the audit events held by audit-sink.

fn main() -> std::process::ExitCode {
    kubectl_kit::run_sync(|| Ok(()))
}
