//! Reproducible `.tar.gz` release archives and their sha256.
//!
//! An archive holds regular files only, at its root, owned by 0:0 with a fixed
//! modification time (`SOURCE_DATE_EPOCH`, else 0) and fixed modes, and the gzip
//! header carries no name or time: the same binary always gives the same bytes,
//! so the sha256 in a krew manifest depends only on what was built.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

/// A file to put in an archive.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its path inside the archive (relative, `/`-separated).
    pub path: String,
    /// Its content.
    pub data: Vec<u8>,
    /// Its permission bits (0o755 for executables, 0o644 otherwise).
    pub mode: u32,
}

/// The sha256 of `bytes`, lowercase hex (what krew's `sha256` field holds).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn mtime() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The bytes of a `.tar.gz` holding `members`, in the order given.
pub fn tar_gz(members: &[Member]) -> Result<Vec<u8>> {
    let mtime = mtime();
    let gz = GzBuilder::new()
        .mtime(mtime as u32)
        .write(Vec::new(), Compression::best());
    let mut builder = tar::Builder::new(gz);
    builder.mode(tar::HeaderMode::Deterministic);
    for member in members {
        if member.path.is_empty() || member.path.starts_with('/') || member.path.contains("..") {
            bail!("refusing to archive the unsafe path {:?}", member.path);
        }
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(member.data.len() as u64);
        header.set_mode(member.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        builder
            .append_data(&mut header, &member.path, member.data.as_slice())
            .with_context(|| format!("adding {} to the archive", member.path))?;
    }
    let gz = builder.into_inner().context("finishing the tar stream")?;
    gz.finish().context("finishing the gzip stream")
}

/// Writes `members` as a `.tar.gz` to `path`, and `path.sha256` beside it in
/// `sha256sum` format; returns the sha256.
pub fn write_tar_gz(path: &Path, members: &[Member]) -> Result<String> {
    let bytes = tar_gz(members)?;
    let sha = sha256_hex(&bytes);
    fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .context("archive path has no file name")?;
    let sum_path = path.with_file_name(format!("{name}.sha256"));
    let mut sum =
        fs::File::create(&sum_path).with_context(|| format!("writing {}", sum_path.display()))?;
    writeln!(sum, "{sha}  {name}")?;
    Ok(sha)
}

/// The type of an archive entry, as tar records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A hard link.
    Hardlink,
    /// Anything else (device, fifo, pax header …), with its tar type byte.
    Other(u8),
}

/// One entry of an archive, as read back.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The path recorded in the archive.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Its permission bits.
    pub mode: u32,
}

/// Lists the entries of a `.tar.gz`.
pub fn list_tar_gz(bytes: &[u8]) -> Result<Vec<Entry>> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let mut entries = Vec::new();
    for entry in archive.entries().context("reading the tar stream")? {
        let mut entry = entry.context("reading a tar entry")?;
        let header = entry.header();
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => EntryKind::Symlink,
            tar::EntryType::Link => EntryKind::Hardlink,
            other => EntryKind::Other(other.as_byte()),
        };
        let mode = header.mode().unwrap_or(0);
        // Drain the content so a truncated archive is an error here.
        std::io::copy(&mut entry.by_ref(), &mut std::io::sink())
            .with_context(|| format!("reading {path} from the archive"))?;
        entries.push(Entry { path, kind, mode });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<Member> {
        vec![
            Member {
                path: "kubectl-demo".into(),
                data: b"#!/bin/sh\necho demo\n".to_vec(),
                mode: 0o755,
            },
            Member {
                path: "LICENSE".into(),
                data: b"license text\n".to_vec(),
                mode: 0o644,
            },
        ]
    }

    #[test]
    fn archives_are_reproducible_and_read_back() {
        let a = tar_gz(&members()).unwrap();
        let b = tar_gz(&members()).unwrap();
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
        let entries = list_tar_gz(&a).unwrap();
        let listed: Vec<(&str, &EntryKind, u32)> = entries
            .iter()
            .map(|e| (e.path.as_str(), &e.kind, e.mode))
            .collect();
        assert_eq!(
            listed,
            [
                ("kubectl-demo", &EntryKind::File, 0o755),
                ("LICENSE", &EntryKind::File, 0o644)
            ]
        );
    }

    #[test]
    fn sha256_is_lowercase_hex_and_written_beside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.tar.gz");
        let sha = write_tar_gz(&path, &members()).unwrap();
        assert_eq!(sha.len(), 64);
        assert!(
            sha.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert_eq!(sha, sha256_hex(&fs::read(&path).unwrap()));
        let sum = fs::read_to_string(dir.path().join("demo.tar.gz.sha256")).unwrap();
        assert_eq!(sum, format!("{sha}  demo.tar.gz\n"));
    }

    #[test]
    fn unsafe_member_paths_are_refused() {
        for bad in ["../x", "/etc/passwd", ""] {
            let m = Member {
                path: bad.into(),
                data: vec![],
                mode: 0o644,
            };
            assert!(tar_gz(&[m]).is_err(), "{bad:?} was archived");
        }
    }
}
