//! Writing kubeconfigs safely: mode 0600, a temporary file renamed over the
//! target (so a reader sees the old file or the new one, never half of one),
//! and a timestamped backup of what was there before.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `contents` to `path` atomically with mode 0600.
///
/// A symlinked kubeconfig stays a symlink: its target file is replaced. When
/// anything fails the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<PathBuf> {
    let real = real_path(path)?;
    let dir = match real.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            real.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "kubeconfig".into())
        ))
        .suffix(".tmp")
        .permissions(private_permissions())
        .tempfile_in(&dir)?;
    kubectl_kit::owner_only::restrict_to_owner(temp.path())?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    // On failure `persist` hands the temporary file back; dropping it deletes it.
    temp.persist(&real).map_err(|e| e.error)?;
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(real)
}

#[cfg(unix)]
fn private_permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private_permissions() -> fs::Permissions {
    fs::metadata(".")
        .map(|m| m.permissions())
        .unwrap_or_else(|_| unreachable!("the current directory exists"))
}

/// `path` with symlinks resolved; a path that does not exist yet is returned as is.
fn real_path(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A dangling symlink: write where it points.
            match fs::read_link(path) {
                Ok(target) if target.is_absolute() => Ok(target),
                Ok(target) => Ok(path.parent().unwrap_or(Path::new(".")).join(target)),
                Err(_) => Ok(path.to_path_buf()),
            }
        }
        Err(e) => Err(e),
    }
}

/// Copies `path` to `PATH.backup-YYYYMMDDTHHMMSSZ` (mode 0600, never
/// overwriting an earlier backup) and returns the backup's path.
pub fn backup(path: &Path, now: jiff::Timestamp) -> io::Result<PathBuf> {
    let real = real_path(path)?;
    let contents = fs::read(&real)?;
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let base = format!("{}.backup-{stamp}", real.display());
    for attempt in 0..100 {
        let candidate = if attempt == 0 {
            PathBuf::from(&base)
        } else {
            PathBuf::from(format!("{base}-{attempt}"))
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&candidate) {
            Ok(mut file) => {
                kubectl_kit::owner_only::restrict_to_owner(&candidate)?;
                file.write_all(&contents)?;
                file.sync_all()?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("too many backups named {base}-N"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_private_files_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config");
        write_atomic(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_kubeconfig_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn backups_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "v1").unwrap();
        let now: jiff::Timestamp = "2026-11-28T09:30:00Z".parse().unwrap();
        let first = backup(&path, now).unwrap();
        fs::write(&path, "v2").unwrap();
        let second = backup(&path, now).unwrap();
        assert!(
            first
                .to_string_lossy()
                .ends_with("config.backup-20261128T093000Z")
        );
        assert!(
            second
                .to_string_lossy()
                .ends_with("config.backup-20261128T093000Z-1")
        );
        assert_eq!(fs::read(&first).unwrap(), b"v1");
        assert_eq!(fs::read(&second).unwrap(), b"v2");
        #[cfg(unix)]
        assert_eq!(mode(&first), 0o600);
    }
}
