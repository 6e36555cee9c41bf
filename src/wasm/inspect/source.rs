//! Where an `InspectDb` (and the npm CLI's `status` / `keys`) reads a db from: bytes, a
//! `Blob` read a slice at a time with `FileReaderSync` (workers only), or any
//! `{ size, read(offset, length) }` object.

use std::borrow::Cow;

use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{DecodeError, Error, Result};
use crate::inspect::{Cached, PageSource};
use crate::js::error::from_js;
use crate::js::util::{get, method};

/// A `Blob` read slice by slice with `FileReaderSync` (dedicated workers only).
struct BlobSource {
    blob: JsValue,
    slice: Function,
    reader: JsValue,
    read_as: Function,
    size: u64,
}

impl BlobSource {
    fn new(blob: JsValue) -> Result<Self> {
        let size = get(&blob, "size")
            .as_f64()
            .ok_or_else(|| Error::InvalidArgument("blob.size: not a number".into()))?;
        let slice = method(&blob, "slice")
            .ok_or_else(|| Error::InvalidArgument("blob.slice: not a function".into()))?;
        let ctor = get(&js_sys::global().into(), "FileReaderSync");
        let ctor = ctor.dyn_into::<Function>().map_err(|_| {
            Error::InvalidArgument(
                "InspectDb.open: a Blob can be read only in a worker (FileReaderSync); pass a Uint8Array instead".into(),
            )
        })?;
        let reader = Reflect::construct(&ctor, &Array::new())
            .map_err(|e| from_js("open", "FileReaderSync", &e))?;
        let read_as = method(&reader, "readAsArrayBuffer").ok_or_else(|| {
            Error::InvalidArgument("FileReaderSync.readAsArrayBuffer missing".into())
        })?;
        Ok(BlobSource {
            blob,
            slice,
            reader,
            read_as,
            size: size as u64,
        })
    }
}

impl PageSource for BlobSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let end = offset
            .checked_add(len as u64)
            .filter(|&e| e <= self.size)
            .ok_or_else(|| crate::inspect::source::out_of_range(offset, len, self.size))?;
        let part = self
            .slice
            .call2(&self.blob, &(offset as f64).into(), &(end as f64).into())
            .map_err(|e| from_js("read", "blob", &e))?;
        let buf = self
            .read_as
            .call1(&self.reader, &part)
            .map_err(|e| from_js("read", "blob", &e))?;
        let bytes = Uint8Array::new(&buf);
        if bytes.length() as usize != len {
            return Err(Error::io(
                crate::IoErrorKind::Other,
                "read",
                "blob",
                format!("got {} bytes of {len}", bytes.length()),
            ));
        }
        Ok(Cow::Owned(bytes.to_vec()))
    }
}

/// How a [`CallbackSource`] reports a failed or short `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// As `InspectDb` does: errors name `source`, and an answer of the wrong length is one.
    Source,
    /// As the native CLI's `FileSource` does: a thrown error with a Node `code` (`EIO`) is
    /// `read: input/output error`, a short answer (the file shrank) is `unexpected EOF`.
    File,
}

/// A JS object with `size` and a synchronous `read(offset, length)`.
pub(crate) struct CallbackSource {
    this: JsValue,
    read: Function,
    size: u64,
    reading: Reading,
}

impl CallbackSource {
    /// `v` with its `read` method; `size` must be a byte count.
    pub(crate) fn new(v: JsValue, read: Function, reading: Reading) -> Result<Self> {
        let size = get(&v, "size")
            .as_f64()
            .filter(|s| *s >= 0.0 && s.fract() == 0.0)
            .ok_or_else(|| Error::InvalidArgument("source.size: not a byte count".into()))?;
        Ok(CallbackSource {
            this: v,
            read,
            size: size as u64,
            reading,
        })
    }
}

impl PageSource for CallbackSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.size) {
            return Err(crate::inspect::source::out_of_range(offset, len, self.size));
        }
        let path = match self.reading {
            Reading::Source => "source",
            Reading::File => "",
        };
        let got = self
            .read
            .call2(&self.this, &(offset as f64).into(), &(len as f64).into())
            .map_err(|e| from_js("read", path, &e))?;
        let bytes = got
            .dyn_into::<Uint8Array>()
            .map_err(|_| Error::InvalidArgument("source.read: expected a Uint8Array".into()))?;
        match self.reading {
            Reading::Source if bytes.length() as usize != len => Err(Error::io(
                crate::IoErrorKind::Other,
                "read",
                "source",
                format!("source.read returned {} bytes of {len}", bytes.length()),
            )),
            Reading::Source => Ok(Cow::Owned(bytes.to_vec())),
            Reading::File if (bytes.length() as usize) < len => {
                Err(Error::Decode(DecodeError::UnexpectedEof))
            }
            Reading::File => Ok(Cow::Owned(bytes.subarray(0, len as u32).to_vec())),
        }
    }
}

/// A db source as the bindings take it.
pub(crate) type Src = Box<dyn PageSource>;

/// [`source_with_cache`] with the viewer's cache (128 MiB).
pub(crate) fn source_from_js(v: JsValue) -> Result<Src> {
    source_with_cache(v, 128 << 20)
}

/// As [`source_from_js`], caching at most `cache_bytes` of a `Blob` or callback source (the
/// npm CLI makes one pass and keeps this small; wasm memory never shrinks).
pub(crate) fn source_with_cache(v: JsValue, cache_bytes: usize) -> Result<Src> {
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(Box::new(a.to_vec()));
    }
    if !v.is_object() {
        return Err(Error::InvalidArgument(
            "InspectDb.open: expected a Uint8Array, a Blob or { size, read(offset, length) }"
                .into(),
        ));
    }
    if let Some(read) = method(&v, "read") {
        let cb = CallbackSource::new(v, read, Reading::Source)?;
        return Ok(Box::new(Cached::new(cb, 64 << 10, cache_bytes)));
    }
    if method(&v, "slice").is_some() {
        return Ok(Box::new(Cached::new(
            BlobSource::new(v)?,
            64 << 10,
            cache_bytes,
        )));
    }
    Err(Error::InvalidArgument(
        "InspectDb.open: expected a Uint8Array, a Blob or { size, read(offset, length) }".into(),
    ))
}
