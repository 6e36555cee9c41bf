//! [`DynStorage`]: any [`Storage`] behind one type, so the JS `Snapshotter` class wraps a single
//! `Snapshotter<DynStorage>` whatever backend the caller picked at run time. Futures are boxed
//! (one allocation per call, nothing per byte); nothing here needs `Send`.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use futures_io::AsyncRead;

use crate::error::Result;
use crate::storage::{AtomicWrite, LockMode, Metadata, Storage};

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A boxed streaming reader.
pub type DynReader = Box<dyn AsyncRead + Unpin>;
/// Positioned reads over one file ([`Storage::page_source`]).
type DynPages = Box<dyn crate::inspect::PageSource>;
/// A held lock of any backend; dropping it releases the lock.
pub type DynLock = Box<dyn Any>;

trait ErasedStorage {
    fn list(&self) -> BoxFut<'_, Result<Vec<String>>>;
    fn stat<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<Metadata>>;
    fn exists<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<bool>>;
    fn read<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<Vec<u8>>>;
    fn open_read<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<DynReader>>;
    fn page_source<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<Option<DynPages>>>;
    fn create_atomic<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<DynWriter>>;
    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFut<'a, Result<()>>;
    fn remove<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<()>>;
    fn sync_dir(&self) -> BoxFut<'_, Result<()>>;
    fn lock(&self, mode: LockMode) -> BoxFut<'_, Result<DynLock>>;
    fn path_of(&self, name: &str) -> String;
}

impl<S> ErasedStorage for S
where
    S: Storage + 'static,
    S::Reader: 'static,
    S::Writer: 'static,
    S::Lock: 'static,
{
    fn list(&self) -> BoxFut<'_, Result<Vec<String>>> {
        Box::pin(Storage::list(self))
    }
    fn stat<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<Metadata>> {
        Box::pin(Storage::stat(self, name))
    }
    fn exists<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<bool>> {
        Box::pin(Storage::exists(self, name))
    }
    fn read<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<Vec<u8>>> {
        Box::pin(Storage::read(self, name))
    }
    fn open_read<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<DynReader>> {
        Box::pin(async move {
            let r = Storage::open_read(self, name).await?;
            Ok(Box::new(r) as DynReader)
        })
    }
    fn page_source<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<Option<DynPages>>> {
        Box::pin(Storage::page_source(self, name))
    }
    fn create_atomic<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<DynWriter>> {
        Box::pin(async move {
            let w = Storage::create_atomic(self, name).await?;
            Ok(DynWriter(Box::new(w)))
        })
    }
    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFut<'a, Result<()>> {
        Box::pin(Storage::rename(self, from, to))
    }
    fn remove<'a>(&'a self, name: &'a str) -> BoxFut<'a, Result<()>> {
        Box::pin(Storage::remove(self, name))
    }
    fn sync_dir(&self) -> BoxFut<'_, Result<()>> {
        Box::pin(Storage::sync_dir(self))
    }
    fn lock(&self, mode: LockMode) -> BoxFut<'_, Result<DynLock>> {
        Box::pin(async move {
            let l = Storage::lock(self, mode).await?;
            Ok(Box::new(l) as DynLock)
        })
    }
    fn path_of(&self, name: &str) -> String {
        Storage::path_of(self, name)
    }
}

/// Any storage backend, chosen at run time.
pub struct DynStorage(Box<dyn ErasedStorage>);

impl DynStorage {
    /// Erases the backend's type.
    pub fn new<S>(storage: S) -> Self
    where
        S: Storage + 'static,
        S::Reader: 'static,
        S::Writer: 'static,
        S::Lock: 'static,
    {
        DynStorage(Box::new(storage))
    }
}

impl Storage for DynStorage {
    type Reader = DynReader;
    type Writer = DynWriter;
    type Lock = DynLock;

    async fn list(&self) -> Result<Vec<String>> {
        self.0.list().await
    }
    async fn stat(&self, name: &str) -> Result<Metadata> {
        self.0.stat(name).await
    }
    async fn exists(&self, name: &str) -> Result<bool> {
        self.0.exists(name).await
    }
    async fn read(&self, name: &str) -> Result<Vec<u8>> {
        self.0.read(name).await
    }
    async fn open_read(&self, name: &str) -> Result<DynReader> {
        self.0.open_read(name).await
    }
    async fn page_source(&self, name: &str) -> Result<Option<DynPages>> {
        self.0.page_source(name).await
    }
    async fn create_atomic(&self, name: &str) -> Result<DynWriter> {
        self.0.create_atomic(name).await
    }
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        self.0.rename(from, to).await
    }
    async fn remove(&self, name: &str) -> Result<()> {
        self.0.remove(name).await
    }
    async fn sync_dir(&self) -> Result<()> {
        self.0.sync_dir().await
    }
    async fn lock(&self, mode: LockMode) -> Result<DynLock> {
        self.0.lock(mode).await
    }
    fn path_of(&self, name: &str) -> String {
        self.0.path_of(name)
    }
}

trait ErasedWriter {
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> BoxFut<'a, Result<()>>;
    fn commit(self: Box<Self>) -> BoxFut<'static, Result<()>>;
    fn abort(self: Box<Self>) -> BoxFut<'static, Result<()>>;
}

impl<W: AtomicWrite + 'static> ErasedWriter for W {
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> BoxFut<'a, Result<()>> {
        Box::pin(AtomicWrite::write(self, buf))
    }
    fn commit(self: Box<Self>) -> BoxFut<'static, Result<()>> {
        Box::pin(AtomicWrite::commit(*self))
    }
    fn abort(self: Box<Self>) -> BoxFut<'static, Result<()>> {
        Box::pin(AtomicWrite::abort(*self))
    }
}

/// The atomic writer of a [`DynStorage`].
pub struct DynWriter(Box<dyn ErasedWriter>);

impl AtomicWrite for DynWriter {
    async fn write(&mut self, buf: &[u8]) -> Result<()> {
        self.0.write(buf).await
    }
    async fn commit(self) -> Result<()> {
        self.0.commit().await
    }
    async fn abort(self) -> Result<()> {
        self.0.abort().await
    }
}
