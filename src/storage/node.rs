//! Node.js `fs` backend (wasm only), reached at run time through
//! `process.getBuiltinModule('node:fs')` (Node >= 20.16), so the same `.wasm` still loads in
//! browsers, where opening this backend fails with `ERR_UNSUPPORTED`.
//!
//! The atomic writer goes through a `fs.promises` `FileHandle` (writes and fsync on libuv's
//! thread pool, one write in flight behind the caller), so large db copies never block the
//! event loop. The short metadata calls (readdir, stat, rename, unlink, directory fsync) and
//! whole-file / streaming reads are Node's synchronous calls, reading straight into wasm memory.
//!
//! Durability equals the native backend's: the atomic writer creates `tmp<random digits>` in
//! the directory with `O_CREAT|O_EXCL` (mode 0600, like Go's `ioutil.TempFile`), writes, then
//! on commit `fsync`s and closes it, renames it over the final name and `fsync`s the directory
//! (opened read-only). An aborted, failed or dropped writer removes its temp file.
//!
//! The lock is an entry **beside** the directory, `<realpath(dir)>.etcd-snap.lock`, not inside
//! it: etcd warns about every unexpected file in the snap folder on each scan, and a lock file
//! there would also be visible to tools that list the folder. It is a symlink whose target is
//! the owner record (pid, start time, boot id, token, host), so it needs no data block and
//! works on a full disk; the rules (stale, live, undecidable, guarded takeover) are in
//! src/storage/lock_file.rs, shared with the native lock (src/storage/native.rs), which takes
//! its `flock` and then claims this same entry, so the two exclude each other.
//!
//! Reads follow the native backend's rules (open `O_NONBLOCK`, `fstat`, regular files only,
//! bounded by the size at open) and read in pieces, so files over Node's 2 GiB `readFileSync`
//! limit stream fine; holding one whole is wasm32's limit (`ERR_TOO_LARGE`). Names are listed
//! as bytes and non-UTF-8 ones handed back to `node:fs` as byte paths
//! ([`raw_name`]).
//!
//! Errors read like Go's `*os.PathError`: `open /dir/x.snap: no such file or directory`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::check_name;
use super::lock_file::{self, Attempt, Created, LockIo, Me, PidState, Seen};
use super::raw_name;
use super::{AtomicWrite, LockMode, Metadata, Storage};
use crate::error::{Error, IoErrorKind, Result};
use crate::js::error::from_js;
use crate::js::util::{get, method, sleep_ms};

#[wasm_bindgen]
extern "C" {
    /// The `node:fs` module (the one binding of its sync calls; the CLI's Node host uses it too).
    #[derive(Clone)]
    pub type NodeFs;
    #[wasm_bindgen(method, catch, js_name = openSync)]
    pub(crate) fn open_sync(
        this: &NodeFs,
        path: &str,
        flags: &str,
        mode: u32,
    ) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = closeSync)]
    pub(crate) fn close_sync(this: &NodeFs, fd: f64) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = writeSync)]
    pub(crate) fn write_sync(
        this: &NodeFs,
        fd: f64,
        buf: &[u8],
    ) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = readSync)]
    pub(crate) fn read_sync(
        this: &NodeFs,
        fd: f64,
        buf: &mut [u8],
        offset: u32,
        len: u32,
        pos: JsValue,
    ) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = fsyncSync)]
    pub(crate) fn fsync_sync(this: &NodeFs, fd: f64) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = renameSync)]
    pub(crate) fn rename_sync(
        this: &NodeFs,
        from: &str,
        to: &str,
    ) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = unlinkSync)]
    pub(crate) fn unlink_sync(this: &NodeFs, path: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = rmdirSync)]
    pub(crate) fn rmdir_sync(this: &NodeFs, path: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = linkSync)]
    pub(crate) fn link_sync(
        this: &NodeFs,
        from: &str,
        to: &str,
    ) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = readdirSync)]
    pub(crate) fn readdir_sync(this: &NodeFs, path: &str) -> std::result::Result<Array, JsValue>;
    #[wasm_bindgen(method, catch, js_name = statSync)]
    pub(crate) fn stat_sync(this: &NodeFs, path: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = readFileSync)]
    pub(crate) fn read_file_sync(
        this: &NodeFs,
        path: &str,
    ) -> std::result::Result<Uint8Array, JsValue>;
    #[wasm_bindgen(method, catch, js_name = mkdirSync)]
    pub(crate) fn mkdir_sync(
        this: &NodeFs,
        path: &str,
        options: &JsValue,
    ) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = symlinkSync)]
    pub(crate) fn symlink_sync(
        this: &NodeFs,
        target: &str,
        path: &str,
    ) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = readlinkSync)]
    pub(crate) fn readlink_sync(this: &NodeFs, path: &str) -> std::result::Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = lstatSync)]
    pub(crate) fn lstat_sync(this: &NodeFs, path: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = realpathSync)]
    pub(crate) fn realpath_sync(this: &NodeFs, path: &str) -> std::result::Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = fstatSync)]
    pub(crate) fn fstat_sync(this: &NodeFs, fd: f64) -> std::result::Result<JsValue, JsValue>;
    /// `readSync(fd, buffer, offset, length, position)` with a numeric position.
    #[wasm_bindgen(method, catch, js_name = readSync)]
    pub(crate) fn pread_sync(
        this: &NodeFs,
        fd: f64,
        buf: &mut [u8],
        offset: u32,
        len: u32,
        pos: f64,
    ) -> std::result::Result<f64, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    // The same `node:fs` calls with a path that may be raw bytes (a `Uint8Array`), for entry
    // names that are not UTF-8 (see `NodeStorage::target` and src/storage/raw_name.rs).
    #[wasm_bindgen(method, catch, js_name = readdirSync)]
    fn readdir_sync_opts(
        this: &NodeFs,
        path: &str,
        options: &JsValue,
    ) -> std::result::Result<Array, JsValue>;
    #[wasm_bindgen(method, catch, js_name = statSync)]
    fn stat_sync_v(this: &NodeFs, path: &JsValue) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = openSync)]
    fn open_sync_v(
        this: &NodeFs,
        path: &JsValue,
        flags: f64,
        mode: u32,
    ) -> std::result::Result<f64, JsValue>;
    #[wasm_bindgen(method, catch, js_name = renameSync)]
    fn rename_sync_v(
        this: &NodeFs,
        from: &JsValue,
        to: &JsValue,
    ) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = unlinkSync)]
    fn unlink_sync_v(this: &NodeFs, path: &JsValue) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = rmdirSync)]
    fn rmdir_sync_v(this: &NodeFs, path: &JsValue) -> std::result::Result<(), JsValue>;
}

/// Largest piece [`NodeStorage::read`] asks `readSync` for: Node refuses more than 2 GiB per
/// call (and `readFileSync` refuses files over 2 GiB), so large files are read in pieces.
const READ_PIECE: usize = 64 << 20;

/// What `open_for_read` found: a regular file of this size, or a directory.
enum Opened {
    File(u64),
    Dir,
}

#[wasm_bindgen]
extern "C" {
    /// `fs.promises`.
    #[derive(Clone)]
    pub type NodeFsPromises;
    #[wasm_bindgen(method, catch, js_name = open)]
    fn open_p(
        this: &NodeFsPromises,
        path: &str,
        flags: &str,
        mode: u32,
    ) -> std::result::Result<Promise, JsValue>;
    /// A `fs.promises` `FileHandle`.
    pub type FileHandle;
    #[wasm_bindgen(method, catch, js_name = write)]
    fn write_p(this: &FileHandle, buf: &Uint8Array) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = sync)]
    fn sync_p(this: &FileHandle) -> std::result::Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = close)]
    fn close_p(this: &FileHandle) -> std::result::Result<Promise, JsValue>;
}

/// `process.getBuiltinModule(name)`, or `ERR_UNSUPPORTED` outside Node.
fn builtin(name: &str) -> Result<JsValue> {
    let unsupported = |why: &str| Error::io(IoErrorKind::Unsupported, "open", name, why.to_owned());
    let process = get(&js_sys::global().into(), "process");
    let gbm = method(&process, "getBuiltinModule").ok_or_else(|| {
        unsupported("not running in Node.js >= 20.16 (process.getBuiltinModule is missing)")
    })?;
    let m = gbm
        .call1(&process, &JsValue::from_str(name))
        .map_err(|e| from_js("open", name, &e))?;
    if m.is_object() {
        Ok(m)
    } else {
        Err(unsupported("module not available"))
    }
}

thread_local! {
    static FS: std::cell::OnceCell<NodeFs> = const { std::cell::OnceCell::new() };
}

/// The `node:fs` module (cached).
pub fn node_fs() -> Result<NodeFs> {
    FS.with(|c| {
        if let Some(fs) = c.get() {
            return Ok(fs.clone());
        }
        let fs: NodeFs = builtin("node:fs")?.unchecked_into();
        let _ = c.set(fs.clone());
        Ok(fs)
    })
}

/// Go's op for a failed Node call: the failing syscall when Node names one we know.
fn node_err(default_op: &'static str, path: &str, e: &JsValue) -> Error {
    let op = match get(e, "syscall").as_string().as_deref() {
        Some("open" | "scandir") => "open",
        Some("read") => "read",
        Some("write") => "write",
        Some("fsync") => "sync",
        Some("close") => "close",
        Some("stat") => "stat",
        Some("unlink" | "rmdir") => "remove",
        _ => default_op,
    };
    from_js(op, path, e)
}

/// A snap directory on a file system, through Node's `fs`.
#[derive(Clone)]
pub struct NodeStorage {
    fs: NodeFs,
    dir: String,
}

impl NodeStorage {
    /// Binds `dir`; does no I/O (like etcd's `snap.New`). Fails only outside Node.
    pub fn new(dir: &str) -> Result<Self> {
        if dir.is_empty() {
            return Err(Error::InvalidArgument(
                "node fs storage: empty directory path".into(),
            ));
        }
        Ok(NodeStorage {
            fs: node_fs()?,
            dir: dir.to_owned(),
        })
    }

    /// The current directory, named by nothing: messages show bare names, as the native
    /// backend does for an empty path (the CLI's `read NAME`, src/cli/node.rs). Only file
    /// calls work on it; listing, locking and syncing need a named directory.
    pub(crate) fn current_dir() -> Result<Self> {
        Ok(NodeStorage {
            fs: node_fs()?,
            dir: String::new(),
        })
    }

    /// The directory as given.
    pub fn dir(&self) -> &str {
        &self.dir
    }

    fn join(&self, name: &str) -> String {
        if self.dir.is_empty() || self.dir.ends_with('/') {
            format!("{}{name}", self.dir)
        } else {
            format!("{}/{name}", self.dir)
        }
    }

    fn path(&self, name: &str) -> Result<String> {
        check_name(name)?;
        Ok(self.join(name))
    }

    /// The path to hand to `node:fs` for entry `name`, and how messages show it. A name
    /// [`list`](Storage::list) produced from non-UTF-8 bytes ([`raw_name`]) becomes a
    /// `Uint8Array` of those bytes (Node takes byte paths); messages show it lossily.
    fn target(&self, name: &str) -> Result<(JsValue, String)> {
        check_name(name)?;
        let shown = self.join(&raw_name::display(name));
        match raw_name::decode(name) {
            std::borrow::Cow::Borrowed(_) => Ok((JsValue::from_str(&self.join(name)), shown)),
            std::borrow::Cow::Owned(raw) => {
                let mut p = self.dir.as_bytes().to_vec();
                if !self.dir.is_empty() && !self.dir.ends_with('/') {
                    p.push(b'/');
                }
                p.extend_from_slice(&raw);
                Ok((Uint8Array::from(&p[..]).into(), shown))
            }
        }
    }

    fn sync_dir_now(&self) -> Result<()> {
        let fd = self
            .fs
            .open_sync(&self.dir, "r", 0)
            .map_err(|e| node_err("open", &self.dir, &e))?;
        let r = self
            .fs
            .fsync_sync(fd)
            .map_err(|e| node_err("sync", &self.dir, &e));
        let _ = self.fs.close_sync(fd);
        r
    }

    /// Opens `name` for reading as the native backend does (src/storage/native.rs,
    /// `open_for_read`): `O_RDONLY | O_NONBLOCK`, so a FIFO never blocks the event loop, then
    /// `fstat` on the descriptor: a regular file (symlinks to one are fine) gives its size,
    /// which bounds every read; a directory opens (reading it fails); anything else is
    /// `ERR_NOT_REGULAR_FILE` and is closed at once.
    fn open_for_read(&self, name: &str) -> Result<(f64, String, Opened)> {
        let (target, p) = self.target(name)?;
        let c = get(&self.fs, "constants");
        let flag = |k: &str| get(&c, k).as_f64().unwrap_or(0.0) as u32;
        let flags = flag("O_RDONLY") | flag("O_NONBLOCK");
        let fd = self
            .fs
            .open_sync_v(&target, f64::from(flags), 0)
            .map_err(|e| node_err("open", &p, &e))?;
        let st = match self.fs.fstat_sync(fd) {
            Ok(st) => st,
            Err(e) => {
                let _ = self.fs.close_sync(fd);
                return Err(node_err("stat", &p, &e));
            }
        };
        let is = |m: &str| {
            method(&st, m)
                .and_then(|f| f.call0(&st).ok())
                .is_some_and(|v| v.is_truthy())
        };
        if is("isDirectory") {
            return Ok((fd, p, Opened::Dir));
        }
        if !is("isFile") {
            let what = if is("isFIFO") {
                "named pipe"
            } else if is("isSocket") {
                "socket"
            } else if is("isCharacterDevice") {
                "character device"
            } else if is("isBlockDevice") {
                "block device"
            } else {
                "unknown type"
            };
            let _ = self.fs.close_sync(fd);
            return Err(Error::io(
                IoErrorKind::NotRegular,
                "open",
                p,
                format!("not a regular file ({what})"),
            ));
        }
        let size = get(&st, "size").as_f64().unwrap_or(0.0) as u64;
        Ok((fd, p, Opened::File(size)))
    }

    /// Reads a regular file of `size` bytes in [`READ_PIECE`] positioned reads straight into
    /// one wasm buffer; never past `size` (a growing file), shorter if the file shrank. A
    /// buffer wasm32 cannot allocate (any file of 2 GiB or more: a Rust allocation is at most
    /// `isize::MAX` bytes there) is `ERR_TOO_LARGE`, never an I/O or content error, so `Load`
    /// neither quarantines the file nor falls back to an older one (see `Snapshotter::load`).
    /// [`open_read`](Storage::open_read) streams such files fine (`ls`, `verify`).
    fn read_fd(&self, fd: f64, p: &str, size: u64) -> Result<Vec<u8>> {
        let too_large = || {
            Error::io(
                IoErrorKind::TooLarge,
                "read",
                p,
                format!(
                    "file too large to read into memory ({size} bytes; wasm32 holds at most \
                     {} bytes in one buffer)",
                    isize::MAX
                ),
            )
        };
        let n = usize::try_from(size).map_err(|_| too_large())?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(n).map_err(|_| too_large())?;
        buf.resize(n, 0);
        let mut got = 0usize;
        while got < n {
            let want = (n - got).min(READ_PIECE);
            let r = self
                .fs
                .pread_sync(fd, &mut buf[got..got + want], 0, want as u32, got as f64)
                .map_err(|e| node_err("read", p, &e))? as usize;
            if r == 0 {
                break; // shrank since fstat
            }
            got += r.min(want);
        }
        buf.truncate(got);
        Ok(buf)
    }

    /// `<realpath(dir)>.etcd-snap.lock`, beside the directory (`fs.realpathSync`): every
    /// spelling of the folder names one lock. Fails if `dir` cannot be resolved.
    pub fn lock_path(&self) -> Result<String> {
        let real = self
            .fs
            .realpath_sync(&self.dir)
            .map_err(|e| node_err("open", &self.dir, &e))?;
        Ok(lock_file::lock_path(&real))
    }
}

/// A random `u32`, from `Math.random` (temp names and lock tokens need uniqueness, not secrecy).
fn random_u32() -> u32 {
    (js_sys::Math::random() * 4_294_967_296.0) as u32
}

impl Storage for NodeStorage {
    type Reader = NodeReader;
    type Writer = NodeWriter;
    type Lock = NodeLock;

    async fn list(&self) -> Result<Vec<String>> {
        // As bytes, so a non-UTF-8 name survives ([`raw_name`]); UTF-8 names are themselves.
        let opts = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&opts, &"encoding".into(), &"buffer".into());
        let arr = self
            .fs
            .readdir_sync_opts(&self.dir, &opts)
            .map_err(|e| node_err("open", &self.dir, &e))?;
        Ok(arr
            .iter()
            .filter_map(|v| v.dyn_into::<Uint8Array>().ok())
            .map(|b| raw_name::encode(&b.to_vec()))
            .collect())
    }

    async fn stat(&self, name: &str) -> Result<Metadata> {
        let (target, p) = self.target(name)?;
        let st = self
            .fs
            .stat_sync_v(&target)
            .map_err(|e| node_err("stat", &p, &e))?;
        let is_dir = method(&st, "isDirectory")
            .and_then(|f| f.call0(&st).ok())
            .is_some_and(|v| v.is_truthy());
        let size = get(&st, "size").as_f64().unwrap_or(0.0);
        Ok(Metadata {
            size: if is_dir { 0 } else { size as u64 },
            is_dir,
        })
    }

    /// Only a regular file is read (see `open_for_read`), in pieces (files over 2 GiB too),
    /// never past its size at open.
    async fn read(&self, name: &str) -> Result<Vec<u8>> {
        let (fd, p, opened) = self.open_for_read(name)?;
        let r = match opened {
            Opened::Dir => Err(Error::io(
                IoErrorKind::IsADirectory,
                "read",
                &p,
                "is a directory",
            )),
            Opened::File(size) => self.read_fd(fd, &p, size),
        };
        let _ = self.fs.close_sync(fd);
        r
    }

    /// Positioned `readSync` calls on the descriptor `open_for_read` gives, bounded by the size
    /// at open, behind a block cache for bbolt's branch pages.
    async fn page_source(&self, name: &str) -> Result<Option<Box<dyn crate::inspect::PageSource>>> {
        let (fd, path, opened) = self.open_for_read(name)?;
        let Opened::File(size) = opened else {
            let _ = self.fs.close_sync(fd);
            return Err(Error::io(
                IoErrorKind::IsADirectory,
                "read",
                path,
                "is a directory",
            ));
        };
        let src = NodePages {
            fs: self.fs.clone(),
            fd,
            size,
            path,
        };
        Ok(Some(Box::new(crate::inspect::Cached::for_one_pass(src))))
    }

    /// A reader bounded by the size at open; a non-regular file is refused.
    async fn open_read(&self, name: &str) -> Result<NodeReader> {
        let (fd, p, opened) = self.open_for_read(name)?;
        let Opened::File(size) = opened else {
            let _ = self.fs.close_sync(fd);
            return Err(Error::io(
                IoErrorKind::IsADirectory,
                "read",
                p,
                "is a directory",
            ));
        };
        Ok(NodeReader {
            fs: self.fs.clone(),
            fd: Some(fd),
            path: p,
            remaining: size,
        })
    }

    async fn create_atomic(&self, name: &str) -> Result<NodeWriter> {
        let final_path = self.path(name)?;
        let promises: NodeFsPromises = get(&self.fs, "promises").unchecked_into();
        let mut last = JsValue::UNDEFINED;
        for _ in 0..10_000 {
            let tmp = self.join(&format!("tmp{}", random_u32()));
            let opened = match promises.open_p(&tmp, "wx", 0o600) {
                Ok(p) => JsFuture::from(p).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(fh) => {
                    return Ok(NodeWriter {
                        storage: self.clone(),
                        fh: Some(fh.unchecked_into()),
                        pending: None,
                        scratch: None,
                        tmp,
                        final_path,
                    });
                }
                Err(e) if get(&e, "code").as_string().as_deref() == Some("EEXIST") => last = e,
                Err(e) => return Err(node_err("open", &tmp, &e)),
            }
        }
        Err(node_err("open", &self.dir, &last))
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let ((ta, a), (tb, b)) = (self.target(from)?, self.target(to)?);
        self.fs
            .rename_sync_v(&ta, &tb)
            .map_err(|e| from_js("rename", format!("{a} {b}"), &e))
    }

    async fn remove(&self, name: &str) -> Result<()> {
        let (target, p) = self.target(name)?;
        match self.fs.unlink_sync_v(&target) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Go's os.Remove also removes empty directories.
                let code = get(&e, "code").as_string();
                if matches!(code.as_deref(), Some("EISDIR" | "EPERM"))
                    && self.fs.rmdir_sync_v(&target).is_ok()
                {
                    return Ok(());
                }
                Err(from_js("remove", p, &e))
            }
        }
    }

    async fn sync_dir(&self) -> Result<()> {
        self.sync_dir_now()
    }

    async fn lock(&self, mode: LockMode) -> Result<NodeLock> {
        let path = self.lock_path()?;
        let io = NodeLockIo(self.fs.clone());
        let stat = io.read_text(&format!("/proc/{}/stat", process_pid()));
        let boot = io.read_text("/proc/sys/kernel/random/boot_id");
        let me = Me::new(
            process_pid(),
            stat.as_deref(),
            boot.as_deref(),
            hostname(),
            random_u32(),
        );
        let mut delay = 10u32;
        let mut busy_since = None;
        loop {
            let err = match lock_file::try_acquire(
                &io,
                &self.dir,
                &path,
                &me,
                mode == LockMode::Break,
            )? {
                Attempt::Acquired => return Ok(NodeLock { io, path, me }),
                Attempt::Held(e) => e,
                Attempt::Busy => {
                    // Another taker clears a stale entry (module doc of lock_file.rs).
                    let t0 = *busy_since.get_or_insert_with(js_sys::Date::now);
                    if mode != LockMode::Wait && js_sys::Date::now() - t0 > 15_000.0 {
                        return Err(Error::io(
                            IoErrorKind::Locked,
                            "lock",
                            &self.dir,
                            "resource temporarily unavailable",
                        ));
                    }
                    sleep_ms(5).await?;
                    continue;
                }
            };
            if mode != LockMode::Wait {
                return Err(err);
            }
            sleep_ms(delay).await?;
            delay = (delay * 2).min(500);
        }
    }

    fn path_of(&self, name: &str) -> String {
        self.join(&raw_name::display(name))
    }
}

/// One file read with positioned `readSync` calls ([`Storage::page_source`]); the descriptor is
/// closed on drop.
struct NodePages {
    fs: NodeFs,
    fd: f64,
    size: u64,
    path: String,
}

impl Drop for NodePages {
    fn drop(&mut self) {
        let _ = self.fs.close_sync(self.fd);
    }
}

impl crate::inspect::PageSource for NodePages {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<std::borrow::Cow<'_, [u8]>> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.size) {
            return Err(crate::inspect::source::out_of_range(offset, len, self.size));
        }
        let mut buf = vec![0u8; len];
        let mut got = 0usize;
        while got < len {
            let want = (len - got).min(READ_PIECE);
            let pos = (offset + got as u64) as f64;
            let r = self
                .fs
                .pread_sync(self.fd, &mut buf[got..got + want], 0, want as u32, pos)
                .map_err(|e| node_err("read", &self.path, &e))? as usize;
            if r == 0 {
                // Shrank since fstat: as a short file reads in bbolt.
                return Err(crate::pb::DecodeError::UnexpectedEof.into());
            }
            got += r.min(want);
        }
        Ok(std::borrow::Cow::Owned(buf))
    }
}

/// [`LockIo`] over Node's `fs` and `/proc`.
pub struct NodeLockIo(NodeFs);

impl NodeLockIo {
    fn read_text(&self, path: &str) -> Option<String> {
        let b = self.0.read_file_sync(path).ok()?;
        String::from_utf8(b.to_vec()).ok()
    }
}

fn js_code(e: &JsValue) -> Option<String> {
    get(e, "code").as_string()
}

impl LockIo for NodeLockIo {
    fn create_link(&self, target: &str, path: &str) -> Result<Created> {
        match self.0.symlink_sync(target, path) {
            Ok(()) => Ok(Created::Yes),
            Err(e) => match js_code(&e).as_deref() {
                Some("EEXIST") => Ok(Created::Exists),
                Some("EPERM" | "ENOTSUP" | "ENOSYS" | "EOPNOTSUPP") => Ok(Created::Unsupported),
                _ => Err(node_err("symlink", path, &e)),
            },
        }
    }

    fn create_file(&self, contents: &str, path: &str) -> Result<Created> {
        let fd = match self.0.open_sync(path, "wx", 0o644) {
            Ok(fd) => fd,
            Err(e) if js_code(&e).as_deref() == Some("EEXIST") => return Ok(Created::Exists),
            Err(e) => return Err(node_err("open", path, &e)),
        };
        let r = write_all(&self.0, fd, contents.as_bytes(), path).and_then(|()| {
            self.0
                .fsync_sync(fd)
                .map_err(|e| node_err("sync", path, &e))
        });
        let _ = self.0.close_sync(fd);
        if let Err(e) = r {
            let _ = self.0.unlink_sync(path);
            return Err(e);
        }
        Ok(Created::Yes)
    }

    fn read_entry(&self, path: &str) -> Option<Seen> {
        let st = self.0.lstat_sync(path).ok()?;
        let is_link = method(&st, "isSymbolicLink")
            .and_then(|f| f.call0(&st).ok())
            .is_some_and(|v| v.is_truthy());
        let raw = if is_link {
            self.0.readlink_sync(path).ok()?
        } else {
            let mut buf = vec![0u8; 4096];
            let n = match self.0.open_sync(path, "r", 0) {
                Ok(fd) => {
                    let n = self
                        .0
                        .read_sync(fd, &mut buf, 0, 4096, JsValue::from(0))
                        .unwrap_or(0.0);
                    let _ = self.0.close_sync(fd);
                    n as usize
                }
                Err(_) => 0,
            };
            String::from_utf8_lossy(&buf[..n.min(4096)]).into_owned()
        };
        let age_ms = get(&st, "mtimeMs")
            .as_f64()
            .map(|m| js_sys::Date::now() - m);
        Some(Seen { raw, age_ms })
    }

    fn remove(&self, path: &str) -> bool {
        self.0.unlink_sync(path).is_ok()
    }

    fn pid_state(&self, pid: u32) -> PidState {
        let process = get(&js_sys::global().into(), "process");
        if let Some(kill) = method(&process, "kill")
            && let Err(e) = kill.call2(&process, &JsValue::from(pid), &JsValue::from(0))
            && js_code(&e).as_deref() == Some("ESRCH")
        {
            return PidState::Gone;
        }
        let stat = self.read_text(&format!("/proc/{pid}/stat"));
        PidState::Alive(stat.as_deref().and_then(lock_file::start_time))
    }

    fn warn(&self, line: &str) {
        let stderr = get(&get(&js_sys::global().into(), "process"), "stderr");
        if let Some(w) = method(&stderr, "write") {
            let _ = w.call1(&stderr, &JsValue::from_str(&format!("{line}\n")));
        }
    }
}

/// This process's id (`process.pid`).
fn process_pid() -> u32 {
    get(&get(&js_sys::global().into(), "process"), "pid")
        .as_f64()
        .unwrap_or(0.0) as u32
}

fn hostname() -> String {
    builtin("node:os")
        .ok()
        .and_then(|os| {
            let f = method(&os, "hostname")?;
            f.call0(&os).ok()?.as_string()
        })
        .unwrap_or_default()
}

fn write_all(fs: &NodeFs, fd: f64, mut buf: &[u8], path: &str) -> Result<()> {
    while !buf.is_empty() {
        let n = fs
            .write_sync(fd, buf)
            .map_err(|e| node_err("write", path, &e))? as usize;
        if n == 0 || n > buf.len() {
            return Err(Error::io(
                IoErrorKind::ShortWrite,
                "write",
                path,
                "short write",
            ));
        }
        buf = &buf[n..];
    }
    Ok(())
}

/// The directory lock; dropping it removes the lock entry (if it is still ours).
pub struct NodeLock {
    io: NodeLockIo,
    path: String,
    me: Me,
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        if lock_file::is_ours(&self.io, &self.path, &self.me) {
            self.io.remove(&self.path);
        }
    }
}

/// Streaming reader: `readSync` straight into the caller's buffer, ending at the file's size
/// at open.
pub struct NodeReader {
    fs: NodeFs,
    fd: Option<f64>,
    path: String,
    remaining: u64,
}

impl AsyncRead for NodeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let Some(fd) = this.fd else {
            return Poll::Ready(Ok(0));
        };
        let len = usize::try_from(this.remaining)
            .map_or(buf.len(), |r| r.min(buf.len()))
            .min(1 << 30);
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let r = this
            .fs
            .read_sync(fd, &mut buf[..len], 0, len as u32, JsValue::NULL)
            .map(|n| (n as usize).min(len))
            .map_err(|e| std::io::Error::from(node_err("read", &this.path, &e)));
        if let Ok(n) = r {
            this.remaining -= n as u64;
        }
        Poll::Ready(r)
    }
}

impl Drop for NodeReader {
    fn drop(&mut self) {
        if let Some(fd) = self.fd.take() {
            let _ = self.fs.close_sync(fd);
        }
    }
}

/// Atomic writer: temp file, fsync, rename, directory fsync.
///
/// Writes go through a `fs.promises` `FileHandle` (libuv's thread pool), one write in flight
/// behind the caller: `write` copies the chunk into a JS buffer, waits for the previous write
/// and starts this one, so producing the next chunk overlaps with writing this one and the
/// event loop is never blocked by the disk. The fsync runs on the thread pool too.
pub struct NodeWriter {
    storage: NodeStorage,
    fh: Option<FileHandle>,
    /// The write in flight and its length.
    pending: Option<(JsFuture, usize)>,
    /// The JS buffer writes are copied into (reused: one write in flight at a time).
    scratch: Option<Uint8Array>,
    tmp: String,
    final_path: String,
}

impl NodeWriter {
    /// The temp file's path.
    pub fn temp_path(&self) -> &str {
        &self.tmp
    }

    fn handle(&self, op: &'static str) -> Result<&FileHandle> {
        self.fh
            .as_ref()
            .ok_or_else(|| Error::io(IoErrorKind::Other, op, &self.tmp, "file already closed"))
    }

    async fn call(
        &self,
        op: &'static str,
        p: std::result::Result<Promise, JsValue>,
    ) -> Result<JsValue> {
        match p {
            Ok(p) => JsFuture::from(p).await,
            Err(e) => Err(e),
        }
        .map_err(|e| node_err(op, &self.tmp, &e))
    }

    /// Waits for the write in flight; writes what it left over (a short write).
    async fn settle_pending(&mut self) -> Result<()> {
        let Some((fut, len)) = self.pending.take() else {
            return Ok(());
        };
        let res = fut.await.map_err(|e| node_err("write", &self.tmp, &e))?;
        let buffer = get(&res, "buffer");
        let mut n = get(&res, "bytesWritten").as_f64().unwrap_or(0.0) as usize;
        let mut done = 0usize;
        loop {
            if n == 0 || done + n > len {
                return Err(Error::io(
                    IoErrorKind::ShortWrite,
                    "write",
                    &self.tmp,
                    "short write",
                ));
            }
            done += n;
            if done == len {
                return Ok(());
            }
            let Some(rest) = buffer
                .dyn_ref::<Uint8Array>()
                .map(|b| b.subarray(done as u32, len as u32))
            else {
                return Err(Error::io(
                    IoErrorKind::ShortWrite,
                    "write",
                    &self.tmp,
                    "short write",
                ));
            };
            let p = self.handle("write")?.write_p(&rest);
            let res = self.call("write", p).await?;
            n = get(&res, "bytesWritten").as_f64().unwrap_or(0.0) as usize;
        }
    }

    /// Closes the handle (once its pending operations finish) and removes the temp file.
    fn discard(&mut self) -> Result<()> {
        self.pending = None;
        if let Some(fh) = self.fh.take()
            && let Ok(p) = fh.close_p()
        {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(p).await;
            });
        }
        match self.storage.fs.unlink_sync(&self.tmp) {
            Ok(()) => Ok(()),
            Err(e) if get(&e, "code").as_string().as_deref() == Some("ENOENT") => Ok(()),
            Err(e) => Err(from_js("remove", &self.tmp, &e)),
        }
    }

    async fn publish(&mut self) -> Result<()> {
        self.settle_pending().await?;
        let p = self.handle("sync")?.sync_p();
        self.call("sync", p).await?;
        let fh = self.fh.take();
        if let Some(fh) = fh {
            let p = fh.close_p();
            self.call("close", p).await?;
        }
        let fs = &self.storage.fs;
        fs.rename_sync(&self.tmp, &self.final_path)
            .map_err(|e| from_js("rename", format!("{} {}", self.tmp, self.final_path), &e))?;
        self.storage.sync_dir_now()
    }
}

impl AtomicWrite for NodeWriter {
    async fn write(&mut self, buf: &[u8]) -> Result<()> {
        self.handle("write")?;
        self.settle_pending().await?;
        if buf.is_empty() {
            return Ok(());
        }
        // A copy (wasm memory may move while the write is in flight) into one reused JS
        // buffer: the previous write has settled, so it is free.
        let need = buf.len() as u32;
        if self.scratch.as_ref().is_none_or(|s| s.length() < need) {
            self.scratch = Some(Uint8Array::new_with_length(need.max(1 << 20)));
        }
        let Some(scratch) = self.scratch.as_ref() else {
            return Err(Error::io(
                IoErrorKind::Other,
                "write",
                &self.tmp,
                "no buffer",
            ));
        };
        let chunk = scratch.subarray(0, need);
        chunk.copy_from(buf);
        let p = self
            .handle("write")?
            .write_p(&chunk)
            .map_err(|e| node_err("write", &self.tmp, &e))?;
        self.pending = Some((JsFuture::from(p), buf.len()));
        Ok(())
    }

    async fn commit(mut self) -> Result<()> {
        let r = self.publish().await;
        if r.is_err() {
            let _ = self.discard();
        }
        // Published (or discarded): nothing left for Drop.
        self.fh = None;
        self.tmp.clear();
        r
    }

    async fn abort(mut self) -> Result<()> {
        let _ = self.settle_pending().await;
        let r = self.discard();
        self.tmp.clear();
        r
    }
}

impl Drop for NodeWriter {
    fn drop(&mut self) {
        if !self.tmp.is_empty() {
            let _ = self.discard();
        }
    }
}
