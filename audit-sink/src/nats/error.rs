//! Why fleet mode cannot start: each error names the flag, file, URL,
//! stream or consumer involved and keeps its cause.

use std::path::PathBuf;

use async_nats::jetstream::{context, object_store, stream};

use super::SUBJECT_PREFIX;

/// An `--index-subjects` value the sink never publishes to.
#[derive(Debug, thiserror::Error)]
pub enum SubjectsError {
    /// Not under `kubext.audit.`.
    #[error(
        "--index-subjects {subject:?}: give a subject under {p}., e.g. {p}.prod-eu, or {p}.* for every cluster",
        p = SUBJECT_PREFIX
    )]
    Prefix {
        /// The value given.
        subject: String,
    },
    /// More than one token after the prefix.
    #[error(
        "--index-subjects {subject:?}: the sink publishes {p}.<cluster>, one token after {p}. (cluster names have no dots), e.g. {p}.prod-eu, or {p}.* for every cluster",
        p = SUBJECT_PREFIX
    )]
    Dotted {
        /// The value given.
        subject: String,
    },
    /// A token that is neither a cluster name nor a whole wildcard.
    #[error(
        "--index-subjects {subject:?}: a NATS wildcard (* or >) matches a whole token only, and a cluster name has letters, digits, '-' and '_'; list the clusters one flag each, e.g. {p}.prod-eu, or {p}.* for every cluster",
        p = SUBJECT_PREFIX
    )]
    Token {
        /// The value given.
        subject: String,
    },
}

/// Why the sink cannot connect to the NATS servers.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The credentials file has no user JWT.
    #[error(
        "reading --nats-creds {}: no user JWT in it; a NATS credentials file holds a user JWT and its NKey seed, as `nsc generate creds` writes it",
        path.display()
    )]
    CredsWithoutJwt {
        /// The file.
        path: PathBuf,
    },
    /// The credentials file cannot be read or parsed.
    #[error("reading --nats-creds {}", path.display())]
    Creds {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The token file cannot be read.
    #[error("reading --nats-token-file {}", path.display())]
    ReadToken {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The token file is empty.
    #[error("--nats-token-file {} is empty", path.display())]
    EmptyToken {
        /// The file.
        path: PathBuf,
    },
    /// The CA bundle is not a file.
    #[error("--nats-ca {} is not a readable file", path.display())]
    Ca {
        /// The file.
        path: PathBuf,
    },
    /// A `--nats` value is not a server URL.
    #[error("--nats: {url:?} is not a NATS URL (nats://host:4222)")]
    Url {
        /// The value given.
        url: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The servers answered, and refused: retrying will not help.
    #[error("connecting to NATS at {urls}: {hint}")]
    Refused {
        /// The servers, comma-separated.
        urls: String,
        /// What was refused and which flag to check.
        hint: &'static str,
        /// The cause.
        #[source]
        source: async_nats::ConnectError,
    },
    /// No server answered within the start-up wait.
    #[error("connecting to NATS at {urls}: no server answered within 60 s")]
    Unreachable {
        /// The servers, comma-separated.
        urls: String,
        /// The last attempt's failure.
        #[source]
        source: async_nats::ConnectError,
    },
}

/// Why the stream, the object store or this replica's consumer cannot be
/// set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The existing stream cannot be the log of record.
    #[error(transparent)]
    Unusable(#[from] super::stream::Unusable),
    /// `--index-subjects` is refused.
    #[error(transparent)]
    Subjects(#[from] SubjectsError),
    /// The stream cannot be looked up.
    #[error("looking up the JetStream stream {name}")]
    GetStream {
        /// The stream.
        name: String,
        /// The cause.
        #[source]
        source: context::GetStreamError,
    },
    /// The existing stream's configuration cannot be read.
    #[error("reading the configuration of the JetStream stream {name}")]
    StreamInfo {
        /// The stream.
        name: String,
        /// The cause.
        #[source]
        source: context::RequestError,
    },
    /// The stream cannot be created.
    #[error(
        "creating the JetStream stream {name} with {replicas} replicas (a cluster needs at least as many JetStream servers as --nats-replicas)"
    )]
    CreateStream {
        /// The stream.
        name: String,
        /// `--nats-replicas`.
        replicas: usize,
        /// The cause.
        #[source]
        source: context::CreateStreamError,
    },
    /// The object store for large events cannot be created.
    #[error("creating the JetStream object store {bucket}")]
    CreateObjects {
        /// The bucket.
        bucket: String,
        /// The cause.
        #[source]
        source: context::CreateObjectStoreError,
    },
    /// This replica's consumer cannot be read.
    #[error("reading the durable consumer {name} of this replica")]
    ConsumerInfo {
        /// The consumer.
        name: String,
        /// The cause.
        #[source]
        source: context::ConsumerInfoError,
    },
    /// This replica's consumer cannot be changed to `--index-subjects`.
    #[error("changing the subjects of the durable consumer {name} of this replica")]
    UpdateConsumer {
        /// The consumer.
        name: String,
        /// The cause.
        #[source]
        source: stream::ConsumerUpdateError,
    },
    /// This replica's consumer cannot be created.
    #[error("creating the durable consumer {name} of this replica")]
    CreateConsumer {
        /// The consumer.
        name: String,
        /// The cause.
        #[source]
        source: stream::ConsumerError,
    },
}

/// Why `audit-sink serve --nats` cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// `--index-subjects` is refused.
    #[error(transparent)]
    Subjects(#[from] SubjectsError),
    /// The servers cannot be reached or refused the sink.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The stream cannot be the log of record.
    #[error(transparent)]
    Unusable(#[from] super::stream::Unusable),
    /// JetStream did not answer the set-up requests within the start-up wait.
    #[error(
        "NATS at {urls} did not answer JetStream requests within 60 s; is JetStream enabled and does the cluster have a quorum?"
    )]
    NotReady {
        /// The servers, comma-separated.
        urls: String,
        /// The last attempt's failure.
        #[source]
        source: SetupError,
    },
    /// The data directory (or its dead-letter log) cannot be opened.
    #[error(transparent)]
    Sink(#[from] crate::pipeline::OpenError),
    /// The indexer thread cannot be started.
    #[error("starting the indexer thread")]
    Thread {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Why a large event cannot be read from the object store.
#[derive(Debug, thiserror::Error)]
pub(super) enum ObjectError {
    /// The object cannot be found or opened.
    #[error(transparent)]
    Get(#[from] object_store::GetError),
    /// Its content cannot be read.
    #[error(transparent)]
    Read(#[from] std::io::Error),
}
