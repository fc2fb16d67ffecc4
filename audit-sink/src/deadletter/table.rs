//! What `audit-sink dead-letters` prints: the log's entries, or its last
//! ones, as a table (one line each, the reason and body cut short) or as
//! JSON lines with the bodies verbatim.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{DeadLetter, read_all};

/// How the entries are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// One line per entry under a header; an empty log says so.
    Table,
    /// One JSON object per line, as stored.
    Json,
}

/// The dead-letter log could not be read.
#[derive(Debug, thiserror::Error)]
#[error("reading the dead-letter log in {}", data_dir.display())]
pub struct ReadError {
    /// The data directory whose log was read.
    pub data_dir: PathBuf,
    /// Why it failed.
    #[source]
    pub source: io::Error,
}

/// The entries of one data directory's dead-letter log, ready to print.
pub struct Listing {
    data_dir: PathBuf,
    entries: Vec<DeadLetter>,
}

impl Listing {
    /// Reads the log in `data_dir`; with `tail`, keeps only its last `tail`
    /// entries.
    pub fn read(data_dir: &Path, tail: Option<usize>) -> Result<Listing, ReadError> {
        let mut entries = read_all(data_dir).map_err(|source| ReadError {
            data_dir: data_dir.to_path_buf(),
            source,
        })?;
        if let Some(n) = tail {
            let skip = entries.len().saturating_sub(n);
            entries.drain(..skip);
        }
        Ok(Listing {
            data_dir: data_dir.to_path_buf(),
            entries,
        })
    }

    /// Prints the entries to `out`.
    pub fn write(&self, out: &mut impl Write, output: Output) -> io::Result<()> {
        if output == Output::Json {
            for d in &self.entries {
                serde_json::to_writer(&mut *out, d)?;
                writeln!(out)?;
            }
            return Ok(());
        }
        if self.entries.is_empty() {
            writeln!(out, "No dead letters in {}.", self.data_dir.display())?;
            return Ok(());
        }
        writeln!(
            out,
            "{:<28}  {:<6}  {:<22}  {:<48}  BODY",
            "TIME", "SCOPE", "SOURCE", "REASON"
        )?;
        for d in &self.entries {
            let body = String::from_utf8_lossy(&d.bytes()).replace(['\n', '\r'], " ");
            let body: String = body.chars().take(60).collect();
            let reason: String = d.reason.chars().take(48).collect();
            writeln!(
                out,
                "{:<28}  {:<6}  {:<22}  {:<48}  {}",
                d.time,
                d.scope,
                d.source.as_deref().unwrap_or("-"),
                reason,
                body
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadletter::DeadLetterLog;

    fn listing(letters: &[DeadLetter], tail: Option<usize>) -> (Listing, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut log = DeadLetterLog::open(dir.path()).unwrap();
        for d in letters {
            log.append(d).unwrap();
        }
        log.sync().unwrap();
        (Listing::read(dir.path(), tail).unwrap(), dir)
    }

    fn printed(l: &Listing, output: Output) -> String {
        let mut out = Vec::new();
        l.write(&mut out, output).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_entry_is_one_table_line_with_reason_and_body_cut_short() {
        let long_reason = "r".repeat(100);
        let (l, _dir) = listing(
            &[
                DeadLetter::new(
                    "event",
                    &long_reason,
                    Some("10.0.0.1:5".into()),
                    b"{\"a\":\n1}\r\n",
                ),
                DeadLetter::new("body", "not a list", None, &[b'x'; 100]),
                DeadLetter::new("body", "binary", None, b"\xff ok"),
            ],
            None,
        );
        let table = printed(&l, Output::Table);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].starts_with("TIME "), "{table}");
        assert!(lines[0].ends_with("  BODY"), "{table}");
        assert!(lines[1].contains("10.0.0.1:5"), "{table}");
        assert!(lines[1].contains(&format!("{}  {{\"a\": 1}}  ", "r".repeat(48))));
        assert!(!lines[1].contains(&"r".repeat(49)), "{table}");
        assert!(lines[2].contains("  body    -  "), "{table}");
        assert!(
            lines[2].ends_with(&format!("  {}", "x".repeat(60))),
            "{table}"
        );
        assert!(lines[3].ends_with("\u{fffd} ok"), "{table}");
    }

    #[test]
    fn tail_keeps_the_newest_and_json_keeps_the_bodies_verbatim() {
        let letters: Vec<DeadLetter> = (0..5)
            .map(|i| DeadLetter::new("event", format!("reason {i}"), None, b"a\nb"))
            .collect();
        let (l, _dir) = listing(&letters, Some(2));
        let json = printed(&l, Output::Json);
        let back: Vec<DeadLetter> = json
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(back, letters[3..]);
        let (l, dir) = listing(&[], Some(2));
        assert_eq!(
            printed(&l, Output::Table),
            format!("No dead letters in {}.\n", dir.path().display())
        );
        assert_eq!(printed(&l, Output::Json), "");
    }
}
