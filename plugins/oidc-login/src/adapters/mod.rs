//! What the use cases talk to, each testable alone: the identity provider
//! (discovery, token endpoint, JWKS, revocation), JWT verification, the token
//! cache (files or keyring, with its lock), the loopback redirect listener,
//! the browser, and kubectl's `ExecCredential` format.
//!
//! Adapters depend only on each other's types below them (`provider` uses
//! `jwt`, `cache` uses `jwt`) and never on the command line: they get the
//! resolved configuration of [`crate::settings`] or plain values.

pub mod browser;
pub mod cache;
pub mod exec_credential;
pub mod jwt;
pub mod loopback;
pub mod provider;
