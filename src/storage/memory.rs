//! In-memory backend that models durability, for tests and crash simulation.
//!
//! It keeps two views of one flat directory, as a disk does: the **live** view (what reads
//! see) and the **durable** view (what survives a power loss, see
//! [`MemoryStorage::crash_image`]). File contents become durable when a writer's commit syncs
//! the file; directory changes (a commit's rename, [`rename`](Storage::rename),
//! [`remove`](Storage::remove), a new temp file) become durable at
//! [`sync_dir`](Storage::sync_dir) (a commit does sync file, rename, sync dir). A temp file
//! that was created and then made durable by some directory sync survives a crash as garbage
//! (with its synced contents, or empty), exactly like `tmp*` leftovers on disk.
//!
//! Behaviour follows Linux and the native backend: open readers keep the contents they opened;
//! `remove` is Go's `os.Remove` (directories here are always empty); a file cannot replace a
//! directory (`IsADirectory`); a commit whose directory sync fails has already published the
//! file (only not durably). Error texts use the bare name (`open x.snap: no such file or
//! directory`) and `.` for the directory itself.
//!
//! Every step can fail on purpose: see `storage::fault` (feature `testing`).
//!
//! Works on every target: no threads, no clocks. State is shared behind `Arc<Mutex>` (never
//! contended on wasm; on native it keeps the storage `Send + Sync`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_io::AsyncRead;

#[cfg(feature = "testing")]
use super::fault::FaultPlan;
use super::fault::Faults;
use super::{AtomicWrite, LockMode, Metadata, Storage, check_name};
use crate::error::{Error, IoError, IoErrorKind, Result};

/// How the directory itself is named in error messages.
const DIR: &str = ".";

/// A directory entry. Directories are empty leaves (enough to model `x.snap/` junk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    File(u64),
    Dir,
}

#[derive(Debug, Default)]
struct Inode {
    /// Current contents (shared with open readers; copy-on-write).
    data: Arc<Vec<u8>>,
    /// Contents as of the last file sync; what a crash keeps.
    synced: Option<Arc<Vec<u8>>>,
}

#[derive(Debug, Default)]
struct State {
    live: BTreeMap<String, Node>,
    durable: BTreeMap<String, Node>,
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    next_tmp: u64,
    /// Inodes held by unfinished writers (alive even if unlinked).
    writing: HashSet<u64>,
    locked: bool,
    waiters: Vec<Waker>,
    faults: Faults,
}

impl State {
    fn new_inode(&mut self, data: Arc<Vec<u8>>, synced: Option<Arc<Vec<u8>>>) -> u64 {
        let id = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(id, Inode { data, synced });
        id
    }

    /// Drops inodes nobody can reach any more.
    fn gc(&mut self) {
        let mut keep: HashSet<u64> = self.writing.clone();
        for node in self.live.values().chain(self.durable.values()) {
            if let Node::File(id) = node {
                keep.insert(*id);
            }
        }
        self.inodes.retain(|id, _| keep.contains(id));
    }

    fn file(&self, name: &str) -> Option<&Inode> {
        match self.live.get(name) {
            Some(Node::File(id)) => self.inodes.get(id),
            _ => None,
        }
    }

    /// The state after a power loss: only durable entries, with their synced contents.
    fn durable_image(&self) -> State {
        let mut out = State {
            next_tmp: self.next_tmp,
            ..State::default()
        };
        for (name, node) in &self.durable {
            let node = match node {
                Node::Dir => Node::Dir,
                Node::File(id) => {
                    let data = self
                        .inodes
                        .get(id)
                        .and_then(|i| i.synced.clone())
                        .unwrap_or_default();
                    Node::File(out.new_inode(data.clone(), Some(data)))
                }
            };
            out.live.insert(name.clone(), node);
        }
        out.durable = out.live.clone();
        out
    }

    /// Removes a live entry as Go's `os.Remove` does (a file, or an empty directory).
    fn remove(&mut self, name: &str) -> Result<()> {
        if self.live.remove(name).is_none() {
            return Err(not_found("remove", name));
        }
        self.gc();
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let link = || format!("{from} {to}");
        let Some(&src) = self.live.get(from) else {
            return Err(not_found("rename", &link()));
        };
        if from == to {
            return Ok(());
        }
        match (src, self.live.get(to)) {
            (Node::File(_), Some(Node::Dir)) => {
                return Err(Error::io(
                    IoErrorKind::IsADirectory,
                    "rename",
                    link(),
                    "is a directory",
                ));
            }
            (Node::Dir, Some(Node::File(_))) => {
                return Err(Error::io(
                    IoErrorKind::Other,
                    "rename",
                    link(),
                    "not a directory",
                ));
            }
            _ => {}
        }
        self.live.remove(from);
        self.live.insert(to.to_owned(), src);
        self.gc();
        Ok(())
    }
}

fn not_found(op: &'static str, path: &str) -> Error {
    Error::io(IoErrorKind::NotFound, op, path, "no such file or directory")
}

fn is_a_directory(name: &str) -> IoError {
    IoError {
        kind: IoErrorKind::IsADirectory,
        op: "read",
        path: name.to_owned(),
        detail: "is a directory".to_owned(),
    }
}

/// In-memory storage with a durability model and fault injection (feature `testing`).
/// Cloning is cheap and shares the same directory (like two handles on one folder).
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    state: Arc<Mutex<State>>,
}

impl MemoryStorage {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn from_state(state: State) -> Self {
        MemoryStorage {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Test helper: stores a durable file (replacing any entry), no step counted.
    pub fn insert(&self, name: &str, bytes: impl Into<Vec<u8>>) {
        let mut st = self.state();
        let data = Arc::new(bytes.into());
        let id = st.new_inode(data.clone(), Some(data));
        st.live.insert(name.to_owned(), Node::File(id));
        st.durable.insert(name.to_owned(), Node::File(id));
        st.gc();
    }

    /// Test helper: creates a durable (empty) directory entry, e.g. a directory named
    /// `x.snap`; reading it fails with `read x.snap: is a directory`, as in Go.
    pub fn mkdir(&self, name: &str) {
        let mut st = self.state();
        st.live.insert(name.to_owned(), Node::Dir);
        st.durable.insert(name.to_owned(), Node::Dir);
        st.gc();
    }

    /// Test helper: every live name, sorted; no step counted.
    pub fn names(&self) -> Vec<String> {
        self.state().live.keys().cloned().collect()
    }

    /// Test helper: a live file's contents, no step counted (`None` if absent or a directory).
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.state().file(name).map(|i| i.data.to_vec())
    }

    /// What survives if the power goes out now: a new, independent storage holding only the
    /// durable view (no lock held, no fault plan).
    pub fn crash_image(&self) -> MemoryStorage {
        MemoryStorage::from_state(self.state().durable_image())
    }

    /// An independent deep copy (live and durable views; no lock held, no fault plan), e.g.
    /// to count an operation's steps without touching the original.
    pub fn fork(&self) -> MemoryStorage {
        let st = self.state();
        MemoryStorage::from_state(State {
            live: st.live.clone(),
            durable: st.durable.clone(),
            inodes: st
                .inodes
                .iter()
                .map(|(id, i)| {
                    // Contents are copy-on-write, so sharing them keeps the copies independent.
                    let inode = Inode {
                        data: i.data.clone(),
                        synced: i.synced.clone(),
                    };
                    (*id, inode)
                })
                .collect(),
            next_inode: st.next_inode,
            next_tmp: st.next_tmp,
            ..State::default()
        })
    }

    /// Installs a fault plan and resets the step counter, byte budget and crash flag.
    #[cfg(feature = "testing")]
    pub fn set_fault(&self, plan: FaultPlan) {
        self.state().faults.set(plan);
    }

    /// Steps attempted since the last [`set_fault`](Self::set_fault) (or creation),
    /// including failed ones.
    #[cfg(feature = "testing")]
    pub fn steps(&self) -> u64 {
        self.state().faults.steps()
    }

    /// True once a [`FaultPlan::CrashAt`] step has been reached.
    #[cfg(feature = "testing")]
    pub fn is_crashed(&self) -> bool {
        self.state().faults.crashed()
    }

    /// True while someone holds the lock.
    pub fn is_locked(&self) -> bool {
        self.state().locked
    }
}

impl Storage for MemoryStorage {
    type Reader = MemoryReader;
    type Writer = MemoryWriter;
    type Lock = MemoryLock;

    async fn list(&self) -> Result<Vec<String>> {
        let mut st = self.state();
        st.faults.step("open", DIR)?;
        Ok(st.live.keys().cloned().collect())
    }

    async fn stat(&self, name: &str) -> Result<Metadata> {
        check_name(name)?;
        let mut st = self.state();
        st.faults.step("stat", name)?;
        match st.live.get(name) {
            None => Err(not_found("stat", name)),
            Some(Node::Dir) => Ok(Metadata {
                size: 0,
                is_dir: true,
            }),
            Some(Node::File(_)) => Ok(Metadata {
                size: st.file(name).map_or(0, |i| i.data.len() as u64),
                is_dir: false,
            }),
        }
    }

    async fn read(&self, name: &str) -> Result<Vec<u8>> {
        check_name(name)?;
        let mut st = self.state();
        st.faults.step("open", name)?;
        match st.live.get(name) {
            None => Err(not_found("open", name)),
            Some(Node::Dir) => Err(is_a_directory(name).into()),
            Some(Node::File(_)) => Ok(st.file(name).map(|i| i.data.to_vec()).unwrap_or_default()),
        }
    }

    async fn open_read(&self, name: &str) -> Result<MemoryReader> {
        check_name(name)?;
        let mut st = self.state();
        st.faults.step("open", name)?;
        // Like a Unix open file: later renames or removals do not affect the reader, and a
        // directory opens fine but fails on read.
        let data = match st.live.get(name) {
            None => return Err(not_found("open", name)),
            Some(Node::Dir) => Err(is_a_directory(name)),
            Some(Node::File(_)) => Ok(st.file(name).map(|i| i.data.clone()).unwrap_or_default()),
        };
        Ok(MemoryReader { data, pos: 0 })
    }

    /// The file's bytes as they are now (shared, not copied).
    async fn page_source(&self, name: &str) -> Result<Option<Box<dyn crate::inspect::PageSource>>> {
        check_name(name)?;
        let mut st = self.state();
        st.faults.step("open", name)?;
        match st.live.get(name) {
            None => Err(not_found("open", name)),
            Some(Node::Dir) => Err(is_a_directory(name).into()),
            Some(Node::File(_)) => {
                let data = st.file(name).map(|i| i.data.clone()).unwrap_or_default();
                Ok(Some(Box::new(Shared(data))))
            }
        }
    }

    async fn create_atomic(&self, name: &str) -> Result<MemoryWriter> {
        check_name(name)?;
        let mut st = self.state();
        let tmp = loop {
            st.next_tmp += 1;
            let tmp = format!("tmp{}", st.next_tmp);
            if !st.live.contains_key(&tmp) {
                break tmp;
            }
        };
        st.faults.step("open", &tmp)?;
        let id = st.new_inode(Arc::default(), None);
        st.live.insert(tmp.clone(), Node::File(id));
        st.writing.insert(id);
        Ok(MemoryWriter {
            storage: self.clone(),
            tmp,
            name: name.to_owned(),
            inode: id,
            done: false,
        })
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        check_name(from)?;
        check_name(to)?;
        let mut st = self.state();
        st.faults.step("rename", &format!("{from} {to}"))?;
        st.rename(from, to)
    }

    async fn remove(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let mut st = self.state();
        st.faults.step("remove", name)?;
        st.remove(name)
    }

    async fn sync_dir(&self) -> Result<()> {
        let mut st = self.state();
        st.faults.step("sync", DIR)?;
        st.durable = st.live.clone();
        st.gc();
        Ok(())
    }

    async fn lock(&self, mode: LockMode) -> Result<MemoryLock> {
        self.state().faults.step("lock", DIR)?;
        let locked = || {
            Error::io(
                IoErrorKind::Locked,
                "lock",
                DIR,
                "resource temporarily unavailable",
            )
        };
        futures_util::future::poll_fn(|cx| {
            let mut st = self.state();
            if !st.locked {
                st.locked = true;
                return Poll::Ready(Ok(MemoryLock {
                    state: self.state.clone(),
                }));
            }
            match mode {
                LockMode::Fail | LockMode::Break => Poll::Ready(Err(locked())),
                LockMode::Wait => {
                    if !st.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        st.waiters.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    fn path_of(&self, name: &str) -> String {
        name.to_owned()
    }
}

/// The exclusive lock of a [`MemoryStorage`]; released (and waiters woken) on drop.
#[derive(Debug)]
pub struct MemoryLock {
    state: Arc<Mutex<State>>,
}

impl Drop for MemoryLock {
    fn drop(&mut self) {
        let waiters = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.locked = false;
            std::mem::take(&mut st.waiters)
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

/// Streaming reader over a snapshot of one file's contents.
#[derive(Debug)]
pub struct MemoryReader {
    data: std::result::Result<Arc<Vec<u8>>, IoError>,
    pos: usize,
}

impl AsyncRead for MemoryReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let data = match &this.data {
            Ok(d) => d,
            Err(e) => return Poll::Ready(Err(Error::Io(e.clone()).into())),
        };
        let rest = &data[this.pos.min(data.len())..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

/// Atomic writer of a [`MemoryStorage`]: a `tmp<N>` file, published by commit.
#[derive(Debug)]
pub struct MemoryWriter {
    storage: MemoryStorage,
    tmp: String,
    name: String,
    inode: u64,
    done: bool,
}

impl MemoryWriter {
    /// The temp file's name (`tmp` + digits), as it appears in `list`.
    pub fn temp_name(&self) -> &str {
        &self.tmp
    }

    fn finish(&mut self, st: &mut State) {
        self.done = true;
        st.writing.remove(&self.inode);
        st.gc();
    }

    /// Best-effort removal of the temp file after a failure (one more step).
    fn discard(&mut self, st: &mut State) -> Result<()> {
        let r = st
            .faults
            .step("remove", &self.tmp)
            .and_then(|()| match st.live.get(&self.tmp) {
                Some(Node::File(id)) if *id == self.inode => st.remove(&self.tmp),
                _ => Ok(()),
            });
        self.finish(st);
        r
    }

    fn commit_steps(&mut self, st: &mut State) -> Result<()> {
        st.faults.step("sync", &self.tmp)?;
        if let Some(inode) = st.inodes.get_mut(&self.inode) {
            inode.synced = Some(inode.data.clone());
        }
        st.faults
            .step("rename", &format!("{} {}", self.tmp, self.name))?;
        match st.live.get(&self.tmp) {
            Some(Node::File(id)) if *id == self.inode => {}
            _ => return Err(not_found("rename", &format!("{} {}", self.tmp, self.name))),
        }
        st.rename(&self.tmp, &self.name)
    }
}

impl AtomicWrite for MemoryWriter {
    async fn write(&mut self, buf: &[u8]) -> Result<()> {
        let storage = self.storage.clone();
        let mut st = storage.state();
        st.faults.step("write", &self.tmp)?;
        let n = st.faults.allow_write(buf.len());
        if let Some(inode) = st.inodes.get_mut(&self.inode) {
            Arc::make_mut(&mut inode.data).extend_from_slice(&buf[..n]);
        }
        if n < buf.len() {
            return Err(Faults::no_space("write", &self.tmp));
        }
        Ok(())
    }

    async fn commit(mut self) -> Result<()> {
        let storage = self.storage.clone();
        let mut st = storage.state();
        if let Err(e) = self.commit_steps(&mut st) {
            let _ = self.discard(&mut st);
            return Err(e);
        }
        self.finish(&mut st);
        st.faults.step("sync", DIR)?;
        st.durable = st.live.clone();
        st.gc();
        Ok(())
    }

    async fn abort(mut self) -> Result<()> {
        let storage = self.storage.clone();
        let mut st = storage.state();
        self.discard(&mut st)
    }
}

impl Drop for MemoryWriter {
    fn drop(&mut self) {
        if !self.done {
            let storage = self.storage.clone();
            let mut st = storage.state();
            let _ = self.discard(&mut st);
        }
    }
}

/// A file's bytes for positioned reads ([`Storage::page_source`]).
struct Shared(Arc<Vec<u8>>);

impl crate::inspect::PageSource for Shared {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<std::borrow::Cow<'_, [u8]>> {
        self.0.as_slice().read_at(offset, len)
    }
}
