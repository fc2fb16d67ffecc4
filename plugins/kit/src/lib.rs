//! The kubectl conventions every kubext plugin shares.
//!
//! A kubext plugin is invoked by `kubectl` (or a person) and must behave like
//! `kubectl` itself: the same flags (`--kubeconfig`, `--context`, `-n`, `-o`),
//! the same kubeconfig merging rules, tables that look alike, errors that keep
//! the API server's `Status` message, and the same exit codes. This crate is the
//! one place where those rules live:
//!
//! - [`KubeFlags`] resolves the kubeconfig, context, cluster, user and namespace
//!   exactly as `kubectl config view --minify` would, and builds a [`kube::Client`];
//! - [`selector`] parses label and field selectors into kube's `Selector`;
//! - [`OutputFlags`] and [`output`] print tables, JSON and YAML;
//! - [`KitError`] and [`api_error`] turn failures into messages that say what to do;
//! - [`parse_flag_duration`] reads every duration flag (`--request-timeout`,
//!   token lifetimes, margins) the same way: `0`, seconds, or `1h30m`, `2d`, `1w`;
//! - [`run`] and [`run_sync`] are what a plugin's `main` calls: they map errors to
//!   the documented exit codes and treat a closed stdout pipe as success;
//! - [`owner_only::restrict_to_owner`] keeps credential files private on every OS.
//!
//! Exit codes: `0` success, `1` error, `2` usage error.

pub mod completion;
mod error;
mod flags;
mod kubeconfig;
pub mod output;
pub mod owner_only;
mod run;
pub mod selector;

pub use error::{EXIT_ERROR, EXIT_OK, EXIT_USAGE, KitError, api_error};
pub use flags::{KubeFlags, OutputFlags, OutputFormat, Verbosity};
pub use kubeconfig::{KubeconfigEnv, Resolved};
pub use run::{install_crypto_provider, run, run_sync};

/// The one duration parser of every binary, from `audit-api` (which the sink
/// shares): re-exported so plugins need no dependency of their own.
pub use audit_api::time::{DurationError, parse_flag_duration};

/// Re-exported so plugins build clients and typed APIs with the same versions.
pub use k8s_openapi;
/// Re-exported so plugins build clients and typed APIs with the same versions.
pub use kube;
