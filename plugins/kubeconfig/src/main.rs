//! `kubectl kubeconfig`: company-standard kubeconfigs from a catalog.

fn main() -> std::process::ExitCode {
    kubectl_kit::run_sync(|| Ok(()))
}
