//! JavaScript byte streams -> Rust [`AsyncRead`], pulling one chunk at a time so memory stays
//! bounded by the producer's chunk size.
//!
//! Accepted: a WHATWG `ReadableStream<Uint8Array>` (read through `wasm-streams`) or any async
//! iterable of `Uint8Array` (a Node `Readable`, an async generator). Chunks must be
//! `Uint8Array`s (Node `Buffer`s are) or `ArrayBuffer`s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{LocalBoxStream, Stream, StreamExt as _, TryStreamExt as _};
use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::error::from_js;
use super::jsutil::{get, method};
use crate::error::{Error, Result};

/// The reader [`js_to_async_read`] returns.
pub type JsAsyncRead =
    futures_util::stream::IntoAsyncRead<LocalBoxStream<'static, std::io::Result<Vec<u8>>>>;

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
    let bytes = chunks
        .map(move |r| match r {
            Ok(chunk) => chunk_bytes(&chunk, what).map_err(std::io::Error::from),
            Err(e) => Err(std::io::Error::from(from_js("read", what, &e))),
        })
        .boxed_local();
    Ok(bytes.into_async_read())
}

fn chunk_bytes(chunk: &JsValue, what: &str) -> Result<Vec<u8>> {
    if let Some(a) = chunk.dyn_ref::<Uint8Array>() {
        Ok(a.to_vec())
    } else if chunk.is_instance_of::<js_sys::ArrayBuffer>() {
        Ok(Uint8Array::new(chunk).to_vec())
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
