//! Decoding and understanding Kubernetes Secrets for `kubectl view-secret`.
//!
//! The pure part of the plugin, each piece testable alone: [`values`] reads a
//! Secret's stored values, [`detect`] decides what a value is (from the
//! Secret's type, the key and the value's shape), and [`render`] shows it as
//! stored, decoded or interpreted — TLS certificates ([`certs`]), registry
//! credentials ([`docker`]), Helm releases ([`helm`]) and binary data
//! ([`binary`]). [`manifest`] builds the `-o json|yaml` view and [`suggest`]
//! finds similar names for "not found" errors; [`cluster`] reads Secrets
//! from the API server and [`picker`] asks on a terminal. The command itself
//! (its flags and the view) lives in the `kubectl-view_secret` binary.

pub mod binary;
pub mod certs;
pub mod cluster;
pub mod detect;
pub mod docker;
pub mod helm;
pub mod manifest;
pub mod picker;
pub mod render;
pub mod style;
pub mod suggest;
pub mod values;
