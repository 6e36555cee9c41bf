//! JavaScript byte streams -> Rust [`AsyncRead`], pulling one chunk at a time so memory stays
//! bounded by the producer's chunk size.
//!
//! Accepted: a WHATWG `ReadableStream<Uint8Array>` (read through `wasm-streams`) or any async
//! iterable of `Uint8Array` (a Node `Readable`, an async generator). Chunks must be
//! `Uint8Array`s (Node `Buffer`s are) or `ArrayBuffer`s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{LocalBoxStream, Stream, StreamExt as _};
use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::from_js;
use super::util::{get, method};
use crate::error::{Error, Result};

/// The reader [`js_to_async_read`] returns: copies each JS chunk straight into the caller's
/// buffer (no intermediate `Vec`), keeping the rest of a chunk for the next read.
pub struct JsAsyncRead {
    chunks: LocalBoxStream<'static, std::result::Result<JsValue, JsValue>>,
    what: &'static str,
    /// The chunk being consumed and how much of it is left (from `offset`).
    current: Option<(Uint8Array, u32)>,
    done: bool,
}

/// Adapts a `ReadableStream` or async iterable of bytes; `what` names it in errors.
pub fn js_to_async_read(source: JsValue, what: &'static str) -> Result<JsAsyncRead> {
    let chunks: LocalBoxStream<'static, std::result::Result<JsValue, JsValue>> =
        if method(&source, "getReader").is_some() {
            let raw: wasm_streams::readable::sys::ReadableStream = source.unchecked_into();
            wasm_streams::ReadableStream::from_raw(raw)
                .into_stream()
                .boxed_local()
        } else if let Some(iter) = async_iterator(&source)? {
            AsyncIter {
                iter,
                pending: None,
                done: false,
            }
            .boxed_local()
        } else {
            return Err(Error::InvalidArgument(format!(
                "{what}: expected a ReadableStream or an async iterable of Uint8Array"
            )));
        };
    Ok(JsAsyncRead {
        chunks,
        what,
        current: None,
        done: false,
    })
}

impl futures_io::AsyncRead for JsAsyncRead {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            if let Some((chunk, offset)) = self.current.take() {
                let len = chunk.length();
                let n = ((len - offset) as usize).min(buf.len());
                chunk
                    .subarray(offset, offset + n as u32)
                    .copy_to(&mut buf[..n]);
                if offset + (n as u32) < len {
                    self.current = Some((chunk, offset + n as u32));
                }
                return Poll::Ready(Ok(n));
            }
            if self.done {
                return Poll::Ready(Ok(0));
            }
            match self.chunks.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Err(from_js("read", self.what, &e).into()));
                }
                Poll::Ready(Some(Ok(v))) => match chunk_array(&v, self.what) {
                    Ok(a) if a.length() == 0 => {}
                    Ok(a) => self.current = Some((a, 0)),
                    Err(e) => {
                        self.done = true;
                        return Poll::Ready(Err(e.into()));
                    }
                },
            }
        }
    }
}

fn chunk_array(chunk: &JsValue, what: &str) -> Result<Uint8Array> {
    if let Some(a) = chunk.dyn_ref::<Uint8Array>() {
        Ok(a.clone())
    } else if chunk.is_instance_of::<js_sys::ArrayBuffer>() {
        Ok(Uint8Array::new(chunk))
    } else {
        Err(Error::InvalidArgument(format!(
            "{what}: stream chunks must be Uint8Array, got {}",
            chunk.js_typeof().as_string().unwrap_or_default()
        )))
    }
}

/// `source[Symbol.asyncIterator]()`, if `source` is an async iterable.
fn async_iterator(source: &JsValue) -> Result<Option<JsValue>> {
    if !source.is_object() {
        return Ok(None);
    }
    let key = js_sys::Symbol::async_iterator();
    let f = js_sys::Reflect::get(source, &key)
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    match f {
        None => Ok(None),
        Some(f) => f
            .call0(source)
            .map(Some)
            .map_err(|e| from_js("read", "async iterator", &e)),
    }
}

/// An async iterator as a `Stream`; calls `return()` when dropped early, so a Node
/// `Readable` is destroyed rather than left paused.
struct AsyncIter {
    iter: JsValue,
    pending: Option<JsFuture>,
    done: bool,
}

impl Stream for AsyncIter {
    type Item = std::result::Result<JsValue, JsValue>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.pending.is_none() {
            let next = match method(&self.iter, "next") {
                Some(f) => f.call0(&self.iter),
                None => Err(JsValue::from(js_sys::TypeError::new(
                    "async iterator has no next()",
                ))),
            };
            match next {
                Ok(p) => self.pending = Some(JsFuture::from(Promise::resolve(&p))),
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
        let Some(fut) = self.pending.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(fut).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                self.pending = None;
                match r {
                    Err(e) => {
                        self.done = true;
                        Poll::Ready(Some(Err(e)))
                    }
                    Ok(res) => {
                        if get(&res, "done").is_truthy() {
                            self.done = true;
                            Poll::Ready(None)
                        } else {
                            Poll::Ready(Some(Ok(get(&res, "value"))))
                        }
                    }
                }
            }
        }
    }
}

impl Drop for AsyncIter {
    fn drop(&mut self) {
        if !self.done
            && let Some(f) = method(&self.iter, "return")
        {
            let _ = f.call0(&self.iter);
        }
    }
}
