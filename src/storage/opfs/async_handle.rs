//! Main-thread writes: `createWritable()` on the temp file. Chromium writes to a hidden swap
//! file and replaces the temp file's contents with it on `close()`; `abort()` discards it.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    FileSystemCreateWritableOptions, FileSystemFileHandle, FileSystemWritableFileStream,
};

use super::error::dom_error;
use crate::error::Result;

/// An open `FileSystemWritableFileStream`.
pub(crate) struct WritableSink {
    stream: FileSystemWritableFileStream,
}

impl WritableSink {
    pub(crate) async fn open(file: &FileSystemFileHandle, path: &str) -> Result<Self> {
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(false);
        let stream = JsFuture::from(file.create_writable_with_options(&options))
            .await
            .map_err(|e| dom_error("open", path, e))?;
        Ok(WritableSink {
            stream: stream.into(),
        })
    }

    /// Copies `buf` into a fresh JS buffer first: the write completes after an await, and a
    /// view into wasm memory would be detached if memory grew meanwhile.
    pub(crate) async fn write(&mut self, buf: &[u8], path: &str) -> Result<()> {
        let chunk = js_sys::Uint8Array::new_with_length(buf.len() as u32);
        chunk.copy_from(buf);
        let promise = self
            .stream
            .write_with_js_u8_array(&chunk)
            .map_err(|e| dom_error("write", path, e))?;
        JsFuture::from(promise)
            .await
            .map_err(|e| dom_error("write", path, e))?;
        Ok(())
    }

    /// Commits the swap file: after this the temp file holds exactly what was written.
    pub(crate) async fn close(self, path: &str) -> Result<()> {
        JsFuture::from(self.stream.close())
            .await
            .map_err(|e| dom_error("sync", path, e))?;
        Ok(())
    }

    /// Discards the swap file.
    pub(crate) async fn abort(self) -> std::result::Result<(), JsValue> {
        JsFuture::from(self.stream.abort()).await.map(|_| ())
    }
}
