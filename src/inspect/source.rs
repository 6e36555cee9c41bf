//! Random access to db bytes, so a 1 GiB db need not be one allocation: the reader asks for
//! one page (plus its overflow) at a time.

use std::borrow::Cow;

use crate::{Error, Result};

/// Positioned reads over a db's bytes. Sync on purpose: the viewer runs the reader in a
/// worker, where `FileReaderSync` and OPFS sync access handles read synchronously.
pub trait PageSource {
    /// Total size in bytes.
    fn size(&self) -> u64;
    /// Exactly `len` bytes at `offset`; asking past the end is an error, never a panic.
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>>;
}

/// The error a source gives for a range past its end.
pub fn out_of_range(offset: u64, len: usize, size: u64) -> Error {
    Error::BadDb {
        page: None,
        problem: format!(
            "read of {len} bytes at offset {offset} is past the end of the file ({size} bytes)"
        ),
    }
}

fn slice_at(buf: &[u8], offset: u64, len: usize) -> Result<&[u8]> {
    let size = buf.len() as u64;
    let end = offset.checked_add(len as u64).filter(|&e| e <= size);
    match end {
        Some(end) => Ok(&buf[offset as usize..end as usize]),
        None => Err(out_of_range(offset, len, size)),
    }
}

impl PageSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        slice_at(self, offset, len).map(Cow::Borrowed)
    }
}

impl PageSource for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        slice_at(self, offset, len).map(Cow::Borrowed)
    }
}

impl PageSource for bytes::Bytes {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        slice_at(self, offset, len).map(Cow::Borrowed)
    }
}

impl<T: PageSource + ?Sized> PageSource for &T {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        (**self).read_at(offset, len)
    }
}

impl<T: PageSource + ?Sized> PageSource for Box<T> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        (**self).read_at(offset, len)
    }
}

/// A view of the first `len` bytes of another source (the db without its sha256 trailer).
#[derive(Debug, Clone)]
pub struct Prefix<S> {
    inner: S,
    len: u64,
}

impl<S: PageSource> Prefix<S> {
    /// The first `len` bytes of `inner` (clamped to its size).
    pub fn new(inner: S, len: u64) -> Self {
        let len = len.min(inner.size());
        Prefix { inner, len }
    }
    /// The whole underlying source.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: PageSource> PageSource for Prefix<S> {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.len => self.inner.read_at(offset, len),
            _ => Err(out_of_range(offset, len, self.len)),
        }
    }
}

/// A file read with positioned reads (native only), so large dbs are never loaded whole.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    size: u64,
    #[cfg(not(unix))]
    lock: std::sync::Mutex<()>,
}

#[cfg(not(target_arch = "wasm32"))]
impl FileSource {
    /// Opens `path` read-only.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let map = |e: std::io::Error| {
            let mut err = Error::from(e);
            if let Error::Io(io) = &mut err {
                io.op = "open";
                io.path = path.display().to_string();
            }
            err
        };
        let file = std::fs::File::open(path).map_err(map)?;
        let meta = file.metadata().map_err(map)?;
        if meta.is_dir() {
            return Err(Error::io(
                crate::IoErrorKind::IsADirectory,
                "open",
                path.display().to_string(),
                "is a directory",
            ));
        }
        Ok(FileSource {
            file,
            size: meta.len(),
            #[cfg(not(unix))]
            lock: std::sync::Mutex::new(()),
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl PageSource for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.size) {
            return Err(out_of_range(offset, len, self.size));
        }
        let mut buf = vec![0u8; len];
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt as _;
            self.file.read_exact_at(&mut buf, offset)?;
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read as _, Seek as _, SeekFrom};
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut f = &self.file;
            f.seek(SeekFrom::Start(offset))?;
            f.read_exact(&mut buf)?;
        }
        Ok(Cow::Owned(buf))
    }
}
