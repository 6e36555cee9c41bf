//! `ReadOnly<S>`: a view of any [`Storage`] that can only be read.
//!
//! For tools that must not change what they look at (the doctor, issue 10: "nothing is
//! written"). Reads pass through; every method that would change the folder (`create_atomic`,
//! `rename`, `remove`, `lock`, which creates or takes a lock file) fails before touching the
//! backend with the error a read-only mount gives: kind
//! [`PermissionDenied`](crate::IoErrorKind::PermissionDenied), Go's `read-only file system`
//! (EROFS, as `IoErrorKind::of_os` maps it). `sync_dir` succeeds and does nothing: through this
//! view nothing was changed, so there is nothing to make durable.

use crate::error::{Error, IoErrorKind, Result};
use crate::storage::{AtomicWrite, LockMode, Metadata, Storage};

/// The platform's words for a write refused on a read-only file system (EROFS).
pub const READ_ONLY_DETAIL: &str = "read-only file system";

/// A read-only view of `S` (see the module docs).
#[derive(Debug, Clone)]
pub struct ReadOnly<S>(S);

impl<S: Storage> ReadOnly<S> {
    /// Wraps `storage`; nothing written through the wrapper reaches it.
    pub fn new(storage: S) -> Self {
        ReadOnly(storage)
    }

    /// The wrapped backend, for reads only.
    pub fn inner(&self) -> &S {
        &self.0
    }

    fn refuse(&self, op: &'static str, name: &str) -> Error {
        Error::io(
            IoErrorKind::PermissionDenied,
            op,
            self.0.path_of(name),
            READ_ONLY_DETAIL,
        )
    }
}

/// The writer a [`ReadOnly`] never hands out (uninhabited).
#[derive(Debug)]
pub enum NoWriter {}

impl AtomicWrite for NoWriter {
    async fn write(&mut self, _: &[u8]) -> Result<()> {
        match *self {}
    }
    async fn commit(self) -> Result<()> {
        match self {}
    }
    async fn abort(self) -> Result<()> {
        match self {}
    }
}

impl<S: Storage> Storage for ReadOnly<S> {
    type Reader = S::Reader;
    type Writer = NoWriter;
    type Lock = S::Lock;

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
    async fn open_read(&self, name: &str) -> Result<Self::Reader> {
        self.0.open_read(name).await
    }
    async fn page_source(&self, name: &str) -> Result<Option<Box<dyn crate::inspect::PageSource>>> {
        self.0.page_source(name).await
    }
    async fn create_atomic(&self, name: &str) -> Result<Self::Writer> {
        Err(self.refuse("open", name))
    }
    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        // Go's *os.LinkError names both; the path is the source, as the OS map does.
        let _ = to;
        Err(self.refuse("rename", from))
    }
    async fn remove(&self, name: &str) -> Result<()> {
        Err(self.refuse("remove", name))
    }
    async fn sync_dir(&self) -> Result<()> {
        Ok(())
    }
    async fn lock(&self, _mode: LockMode) -> Result<Self::Lock> {
        Err(self.refuse("lock", "."))
    }
    fn path_of(&self, name: &str) -> String {
        self.0.path_of(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStorage;
    use futures_executor::block_on;

    #[test]
    fn reads_pass_and_every_change_is_refused_without_reaching_the_backend() {
        let mem = MemoryStorage::new();
        mem.insert("a.snap", b"bytes".to_vec());
        let ro = ReadOnly::new(mem.clone());
        block_on(async {
            assert_eq!(ro.list().await.unwrap(), ["a.snap"]);
            assert_eq!(ro.read("a.snap").await.unwrap(), b"bytes");
            assert_eq!(ro.stat("a.snap").await.unwrap().size, 5);
            for e in [
                ro.rename("a.snap", "a.snap.broken").await.unwrap_err(),
                ro.remove("a.snap").await.unwrap_err(),
                ro.create_atomic("b.snap").await.map(|_| ()).unwrap_err(),
                ro.lock(LockMode::Fail).await.map(|_| ()).unwrap_err(),
            ] {
                assert_eq!(e.io_kind(), Some(IoErrorKind::PermissionDenied), "{e}");
                assert!(e.to_string().ends_with(READ_ONLY_DETAIL), "{e}");
            }
            ro.sync_dir().await.unwrap();
        });
        assert_eq!(mem.get("a.snap").unwrap(), b"bytes");
        assert!(mem.get("a.snap.broken").is_none());
        assert!(mem.get("b.snap").is_none());
    }
}
