//! `kubectl kubeconfig`: company-standard kubeconfigs from a catalog.
//!
//! A platform team describes its clusters, identity providers and teams once,
//! in a versioned catalog ([`catalog`]). From it this crate generates
//! kubeconfigs whose users log in with `kubectl oidc-login` ([`generate`]),
//! merges kubeconfigs into a person's own without losing anything
//! ([`merge`], [`write`](mod@write)), and backs the `serviceaccount` and `check`
//! subcommands of the `kubectl-kubeconfig` binary.

pub mod catalog;
pub mod check;
pub mod generate;
pub mod merge;
pub mod serviceaccount;
pub mod source;
pub mod template;
pub mod write;
