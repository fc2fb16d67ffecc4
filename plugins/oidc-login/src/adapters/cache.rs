//! The token cache: one entry per (issuer, client, scopes, account, …) key,
//! on disk (files 0600 in a 0700 directory, written atomically with a temp
//! file and a rename) or in the OS keyring, and a per-key lock file so that
//! concurrent kubectl processes log in or refresh once and share the result.
//!
//! Reads take no lock: a rename replaces an entry in one step, so a reader
//! sees the old or the new entry, never half of one. That keeps the cache hit
//! (what kubectl pays on every command) to one small file read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Where entries are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStorage {
    /// Files in the cache directory.
    Disk,
    /// The OS keyring (Secret Service on Linux); falls back to disk when there is none.
    Keyring,
    /// No cache: every load misses, every save is dropped.
    None,
}

/// Keyring service name of our entries.
pub const KEYRING_SERVICE: &str = "kubectl-oidc-login";
const KEYRING_INDEX: &str = "keyring-index";

/// What makes two logins interchangeable. Everything that changes who the
/// token is for, or what it may do, is part of it.
#[derive(Clone, Default, Serialize)]
pub struct KeyFields {
    /// Issuer URL as given.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (hashed into the key, never stored in clear).
    pub client_secret: String,
    /// Scopes, sorted, without duplicates (openid included).
    pub scopes: Vec<String>,
    /// Whether the access token is what we hand out.
    pub use_access_token: bool,
    /// `client-credentials` tokens belong to the client, others to a person.
    pub client_credentials: bool,
    /// Username of the password grant.
    pub username: String,
    /// `--login-hint`: several accounts on one issuer.
    pub login_hint: String,
    /// Extra authorization request parameters, sorted.
    pub extra_params: Vec<(String, String)>,
    /// `--subject-token-file` of a token exchange: whose token it is.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subject_token_file: String,
    /// `--insecure-skip-tls-verify`: a token fetched without checking the
    /// provider's certificate is never served to a configuration that checks
    /// it. Left out of the key when false, so that existing keys stay.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_tls_verify: bool,
    /// The CAs trusted for the provider (`--certificate-authority` paths and
    /// `--certificate-authority-data`), in order; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificate_authorities: Vec<String>,
}

impl std::fmt::Debug for KeyFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFields")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scopes", &self.scopes)
            .field("use_access_token", &self.use_access_token)
            .field("client_credentials", &self.client_credentials)
            .field("username", &self.username)
            .field("login_hint", &self.login_hint)
            .field("extra_params", &self.extra_params)
            .field("subject_token_file", &self.subject_token_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("certificate_authorities", &self.certificate_authorities)
            .finish()
    }
}

/// `bytes` as lowercase hex, two digits a byte.
fn lower_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// A cache key: the hex SHA-256 of the canonical JSON of [`KeyFields`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey(String);

impl CacheKey {
    /// Computes the key.
    pub fn new(fields: &KeyFields) -> CacheKey {
        let mut fields = fields.clone();
        fields.scopes.sort();
        fields.scopes.dedup();
        fields.extra_params.sort();
        // Serialising strings, bools and vectors of them cannot fail.
        let json = serde_json::to_vec(&fields).unwrap_or_default();
        CacheKey(lower_hex(
            ring::digest::digest(&ring::digest::SHA256, &json).as_ref(),
        ))
    }

    /// The hex digest (also the entry's file name).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What we keep per key. Its `Debug` shows no token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The token handed to kubectl (the id_token, or the access token with
    /// `--oidc-use-access-token`). Same field name as kubelogin's cache.
    pub id_token: String,
    /// The refresh token, when the provider gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Expiry in Unix seconds, for tokens whose `exp` cannot be read (opaque access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("id_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Entry {
    /// The token's expiry: its `exp` claim, else the stored expiry.
    pub fn expiry(&self) -> Option<i64> {
        crate::adapters::jwt::decode_claims(&self.id_token)
            .ok()
            .and_then(|c| c.exp)
            .or(self.expires_at)
    }
}

/// Cache failures.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// The operation.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The entry is not what we wrote.
    #[error("the token cache entry {location} is corrupted ({reason})")]
    Corrupt {
        /// File or keyring item.
        location: String,
        /// Parse error.
        reason: String,
    },
    /// Another process held the lock for too long.
    #[error(
        "timed out after {waited:?} waiting for the token cache lock {path} held by another kubectl-oidc_login \
         (probably waiting for a login in the browser); finish that login, or raise --token-cache-lock-timeout"
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CacheError {
    let path = path.to_path_buf();
    move |source| CacheError::Io { what, path, source }
}

/// The cache in one directory with one storage.
#[derive(Debug, Clone)]
pub struct TokenCache {
    dir: PathBuf,
    storage: CacheStorage,
}

/// A held per-key lock; released on drop (and by the OS if we die).
#[derive(Debug)]
pub struct CacheLock {
    _file: Option<File>,
}

static KEYRING_WARNED: AtomicBool = AtomicBool::new(false);

fn warn_keyring_once(reason: &str) {
    if !KEYRING_WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "warning: cannot use the OS keyring ({reason}); keeping the token cache on disk instead"
        );
    }
}

impl TokenCache {
    /// A cache in `dir` using `storage`.
    pub fn new(dir: PathBuf, storage: CacheStorage) -> TokenCache {
        TokenCache { dir, storage }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of an entry on disk.
    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.as_str())
    }

    fn lock_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.lock", key.as_str()))
    }

    /// Reads an entry. `Ok(None)` when there is none; `Err(Corrupt)` when it
    /// cannot be parsed.
    pub fn load(&self, key: &CacheKey) -> Result<Option<Entry>, CacheError> {
        match self.storage {
            CacheStorage::None => Ok(None),
            CacheStorage::Disk => self.load_file(key),
            CacheStorage::Keyring => match keyring_get(key) {
                Ok(Some(text)) => {
                    parse_entry(&text, &format!("keyring item {}", keyring_user(key))).map(Some)
                }
                // Nothing there, or no keyring: the disk fallback may hold it.
                Ok(None) | Err(_) => self.load_file(key),
            },
        }
    }

    fn load_file(&self, key: &CacheKey) -> Result<Option<Entry>, CacheError> {
        let path = self.entry_path(key);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return Err(CacheError::Corrupt {
                    location: path.display().to_string(),
                    reason: "not UTF-8".into(),
                });
            }
            Err(e) => return Err(io_err("reading", &path)(e)),
        };
        parse_entry(&text, &path.display().to_string()).map(Some)
    }

    /// Reads an entry; a corrupted one is deleted with a warning and treated as absent.
    pub fn load_or_discard(&self, key: &CacheKey) -> Result<Option<Entry>, CacheError> {
        match self.load(key) {
            Err(CacheError::Corrupt { location, reason }) => {
                eprintln!(
                    "warning: discarding the corrupted token cache entry {location} ({reason}); logging in again"
                );
                self.remove(key)?;
                Ok(None)
            }
            other => other,
        }
    }

    /// Writes an entry atomically (disk) or to the keyring (falling back to
    /// disk with one warning when there is no usable keyring).
    pub fn save(&self, key: &CacheKey, entry: &Entry) -> Result<(), CacheError> {
        let text = serde_json::to_string(entry).unwrap_or_default();
        match self.storage {
            CacheStorage::None => Ok(()),
            CacheStorage::Disk => self.save_file(key, &text),
            CacheStorage::Keyring => match keyring_set(key, &text) {
                Ok(()) => {
                    self.remember_keyring_key(key)?;
                    // A stale disk fallback must not shadow the keyring entry later.
                    remove_if_exists(&self.entry_path(key))?;
                    Ok(())
                }
                Err(reason) => {
                    warn_keyring_once(&reason);
                    self.save_file(key, &text)
                }
            },
        }
    }

    fn ensure_dir(&self) -> Result<(), CacheError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(&self.dir)
            .map_err(io_err("creating the directory", &self.dir))
    }

    fn save_file(&self, key: &CacheKey, text: &str) -> Result<(), CacheError> {
        self.ensure_dir()?;
        let path = self.entry_path(key);
        write_atomically(&path, text.as_bytes())
    }

    fn remember_keyring_key(&self, key: &CacheKey) -> Result<(), CacheError> {
        self.ensure_dir()?;
        // Read-modify-write under one lock for all keys: two processes
        // saving different keys at once must not drop each other's line.
        let _lock = lock_index(&self.dir)?;
        let index = self.dir.join(KEYRING_INDEX);
        let existing = fs::read_to_string(&index).unwrap_or_default();
        if existing.lines().any(|l| l == key.as_str()) {
            return Ok(());
        }
        let mut text = existing;
        text.push_str(key.as_str());
        text.push('\n');
        write_atomically(&index, text.as_bytes())
    }

    /// Deletes an entry (disk and keyring).
    pub fn remove(&self, key: &CacheKey) -> Result<(), CacheError> {
        if self.storage == CacheStorage::Keyring {
            let _ = keyring_delete(key);
        }
        remove_if_exists(&self.entry_path(key))
    }

    /// Takes the per-key lock, waiting up to `timeout`. `on_wait` runs once
    /// if another process holds it.
    pub fn lock(
        &self,
        key: &CacheKey,
        timeout: Duration,
        on_wait: impl FnOnce(),
    ) -> Result<CacheLock, CacheError> {
        if self.storage == CacheStorage::None {
            return Ok(CacheLock { _file: None });
        }
        self.ensure_dir()?;
        let path = self.lock_path(key);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(io_err("opening the lock file", &path))?;
        let started = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(CacheLock { _file: Some(file) }),
                Err(fs::TryLockError::WouldBlock) => {
                    if let Some(f) = on_wait.take() {
                        f();
                    }
                    if started.elapsed() >= timeout {
                        return Err(CacheError::LockTimeout {
                            path,
                            waited: started.elapsed(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err("locking", &path)(e)),
            }
        }
    }
}

fn parse_entry(text: &str, location: &str) -> Result<Entry, CacheError> {
    let entry: Entry = serde_json::from_str(text).map_err(|e| CacheError::Corrupt {
        location: location.to_string(),
        reason: e.to_string(),
    })?;
    if entry.id_token.is_empty() {
        return Err(CacheError::Corrupt {
            location: location.to_string(),
            reason: "no token in it".into(),
        });
    }
    Ok(entry)
}

fn remove_if_exists(path: &Path) -> Result<(), CacheError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err("deleting", path)(e)),
        _ => Ok(()),
    }
}

/// Writes `bytes` to a temp file (0600) beside `path`, syncs it, renames it
/// over `path` and syncs the directory. The temp file is named
/// `.NAME.XXXXXX.tmp`, so [`clean`] removes one a crash left behind; on any
/// error it is deleted and `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("entry");
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(0o600));
    }
    let mut temp = builder
        .tempfile_in(dir)
        .map_err(io_err("creating a temporary file in", dir))?;
    kubectl_kit::owner_only::restrict_to_owner(temp.path())
        .map_err(io_err("restricting access to", temp.path()))?;
    temp.write_all(bytes)
        .map_err(io_err("writing", temp.path()))?;
    temp.as_file()
        .sync_all()
        .map_err(io_err("syncing", temp.path()))?;
    // On failure `persist` hands the temp file back; dropping it deletes it.
    temp.persist(path)
        .map_err(|e| io_err("renaming the new entry to", path)(e.error))?;
    // The rename lives in the directory: sync it too, or a crash can
    // bring the old entry back (with a refresh token already rotated).
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing the directory", dir))?;
    Ok(())
}

/// Takes the lock of the keyring index (`keyring-index.lock`), shared by
/// every key of the directory; released when the file is dropped.
fn lock_index(dir: &Path) -> Result<File, CacheError> {
    let path = dir.join(format!("{KEYRING_INDEX}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("opening", &path))?;
    file.lock().map_err(io_err("locking", &path))?;
    Ok(file)
}

/// What [`clean`] removed.
#[derive(Debug, Default)]
pub struct CleanReport {
    /// Files deleted from the directory.
    pub files: usize,
    /// Keyring items deleted.
    pub keyring_items: usize,
    /// Keyring items that could not be deleted, with the reason.
    pub keyring_errors: Vec<String>,
}

fn is_cache_file(name: &str) -> bool {
    let stem = name.strip_suffix(".lock").unwrap_or(name);
    let hex_name = stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit());
    hex_name || name == KEYRING_INDEX || (name.starts_with('.') && name.ends_with(".tmp"))
}

/// Deletes every cache file in `dir` and the keyring items recorded there.
pub fn clean(dir: &Path) -> Result<CleanReport, CacheError> {
    let mut report = CleanReport::default();
    let _lock = match dir.is_dir() {
        true => Some(lock_index(dir)?),
        false => None,
    };
    let index = dir.join(KEYRING_INDEX);
    if let Ok(text) = fs::read_to_string(&index) {
        for line in text.lines().filter(|l| !l.is_empty()) {
            match keyring_delete(&CacheKey(line.to_string())) {
                Ok(true) => report.keyring_items += 1,
                Ok(false) => {}
                Err(e) => report.keyring_errors.push(e),
            }
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(io_err("listing", dir)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_cache_file(name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            remove_if_exists(&entry.path())?;
            report.files += 1;
        }
    }
    Ok(report)
}

fn keyring_user(key: &CacheKey) -> String {
    format!("tokencache/{}", key.as_str())
}

fn keyring_entry(key: &CacheKey) -> Result<keyring::Entry, String> {
    keyring::Entry::new(KEYRING_SERVICE, &keyring_user(key)).map_err(|e| e.to_string())
}

/// Largest secret we put in a keyring: Windows' credential blob limit; the
/// Secret Service and Keychain take more, but tokens this large are unusual
/// and a uniform limit makes the fallback predictable.
pub const KEYRING_MAX_BYTES: usize = 2560;

fn keyring_set(key: &CacheKey, text: &str) -> Result<(), String> {
    if text.len() > KEYRING_MAX_BYTES {
        return Err(format!(
            "the token is {} bytes, more than the {KEYRING_MAX_BYTES} a keyring item holds",
            text.len()
        ));
    }
    keyring_entry(key)?
        .set_password(text)
        .map_err(|e| e.to_string())
}

fn keyring_get(key: &CacheKey) -> Result<Option<String>, String> {
    match keyring_entry(key)?.get_password() {
        Ok(text) => Ok(Some(text)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

fn keyring_delete(key: &CacheKey) -> Result<bool, String> {
    match keyring_entry(key)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> KeyFields {
        KeyFields {
            issuer: "https://issuer".into(),
            client_id: "c".into(),
            scopes: vec!["openid".into(), "email".into()],
            ..Default::default()
        }
    }

    #[test]
    fn key_ignores_order_but_not_account_or_scopes() {
        let a = CacheKey::new(&fields());
        let mut reordered = fields();
        reordered.scopes = vec!["email".into(), "openid".into(), "email".into()];
        assert_eq!(a, CacheKey::new(&reordered));
        let mut other_account = fields();
        other_account.login_hint = "bob".into();
        assert_ne!(a, CacheKey::new(&other_account));
        let mut other_scopes = fields();
        other_scopes.scopes.push("groups".into());
        assert_ne!(a, CacheKey::new(&other_scopes));
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn keys_stay_those_of_entries_already_on_disk() {
        // The lowercase hex SHA-256 of the canonical JSON
        // {"issuer":"https://issuer","client_id":"c","client_secret":"","scopes":["email","openid"],
        //  "use_access_token":false,"client_credentials":false,"username":"","login_hint":"","extra_params":[]}
        // as `sha256sum` prints it: a changed key would orphan every cached login.
        assert_eq!(
            CacheKey::new(&fields()).as_str(),
            "efbafd952dad7a453a6963d5999eb6ff4456e50277f0277f2cdfaf4435bd63fc"
        );
    }

    #[test]
    fn atomic_write_is_private_and_corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().join("cache"), CacheStorage::Disk);
        let key = CacheKey::new(&fields());
        assert_eq!(cache.load(&key).unwrap(), None);
        let entry = Entry {
            id_token: "a.b.c".into(),
            refresh_token: Some("r".into()),
            expires_at: None,
        };
        cache.save(&key, &entry).unwrap();
        assert_eq!(cache.load(&key).unwrap(), Some(entry));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(cache.entry_path(&key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = fs::metadata(cache.dir()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        // No temp files left behind.
        let names: Vec<String> = fs::read_dir(cache.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [key.as_str().to_string()]);

        fs::write(cache.entry_path(&key), "{not json").unwrap();
        assert!(matches!(cache.load(&key), Err(CacheError::Corrupt { .. })));
        assert_eq!(cache.load_or_discard(&key).unwrap(), None);
        assert!(!cache.entry_path(&key).exists());
    }

    #[test]
    fn a_failed_rename_keeps_the_old_entry_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the entry should go: the rename fails (even as root).
        let path = dir.path().join("entry");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), "old").unwrap();
        let err = write_atomically(&path, b"new").unwrap_err();
        assert!(
            matches!(&err, CacheError::Io { what: "renaming the new entry to", path: p, .. } if *p == path),
            "{err}"
        );
        assert_eq!(fs::read_to_string(path.join("keep")).unwrap(), "old");
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["entry"]);
    }

    #[test]
    fn lock_times_out_while_another_holder_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().to_path_buf(), CacheStorage::Disk);
        let key = CacheKey::new(&fields());
        let held = cache.lock(&key, Duration::from_secs(1), || {}).unwrap();
        let mut waited = false;
        let err = cache
            .lock(&key, Duration::from_millis(100), || waited = true)
            .unwrap_err();
        assert!(waited);
        assert!(
            err.to_string().contains("--token-cache-lock-timeout"),
            "{err}"
        );
        drop(held);
        assert!(cache.lock(&key, Duration::from_millis(100), || {}).is_ok());
    }

    #[test]
    fn clean_removes_cache_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().to_path_buf(), CacheStorage::Disk);
        let key = CacheKey::new(&fields());
        cache
            .save(
                &key,
                &Entry {
                    id_token: "t".into(),
                    refresh_token: None,
                    expires_at: None,
                },
            )
            .unwrap();
        drop(cache.lock(&key, Duration::from_secs(1), || {}).unwrap());
        fs::write(dir.path().join("notes.txt"), "keep").unwrap();
        let report = clean(dir.path()).unwrap();
        assert_eq!(report.files, 2);
        assert!(dir.path().join("notes.txt").exists());
        assert!(!cache.entry_path(&key).exists());
    }
}
