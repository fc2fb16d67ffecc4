//! Reproducible release archives (`.tar.gz`, and `.zip` for Windows) and their sha256.
//!
//! An archive holds regular files only, at its root, owned by 0:0 with a fixed
//! modification time (`SOURCE_DATE_EPOCH`, else 0 — 1980-01-01 in a zip, the
//! earliest time it can hold) and fixed modes, and the gzip header carries no
//! name or time: the same binary always gives the same bytes, so the sha256 in
//! a krew manifest depends only on what was built.
//!
//! The zip writer and reader are small and local: deflated or stored entries,
//! no zip64 (an archive over 4 GiB is refused), Unix modes in the external
//! attributes so `unzip` and krew keep the executable bit.

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

/// The two archive formats krew unpacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.tar.gz`: Linux and macOS.
    TarGz,
    /// `.zip`: Windows.
    Zip,
}

impl Format {
    /// The file name extension, without the leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::TarGz => "tar.gz",
            Format::Zip => "zip",
        }
    }

    /// The format of a file name by its extension.
    pub fn of_name(name: &str) -> Option<Format> {
        if name.ends_with(".tar.gz") {
            Some(Format::TarGz)
        } else if name.ends_with(".zip") {
            Some(Format::Zip)
        } else {
            None
        }
    }

    /// The format of archive bytes by their magic number (as krew detects it).
    pub fn of_bytes(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Some(Format::TarGz)
        } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            Some(Format::Zip)
        } else {
            None
        }
    }

    /// The bytes of an archive of this format holding `members`.
    pub fn pack(self, members: &[Member]) -> Result<Vec<u8>> {
        match self {
            Format::TarGz => tar_gz(members),
            Format::Zip => zip(members),
        }
    }
}

/// Lists the entries of an archive, whichever format its bytes are.
pub fn list(bytes: &[u8]) -> Result<Vec<Entry>> {
    match Format::of_bytes(bytes) {
        Some(Format::TarGz) => list_tar_gz(bytes),
        Some(Format::Zip) => list_zip(bytes),
        None => bail!("neither a gzip'd tar nor a zip archive (unknown magic number)"),
    }
}

/// The content of the regular file `name` in an archive of either format.
pub fn read_member(bytes: &[u8], name: &str) -> Result<Vec<u8>> {
    match Format::of_bytes(bytes) {
        Some(Format::TarGz) => {
            let mut archive = tar::Archive::new(GzDecoder::new(bytes));
            for entry in archive.entries().context("reading the tar stream")? {
                let mut entry = entry.context("reading a tar entry")?;
                if entry.path_bytes().as_ref() == name.as_bytes() {
                    let mut data = Vec::new();
                    entry
                        .read_to_end(&mut data)
                        .with_context(|| format!("reading {name} from the archive"))?;
                    return Ok(data);
                }
            }
            bail!("the archive has no {name}")
        }
        Some(Format::Zip) => {
            for entry in zip_entries(bytes)? {
                if entry.name == name {
                    return zip_data(bytes, &entry);
                }
            }
            bail!("the archive has no {name}")
        }
        None => bail!("neither a gzip'd tar nor a zip archive (unknown magic number)"),
    }
}

/// Writes `members` as a `.tar.gz` to `path`, and `path.sha256` beside it in
/// `sha256sum` format; returns the sha256.
pub fn write_tar_gz(path: &Path, members: &[Member]) -> Result<String> {
    write(path, Format::TarGz, members)
}

/// Writes `members` as an archive of `format` to `path`, and `path.sha256`
/// beside it in `sha256sum` format; returns the sha256.
pub fn write(path: &Path, format: Format, members: &[Member]) -> Result<String> {
    let bytes = format.pack(members)?;
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

const ZIP_LOCAL: u32 = 0x0403_4b50;
const ZIP_CENTRAL: u32 = 0x0201_4b50;
const ZIP_END: u32 = 0x0605_4b50;
/// Bit 11 of the general purpose flags: the name is UTF-8.
const ZIP_UTF8: u16 = 1 << 11;
const ZIP_STORED: u16 = 0;
const ZIP_DEFLATED: u16 = 8;
/// "Version made by": Unix (3) in the high byte, spec 2.0 in the low one.
const ZIP_MADE_BY_UNIX: u16 = (3 << 8) | 20;
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// MS-DOS time and date of the fixed modification time (`SOURCE_DATE_EPOCH`,
/// at least 1980-01-01, the earliest a zip can say), in UTC.
fn dos_time() -> (u16, u16) {
    let when = jiff::Timestamp::from_second(mtime().min(i64::MAX as u64) as i64)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .datetime();
    if when.year() < 1980 || when.year() > 2107 {
        return (0, (1 << 5) | 1);
    }
    let time =
        ((when.hour() as u16) << 11) | ((when.minute() as u16) << 5) | (when.second() as u16 / 2);
    let date =
        (((when.year() - 1980) as u16) << 9) | ((when.month() as u16) << 5) | when.day() as u16;
    (time, date)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn small(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).with_context(|| format!("{what} is over 4 GiB: zip64 is not supported"))
}

/// The bytes of a `.zip` holding `members` (deflated), in the order given.
pub fn zip(members: &[Member]) -> Result<Vec<u8>> {
    let (time, date) = dos_time();
    let mut out = Vec::new();
    let mut central = Vec::new();
    for member in members {
        if member.path.is_empty()
            || member.path.starts_with('/')
            || member.path.contains("..")
            || member.path.contains('\\')
        {
            bail!("refusing to archive the unsafe path {:?}", member.path);
        }
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&member.data)?;
        let deflated = encoder.finish().context("deflating")?;
        let (method, body) = if deflated.len() < member.data.len() {
            (ZIP_DEFLATED, deflated.as_slice())
        } else {
            (ZIP_STORED, member.data.as_slice())
        };
        let crc = crc32fast::hash(&member.data);
        let name = member.path.as_bytes();
        let offset = small(out.len(), "the archive")?;
        let header = |out: &mut Vec<u8>| -> Result<()> {
            put16(out, 20);
            put16(out, ZIP_UTF8);
            put16(out, method);
            put16(out, time);
            put16(out, date);
            put32(out, crc);
            put32(out, small(body.len(), &member.path)?);
            put32(out, small(member.data.len(), &member.path)?);
            put16(
                out,
                u16::try_from(name.len()).context("a member's name is too long")?,
            );
            put16(out, 0); // extra field length
            Ok(())
        };
        put32(&mut out, ZIP_LOCAL);
        header(&mut out)?;
        out.extend_from_slice(name);
        out.extend_from_slice(body);

        put32(&mut central, ZIP_CENTRAL);
        put16(&mut central, ZIP_MADE_BY_UNIX);
        header(&mut central)?;
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number
        put16(&mut central, 0); // internal attributes
        put32(&mut central, (S_IFREG | (member.mode & 0o7777)) << 16);
        put32(&mut central, offset);
        central.extend_from_slice(name);
    }
    let count = u16::try_from(members.len()).context("too many members for a zip")?;
    let central_offset = small(out.len(), "the archive")?;
    let central_size = small(central.len(), "the central directory")?;
    out.extend_from_slice(&central);
    put32(&mut out, ZIP_END);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, central_size);
    put32(&mut out, central_offset);
    put16(&mut out, 0); // comment length
    small(out.len(), "the archive")?;
    Ok(out)
}

/// One central directory record of a zip.
#[derive(Debug)]
struct ZipEntry {
    name: String,
    method: u16,
    crc: u32,
    compressed: usize,
    size: usize,
    made_by: u16,
    external: u32,
    local_offset: usize,
}

fn get16(bytes: &[u8], at: usize) -> Result<u16> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .context("the zip is truncated")
}

fn get32(bytes: &[u8], at: usize) -> Result<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .context("the zip is truncated")
}

fn zip_entries(bytes: &[u8]) -> Result<Vec<ZipEntry>> {
    // The end record is the last 22 bytes plus a comment of at most 64 KiB.
    let lowest = bytes.len().saturating_sub(22 + 0xffff);
    let end = (lowest..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&at| get32(bytes, at).is_ok_and(|sig| sig == ZIP_END))
        .context("not a zip: no end of central directory record")?;
    let count = get16(bytes, end + 10)? as usize;
    let mut at = get32(bytes, end + 16)? as usize;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        if get32(bytes, at)? != ZIP_CENTRAL {
            bail!("the zip's central directory is damaged at byte {at}");
        }
        let name_len = get16(bytes, at + 28)? as usize;
        let extra_len = get16(bytes, at + 30)? as usize;
        let comment_len = get16(bytes, at + 32)? as usize;
        let name = bytes
            .get(at + 46..at + 46 + name_len)
            .context("the zip is truncated")?;
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            made_by: get16(bytes, at + 4)?,
            method: get16(bytes, at + 10)?,
            crc: get32(bytes, at + 16)?,
            compressed: get32(bytes, at + 20)? as usize,
            size: get32(bytes, at + 24)? as usize,
            external: get32(bytes, at + 38)?,
            local_offset: get32(bytes, at + 42)? as usize,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// An entry's content, inflated and checked against its CRC-32.
fn zip_data(bytes: &[u8], entry: &ZipEntry) -> Result<Vec<u8>> {
    let at = entry.local_offset;
    if get32(bytes, at)? != ZIP_LOCAL {
        bail!("{}: no local file header at byte {at}", entry.name);
    }
    let start = at + 30 + get16(bytes, at + 26)? as usize + get16(bytes, at + 28)? as usize;
    let body = bytes
        .get(start..start + entry.compressed)
        .with_context(|| format!("{}: the zip is truncated", entry.name))?;
    let data = match entry.method {
        ZIP_STORED => body.to_vec(),
        ZIP_DEFLATED => {
            let mut data = Vec::with_capacity(entry.size);
            flate2::read::DeflateDecoder::new(body)
                .read_to_end(&mut data)
                .with_context(|| format!("inflating {}", entry.name))?;
            data
        }
        other => bail!(
            "{}: compression method {other} is not supported",
            entry.name
        ),
    };
    if data.len() != entry.size || crc32fast::hash(&data) != entry.crc {
        bail!(
            "{}: the content does not match its size and CRC-32",
            entry.name
        );
    }
    Ok(data)
}

/// Lists the entries of a `.zip` (each one's content is read and its CRC-32 checked).
pub fn list_zip(bytes: &[u8]) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in zip_entries(bytes)? {
        let unix = entry.made_by >> 8 == 3;
        let mode = entry.external >> 16;
        let kind = if entry.name.ends_with('/') || (unix && mode & S_IFMT == S_IFDIR) {
            EntryKind::Dir
        } else if unix && mode & S_IFMT == S_IFLNK {
            EntryKind::Symlink
        } else {
            zip_data(bytes, &entry)?;
            EntryKind::File
        };
        out.push(Entry {
            path: entry.name,
            kind,
            mode: if unix { mode & 0o7777 } else { 0o644 },
        });
    }
    Ok(out)
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
    fn zips_are_reproducible_and_read_back() {
        let mut members = members();
        // Incompressible content is stored, not deflated.
        members.push(Member {
            path: "noise".into(),
            data: (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            mode: 0o644,
        });
        let a = zip(&members).unwrap();
        assert_eq!(a, zip(&members).unwrap());
        assert_eq!(Format::of_bytes(&a), Some(Format::Zip));
        let listed: Vec<(String, EntryKind, u32)> = list(&a)
            .unwrap()
            .into_iter()
            .map(|e| (e.path, e.kind, e.mode))
            .collect();
        assert_eq!(
            listed,
            [
                ("kubectl-demo".to_string(), EntryKind::File, 0o755),
                ("LICENSE".to_string(), EntryKind::File, 0o644),
                ("noise".to_string(), EntryKind::File, 0o644)
            ]
        );
        for m in &members {
            assert_eq!(read_member(&a, &m.path).unwrap(), m.data);
        }
        // A flipped byte in a member's content fails its CRC-32.
        let mut bad = a.clone();
        let at = bad.windows(7).position(|w| w == b"LICENSE").unwrap() + 7;
        bad[at + 2] ^= 0xff;
        assert!(list_zip(&bad).is_err());
    }

    #[test]
    fn unsafe_member_paths_are_refused() {
        for bad in ["../x", "/etc/passwd", ""] {
            let m = Member {
                path: bad.into(),
                data: vec![],
                mode: 0o644,
            };
            assert!(
                tar_gz(std::slice::from_ref(&m)).is_err(),
                "{bad:?} was archived"
            );
            assert!(zip(&[m]).is_err(), "{bad:?} was zipped");
        }
    }
}
