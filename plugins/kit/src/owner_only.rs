//! Files only their owner may read: token caches and kubeconfigs hold
//! credentials.
//!
//! On Unix that is mode `0600`. On Windows a mode bit means nothing: a new
//! file inherits its folder's access list, which may let other users (or
//! every user, under `C:\` or a shared folder) read it. There the file gets a
//! protected DACL — no inherited entries — with one entry granting full
//! access to the file's owner (SDDL [`WINDOWS_SDDL`]), like `chmod 600`.
//!
//! Call [`restrict_to_owner`] on a new, still empty file before writing the
//! secret into it; a rename on the same volume keeps the access list.

use std::io;
use std::path::Path;

/// The access list a file gets on Windows: a protected DACL (`P`, nothing
/// inherited from the folder) allowing (`A`) full access (`FA`) to the owner
/// (`OW`, the owner-rights SID). Administrators can still take ownership, as
/// root can read a `0600` file.
pub const WINDOWS_SDDL: &str = "D:P(A;;FA;;;OW)";

/// Makes the file at `path` readable and writable by its owner only: mode
/// `0600` on Unix, the protected DACL [`WINDOWS_SDDL`] on Windows.
///
/// The error is the operating system's, for the caller to name the file in.
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(windows)]
    {
        windows::restrict_to_owner(path)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = path;
        Ok(())
    }
}

/// The Windows access-control calls. Compiled on Windows; on other hosts
/// with `RUSTFLAGS="--cfg kubext_windows_check"` it is type-checked only
/// (windows-sys declares its imports without linking them there), which
/// `cargo check` allows without a Windows target installed.
#[cfg(any(windows, kubext_windows_check))]
pub(crate) mod windows {
    // Off Windows this module is only type-checked: nothing calls it.
    #![cfg_attr(not(windows), allow(dead_code))]

    use std::ffi::OsStr;
    use std::io;
    use std::path::Path;
    use std::ptr;

    use windows_sys::Win32::Foundation::{ERROR_SUCCESS, LocalFree};
    use windows_sys::Win32::Security::Authorization::{
        ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1, SE_FILE_OBJECT,
        SetNamedSecurityInfoW,
    };
    use windows_sys::Win32::Security::{
        ACL, DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl,
        PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
    };

    /// Sets [`super::WINDOWS_SDDL`]'s DACL on `path`, protected from inheritance.
    pub(crate) fn restrict_to_owner(path: &Path) -> io::Result<()> {
        let sddl = wide(OsStr::new(super::WINDOWS_SDDL));
        let name = wide(path.as_os_str());
        let mut descriptor: PSECURITY_DESCRIPTOR = ptr::null_mut();
        // SAFETY: `sddl` is NUL-terminated; on success `descriptor` is a
        // LocalAlloc'd self-relative descriptor, freed below.
        let converted = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut descriptor,
                ptr::null_mut(),
            )
        };
        if converted == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `descriptor` was just made and is freed only below.
        let result = unsafe { set_protected_dacl(&name, descriptor) };
        // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
        unsafe { LocalFree(descriptor) };
        result
    }

    /// Sets the DACL of `descriptor` on the file `name` (NUL-terminated),
    /// protected from inheritance.
    ///
    /// # Safety
    /// `descriptor` must be a valid security descriptor.
    unsafe fn set_protected_dacl(name: &[u16], descriptor: PSECURITY_DESCRIPTOR) -> io::Result<()> {
        let mut present = 0;
        let mut defaulted = 0;
        let mut dacl: *mut ACL = ptr::null_mut();
        // SAFETY: `descriptor` is valid (the caller's promise); `dacl` points into it.
        if unsafe { GetSecurityDescriptorDacl(descriptor, &mut present, &mut dacl, &mut defaulted) }
            == 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `name` is NUL-terminated; `dacl` lives as long as `descriptor`.
        let status = unsafe {
            SetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                ptr::null_mut(),
                ptr::null_mut(),
                dacl,
                ptr::null(),
            )
        };
        if status != ERROR_SUCCESS {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        Ok(())
    }

    /// The DACL of `path` in SDDL (`D:…`), as Windows reports it: what the
    /// tests compare with [`super::WINDOWS_SDDL`].
    #[cfg(test)]
    pub(crate) fn dacl_sddl(path: &Path) -> io::Result<String> {
        use windows_sys::Win32::Security::Authorization::{
            ConvertSecurityDescriptorToStringSecurityDescriptorW, GetNamedSecurityInfoW,
        };
        let name = wide(path.as_os_str());
        let mut descriptor: PSECURITY_DESCRIPTOR = ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; on success `descriptor` is
        // LocalAlloc'd, freed below; the other out-pointers are not wanted.
        let status = unsafe {
            GetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                &mut descriptor,
            )
        };
        if status != ERROR_SUCCESS {
            return Err(io::Error::from_raw_os_error(status as i32));
        }
        let mut text: *mut u16 = ptr::null_mut();
        let mut len = 0u32;
        // SAFETY: `descriptor` is valid; on success `text` is a LocalAlloc'd
        // string of `len` UTF-16 units (with its NUL), freed below.
        let converted = unsafe {
            ConvertSecurityDescriptorToStringSecurityDescriptorW(
                descriptor,
                SDDL_REVISION_1,
                DACL_SECURITY_INFORMATION,
                &mut text,
                &mut len,
            )
        };
        let result = if converted == 0 {
            Err(io::Error::last_os_error())
        } else {
            // SAFETY: `text` holds `len` units.
            let units = unsafe { std::slice::from_raw_parts(text, len as usize) };
            let units = units.strip_suffix(&[0]).unwrap_or(units);
            let sddl = String::from_utf16_lossy(units);
            // SAFETY: allocated by ConvertSecurityDescriptorToStringSecurityDescriptorW.
            unsafe { LocalFree(text.cast()) };
            Ok(sddl)
        };
        // SAFETY: allocated by GetNamedSecurityInfoW.
        unsafe { LocalFree(descriptor) };
        result
    }

    /// `s` as a NUL-terminated UTF-16 string.
    #[cfg(windows)]
    fn wide(s: &OsStr) -> Vec<u16> {
        use std::os::windows::ffi::OsStrExt as _;
        s.encode_wide().chain(Some(0)).collect()
    }

    /// Type-checking stand-in on other hosts (never run there).
    #[cfg(not(windows))]
    fn wide(s: &OsStr) -> Vec<u16> {
        s.to_string_lossy().encode_utf16().chain(Some(0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[cfg(unix)]
    #[test]
    fn unix_file_becomes_mode_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        fs::write(&path, b"").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        restrict_to_owner(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    /// Runs in the Windows job of ci.yml: the file's DACL is exactly the
    /// owner's entry (nothing inherited from the temp folder), and the owner
    /// can still write and read it.
    #[cfg(windows)]
    #[test]
    fn windows_file_gets_a_protected_owner_only_dacl() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        fs::write(&path, b"").unwrap();
        let before = windows::dacl_sddl(&path).unwrap();
        assert_ne!(before, WINDOWS_SDDL, "the temp folder's inherited DACL");
        restrict_to_owner(&path).unwrap();
        assert_eq!(windows::dacl_sddl(&path).unwrap(), WINDOWS_SDDL);
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"secret")
            .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        // A rename keeps it, as the atomic writers rely on.
        let renamed = dir.path().join("renamed");
        fs::rename(&path, &renamed).unwrap();
        assert_eq!(windows::dacl_sddl(&renamed).unwrap(), WINDOWS_SDDL);
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = restrict_to_owner(&dir.path().join("absent")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
