//! `std::fs` backend (not on wasm).
//!
//! Durability: the atomic writer creates `tmp<random digits>` in the directory (exclusive
//! create, like Go's `ioutil.TempFile(dir, "tmp")`), writes through a buffer, then on commit
//! flushes, `fsync`s the file, renames it over the final name and `fsync`s the directory.
//! An aborted, failed or dropped writer removes its temp file.
//!
//! The lock is `flock` on the directory itself (`File::lock` on `File::open(dir)`), so no lock
//! file appears in the snap folder (etcd would warn about one on every scan). It is per open
//! file description: two handles conflict even inside one process.
//!
//! Node cannot `flock`, so the Node backend (`NodeStorage`, src/storage/node.rs, wasm only)
//! locks with an entry **beside** the folder, and the native lock honours that protocol too,
//! so a Node and a native writer exclude each other. After taking the `flock` (which alone
//! decides between native processes), the native lock also claims
//! `<realpath(dir)>.etcd-snap.lock` by the rules of src/storage/lock_file.rs (a symlink whose
//! target is the owner record; stale, live or undecidable holders; guarded takeover). A live
//! holder: [`LockMode::Fail`] drops the `flock` and returns `Locked` (`held by pid N on HOST
//! (lock file PATH); ...`); [`LockMode::Wait`] polls (10 ms doubling to 500 ms) on the helper
//! thread, holding the `flock` meanwhile; [`LockMode::Break`] also takes over an undecidable
//! holder, warning on stderr (never the `flock`). Dropping the lock removes the entry only if
//! it still holds our token, then drops the `flock`.
//!
//! A folder whose parent is not writable therefore cannot be locked (the lock file cannot be
//! created): that error is returned rather than a lock Node would not see.
//!
//! All I/O is blocking inside the `async fn`s: in an async runtime, call from a blocking
//! context (e.g. `spawn_blocking`). [`LockMode::Wait`] is the exception: it waits on a helper
//! thread, so it never blocks the executor.
//!
//! A commit whose final directory `fsync` fails returns that error although the file is
//! already visible under its final name (the rename cannot be taken back); only its
//! durability is in doubt. `remove` is Go's `os.Remove` (a file or an empty directory).
//! Names must be plain file names (no `/`, `\`, NUL, `.` or `..`): `InvalidArgument`.
//! Entry names that are not UTF-8 are listed losslessly and mapped back to their bytes
//! ([`raw_name`]), so every name `list` returns can be acted on.
//!
//! Reads (`read`, `open_read`) open with `O_NONBLOCK` and `fstat` the descriptor: only a
//! regular file (or a symlink to one) is read, never past its size at open; a FIFO, socket or
//! device is `NotRegular` at once (a blocking open of a FIFO would wait for a writer forever,
//! `/dev/zero` would never end). A file too big to allocate is `TooLarge`.
//!
//! Errors read like Go's `*os.PathError` / `*os.LinkError`:
//! `open /dir/tmp123: no such file or directory`, `rename /dir/a /dir/b: ...`.

use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_io::AsyncRead;

use super::check_name;
use super::lock_file::{self, Attempt, Created, LockIo, Me, PidState, Seen};
use super::raw_name;
use super::{AtomicWrite, LockMode, Metadata, Storage};
use crate::error::{Error, IoErrorKind, Result};

/// Write buffer of the atomic writer.
const WRITE_BUFFER: usize = 256 * 1024;

/// Maps an OS error to the crate's error (the one map: [`Error::os`]).
fn os_error(op: &'static str, path: impl Into<String>, e: &io::Error) -> Error {
    Error::os(op, path, e)
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The entry name's real bytes (see [`raw_name`]).
#[cfg(unix)]
fn raw_path(name: &str) -> PathBuf {
    use std::os::unix::ffi::OsStrExt as _;
    PathBuf::from(std::ffi::OsStr::from_bytes(&raw_name::decode(name)))
}

#[cfg(not(unix))]
fn raw_path(name: &str) -> PathBuf {
    PathBuf::from(name)
}

/// The `String` name of a listed entry, lossless for non-UTF-8 bytes (see [`raw_name`]).
#[cfg(unix)]
fn entry_name(n: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    raw_name::encode(n.as_bytes())
}

#[cfg(not(unix))]
fn entry_name(n: &std::ffi::OsStr) -> String {
    n.to_string_lossy().into_owned()
}

/// `open <path>: not a regular file (<what it is>)`: a FIFO, socket or device is never read.
fn not_regular(path: &str, m: &fs::Metadata) -> Error {
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt as _;
        let t = m.file_type();
        if t.is_fifo() {
            "named pipe"
        } else if t.is_socket() {
            "socket"
        } else if t.is_char_device() {
            "character device"
        } else if t.is_block_device() {
            "block device"
        } else {
            "unknown type"
        }
    };
    #[cfg(not(unix))]
    let what = {
        let _ = m;
        "unknown type"
    };
    Error::io(
        IoErrorKind::NotRegular,
        "open",
        path,
        format!("not a regular file ({what})"),
    )
}

/// A snap directory on the local file system.
#[derive(Debug, Clone)]
pub struct NativeStorage {
    dir: PathBuf,
}

impl NativeStorage {
    /// Remembers `dir`; does no I/O (like etcd's `snap.New`), so a missing directory shows up
    /// as an error of the first operation.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        NativeStorage { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.dir.join(raw_path(name)))
    }

    /// Opens `name` for reading without ever blocking or following it into a non-file.
    ///
    /// `O_NONBLOCK` makes opening a FIFO return at once (a plain open waits for a writer
    /// forever), then `fstat` on the open descriptor decides: a regular file (symlinks to one
    /// are fine, as etcd follows them) gives its size, which bounds every later read, so a
    /// file that grows while read never makes us read more; a directory gives `None` (it
    /// opens, and reading it fails with `is a directory`, as in etcd); anything else (FIFO,
    /// socket, device such as `/dev/zero`) is [`IoErrorKind::NotRegular`].
    fn open_for_read(&self, name: &str) -> Result<(File, String, Option<u64>)> {
        let p = self.path(name)?;
        let ps = path_str(&p);
        let mut opts = OpenOptions::new();
        opts.read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
        let f = opts.open(&p).map_err(|e| os_error("open", &ps, &e))?;
        let m = f.metadata().map_err(|e| os_error("stat", &ps, &e))?;
        if m.is_dir() {
            return Ok((f, ps, None));
        }
        if !m.is_file() {
            return Err(not_regular(&ps, &m));
        }
        Ok((f, ps, Some(m.len())))
    }

    fn sync_dir_now(&self) -> Result<()> {
        let d = path_str(&self.dir);
        let f = File::open(&self.dir).map_err(|e| os_error("open", &d, &e))?;
        f.sync_all().map_err(|e| os_error("sync", &d, &e))
    }

    fn locked_error(&self) -> Error {
        Error::io(
            IoErrorKind::Locked,
            "lock",
            path_str(&self.dir),
            "resource temporarily unavailable",
        )
    }
}

/// A fresh temp-file suffix: random per process, then a counter (Go uses a random u32).
fn temp_suffix() -> u32 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    RandomState::new().hash_one(n) as u32
}

impl Storage for NativeStorage {
    type Reader = NativeReader;
    type Writer = NativeWriter;
    type Lock = NativeLock;

    async fn list(&self) -> Result<Vec<String>> {
        let d = path_str(&self.dir);
        let entries = fs::read_dir(&self.dir).map_err(|e| os_error("open", &d, &e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| os_error("readdirent", &d, &e))?;
            names.push(entry_name(&entry.file_name()));
        }
        Ok(names)
    }

    async fn stat(&self, name: &str) -> Result<Metadata> {
        let p = self.path(name)?;
        let m = fs::metadata(&p).map_err(|e| os_error("stat", path_str(&p), &e))?;
        Ok(Metadata {
            size: if m.is_dir() { 0 } else { m.len() },
            is_dir: m.is_dir(),
        })
    }

    /// Only a regular file is read, and never more than its size at open (see
    /// `open_for_read`). A buffer that cannot be allocated is [`IoErrorKind::TooLarge`].
    async fn read(&self, name: &str) -> Result<Vec<u8>> {
        let (f, ps, limit) = self.open_for_read(name)?;
        let Some(size) = limit else {
            // A directory: the read fails as in etcd (`read <path>: is a directory`).
            let mut f = f;
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)
                .map_err(|e| os_error("read", &ps, &e))?;
            return Ok(buf);
        };
        // Sized up front, as std::fs::read does: one allocation, no regrowth copies.
        let mut buf = Vec::new();
        usize::try_from(size)
            .ok()
            .and_then(|n| buf.try_reserve_exact(n).ok())
            .ok_or_else(|| too_large(&ps, size))?;
        f.take(size)
            .read_to_end(&mut buf)
            .map_err(|e| os_error("read", &ps, &e))?;
        Ok(buf)
    }

    /// A reader bounded by the size at open; a non-regular file is refused (`open_for_read`).
    async fn open_read(&self, name: &str) -> Result<NativeReader> {
        let (file, path, limit) = self.open_for_read(name)?;
        Ok(NativeReader {
            file,
            path,
            remaining: limit.unwrap_or(u64::MAX),
        })
    }

    /// `pread` on the descriptor `open_for_read` gives (bounded by the size at open), behind a
    /// block cache for bbolt's branch pages.
    async fn page_source(&self, name: &str) -> Result<Option<Box<dyn crate::inspect::PageSource>>> {
        let (file, path, limit) = self.open_for_read(name)?;
        let Some(size) = limit else {
            return Err(Error::io(
                IoErrorKind::IsADirectory,
                "read",
                path,
                "is a directory",
            ));
        };
        let src = crate::inspect::FileSource::from_file(file, size);
        Ok(Some(Box::new(crate::inspect::Cached::for_one_pass(src))))
    }

    async fn create_atomic(&self, name: &str) -> Result<NativeWriter> {
        let final_path = self.path(name)?;
        // etcd: .snap files are 0666 &^ umask; .snap.db (and its temp file) 0600.
        #[cfg(unix)]
        let mode = if name.ends_with(".snap") {
            0o666
        } else {
            0o600
        };
        let mut tries = 0;
        let (file, tmp) = loop {
            let tmp = self.dir.join(format!("tmp{}", temp_suffix()));
            let mut opts = OpenOptions::new();
            opts.read(true).write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
            match opts.open(&tmp) {
                Ok(f) => break (f, tmp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 10_000 => {
                    tries += 1;
                }
                Err(e) => return Err(os_error("open", path_str(&tmp), &e)),
            }
        };
        Ok(NativeWriter {
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            tmp,
            final_path,
            storage: self.clone(),
        })
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (a, b) = (self.path(from)?, self.path(to)?);
        fs::rename(&a, &b)
            .map_err(|e| os_error("rename", format!("{} {}", path_str(&a), path_str(&b)), &e))
    }

    /// Go's `os.Remove`: a file, or an empty directory.
    async fn remove(&self, name: &str) -> Result<()> {
        let p = self.path(name)?;
        let Err(e) = fs::remove_file(&p) else {
            return Ok(());
        };
        if e.kind() == io::ErrorKind::NotFound {
            return Err(os_error("remove", path_str(&p), &e));
        }
        match fs::remove_dir(&p) {
            Ok(()) => Ok(()),
            // Not a directory after all: the unlink error is the meaningful one.
            Err(e2) if e2.kind() == io::ErrorKind::NotADirectory => {
                Err(os_error("remove", path_str(&p), &e))
            }
            Err(e2) => Err(os_error("remove", path_str(&p), &e2)),
        }
    }

    async fn sync_dir(&self) -> Result<()> {
        self.sync_dir_now()
    }

    async fn lock(&self, mode: LockMode) -> Result<NativeLock> {
        let d = path_str(&self.dir);
        let file = File::open(&self.dir).map_err(|e| os_error("open", &d, &e))?;
        match mode {
            LockMode::Fail | LockMode::Break => match file.try_lock() {
                // On a live Node holder, `file` drops here and with it the flock.
                Ok(()) => self
                    .claim_lock_file(mode, &|| false)
                    .map(|claim| NativeLock {
                        _claim: claim,
                        _file: file,
                    }),
                Err(fs::TryLockError::WouldBlock) => Err(self.locked_error()),
                Err(fs::TryLockError::Error(e)) => Err(os_error("lock", &d, &e)),
            },
            LockMode::Wait => {
                // Block a helper thread, not the executor. If this future is dropped first,
                // the thread stops polling for the lock file, or releases a lock it got.
                let (tx, rx) = futures_channel::oneshot::channel::<Result<NativeLock>>();
                let storage = self.clone();
                let d2 = d.clone();
                std::thread::Builder::new()
                    .name("etcd-snap-lock".into())
                    .spawn(move || {
                        let r = file
                            .lock()
                            .map_err(|e| os_error("lock", &d2, &e))
                            .and_then(|()| {
                                storage.claim_lock_file(LockMode::Wait, &|| tx.is_canceled())
                            })
                            .map(|claim| NativeLock {
                                _claim: claim,
                                _file: file,
                            });
                        let _ = tx.send(r);
                    })
                    .map_err(|e| os_error("lock", &d, &e))?;
                match rx.await {
                    Ok(r) => r,
                    Err(_) => Err(Error::io(
                        IoErrorKind::Other,
                        "lock",
                        d,
                        "lock thread ended unexpectedly",
                    )),
                }
            }
        }
    }

    fn path_of(&self, name: &str) -> String {
        path_str(&self.dir.join(raw_path(name)))
    }
}

/// The directory lock (`flock` on the directory plus the Node lock file beside it); released
/// when dropped.
#[derive(Debug)]
pub struct NativeLock {
    // Declared first: the lock file goes before the flock does.
    _claim: LockFileClaim,
    _file: File,
}

/// Our `<dir>.etcd-snap.lock`; dropping it removes the entry if it still holds our token.
#[derive(Debug)]
struct LockFileClaim {
    path: String,
    me: Me,
}

impl Drop for LockFileClaim {
    fn drop(&mut self) {
        if lock_file::is_ours(&NativeLockIo, &self.path, &self.me) {
            NativeLockIo.remove(&self.path);
        }
    }
}

/// [`LockIo`] over `std::fs` and `/proc`.
struct NativeLockIo;

impl LockIo for NativeLockIo {
    fn create_link(&self, target: &str, path: &str) -> Result<Created> {
        #[cfg(unix)]
        match std::os::unix::fs::symlink(target, path) {
            Ok(()) => Ok(Created::Yes),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Created::Exists),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EPERM | libc::ENOTSUP | libc::ENOSYS)
                ) =>
            {
                Ok(Created::Unsupported)
            }
            Err(e) => Err(os_error("symlink", path, &e)),
        }
        #[cfg(not(unix))]
        {
            let _ = (target, path);
            Ok(Created::Unsupported)
        }
    }

    fn create_file(&self, contents: &str, path: &str) -> Result<Created> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o644);
        let mut f = match opts.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Created::Exists),
            Err(e) => return Err(os_error("open", path, &e)),
        };
        let r = f
            .write_all(contents.as_bytes())
            .map_err(|e| os_error("write", path, &e))
            .and_then(|()| f.sync_all().map_err(|e| os_error("sync", path, &e)));
        drop(f);
        if let Err(e) = r {
            let _ = fs::remove_file(path);
            return Err(e);
        }
        Ok(Created::Yes)
    }

    fn read_entry(&self, path: &str) -> Option<Seen> {
        let m = fs::symlink_metadata(path).ok()?;
        let raw = if m.file_type().is_symlink() {
            fs::read_link(path).ok()?.to_string_lossy().into_owned()
        } else {
            let mut buf = Vec::new();
            if let Ok(f) = File::open(path) {
                let _ = f.take(4096).read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        };
        let age_ms =
            m.modified()
                .ok()
                .map(|t| match std::time::SystemTime::now().duration_since(t) {
                    Ok(d) => d.as_secs_f64() * 1000.0,
                    Err(e) => -(e.duration().as_secs_f64() * 1000.0),
                });
        Some(Seen { raw, age_ms })
    }

    fn remove(&self, path: &str) -> bool {
        fs::remove_file(path).is_ok()
    }

    fn pid_state(&self, pid: u32) -> PidState {
        pid_state(pid)
    }

    fn warn(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// `kill(pid, 0)` (Node's `process.kill(pid, 0)`), and the start time from `/proc`.
#[cfg(unix)]
fn pid_state(pid: u32) -> PidState {
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    if r != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
        return PidState::Gone;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok();
    PidState::Alive(stat.as_deref().and_then(lock_file::start_time))
}

#[cfg(not(unix))]
fn pid_state(_pid: u32) -> PidState {
    PidState::Alive(None)
}

/// This host's name, as Node's `os.hostname()` (`gethostname`); empty if unknown.
#[cfg(unix)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; the result is NUL-terminated or truncated.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    String::new()
}

impl NativeStorage {
    /// `<realpath(dir)>.etcd-snap.lock`, beside the directory, as node.rs: every spelling of
    /// the folder (`DIR/.`, a symlink to it) names one lock file. Fails if `dir` cannot be
    /// resolved (it does not exist).
    pub fn lock_path(&self) -> Result<PathBuf> {
        let d = path_str(&self.dir);
        let real = fs::canonicalize(&self.dir).map_err(|e| os_error("open", &d, &e))?;
        Ok(PathBuf::from(lock_file::lock_path(&path_str(&real))))
    }

    /// Claims the Node lock file (the flock is already ours). A live holder: `Locked` unless
    /// `mode` is `Wait`, then polls until `cancelled()`.
    fn claim_lock_file(
        &self,
        mode: LockMode,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<LockFileClaim> {
        let path = path_str(&self.lock_path()?);
        let stat = fs::read_to_string("/proc/self/stat").ok();
        let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
        let me = Me::new(
            std::process::id(),
            stat.as_deref(),
            boot.as_deref(),
            hostname(),
            temp_suffix(),
        );
        let d = path_str(&self.dir);
        let mut delay = 10u64;
        let mut busy_since = None;
        loop {
            let err = match lock_file::try_acquire(
                &NativeLockIo,
                &d,
                &path,
                &me,
                mode == LockMode::Break,
            )? {
                Attempt::Acquired => return Ok(LockFileClaim { path, me }),
                Attempt::Held(e) => e,
                Attempt::Busy => {
                    // Another taker clears a stale entry: microseconds, or a crashed taker's
                    // guard that ages out.
                    let t0 = *busy_since.get_or_insert_with(std::time::Instant::now);
                    if mode != LockMode::Wait && t0.elapsed().as_secs() > 15 {
                        return Err(self.locked_error());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                }
            };
            if mode != LockMode::Wait || cancelled() {
                return Err(err);
            }
            std::thread::sleep(std::time::Duration::from_millis(delay));
            delay = (delay * 2).min(500);
        }
    }
}

/// `read <path>: file too large to read into memory (N bytes)`: a limit of ours, not damage.
pub(crate) fn too_large(path: &str, size: u64) -> Error {
    Error::io(
        IoErrorKind::TooLarge,
        "read",
        path,
        format!("file too large to read into memory ({size} bytes)"),
    )
}

/// Streaming reader over a file (blocking reads), ending at the file's size at open.
#[derive(Debug)]
pub struct NativeReader {
    file: File,
    path: String,
    remaining: u64,
}

impl AsyncRead for NativeReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let want = usize::try_from(this.remaining).map_or(buf.len(), |r| r.min(buf.len()));
        if want == 0 {
            return Poll::Ready(Ok(0));
        }
        loop {
            match this.file.read(&mut buf[..want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(n) => {
                    this.remaining -= n as u64;
                    return Poll::Ready(Ok(n));
                }
                // Keep Go's wording (`read /dir/x: is a directory`) through io::Error.
                Err(e) => return Poll::Ready(Err(os_error("read", &this.path, &e).into())),
            }
        }
    }
}

/// Atomic writer: a `tmp<digits>` file in the same directory.
#[derive(Debug)]
pub struct NativeWriter {
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    final_path: PathBuf,
    storage: NativeStorage,
}

impl NativeWriter {
    /// The temp file's path.
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    fn tmp_str(&self) -> String {
        path_str(&self.tmp)
    }

    /// Closes and removes the temp file.
    fn discard(&mut self) -> Result<()> {
        self.file = None;
        fs::remove_file(&self.tmp).map_err(|e| os_error("remove", self.tmp_str(), &e))
    }

    fn publish(&mut self) -> Result<()> {
        let Some(mut w) = self.file.take() else {
            return Err(Error::io(
                IoErrorKind::Other,
                "write",
                self.tmp_str(),
                "file already closed",
            ));
        };
        let t = self.tmp_str();
        w.flush().map_err(|e| os_error("write", &t, &e))?;
        let f = w
            .into_inner()
            .map_err(|e| os_error("write", &t, e.error()))?;
        f.sync_all().map_err(|e| os_error("sync", &t, &e))?;
        drop(f);
        fs::rename(&self.tmp, &self.final_path).map_err(|e| {
            os_error(
                "rename",
                format!("{} {}", t, path_str(&self.final_path)),
                &e,
            )
        })
    }
}

impl AtomicWrite for NativeWriter {
    async fn write(&mut self, buf: &[u8]) -> Result<()> {
        let t = self.tmp_str();
        match self.file.as_mut() {
            Some(w) => w.write_all(buf).map_err(|e| os_error("write", &t, &e)),
            None => Err(Error::io(
                IoErrorKind::Other,
                "write",
                t,
                "file already closed",
            )),
        }
    }

    async fn commit(mut self) -> Result<()> {
        if let Err(e) = self.publish() {
            let _ = self.discard();
            return Err(e);
        }
        self.storage.sync_dir_now()
    }

    async fn abort(mut self) -> Result<()> {
        self.discard()
    }
}

impl Drop for NativeWriter {
    fn drop(&mut self) {
        // Best effort: an unfinished writer leaves no temp file behind.
        if self.file.is_some() {
            let _ = self.discard();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_map_to_kinds() {
        let k = |e: io::Error| os_error("write", "/d/tmp1", &e).io_kind().unwrap();
        #[cfg(target_os = "linux")]
        {
            assert_eq!(k(io::Error::from_raw_os_error(28)), IoErrorKind::NoSpace); // ENOSPC
            assert_eq!(k(io::Error::from_raw_os_error(122)), IoErrorKind::NoSpace); // EDQUOT
            assert_eq!(
                k(io::Error::from_raw_os_error(21)),
                IoErrorKind::IsADirectory
            );
            assert_eq!(
                k(io::Error::from_raw_os_error(13)),
                IoErrorKind::PermissionDenied
            );
            let e = os_error("write", "/d/tmp1", &io::Error::from_raw_os_error(28));
            assert_eq!(e.to_string(), "write /d/tmp1: no space left on device");
            assert_eq!(e.code(), "ERR_NO_SPACE");
        }
        assert_eq!(k(io::ErrorKind::NotFound.into()), IoErrorKind::NotFound);
        assert_eq!(k(io::ErrorKind::Other.into()), IoErrorKind::Other);
    }
}
