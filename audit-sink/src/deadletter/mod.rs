//! The dead-letter log: every invalid event (and every body that is not an
//! EventList at all) is kept verbatim with the reason, one JSON object per
//! line in `<data-dir>/dead-letters.jsonl`. `audit-sink dead-letters` prints
//! it ([`Listing`]).
//!
//! A push service retries a request it got no 2xx for (Firehose with the
//! same `requestId`, Pub/Sub with the same `messageId`); the dead letters of
//! such a request carry a [`DeadLetter::key`] naming the request and their
//! place in it, and the log keeps each key once, across restarts.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

mod table;

pub use table::{Listing, Output, ReadError};

/// File name inside the data directory.
pub const FILE_NAME: &str = "dead-letters.jsonl";

/// One rejected event or body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was rejected (RFC 3339).
    pub time: String,
    /// Why.
    pub reason: String,
    /// `event` (one item of a list) or `body` (a whole request body).
    pub scope: String,
    /// Peer address, or the file and line for imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The bytes as received, when they are UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The bytes as received, base64, when they are not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
    /// Names the request that carried it and its place there, the same on
    /// every retry of that request (`firehose REQUEST-ID #N`); a dead letter
    /// whose key is already in the log is not written again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl DeadLetter {
    /// A dead letter for `bytes`, now.
    pub fn new(
        scope: &str,
        reason: impl Into<String>,
        source: Option<String>,
        bytes: &[u8],
    ) -> DeadLetter {
        let (body, body_base64) = match std::str::from_utf8(bytes) {
            Ok(s) => (Some(s.to_string()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
        };
        DeadLetter {
            time: jiff::Timestamp::now().to_string(),
            reason: reason.into(),
            scope: scope.into(),
            source,
            body,
            body_base64,
            key: None,
        }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_base64) {
            (Some(b), _) => b.as_bytes().to_vec(),
            (None, Some(b)) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// Appends dead letters.
///
/// Entries are buffered until [`DeadLetterLog::sync`]; a write or fsync that
/// fails (a full disk) cuts the file back to the end of the last synced entry,
/// so a torn line never glues itself to the next entry. An entry whose
/// [`DeadLetter::key`] is already in the log is skipped.
pub struct DeadLetterLog {
    file: File,
    buf: Vec<u8>,
    synced_len: u64,
    /// The keys in the file and in `buf`.
    keys: HashSet<String>,
    /// The keys in `buf`, forgotten again when writing it fails.
    buf_keys: Vec<String>,
}

/// Only the key of an entry, to read an existing log cheaply.
#[derive(Deserialize)]
struct KeyOnly {
    #[serde(default)]
    key: Option<String>,
}

impl DeadLetterLog {
    /// Opens (creates) the log in `data_dir`.
    pub fn open(data_dir: &Path) -> io::Result<DeadLetterLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path(data_dir))?;
        let synced_len = file.metadata()?.len();
        let mut keys = HashSet::new();
        for line in BufReader::new(File::open(path(data_dir))?).split(b'\n') {
            if let Ok(KeyOnly { key: Some(k) }) = serde_json::from_slice(&line?) {
                keys.insert(k);
            }
        }
        Ok(DeadLetterLog {
            file,
            buf: Vec::new(),
            synced_len,
            keys,
            buf_keys: Vec::new(),
        })
    }

    /// Buffers one entry, unless its key is already in the log.
    pub fn append(&mut self, d: &DeadLetter) -> io::Result<()> {
        if let Some(k) = &d.key
            && self.keys.contains(k)
        {
            return Ok(());
        }
        let len = self.buf.len();
        if let Err(e) = serde_json::to_writer(&mut self.buf, d) {
            self.buf.truncate(len);
            return Err(e.into());
        }
        self.buf.push(b'\n');
        if let Some(k) = &d.key {
            self.keys.insert(k.clone());
            self.buf_keys.push(k.clone());
        }
        Ok(())
    }

    /// Writes the buffered entries and fsyncs. On failure the buffered
    /// entries are dropped and the file is cut back to its last synced length.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = self
            .file
            .write_all(&self.buf)
            .and_then(|()| self.file.sync_data());
        let len = self.buf.len() as u64;
        self.buf.clear();
        let buf_keys = std::mem::take(&mut self.buf_keys);
        match written {
            Ok(()) => {
                self.synced_len += len;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.synced_len);
                for k in buf_keys {
                    self.keys.remove(&k);
                }
                Err(e)
            }
        }
    }
}

/// Path of the log in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// Reads every entry (a torn last line is skipped).
pub fn read_all(data_dir: &Path) -> io::Result<Vec<DeadLetter>> {
    let file = match File::open(path(data_dir)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line?;
        if let Ok(d) = serde_json::from_str::<DeadLetter>(&line) {
            out.push(d);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(key: &str) -> DeadLetter {
        let mut d = DeadLetter::new("event", "malformed: x", None, b"x");
        d.key = Some(key.into());
        d
    }

    #[test]
    fn a_key_already_in_the_log_is_not_written_again_even_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = DeadLetterLog::open(dir.path()).unwrap();
        log.append(&keyed("firehose r1 #0")).unwrap();
        log.append(&keyed("firehose r1 #0")).unwrap();
        log.append(&DeadLetter::new("body", "not a list", None, b"[]"))
            .unwrap();
        log.sync().unwrap();
        drop(log);
        let mut log = DeadLetterLog::open(dir.path()).unwrap();
        log.append(&keyed("firehose r1 #0")).unwrap();
        log.append(&keyed("firehose r1 #1")).unwrap();
        // Unkeyed entries are never recognized as repeats.
        log.append(&DeadLetter::new("body", "not a list", None, b"[]"))
            .unwrap();
        log.sync().unwrap();
        let keys: Vec<Option<String>> = read_all(dir.path())
            .unwrap()
            .into_iter()
            .map(|d| d.key)
            .collect();
        assert_eq!(
            keys,
            [
                Some("firehose r1 #0".to_string()),
                None,
                Some("firehose r1 #1".to_string()),
                None
            ]
        );
    }
}
