//! The one reader of audit log files, shared by `audit-sink import` and
//! `kubectl audit import`: gzip'd or not (told by the content, not the name),
//! cut into *units* that [`crate::envelope::decode`] takes.
//!
//! A file whose first non-blank line is a whole JSON value (or an EKS S3
//! export line, or a base64 subscription payload) is read line by line: the
//! apiserver's own log, and every JSON-lines export. Otherwise the file is one
//! JSON document (`gcloud logging read --format=json`, `aws logs
//! filter-log-events --output json`, an Event Hub body, pretty-printed or not)
//! and is read whole as a single unit.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

use crate::envelope::{self, Format};

/// Why a log file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    /// The file cannot be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Reading (or gunzipping) failed.
    #[error("cannot read {} at line {line}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The line being read (1-based, after decompression).
        line: u64,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The content is none of the known formats.
    #[error(
        "cannot tell the format of {}: its first record is not an audit event nor an EKS, GKE or AKS export; name it with --format apiserver|eks|gke|aks",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
}

/// One unit of a file: a line, or the whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The line it starts on (1-based).
    pub line: u64,
    /// Its bytes, without the line end.
    pub bytes: Vec<u8>,
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
}

/// An open audit log file.
pub struct LogFile {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    read: Arc<AtomicU64>,
    len: u64,
    gzip: bool,
    line: u64,
    pending: Option<Unit>,
    whole: bool,
    done: bool,
}

impl LogFile {
    /// Opens `path`, decompressing it when it starts with the gzip magic.
    pub fn open(path: &Path) -> Result<LogFile, LogFileError> {
        let open_err = |source| LogFileError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        let mut magic = [0u8; 2];
        let mut n = 0;
        while n < 2 {
            match file.read(&mut magic[n..]).map_err(open_err)? {
                0 => break,
                k => n += k,
            }
        }
        let read = Arc::new(AtomicU64::new(n as u64));
        let gzip = n == 2 && magic == [0x1f, 0x8b];
        let counted = Counting {
            inner: io::Cursor::new(magic[..n].to_vec()).chain(file),
            count: read.clone(),
        };
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(counted),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 20, counted))
        };
        read.store(0, Relaxed);
        let mut f = LogFile {
            path: path.to_path_buf(),
            reader,
            read,
            len,
            gzip,
            line: 0,
            pending: None,
            whole: false,
            done: false,
        };
        f.start()?;
        Ok(f)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's size on disk (compressed, if it is).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty on disk.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the file is gzip'd.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Whether the file is read as one JSON document rather than lines.
    pub fn is_document(&self) -> bool {
        self.whole
    }

    /// Bytes of the file on disk consumed so far (for a progress bar).
    pub fn position(&self) -> u64 {
        self.read.load(Relaxed).min(self.len)
    }

    /// A handle on [`LogFile::position`] that can be read from another thread.
    pub fn position_handle(&self) -> Arc<AtomicU64> {
        self.read.clone()
    }

    /// The format of the file: `forced`, or told from its first unit.
    pub fn format(&self, forced: Option<Format>) -> Result<Format, LogFileError> {
        if let Some(f) = forced {
            return Ok(f);
        }
        match &self.pending {
            // An empty file holds nothing: any format reads it.
            None => Ok(Format::Apiserver),
            Some(u) => Format::detect(&u.bytes).ok_or_else(|| LogFileError::UnknownFormat {
                path: self.path.clone(),
            }),
        }
    }

    fn read_line(&mut self, buf: &mut Vec<u8>) -> Result<usize, LogFileError> {
        buf.clear();
        let n = self
            .reader
            .read_until(b'\n', buf)
            .map_err(|source| LogFileError::Read {
                path: self.path.clone(),
                line: self.line + 1,
                source,
            })?;
        if n > 0 {
            self.line += 1;
        }
        Ok(n)
    }

    /// Reads the first non-blank line and decides between lines and a document.
    fn start(&mut self) -> Result<(), LogFileError> {
        let mut buf = Vec::new();
        loop {
            if self.read_line(&mut buf)? == 0 {
                self.done = true;
                return Ok(());
            }
            if !buf.trim_ascii().is_empty() {
                break;
            }
        }
        let first_line = self.line;
        let text = buf.trim_ascii();
        let complete = serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok()
            || envelope::eks::is_s3_export_line(text)
            || envelope::eks::is_encoded_payload(text);
        if complete {
            self.pending = Some(Unit {
                line: first_line,
                bytes: text.to_vec(),
            });
            return Ok(());
        }
        // One document over several lines: read it whole.
        self.whole = true;
        let mut doc = buf.clone();
        self.reader
            .read_to_end(&mut doc)
            .map_err(|source| LogFileError::Read {
                path: self.path.clone(),
                line: self.line,
                source,
            })?;
        self.line += doc.iter().filter(|b| **b == b'\n').count() as u64;
        self.pending = Some(Unit {
            line: first_line,
            bytes: doc.trim_ascii().to_vec(),
        });
        self.done = true;
        Ok(())
    }

    /// The next unit, or `None` at the end of the file.
    pub fn next_unit(&mut self) -> Result<Option<Unit>, LogFileError> {
        if let Some(u) = self.pending.take() {
            return Ok(Some(u));
        }
        if self.done {
            return Ok(None);
        }
        let mut buf = Vec::new();
        loop {
            if self.read_line(&mut buf)? == 0 {
                self.done = true;
                return Ok(None);
            }
            let text = buf.trim_ascii();
            if !text.is_empty() {
                return Ok(Some(Unit {
                    line: self.line,
                    bytes: text.to_vec(),
                }));
            }
        }
    }
}

/// What importing one file did, as both imports report it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSummary {
    /// The file.
    pub file: String,
    /// The format it was read as.
    pub format: String,
    /// Events stored (new to the sink).
    pub stored: u64,
    /// Events the sink already had (or seen earlier in the same import).
    pub duplicates: u64,
    /// Records not stored, by reason label (`truncated`, `control-message`, …).
    pub dead_letters: BTreeMap<String, u64>,
}

impl FileSummary {
    /// A summary for `path` read as `format`, with nothing counted yet.
    pub fn new(path: &Path, format: Format) -> FileSummary {
        FileSummary {
            file: path.display().to_string(),
            format: format.name().to_string(),
            ..FileSummary::default()
        }
    }

    /// Counts one dead record.
    pub fn dead(&mut self, reason: &envelope::DeadReason) {
        *self
            .dead_letters
            .entry(reason.label().to_string())
            .or_default() += 1;
    }

    /// All dead records.
    pub fn dead_total(&self) -> u64 {
        self.dead_letters.values().sum()
    }

    /// `truncated 2, control-message 1` (or `none`).
    pub fn dead_text(&self) -> String {
        if self.dead_letters.is_empty() {
            return "none".into();
        }
        self.dead_letters
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn units(path: &Path) -> Vec<Unit> {
        let mut f = LogFile::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(u) = f.next_unit().unwrap() {
            out.push(u);
        }
        out
    }

    #[test]
    fn lines_plain_and_gzip_read_alike() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"{\"a\":1}\n\n{\"b\":2}\r\n";
        let plain = write(dir.path(), "a.log", text);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text).unwrap();
        let zipped = write(dir.path(), "a.log.1", &gz.finish().unwrap());
        let expected = vec![
            Unit {
                line: 1,
                bytes: b"{\"a\":1}".to_vec(),
            },
            Unit {
                line: 3,
                bytes: b"{\"b\":2}".to_vec(),
            },
        ];
        assert_eq!(units(&plain), expected);
        assert_eq!(units(&zipped), expected);
        assert!(LogFile::open(&zipped).unwrap().is_gzip());
    }

    #[test]
    fn a_pretty_printed_document_is_one_unit() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "gcloud.json",
            b"[\n  {\n    \"insertId\": \"x\"\n  }\n]\n",
        );
        let mut f = LogFile::open(&p).unwrap();
        assert!(f.is_document());
        assert_eq!(f.format(None).unwrap(), Format::Gke);
        let u = f.next_unit().unwrap().unwrap();
        assert_eq!(u.line, 1);
        assert!(u.bytes.ends_with(b"]"));
        assert_eq!(f.next_unit().unwrap(), None);
    }

    #[test]
    fn unknown_content_asks_for_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "x.txt", b"hello world\n");
        let err = LogFile::open(&p).unwrap().format(None).unwrap_err();
        assert!(err.to_string().contains("--format"), "{err}");
        assert_eq!(
            LogFile::open(&p)
                .unwrap()
                .format(Some(Format::Eks))
                .unwrap(),
            Format::Eks
        );
    }
}
