//! Browser storage: the Origin Private File System (OPFS).
//!
//! A folder is a directory under `navigator.storage.getDirectory()`, named by a `/`-separated
//! path (`"etcd/member/snap"`, shown as `/etcd/member/snap/<name>` in messages). Two write
//! paths, picked by [`OpfsMode`]:
//!
//! - [`OpfsMode::Writable`] (main thread, also works in workers): `createWritable()`.
//! - [`OpfsMode::SyncAccess`] (dedicated workers only): `createSyncAccessHandle()`.
//!
//! **Atomic writes.** Both write a temp file `tmp<digits>` in the folder, finish it (close /
//! flush + close) and `move()` it onto the final name, so nothing ever appears under the final
//! name until commit, and an interrupted write leaves only a `tmp*` file that the Snapshotter
//! removes when it next opens the folder (as it does the `tmp<digits>.crswap` swap file that
//! Chromium lists beside a file while a writable is open on it). Writing `createWritable()` straight onto the final
//! name was rejected: `getFileHandle(name, {create: true})` makes an empty file visible at
//! once, and an empty `.snap` reads as `ErrEmptySnapshot` and gets quarantined.
//!
//! **Durability.** OPFS has no fsync. A writable's `close()` atomically swaps its swap file in;
//! a sync handle's `flush()` persists the written bytes "to disk" (spec wording); `move()` is
//! an entry update in Chromium's own file-system database. What survives a power cut is what
//! Chromium's storage layer (and the OS under it) makes durable: no stronger promise exists,
//! so [`Storage::sync_dir`] is a no-op. Storage may also be evicted unless the page was granted
//! `navigator.storage.persist()`.
//!
//! **Renames** use `FileSystemHandle.move()` (hand-bound: web-sys lacks it). Where a browser
//! lacks `move()`, renames fall back to copy + remove, which is **not atomic**: a crash in
//! between leaves both names (the copy itself still appears all at once, by swap-on-close).
//!
//! **Lock.** [`Storage::lock`] takes a Web Lock named after the path (see [`lock`]), shared by
//! every tab and worker of the origin.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    File, FileSystemCreateWritableOptions, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemGetDirectoryOptions, FileSystemGetFileOptions, FileSystemHandle,
    FileSystemRemoveOptions, FileSystemWritableFileStream, StorageManager,
};

use crate::error::{Error, IoErrorKind, Result};
use crate::storage::{AtomicWrite, LockMode, Metadata, Storage, check_name};

mod async_handle;
mod error;
pub mod lock;
mod move_binding;
mod reader;
mod sync_handle;

use async_handle::WritableSink;
use error::dom_error;
pub use lock::WebLock;
pub use reader::OpfsReader;
use sync_handle::SyncSink;

/// Which OPFS write API the atomic writer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpfsMode {
    /// `createWritable()`: main thread and workers.
    Writable,
    /// `createSyncAccessHandle()`: dedicated workers only; faster, exclusive per file.
    SyncAccess,
}

impl OpfsMode {
    /// `SyncAccess` where sync access handles exist (a dedicated worker), else `Writable`.
    pub fn detect() -> Self {
        if sync_access_available() {
            OpfsMode::SyncAccess
        } else {
            OpfsMode::Writable
        }
    }
}

/// `FileSystemSyncAccessHandle` is exposed in dedicated workers only.
fn sync_access_available() -> bool {
    Reflect::has(
        &js_sys::global(),
        &JsValue::from_str("FileSystemSyncAccessHandle"),
    )
    .unwrap_or(false)
}

/// A folder in the Origin Private File System.
#[derive(Debug, Clone)]
pub struct OpfsStorage {
    dir: FileSystemDirectoryHandle,
    path: String,
    mode: OpfsMode,
    use_move: bool,
}

/// Splits `path` into directory names; `..` is refused (OPFS has no parent links).
fn components(path: &str) -> Result<Vec<&str>> {
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(Error::InvalidArgument(format!(
                    "opfs path {path:?}: \"..\" is not allowed"
                )));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn display_path(parts: &[&str]) -> String {
    format!("/{}", parts.join("/"))
}

/// The OPFS root directory of this origin.
pub async fn root() -> Result<FileSystemDirectoryHandle> {
    let fail = |detail: String| Error::io(IoErrorKind::Unsupported, "open", "/", detail);
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| fail("navigator is not available".into()))?;
    let storage = Reflect::get(&navigator, &JsValue::from_str("storage"))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| fail("navigator.storage (OPFS) is not available".into()))?;
    let storage: StorageManager = storage.unchecked_into();
    let dir = JsFuture::from(storage.get_directory())
        .await
        .map_err(|e| dom_error("open", "/", e))?;
    Ok(dir.unchecked_into())
}

async fn child_dir(
    parent: &FileSystemDirectoryHandle,
    name: &str,
    create: bool,
    path: &str,
) -> Result<FileSystemDirectoryHandle> {
    let options = FileSystemGetDirectoryOptions::new();
    options.set_create(create);
    let dir = JsFuture::from(parent.get_directory_handle_with_options(name, &options))
        .await
        .map_err(|e| match dom_error("open", path, e) {
            // A file stands where a directory is needed.
            Error::Io(io) if io.kind == IoErrorKind::IsADirectory => {
                Error::io(IoErrorKind::Other, "open", path, "not a directory")
            }
            other => other,
        })?;
    Ok(dir.unchecked_into())
}

/// Removes the folder at `path` and everything in it (`removeEntry(.., {recursive})`).
/// `NotFound` if absent. The root itself cannot be removed.
pub async fn remove_dir_all(path: &str) -> Result<()> {
    let parts = components(path)?;
    let Some((last, parents)) = parts.split_last() else {
        return Err(Error::InvalidArgument(
            "opfs: refusing to remove the root directory".into(),
        ));
    };
    let shown = display_path(&parts);
    let mut dir = root().await?;
    for (i, p) in parents.iter().enumerate() {
        dir = child_dir(&dir, p, false, &display_path(&parts[..=i])).await?;
    }
    let options = FileSystemRemoveOptions::new();
    options.set_recursive(true);
    JsFuture::from(dir.remove_entry_with_options(last, &options))
        .await
        .map_err(|e| dom_error("remove", shown, e))?;
    Ok(())
}

/// How a rejected OPFS call is reported (exposed for tests of the DOMException mapping).
#[cfg(feature = "testing")]
#[doc(hidden)]
pub fn map_dom_error(op: &'static str, path: &str, e: JsValue) -> Error {
    dom_error(op, path, e)
}

/// `tmp` + 20 random digits: the Snapshotter's `tmp*` class, swept on open.
fn temp_name() -> String {
    let a = (js_sys::Math::random() * 1e10) as u64;
    let b = (js_sys::Math::random() * 1e10) as u64;
    format!("tmp{a:010}{b:010}")
}

impl OpfsStorage {
    /// Opens (creating as needed) the folder at `path`, with the write mode that suits the
    /// current context ([`OpfsMode::detect`]).
    pub async fn open(path: &str) -> Result<Self> {
        Self::open_with_mode(path, OpfsMode::detect()).await
    }

    /// Opens (creating as needed) the folder at `path` with an explicit write mode.
    /// `SyncAccess` outside a dedicated worker is `Unsupported`.
    pub async fn open_with_mode(path: &str, mode: OpfsMode) -> Result<Self> {
        let parts = components(path)?;
        let shown = display_path(&parts);
        if mode == OpfsMode::SyncAccess && !sync_access_available() {
            return Err(Error::io(
                IoErrorKind::Unsupported,
                "open",
                shown,
                "sync access handles exist only in dedicated workers",
            ));
        }
        let mut dir = root().await?;
        for (i, p) in parts.iter().enumerate() {
            dir = child_dir(&dir, p, true, &display_path(&parts[..=i])).await?;
        }
        Ok(Self::from_handle(dir, &shown, mode))
    }

    /// Wraps a directory handle the caller already has (e.g. from its own OPFS walk).
    /// `path` names it in messages and in the lock name, so give each folder a unique one.
    pub fn from_handle(dir: FileSystemDirectoryHandle, path: &str, mode: OpfsMode) -> Self {
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        OpfsStorage {
            dir,
            path,
            mode,
            use_move: true,
        }
    }

    /// Test hook: behave as a browser without `FileSystemHandle.move()` (copy + remove).
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub fn without_move(mut self) -> Self {
        self.use_move = false;
        self
    }

    /// The folder's path, as shown in messages (`/etcd/member/snap`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The write mode in use.
    pub fn mode(&self) -> OpfsMode {
        self.mode
    }

    /// The folder's directory handle.
    pub fn dir_handle(&self) -> &FileSystemDirectoryHandle {
        &self.dir
    }

    async fn file_handle(
        &self,
        name: &str,
        create: bool,
        op: &'static str,
    ) -> Result<FileSystemFileHandle> {
        check_name(name)?;
        let options = FileSystemGetFileOptions::new();
        options.set_create(create);
        let h = JsFuture::from(self.dir.get_file_handle_with_options(name, &options))
            .await
            .map_err(|e| dom_error(op, self.path_of(name), e))?;
        Ok(h.unchecked_into())
    }

    async fn file(&self, name: &str, op: &'static str) -> Result<File> {
        let h = self.file_handle(name, false, op).await?;
        get_file(&h, op, &self.path_of(name)).await
    }

    /// A file or directory handle for `name`.
    async fn any_handle(&self, name: &str, op: &'static str) -> Result<FileSystemHandle> {
        match self.file_handle(name, false, op).await {
            Ok(h) => Ok(h.unchecked_into()),
            Err(e) if e.io_kind() == Some(IoErrorKind::IsADirectory) => {
                Ok(child_dir(&self.dir, name, false, &self.path_of(name))
                    .await?
                    .unchecked_into())
            }
            Err(e) => Err(e),
        }
    }

    async fn remove_entry(&self, name: &str) -> std::result::Result<(), JsValue> {
        JsFuture::from(self.dir.remove_entry(name))
            .await
            .map(|_| ())
    }
}

async fn get_file(h: &FileSystemFileHandle, op: &'static str, path: &str) -> Result<File> {
    let f = JsFuture::from(h.get_file())
        .await
        .map_err(|e| dom_error(op, path, e))?;
    Ok(f.unchecked_into())
}

/// Replaces `dest_name` with a copy of `src` via `createWritable()` (swap-on-close, so the
/// copy appears all at once). The fallback where `move()` is missing.
async fn copy_onto(
    dir: &FileSystemDirectoryHandle,
    src: &FileSystemFileHandle,
    dest_name: &str,
    path: &str,
) -> Result<()> {
    let blob = get_file(src, "rename", path).await?;
    let options = FileSystemGetFileOptions::new();
    options.set_create(true);
    let dest: FileSystemFileHandle =
        JsFuture::from(dir.get_file_handle_with_options(dest_name, &options))
            .await
            .map_err(|e| dom_error("rename", path, e))?
            .unchecked_into();
    let wo = FileSystemCreateWritableOptions::new();
    wo.set_keep_existing_data(false);
    let ws: FileSystemWritableFileStream = JsFuture::from(dest.create_writable_with_options(&wo))
        .await
        .map_err(|e| dom_error("rename", path, e))?
        .unchecked_into();
    let written = match ws.write_with_blob(&blob) {
        Ok(p) => JsFuture::from(p).await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        let _ = JsFuture::from(ws.abort()).await;
        return Err(dom_error("rename", path, e));
    }
    JsFuture::from(ws.close())
        .await
        .map_err(|e| dom_error("rename", path, e))?;
    Ok(())
}

impl Storage for OpfsStorage {
    type Reader = OpfsReader;
    type Writer = OpfsWriter;
    type Lock = WebLock;

    async fn list(&self) -> Result<Vec<String>> {
        let iter = self.dir.keys();
        let mut names = Vec::new();
        loop {
            let step = iter
                .next()
                .map_err(|e| dom_error("open", self.path.clone(), e))?;
            let step = JsFuture::from(step)
                .await
                .map_err(|e| dom_error("open", self.path.clone(), e))?;
            if Reflect::get(&step, &JsValue::from_str("done"))
                .map(|d| d.is_truthy())
                .unwrap_or(true)
            {
                break;
            }
            if let Some(name) = Reflect::get(&step, &JsValue::from_str("value"))
                .ok()
                .and_then(|v| v.as_string())
            {
                names.push(name);
            }
        }
        Ok(names)
    }

    async fn stat(&self, name: &str) -> Result<Metadata> {
        match self.file(name, "stat").await {
            Ok(f) => Ok(Metadata {
                size: f.size() as u64,
                is_dir: false,
            }),
            Err(e) if e.io_kind() == Some(IoErrorKind::IsADirectory) => {
                child_dir(&self.dir, name, false, &self.path_of(name)).await?;
                Ok(Metadata {
                    size: 0,
                    is_dir: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn read(&self, name: &str) -> Result<Vec<u8>> {
        let f = self.file(name, "open").await?;
        let buf = JsFuture::from(f.array_buffer())
            .await
            .map_err(|e| dom_error("read", self.path_of(name), e))?;
        Ok(js_sys::Uint8Array::new(&buf).to_vec())
    }

    async fn open_read(&self, name: &str) -> Result<OpfsReader> {
        let f = self.file(name, "open").await?;
        Ok(OpfsReader::new(f, self.path_of(name)))
    }

    async fn create_atomic(&self, name: &str) -> Result<OpfsWriter> {
        check_name(name)?;
        // Refuse a directory under the final name now rather than at commit.
        if let Ok(m) = self.stat(name).await
            && m.is_dir
        {
            return Err(Error::io(
                IoErrorKind::IsADirectory,
                "open",
                self.path_of(name),
                "is a directory",
            ));
        }
        let tmp = temp_name();
        let file = self.file_handle(&tmp, true, "open").await?;
        let tmp_path = self.path_of(&tmp);
        let sink = match self.mode {
            OpfsMode::Writable => WritableSink::open(&file, &tmp_path)
                .await
                .map(Sink::Writable),
            OpfsMode::SyncAccess => SyncSink::open(&file, &tmp_path).await.map(Sink::Sync),
        };
        let sink = match sink {
            Ok(s) => s,
            Err(e) => {
                let _ = self.remove_entry(&tmp).await;
                return Err(e);
            }
        };
        Ok(OpfsWriter {
            dir: self.dir.clone(),
            file,
            tmp,
            name: name.to_string(),
            path: self.path_of(name),
            use_move: self.use_move,
            sink: Some(sink),
            done: false,
        })
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        check_name(to)?;
        let shown = format!("{} {}", self.path_of(from), self.path_of(to));
        let handle = self.any_handle(from, "rename").await.map_err(|e| match e {
            Error::Io(mut io) => {
                io.op = "rename";
                io.path = shown.clone();
                Error::Io(io)
            }
            e => e,
        })?;
        if from == to {
            return Ok(());
        }
        if let Ok(m) = self.stat(to).await
            && m.is_dir
        {
            return Err(Error::io(
                IoErrorKind::IsADirectory,
                "rename",
                shown,
                "file exists",
            ));
        }
        if self.use_move && move_binding::has_move(&handle) {
            return move_binding::move_to(&handle, &self.dir, to)
                .await
                .map_err(|e| dom_error("rename", shown, e));
        }
        let Some(file) = handle.dyn_ref::<FileSystemFileHandle>() else {
            return Err(Error::io(
                IoErrorKind::Unsupported,
                "rename",
                shown,
                "renaming a directory needs FileSystemHandle.move()",
            ));
        };
        copy_onto(&self.dir, file, to, &shown).await?;
        self.remove_entry(from)
            .await
            .map_err(|e| dom_error("rename", shown, e))
    }

    async fn remove(&self, name: &str) -> Result<()> {
        // Confirms a file (a directory gives IsADirectory, as unlink does).
        self.file_handle(name, false, "remove").await?;
        self.remove_entry(name)
            .await
            .map_err(|e| dom_error("remove", self.path_of(name), e))
    }

    /// No-op: OPFS has no directory fsync; entry changes are as durable as Chromium's
    /// file-system database makes them once the promise resolves.
    async fn sync_dir(&self) -> Result<()> {
        Ok(())
    }

    async fn lock(&self, mode: LockMode) -> Result<WebLock> {
        lock::acquire(&self.path, mode).await
    }

    fn path_of(&self, name: &str) -> String {
        if self.path == "/" {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.path)
        }
    }
}

enum Sink {
    Writable(WritableSink),
    Sync(SyncSink),
}

/// The OPFS atomic writer: a `tmp*` file, published under the final name by `move()`.
pub struct OpfsWriter {
    dir: FileSystemDirectoryHandle,
    file: FileSystemFileHandle,
    tmp: String,
    name: String,
    path: String,
    use_move: bool,
    sink: Option<Sink>,
    done: bool,
}

impl std::fmt::Debug for OpfsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpfsWriter")
            .field("tmp", &self.tmp)
            .field("path", &self.path)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl OpfsWriter {
    async fn remove_tmp(&self) {
        remove_tmp_entry(&self.dir, &self.tmp).await;
    }

    async fn publish(&self) -> Result<()> {
        let handle: &FileSystemHandle = self.file.unchecked_ref();
        if self.use_move && move_binding::has_move(handle) {
            return move_binding::move_to(handle, &self.dir, &self.name)
                .await
                .map_err(|e| dom_error("rename", self.path.clone(), e));
        }
        copy_onto(&self.dir, &self.file, &self.name, &self.path).await?;
        self.remove_tmp().await;
        Ok(())
    }
}

/// Removes a writer's temp file, best effort. Chromium may still hold the file for a moment
/// after `abort()` (or `close()` of a sync handle) resolves, and `removeEntry` then fails with
/// NoModificationAllowedError; that is retried for up to ~1 s. Anything left is a `tmp*` name,
/// removed by the next locked open.
async fn remove_tmp_entry(dir: &FileSystemDirectoryHandle, tmp: &str) {
    for _ in 0..100 {
        match JsFuture::from(dir.remove_entry(tmp)).await {
            Ok(_) => return,
            Err(e) => {
                let busy = e
                    .dyn_ref::<web_sys::DomException>()
                    .is_some_and(|d| d.name() == "NoModificationAllowedError");
                if !busy || crate::js::util::sleep_ms(10).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl AtomicWrite for OpfsWriter {
    async fn write(&mut self, buf: &[u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        match self.sink.as_mut() {
            Some(Sink::Writable(s)) => s.write(buf, &self.path).await,
            Some(Sink::Sync(s)) => s.write(buf, &self.path),
            None => Err(Error::io(
                IoErrorKind::Other,
                "write",
                self.path.clone(),
                "writer already finished",
            )),
        }
    }

    async fn commit(mut self) -> Result<()> {
        let finished = match self.sink.take() {
            Some(Sink::Writable(s)) => s.close(&self.path).await,
            Some(Sink::Sync(s)) => s.flush_and_close(&self.path),
            None => Ok(()),
        };
        let result = match finished {
            Ok(()) => self.publish().await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.remove_tmp().await;
        }
        self.done = true;
        result
    }

    async fn abort(mut self) -> Result<()> {
        match self.sink.take() {
            Some(Sink::Writable(s)) => {
                let _ = s.abort().await;
            }
            Some(Sink::Sync(s)) => s.close(),
            None => {}
        }
        self.remove_tmp().await;
        self.done = true;
        Ok(())
    }
}

impl Drop for OpfsWriter {
    /// Dropped unfinished: discard the temp file in the background.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let sink = self.sink.take();
        let dir = self.dir.clone();
        let tmp = std::mem::take(&mut self.tmp);
        if let Some(Sink::Sync(s)) = sink {
            s.close();
            wasm_bindgen_futures::spawn_local(async move {
                remove_tmp_entry(&dir, &tmp).await;
            });
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(Sink::Writable(s)) = sink {
                let _ = s.abort().await;
            }
            remove_tmp_entry(&dir, &tmp).await;
        });
    }
}
