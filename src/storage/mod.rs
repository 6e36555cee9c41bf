//! The storage trait: a flat directory of named files, with an atomic writer and a lock.
//!
//! A backend knows nothing about snapshots; the [`Snapshotter`](crate::Snapshotter) knows
//! nothing about where bytes live. Every backend runs the same conformance suite
//! (`conformance`, feature `testing`).
//!
//! The trait uses `async fn` without a `Send` bound so JavaScript promises can back it; the
//! core dispatches statically.

#![allow(async_fn_in_trait)]

use futures_io::AsyncRead;

use crate::error::{Error, Result};
use crate::inspect::PageSource;

#[cfg(feature = "testing")]
pub mod conformance;
pub mod copy;
#[cfg(feature = "testing")]
pub mod fault;
/// Without `testing` the memory backend still counts its steps, but no plan can be set.
#[cfg(not(feature = "testing"))]
#[allow(dead_code)]
mod fault;
#[cfg(target_arch = "wasm32")]
pub mod js;
mod lock_file;
pub mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod node;
#[cfg(target_arch = "wasm32")]
pub mod opfs;
pub mod raw_name;
pub mod read_only;

pub use memory::MemoryStorage;
#[cfg(not(target_arch = "wasm32"))]
pub use native::NativeStorage;
pub use read_only::ReadOnly;

/// Rejects names that are not a single plain file name (empty, `.`, `..`, or holding `/`, `\`
/// or NUL), so no backend ever takes a name for a path. Every backend calls it first.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.contains('\\')
        || name.contains('\0')
    {
        return Err(Error::InvalidArgument(format!(
            "invalid storage name {name:?}: must be a plain file name"
        )));
    }
    Ok(())
}

/// What [`Storage::stat`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// True for a directory (a `Read` of it fails, as in etcd).
    pub is_dir: bool,
}

/// How [`Storage::lock`] behaves when another holder has the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Fail at once with [`IoErrorKind::Locked`](crate::IoErrorKind::Locked).
    #[default]
    Fail,
    /// Wait until the holder releases it.
    Wait,
    /// As [`Fail`](Self::Fail), but first take over a lock file whose holder cannot be
    /// checked from this host (another host, or a record without a start time; see
    /// src/storage/lock_file.rs), printing a warning on stderr (`--break-lock`). A holder
    /// seen running on this host, and the native `flock`, are never broken. Backends without
    /// a lock file treat it as `Fail`.
    Break,
}

/// A flat directory of files.
pub trait Storage {
    /// Streaming reader over one file.
    type Reader: AsyncRead + Unpin;
    /// Atomic writer (see [`AtomicWrite`]).
    type Writer: AtomicWrite;
    /// Exclusive directory lock; released when dropped.
    type Lock;

    /// Names of every entry (files and directories), in no particular order.
    async fn list(&self) -> Result<Vec<String>>;
    /// Size and kind of one entry; `NotFound` if absent.
    async fn stat(&self, name: &str) -> Result<Metadata>;
    /// Whether an entry (file or directory) exists under `name`.
    async fn exists(&self, name: &str) -> Result<bool> {
        match self.stat(name).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
    /// The whole file. A directory gives `IsADirectory`.
    async fn read(&self, name: &str) -> Result<Vec<u8>>;
    /// A streaming reader over the file.
    async fn open_read(&self, name: &str) -> Result<Self::Reader>;
    /// Positioned reads over one file, for a caller that needs random access to a file too
    /// large to hold (the doctor's bbolt reader on a db of gigabytes). `None`: the backend only
    /// streams (the JS-object and OPFS backends), and such a caller reads the file whole.
    async fn page_source(&self, name: &str) -> Result<Option<Box<dyn PageSource>>> {
        self.stat(name).await?; // a missing name is `NotFound` here too
        Ok(None)
    }
    /// Starts an atomic write of `name`: nothing is visible under `name` until
    /// [`AtomicWrite::commit`], which replaces any existing file.
    async fn create_atomic(&self, name: &str) -> Result<Self::Writer>;
    /// Renames `from` to `to`, replacing `to` if it is a file. Not durable by itself: call
    /// [`Storage::sync_dir`] when it must survive a crash.
    async fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Removes a file; `NotFound` if absent.
    async fn remove(&self, name: &str) -> Result<()>;
    /// Makes completed renames, creations and removals durable (directory fsync, or the
    /// backend's strongest equivalent).
    async fn sync_dir(&self) -> Result<()>;
    /// Takes the exclusive directory lock.
    async fn lock(&self, mode: LockMode) -> Result<Self::Lock>;
    /// How `name` is shown in messages and returned by `DBFilePath` (a full path natively).
    fn path_of(&self, name: &str) -> String;
}

/// Bytes written here appear under the final name all at once on [`commit`](Self::commit),
/// or never: on [`abort`](Self::abort), on an error, on drop, or on a crash.
pub trait AtomicWrite {
    /// Appends bytes. A short or failed write is an error (`NoSpace` for quota trouble).
    async fn write(&mut self, buf: &[u8]) -> Result<()>;
    /// Flushes, syncs, publishes under the final name and syncs the directory.
    async fn commit(self) -> Result<()>;
    /// Discards everything written; the final name is untouched.
    async fn abort(self) -> Result<()>;
}
