//! Random access to db bytes, so a 1 GiB db need not be one allocation: the reader asks for
//! one page (plus its overflow) at a time.

use std::borrow::Cow;

use crate::error::{Error, Result};

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

/// A read cache in front of a slow source (a JS-backed source in wasm, where each read
/// crosses into JavaScript, or a network-backed one): reads whole aligned blocks and keeps
/// the most recently used ones, so the many page-sized reads of a tree walk become few large
/// reads. Not worth it over a local file (`benches/inspect.rs`: pread per page was faster).
#[derive(Debug)]
pub struct Cached<S> {
    inner: S,
    block: u64,
    max_blocks: usize,
    cache: std::cell::RefCell<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    blocks: std::collections::HashMap<u64, (u64, std::rc::Rc<Vec<u8>>)>,
    tick: u64,
}

impl<S: PageSource> Cached<S> {
    /// Caches `inner` in blocks of `block` bytes (at least 4 KiB, rounded up to a power of
    /// two), keeping at most `max_bytes` of them (at least two blocks).
    pub fn new(inner: S, block: usize, max_bytes: usize) -> Self {
        let block = block.max(4096).next_power_of_two() as u64;
        let max_blocks = (max_bytes as u64 / block).max(2) as usize;
        Cached {
            inner,
            block,
            max_blocks,
            cache: Default::default(),
        }
    }

    /// 64 KiB blocks (bbolt walks jump around the file, so small blocks waste less), 128 MiB
    /// at most.
    pub fn with_defaults(inner: S) -> Self {
        Self::new(inner, 64 << 10, 128 << 20)
    }

    /// For one pass over a db (the doctor, a CLI call): 64 KiB blocks (few calls into JS) and
    /// 8 MiB in all, enough for bbolt's branch pages while leaves stream through; a cache
    /// sized like the viewer's would end up holding a large db whole.
    pub fn for_one_pass(inner: S) -> Self {
        Self::new(inner, 64 << 10, 8 << 20)
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn block_at(&self, index: u64) -> Result<std::rc::Rc<Vec<u8>>> {
        let mut st = self.cache.borrow_mut();
        st.tick += 1;
        let tick = st.tick;
        if let Some((used, b)) = st.blocks.get_mut(&index) {
            *used = tick;
            return Ok(b.clone());
        }
        let start = index * self.block;
        let len = self.block.min(self.inner.size().saturating_sub(start)) as usize;
        let data = std::rc::Rc::new(self.inner.read_at(start, len)?.into_owned());
        if st.blocks.len() >= self.max_blocks {
            let oldest = st
                .blocks
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                st.blocks.remove(&k);
            }
        }
        st.blocks.insert(index, (tick, data.clone()));
        Ok(data)
    }
}

impl<S: PageSource> PageSource for Cached<S> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let size = self.inner.size();
        let end = match offset.checked_add(len as u64) {
            Some(end) if end <= size => end,
            _ => return Err(out_of_range(offset, len, size)),
        };
        if len as u64 > self.block * (self.max_blocks as u64 / 2) {
            // Larger than half the cache: not worth caching.
            return self.inner.read_at(offset, len);
        }
        let mut out = Vec::with_capacity(len);
        let mut pos = offset;
        while pos < end {
            let index = pos / self.block;
            let b = self.block_at(index)?;
            let from = (pos - index * self.block) as usize;
            let to = ((end - index * self.block) as usize).min(b.len());
            if to <= from {
                // The inner source returned less than asked: never loop on it.
                return Err(out_of_range(pos, (end - pos) as usize, size));
            }
            out.extend_from_slice(&b[from..to]);
            pos = index * self.block + to as u64;
        }
        Ok(Cow::Owned(out))
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
    /// Reads an already opened regular file of `size` bytes (reads past `size` are errors, so
    /// a file that grows is never read further).
    pub fn from_file(file: std::fs::File, size: u64) -> Self {
        FileSource {
            file,
            size,
            #[cfg(not(unix))]
            lock: std::sync::Mutex::new(()),
        }
    }

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
                crate::error::IoErrorKind::IsADirectory,
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
