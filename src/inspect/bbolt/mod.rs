//! A read-only bbolt reader over a [`PageSource`]: meta selection with checksum fallback,
//! branch/leaf/overflow pages, nested and inline buckets, and bbolt's integrity check.
//! Written for hostile input: every page id is checked against the high water mark and the
//! file size, walks detect pages referenced twice (cycles) and bound their depth.
//!
//! No maintained Rust crate reads bbolt files this way (the ports mmap the file and trust
//! it), and a wasm build can neither mmap nor afford a panic, hence this module.

pub mod check;
pub mod cursor;
pub mod meta;
pub mod page;
pub mod write;

use std::borrow::Cow;

use meta::{META_SIZE, Meta, MetaError};
use page::PAGE_HEADER;
use page::Page;

use super::BadDb;
use super::source::PageSource;
use crate::error::{Error, Result};

pub use cursor::{Bucket, Entry};

/// Branch levels (and bucket nesting levels) a walk descends before giving up: a real bbolt
/// tree of a few GiB is about 5 levels deep.
pub const MAX_DEPTH: usize = 64;

/// Bytes past the end of a page an element may reach and still be read as bbolt reads it
/// (from the following pages); a hostile length beyond this stays an error.
pub const MAX_SPILL: u64 = 16 << 20;

/// Which meta page is in use and what was wrong with the other one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaChoice {
    /// 0 or 1.
    pub used: u8,
    /// Why meta page 0 is unusable, if it is.
    pub meta0_error: Option<MetaError>,
    /// Why meta page 1 is unusable, if it is.
    pub meta1_error: Option<MetaError>,
}

/// An open bbolt file.
#[derive(Debug)]
pub struct Bolt<S> {
    src: S,
    page_size: u64,
    meta: Meta,
    choice: MetaChoice,
    /// Damage bbolt reads through (see [`Bolt::warnings`]).
    warnings: std::sync::Mutex<Vec<String>>,
}

/// Linux maps the last, partial page of a file with zeros after the end; a whole page past
/// it faults (SIGBUS). bbolt reads a truncated db through that map.
const OS_PAGE: u64 = 4096;

fn bad_file(problem: impl Into<String>) -> Error {
    Error::BadDb {
        page: None,
        problem: problem.into(),
    }
}

/// The meta page at `offset`: `Err` when the source cannot be read (an I/O error is not a
/// damaged db: issue 9, item 11), `Ok(Err)` when the page is absent or fails validation.
fn read_meta<S: PageSource>(src: &S, offset: u64) -> Result<Result<Meta, MetaError>> {
    let want = PAGE_HEADER + META_SIZE;
    if offset
        .checked_add(want as u64)
        .is_none_or(|e| e > src.size())
    {
        return Ok(Err(MetaError::Missing));
    }
    let buf = src.read_at(offset, want)?;
    Ok(match Meta::parse(&buf) {
        Some(m) => m.validate().map(|()| m),
        None => Err(MetaError::Missing),
    })
}

/// Page sizes this reader accepts: room for a page header and a meta, and at most 1 MiB
/// (each page read allocates a page). bbolt takes any size meta page 0 states, powers of
/// two or not (a 4097 is read as such).
fn usable_page_size(ps: u32) -> bool {
    (PAGE_HEADER + META_SIZE) as u32 <= ps && ps <= 1 << 20
}

impl<S: PageSource> Bolt<S> {
    /// Opens a bbolt file the way `bolt.Open` (read-only) does: page size from meta page 0
    /// (or, if that one is bad, from a valid meta page 1 at a common page size), then the
    /// valid meta with the higher txid. Stricter than bbolt: a file shorter than its high
    /// water mark is rejected here rather than crashing later. A source that cannot be read
    /// is its I/O error, not a damaged db.
    pub fn open(src: S) -> Result<Self> {
        let size = src.size();
        if size < 0x1000 {
            // bbolt reads 4096 bytes to find the page size and fails with ErrInvalid.
            return Err(bad_file(format!(
                "invalid database: file is {size} bytes, too small for a bbolt db"
            )));
        }
        // bolt.Open (db.go): the page size meta page 0 states if it validates, else the OS
        // page size (4096 here; other common sizes are tried where bbolt would fail).
        let m0 = read_meta(&src, 0)?;
        let page_size = match &m0 {
            Ok(m) if usable_page_size(m.page_size) => u64::from(m.page_size),
            Ok(m) => {
                return Err(bad_file(format!(
                    "meta page 0 states a page size of {} bytes, which cannot be read",
                    m.page_size
                )));
            }
            Err(_) => {
                let mut found = 4096;
                for ps in [4096u32, 8192, 16384, 32768, 65536, 2048, 1024, 512] {
                    if read_meta(&src, u64::from(ps))?.is_ok_and(|m| m.page_size == ps) {
                        found = u64::from(ps);
                        break;
                    }
                }
                found
            }
        };
        if size < page_size * 2 {
            return Err(bad_file(format!(
                "file size too small: {size} bytes, less than two {page_size}-byte meta pages"
            )));
        }
        let m1 = read_meta(&src, page_size)?;
        // `DB.meta()`: the one with the higher txid if it validates, else the other one. The
        // page size a meta states plays no part (bbolt reads every page at the size above).
        let (used, meta) = match (&m0, &m1) {
            (Ok(a), Ok(b)) if b.txid > a.txid => (1, *b),
            (Ok(a), _) => (0, *a),
            (Err(_), Ok(b)) => (1, *b),
            (Err(e0), Err(e1)) => {
                return Err(Error::BadDb {
                    page: None,
                    problem: format!("{e0} (meta page 0: {e0}; meta page 1: {e1})"),
                });
            }
        };
        let choice = MetaChoice {
            used,
            meta0_error: m0.err(),
            meta1_error: m1.err(),
        };
        let hwm_bytes = meta.pgid.checked_mul(page_size);
        let mut warnings = Vec::new();
        if meta.pgid < 2 || hwm_bytes.is_none() {
            return Err(Error::BadDb {
                page: Some(u64::from(used)),
                problem: format!(
                    "high water mark of {} pages of {page_size} bytes does not fit the {size}-byte file (truncated?)",
                    meta.pgid
                ),
            });
        }
        if hwm_bytes.is_some_and(|b| b > size) {
            // bbolt maps the file and never compares the two: a truncated db reads as long as
            // nothing past the end is touched, and etcdctl reports its numbers. Read it so too
            // (pages past the end are errors where bbolt faults), and say so (issue 9, item 10).
            warnings.push(BadDb::describe(
                Some(u64::from(used)),
                &format!(
                    "high water mark of {} pages of {page_size} bytes does not fit the {size}-byte file (truncated?)",
                    meta.pgid
                ),
            ));
        }
        if meta.root < 2 || meta.root >= meta.pgid {
            return Err(Error::BadDb {
                page: Some(u64::from(used)),
                problem: format!(
                    "root bucket pgid ({}) above high water mark ({})",
                    meta.root, meta.pgid
                ),
            });
        }
        if meta.freelist != meta::NO_FREELIST && (meta.freelist < 2 || meta.freelist >= meta.pgid) {
            return Err(Error::BadDb {
                page: Some(u64::from(used)),
                problem: format!(
                    "freelist pgid ({}) above high water mark ({})",
                    meta.freelist, meta.pgid
                ),
            });
        }
        Ok(Bolt {
            src,
            page_size,
            meta,
            choice,
            warnings: std::sync::Mutex::new(warnings),
        })
    }

    /// Damage found so far that bbolt reads through without a word (a db shorter than its
    /// high water mark; an element running past its page into the next): the numbers are
    /// then the ones etcdctl reports, and these say what is wrong. Reading adds to the list.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn warn(&self, w: String) {
        let mut ws = self.warnings.lock().unwrap_or_else(|p| p.into_inner());
        if !ws.contains(&w) && ws.len() < check::MAX_PROBLEMS {
            ws.push(w);
        }
    }

    /// `len` bytes at `off` as bbolt's map shows them: past the end of the file, zeros up to
    /// the end of the file's last OS page; further is the source's error.
    fn read_mapped(&self, off: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let size = self.src.size();
        let end = off.saturating_add(len as u64);
        if end <= size {
            return self.src.read_at(off, len);
        }
        if end > size.div_ceil(OS_PAGE) * OS_PAGE {
            // Where bbolt's map faults (SIGBUS): the file was cut before this.
            return Err(Error::BadDb {
                page: Some(off / self.page_size),
                problem: format!(
                    "lies past the end of the {size}-byte file (truncated?): bytes {off}..{end}"
                ),
            });
        }
        let mut buf = if off < size {
            self.src.read_at(off, (size - off) as usize)?.into_owned()
        } else {
            Vec::new()
        };
        buf.resize(len, 0);
        Ok(Cow::Owned(buf))
    }

    /// The meta in use.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Which meta page is in use.
    pub fn meta_choice(&self) -> MetaChoice {
        self.choice
    }

    /// Page size in bytes.
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// `tx.Size()`: high water mark times page size, what etcdctl reports as totalSize.
    pub fn size(&self) -> u64 {
        self.meta.pgid * self.page_size
    }

    /// The underlying source.
    pub fn source(&self) -> &S {
        &self.src
    }

    /// Reads page `id` with its overflow pages, checking it against the high water mark.
    pub fn page(&self, id: u64) -> Result<Page<'_>> {
        let hwm = self.meta.pgid;
        if id >= hwm {
            return Err(Error::BadDb {
                page: Some(id),
                problem: format!("out of bounds: high water mark is {hwm}"),
            });
        }
        let off = id * self.page_size;
        let first = self.read_mapped(off, self.page_size as usize)?;
        let page = Page::new(id, first, false)?;
        if page.header_id() != id {
            return Err(Error::BadDb {
                page: Some(id),
                problem: format!("page header says it is page {}", page.header_id()),
            });
        }
        if page.overflow == 0 {
            return self.spilled(page, off);
        }
        let last = id + u64::from(page.overflow);
        if last >= hwm {
            return Err(Error::BadDb {
                page: Some(id),
                problem: format!(
                    "{} overflow pages run past the high water mark {hwm}",
                    page.overflow
                ),
            });
        }
        let len = (u64::from(page.overflow) + 1) * self.page_size;
        let len = usize::try_from(len).map_err(|_| Error::BadDb {
            page: Some(id),
            problem: "page with overflow is larger than this platform can address".into(),
        })?;
        let whole: Cow<'_, [u8]> = self.read_mapped(off, len)?;
        self.spilled(Page::new(id, whole, false)?, off)
    }

    /// `page` (read at `off`) with the bytes its elements reach past its end, when they are
    /// in the file: bbolt reads an element whose position or length runs past its page from
    /// the pages after it, and etcdctl reports what it read. Such a page is a warning here;
    /// beyond the file, or past [`MAX_SPILL`] bytes, it stays an error when the element is read.
    fn spilled<'p>(&'p self, page: Page<'p>, off: u64) -> Result<Page<'p>> {
        let have = page.bytes().len() as u64;
        let reach = page.extent();
        if reach <= have || reach > have + MAX_SPILL {
            return Ok(page);
        }
        let Ok(len) = usize::try_from(reach) else {
            return Ok(page);
        };
        let Ok(buf) = self.read_mapped(off, len) else {
            return Ok(page);
        };
        self.warn(BadDb::describe(
            Some(page.id),
            &format!("elements reach {reach} bytes into a {have}-byte page (read on into the next pages, as bbolt does)"),
        ));
        Page::new(page.id, buf, false)
    }

    /// The root bucket (whose entries are the top-level buckets).
    pub fn root(&self) -> Bucket {
        Bucket::from_root(self.meta.root, self.meta.sequence)
    }
}
