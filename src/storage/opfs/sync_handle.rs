//! Dedicated-worker writes: a `FileSystemSyncAccessHandle` on the temp file (exclusive per
//! file while open), `write` at an explicit offset, `flush()` to persist, `close()`.

use wasm_bindgen_futures::JsFuture;
use web_sys::{FileSystemFileHandle, FileSystemReadWriteOptions, FileSystemSyncAccessHandle};

use super::error::{dom_error, short_write};
use crate::error::Result;

/// An open sync access handle and the offset of the next write.
pub(crate) struct SyncSink {
    handle: Option<FileSystemSyncAccessHandle>,
    offset: f64,
}

impl SyncSink {
    pub(crate) async fn open(file: &FileSystemFileHandle, path: &str) -> Result<Self> {
        let handle = JsFuture::from(file.create_sync_access_handle())
            .await
            .map_err(|e| dom_error("open", path, e))?;
        let handle: FileSystemSyncAccessHandle = handle.into();
        let sink = SyncSink {
            handle: Some(handle),
            offset: 0.0,
        };
        sink.handle()
            .truncate_with_f64(0.0)
            .map_err(|e| dom_error("truncate", path, e))?;
        Ok(sink)
    }

    fn handle(&self) -> &FileSystemSyncAccessHandle {
        self.handle
            .as_ref()
            .expect("sync access handle used after close")
    }

    /// Synchronous, so the view into wasm memory stays valid for the whole call. A short
    /// count means the quota ran out.
    pub(crate) fn write(&mut self, buf: &[u8], path: &str) -> Result<()> {
        let options = FileSystemReadWriteOptions::new();
        options.set_at(self.offset);
        let wrote = self
            .handle()
            .write_with_u8_array_and_options(buf, &options)
            .map_err(|e| dom_error("write", path, e))?;
        if wrote != buf.len() as f64 {
            return Err(short_write(path, wrote, buf.len()));
        }
        self.offset += wrote;
        Ok(())
    }

    /// `flush()` (persists the written bytes to disk, per the File System standard) then `close()`.
    pub(crate) fn flush_and_close(mut self, path: &str) -> Result<()> {
        let handle = self
            .handle
            .take()
            .expect("sync access handle used after close");
        let flushed = handle.flush().map_err(|e| dom_error("sync", path, e));
        handle.close();
        flushed
    }

    /// Closes without flushing.
    pub(crate) fn close(mut self) {
        if let Some(h) = self.handle.take() {
            h.close();
        }
    }
}

impl Drop for SyncSink {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.close();
        }
    }
}
