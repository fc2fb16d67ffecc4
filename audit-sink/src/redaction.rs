//! Secrets never stored: every ingest path passes each event through
//! [`Redaction::event`] (and whatever it keeps as a dead letter through
//! [`Redaction::rejected`]) before the write-ahead log, the index, the
//! dead-letter log or the follow stream see it. The rules themselves are
//! `audit_api::redact`.

use std::borrow::Cow;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use audit_api::redact::{ExtraRule, Redactor};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde_json::value::RawValue;

/// Name of the hash key file in the data directory.
pub const KEY_FILE: &str = "redact.key";

/// What to redact (the `--redact`, `--no-redact-secrets` and `--redact-key-file` flags).
#[derive(Debug, Clone)]
pub struct RedactOptions {
    /// Redact Secret data and tokens (on unless `--no-redact-secrets`).
    pub secrets: bool,
    /// Operators' extra paths.
    pub extra: Vec<ExtraRule>,
    /// Key of the value hashes in markers; default `DATA_DIR/redact.key`,
    /// created on first start. Replicas that should give equal markers for
    /// equal values share one key file.
    pub key_file: Option<PathBuf>,
}

impl Default for RedactOptions {
    fn default() -> RedactOptions {
        RedactOptions {
            secrets: true,
            extra: Vec::new(),
            key_file: None,
        }
    }
}

/// Failure to read or create the hash key.
#[derive(Debug, thiserror::Error)]
#[error(
    "redaction key {path}: {source}; the sink creates it on first start (32 random bytes), or pass --redact-key-file"
)]
pub struct KeyError {
    /// The key file.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// The redactor of a running sink, with its counters.
#[derive(Debug)]
pub struct Redaction {
    redactor: Redactor,
    redacted: Counter,
}

impl Redaction {
    /// Loads (or creates) the key and logs a warning when Secret redaction is off.
    pub fn open(data_dir: &Path, opts: &RedactOptions) -> Result<Redaction, KeyError> {
        let path = opts
            .key_file
            .clone()
            .unwrap_or_else(|| data_dir.join(KEY_FILE));
        let key = load_or_create_key(&path).map_err(|source| KeyError {
            path: path.clone(),
            source,
        })?;
        if !opts.secrets {
            tracing::warn!(
                "--no-redact-secrets: Secret data and tokens in audit events are stored as received; anyone who can search the sink or read its data directory can read them"
            );
        }
        Ok(Redaction {
            redactor: Redactor::new(opts.secrets, opts.extra.clone(), &key),
            redacted: Counter::default(),
        })
    }

    /// A redaction with a fixed key, for tools and tests.
    pub fn with_key(opts: &RedactOptions, key: &[u8]) -> Redaction {
        Redaction {
            redactor: Redactor::new(opts.secrets, opts.extra.clone(), key),
            redacted: Counter::default(),
        }
    }

    /// The rules.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// One event as received: itself when nothing needed redaction, else
    /// the redacted event.
    pub fn event(&self, raw: Box<RawValue>) -> Box<RawValue> {
        match self.redactor.redact_event(raw.get().as_bytes()) {
            Cow::Borrowed(_) => raw,
            Cow::Owned(bytes) => {
                self.redacted.inc();
                let text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
                RawValue::from_string(text).expect("serde_json writes valid JSON")
            }
        }
    }

    /// Bytes about to be kept as a dead letter.
    pub fn rejected<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        let out = self.redactor.redact_rejected(raw);
        if matches!(out, Cow::Owned(_)) {
            self.redacted.inc();
        }
        out
    }

    /// Registers the redaction's metrics: whether Secret data and tokens are
    /// redacted, and how many events and dead letters were stored redacted.
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "secret_redaction_enabled",
            "1 when Secret data and tokens are redacted before storage, 0 with --no-redact-secrets",
            ConstGauge::new(i64::from(self.redactor.redacts_secrets())),
        );
        registry.register(
            "events_redacted",
            "Events and dead letters stored with values redacted",
            self.redacted.clone(),
        );
    }
}

fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(k) if k.len() >= 16 => return Ok(k),
        Ok(_) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "shorter than 16 bytes",
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(mut f) => {
            f.write_all(&key)?;
            f.sync_all()?;
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = Redaction::open(dir.path(), &RedactOptions::default()).unwrap();
        let b = Redaction::open(dir.path(), &RedactOptions::default()).unwrap();
        let v = serde_json::json!("c2VjcmV0");
        assert_eq!(a.redactor().marker(&v), b.redactor().marker(&v));
        let key = std::fs::read(dir.path().join(KEY_FILE)).unwrap();
        assert_eq!(key.len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by the owner only");
        }
        let other = tempfile::tempdir().unwrap();
        let c = Redaction::open(other.path(), &RedactOptions::default()).unwrap();
        assert_ne!(a.redactor().marker(&v), c.redactor().marker(&v));
    }
}
