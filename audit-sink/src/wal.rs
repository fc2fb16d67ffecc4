//! The write-ahead log: every accepted event is appended here and fsync'd
//! before the sink answers 200.
//!
//! The log is a directory of segments `wal-<16 digit number>.log`. A segment
//! is a sequence of records `[len: u32 LE][crc32: u32 LE][payload: len bytes]`
//! where the payload is one event's JSON exactly as received. A crash can
//! leave a torn record at the tail of the newest segment; it was never
//! acknowledged (acks follow the fsync), so replay stops there and the segment
//! is truncated. `checkpoint` names the position up to which everything is
//! committed to the index; segments entirely before it are deleted.
//!
//! A failed append or fsync (a full disk: `ENOSPC`) is never left in the
//! file: [`Wal::rollback`] drops the buffered records and truncates the
//! segment back to the last position that was fsync'd, so the next group
//! starts on a clean record boundary and replay never meets a half record
//! in the middle of a segment. Until the rollback succeeds the log refuses
//! new appends.
//!
//! Hand-written on purpose: the format is a length, a checksum and the bytes,
//! and what the sink promises rests on details a general-purpose log crate
//! would hide — group commit with one fsync for many requests before their
//! 200, truncation back to the last fsync'd byte after `ENOSPC`, and a
//! checkpoint that moves only with the index's commits. Keeping those in
//! a few hundred lines tested directly (`tests/crash.rs`, `tests/diskfull.rs`,
//! `tests/replay.rs`) is simpler than bending a dependency to them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Segments roll over past this size.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
const HEADER: usize = 8;
/// Largest record accepted on replay (a sanity bound against garbage lengths).
const MAX_RECORD: u32 = 256 * 1024 * 1024;

/// A position in the log: segment number and byte offset within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct WalPos {
    /// Segment number.
    pub segment: u64,
    /// Byte offset in that segment.
    pub offset: u64,
}

/// Appends records to the newest segment.
pub struct Wal {
    dir: PathBuf,
    segment: u64,
    offset: u64,
    /// Offset in `segment` up to which records are durable.
    synced: u64,
    /// A write or fsync failed: roll back before appending again.
    failed: bool,
    out: BufWriter<File>,
}

fn segment_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("wal-{n:016}.log"))
}

/// Segment numbers present in `dir`, ascending.
pub fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("wal-")
            .and_then(|s| s.strip_suffix(".log"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Wal {
    /// Opens a fresh segment after the existing ones (never appends after a
    /// possibly torn tail).
    pub fn create(dir: &Path) -> io::Result<Wal> {
        fs::create_dir_all(dir)?;
        let next = list_segments(dir)?.last().map_or(1, |n| n + 1);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(segment_path(dir, next))?;
        sync_dir(dir)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            segment: next,
            offset: 0,
            synced: 0,
            failed: false,
            out: BufWriter::with_capacity(1 << 20, file),
        })
    }

    /// Buffers one record; call [`Wal::sync`] to make it durable. After a
    /// failure this first tries [`Wal::rollback`] and fails if it cannot.
    pub fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        if self.failed {
            self.rollback()?;
        }
        let len = u32::try_from(payload.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record too large"))?;
        let crc = crc32fast::hash(payload);
        let r = (|| {
            self.out.write_all(&len.to_le_bytes())?;
            self.out.write_all(&crc.to_le_bytes())?;
            self.out.write_all(payload)
        })();
        if r.is_err() {
            self.failed = true;
        }
        r?;
        self.offset += (HEADER + payload.len()) as u64;
        Ok(())
    }

    /// Writes buffered records and fsyncs them; rolls over to a new segment
    /// when the current one is full. Returns the position after the last record.
    /// On error nothing since the previous successful sync may be relied on:
    /// call [`Wal::rollback`] (the next append does it otherwise).
    pub fn sync(&mut self) -> io::Result<WalPos> {
        if self.failed {
            self.rollback()?;
        }
        let r = self
            .out
            .flush()
            .and_then(|()| self.out.get_ref().sync_data());
        if r.is_err() {
            self.failed = true;
        }
        r?;
        self.synced = self.offset;
        let pos = self.position();
        if self.offset >= SEGMENT_BYTES {
            // The records are durable whatever happens here; if the next
            // segment cannot be created now, the next sync tries again.
            if let Err(e) = self.roll_over() {
                tracing::warn!(error = %e, "cannot start a new write-ahead log segment yet");
            }
        }
        Ok(pos)
    }

    fn roll_over(&mut self) -> io::Result<()> {
        let next = self.segment + 1;
        let path = segment_path(&self.dir, next);
        let file = match OpenOptions::new().create_new(true).append(true).open(&path) {
            Ok(f) => f,
            // left by an earlier attempt whose directory sync failed
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                OpenOptions::new().append(true).open(&path)?
            }
            Err(e) => return Err(e),
        };
        file.set_len(0)?;
        sync_dir(&self.dir)?;
        self.out = BufWriter::with_capacity(1 << 20, file);
        self.segment = next;
        self.offset = 0;
        self.synced = 0;
        Ok(())
    }

    /// Forgets every record appended since the last successful [`Wal::sync`]
    /// (they were never acknowledged) and truncates the segment back to that
    /// position, so a half-written record cannot stay in the log.
    pub fn rollback(&mut self) -> io::Result<()> {
        // Swap in a fresh handle first: dropping a BufWriter would try to
        // flush the records being forgotten.
        let file = self.out.get_ref().try_clone()?;
        let old = std::mem::replace(&mut self.out, BufWriter::with_capacity(1 << 20, file));
        let (file, _unwritten) = old.into_parts();
        file.set_len(self.synced)?;
        file.sync_all()?;
        self.offset = self.synced;
        self.failed = false;
        Ok(())
    }

    /// The position after the last appended record.
    pub fn position(&self) -> WalPos {
        WalPos {
            segment: self.segment,
            offset: self.offset,
        }
    }
}

/// Deletes segments that end before `pos` (everything in them is committed).
pub fn delete_before(dir: &Path, pos: WalPos) -> io::Result<()> {
    for n in list_segments(dir)? {
        if n < pos.segment {
            fs::remove_file(segment_path(dir, n))?;
        }
    }
    Ok(())
}

/// Reads the checkpoint (position up to which the index is committed).
pub fn read_checkpoint(dir: &Path) -> io::Result<Option<WalPos>> {
    match fs::read_to_string(dir.join("checkpoint")) {
        Ok(s) => {
            let mut it = s.split_whitespace().map(|x| x.parse::<u64>());
            match (it.next(), it.next()) {
                (Some(Ok(segment)), Some(Ok(offset))) => Ok(Some(WalPos { segment, offset })),
                _ => Ok(None),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Atomically replaces the checkpoint.
pub fn write_checkpoint(dir: &Path, pos: WalPos) -> io::Result<()> {
    let tmp = dir.join("checkpoint.tmp");
    {
        let mut f = File::create(&tmp)?;
        writeln!(f, "{} {}", pos.segment, pos.offset)?;
        f.sync_data()?;
    }
    fs::rename(&tmp, dir.join("checkpoint"))?;
    sync_dir(dir)
}

/// Replays every record at or after `from`, calling `each(payload, pos_after)`.
/// A torn or corrupt tail is truncated away. Returns the number of records.
pub fn replay(
    dir: &Path,
    from: Option<WalPos>,
    mut each: impl FnMut(&[u8], WalPos),
) -> io::Result<u64> {
    if !dir.exists() {
        return Ok(0);
    }
    let from = from.unwrap_or_default();
    let mut count = 0;
    for n in list_segments(dir)? {
        if n < from.segment {
            continue;
        }
        let path = segment_path(dir, n);
        let mut file = OpenOptions::new().read(true).write(true).open(&path)?;
        let len = file.metadata()?.len();
        let start = if n == from.segment {
            from.offset.min(len)
        } else {
            0
        };
        file.seek(SeekFrom::Start(start))?;
        let mut reader = BufReader::with_capacity(1 << 20, &file);
        let mut offset = start;
        let mut header = [0u8; HEADER];
        let mut payload = Vec::new();
        loop {
            if offset + HEADER as u64 > len {
                break;
            }
            reader.read_exact(&mut header)?;
            let rlen = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
            let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
            if rlen > MAX_RECORD || offset + (HEADER as u64) + u64::from(rlen) > len {
                break;
            }
            payload.resize(rlen as usize, 0);
            reader.read_exact(&mut payload)?;
            if crc32fast::hash(&payload) != crc {
                break;
            }
            offset += HEADER as u64 + u64::from(rlen);
            count += 1;
            each(&payload, WalPos { segment: n, offset });
        }
        if offset < len {
            tracing::warn!(
                segment = n,
                offset,
                len,
                "truncating torn write-ahead log tail"
            );
            drop(reader);
            file.set_len(offset)?;
            file.sync_all()?;
        }
    }
    Ok(count)
}

/// Reads the records from `from` up to `to` (both positions of record
/// boundaries, as returned by [`Wal::sync`]) without changing any file, while
/// a writer may be appending after `to`. Used to index again what a failed
/// index commit lost. Returns the number of records.
pub fn read_range(
    dir: &Path,
    from: Option<WalPos>,
    to: WalPos,
    mut each: impl FnMut(&[u8], WalPos),
) -> io::Result<u64> {
    let from = from.unwrap_or_default();
    let mut count = 0;
    for n in list_segments(dir)? {
        if n < from.segment || n > to.segment {
            continue;
        }
        let file = File::open(segment_path(dir, n))?;
        let start = if n == from.segment { from.offset } else { 0 };
        let end = if n == to.segment {
            to.offset
        } else {
            file.metadata()?.len()
        };
        let mut reader = BufReader::with_capacity(1 << 20, file);
        reader.seek(SeekFrom::Start(start))?;
        let mut offset = start;
        let mut header = [0u8; HEADER];
        let mut payload = Vec::new();
        while offset + HEADER as u64 <= end {
            reader.read_exact(&mut header)?;
            let rlen = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
            let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
            if rlen > MAX_RECORD || offset + (HEADER as u64) + u64::from(rlen) > end {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("write-ahead log segment {n}: bad record length at offset {offset}"),
                ));
            }
            payload.resize(rlen as usize, 0);
            reader.read_exact(&mut payload)?;
            if crc32fast::hash(&payload) != crc {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("write-ahead log segment {n}: checksum mismatch at offset {offset}"),
                ));
            }
            offset += HEADER as u64 + u64::from(rlen);
            count += 1;
            each(&payload, WalPos { segment: n, offset });
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_sync_replay_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path()).unwrap();
        wal.append(b"one").unwrap();
        wal.append(b"two").unwrap();
        let pos = wal.sync().unwrap();
        wal.append(b"three").unwrap();
        wal.sync().unwrap();
        drop(wal);
        // a torn record at the tail
        let seg = segment_path(dir.path(), 1);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let mut seen = Vec::new();
        replay(dir.path(), None, |p, _| seen.push(p.to_vec())).unwrap();
        assert_eq!(seen, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
        let mut after = Vec::new();
        replay(dir.path(), Some(pos), |p, _| after.push(p.to_vec())).unwrap();
        assert_eq!(after, [b"three".to_vec()]);
        // new writer starts a new segment, old one can be deleted after checkpoint
        let mut wal = Wal::create(dir.path()).unwrap();
        wal.append(b"four").unwrap();
        let end = wal.sync().unwrap();
        write_checkpoint(dir.path(), end).unwrap();
        assert_eq!(read_checkpoint(dir.path()).unwrap(), Some(end));
        delete_before(dir.path(), end).unwrap();
        assert_eq!(list_segments(dir.path()).unwrap(), [2]);
    }

    #[test]
    fn rollback_drops_unsynced_records_and_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::create(dir.path()).unwrap();
        wal.append(b"durable").unwrap();
        let pos = wal.sync().unwrap();
        // a group that failed half way: some bytes reached the file
        wal.append(&vec![7u8; 3 << 20]).unwrap();
        wal.out.flush().unwrap();
        let seg = segment_path(dir.path(), 1);
        assert!(fs::metadata(&seg).unwrap().len() > pos.offset);
        wal.rollback().unwrap();
        assert_eq!(fs::metadata(&seg).unwrap().len(), pos.offset);
        assert_eq!(wal.position(), pos);
        wal.append(b"next").unwrap();
        let end = wal.sync().unwrap();
        let mut seen = Vec::new();
        read_range(dir.path(), None, end, |p, _| seen.push(p.to_vec())).unwrap();
        assert_eq!(seen, [b"durable".to_vec(), b"next".to_vec()]);
        let mut tail = Vec::new();
        read_range(dir.path(), Some(pos), end, |p, _| tail.push(p.to_vec())).unwrap();
        assert_eq!(tail, [b"next".to_vec()]);
    }
}
