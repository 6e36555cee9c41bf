//! Streaming reads: the `File` snapshot from `getFile()` read in bounded slices, so a
//! multi-gigabyte `.snap.db` never sits whole in memory.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;
use futures_util::stream::IntoAsyncRead;
use futures_util::stream::{self, LocalBoxStream, StreamExt, TryStreamExt};
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use super::error::dom_error;
use crate::error::Error;

/// Bytes fetched per slice.
const CHUNK: f64 = (1 << 20) as f64;

/// An [`AsyncRead`] over an OPFS file. The `File` is a snapshot: if the file is replaced or
/// changed while reading, the next slice fails (`NotReadableError`, reported as `ERR_IO`).
pub struct OpfsReader {
    inner: IntoAsyncRead<LocalBoxStream<'static, io::Result<Vec<u8>>>>,
}

impl OpfsReader {
    pub(crate) fn new(file: File, path: String) -> Self {
        let size = file.size();
        let chunks = stream::try_unfold(0f64, move |pos| {
            let file = file.clone();
            let path = path.clone();
            async move {
                if pos >= size {
                    return Ok(None);
                }
                let end = (pos + CHUNK).min(size);
                let slice = file
                    .slice_with_f64_and_f64(pos, end)
                    .map_err(|e| io::Error::from(dom_error("read", &path, e)))?;
                let buf = JsFuture::from(slice.array_buffer())
                    .await
                    .map_err(|e| io::Error::from(dom_error("read", &path, e)))?;
                let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                if bytes.len() as f64 != end - pos {
                    let e = Error::ShortRead { cause: None };
                    return Err(io::Error::from(e));
                }
                Ok(Some((bytes, end)))
            }
        });
        OpfsReader {
            inner: chunks.boxed_local().into_async_read(),
        }
    }
}

impl std::fmt::Debug for OpfsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpfsReader").finish_non_exhaustive()
    }
}

impl AsyncRead for OpfsReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}
