//! `kubectl-oidc_login`: OIDC exec credential plugin for kubectl.
fn main() {}
