//! One bbolt page (with its overflow) and bounds-checked access to its elements. Every
//! offset comes from the file, so every read is checked; a bad one is a [`BadDb`] error
//! naming the page.
//!
//! [`BadDb`]: crate::Error::BadDb

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Branch page flag.
pub const BRANCH: u16 = 0x01;
/// Leaf page flag.
pub const LEAF: u16 = 0x02;
/// Meta page flag.
pub const META: u16 = 0x04;
/// Size of a page header (`id u64, flags u16, count u16, overflow u32`).
pub const PAGE_HEADER: usize = 16;
/// Freelist page flag.
pub const FREELIST: u16 = 0x10;
/// Leaf element flag: the value is a nested bucket.
pub const BUCKET_LEAF: u32 = 0x01;
/// Size of a branch or leaf element header.
pub const ELEMENT_SIZE: usize = 16;
/// Size of a bucket header in a bucket value (`root u64, sequence u64`).
pub const BUCKET_HEADER: usize = 16;

/// bbolt's page type name, as `page.typ()` prints it.
pub fn type_name(flags: u16) -> String {
    if flags & BRANCH != 0 {
        "branch".into()
    } else if flags & LEAF != 0 {
        "leaf".into()
    } else if flags & META != 0 {
        "meta".into()
    } else if flags & FREELIST != 0 {
        "freelist".into()
    } else {
        format!("unknown<{flags:02x}>")
    }
}

/// A page's bytes (header included) and decoded header.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The page id it was read as (for inline pages: the id of the page holding them).
    pub id: u64,
    /// Header flags.
    pub flags: u16,
    /// Element count.
    pub count: u16,
    /// Number of overflow pages after this one.
    pub overflow: u32,
    /// True for a bucket stored inline in its parent's value.
    pub inline: bool,
    buf: Cow<'a, [u8]>,
}

/// A leaf element: key, value, flags.
#[derive(Debug, Clone, Copy)]
pub struct LeafElem<'p> {
    /// Element flags ([`BUCKET_LEAF`] for a nested bucket).
    pub flags: u32,
    /// The key.
    pub key: &'p [u8],
    /// The value (a bucket header + maybe an inline page for buckets).
    pub value: &'p [u8],
}

impl LeafElem<'_> {
    /// True if the value is a nested bucket.
    pub fn is_bucket(&self) -> bool {
        self.flags & BUCKET_LEAF != 0
    }
}

/// A branch element: the first key of a child and its page id.
#[derive(Debug, Clone, Copy)]
pub struct BranchElem<'p> {
    /// Smallest key under the child.
    pub key: &'p [u8],
    /// Child page id.
    pub pgid: u64,
}

fn bad(page: u64, problem: impl Into<String>) -> Error {
    Error::BadDb {
        page: Some(page),
        problem: problem.into(),
    }
}

impl<'a> Page<'a> {
    /// Wraps page bytes; `id` is where they were read from.
    pub fn new(id: u64, buf: Cow<'a, [u8]>, inline: bool) -> Result<Self> {
        if buf.len() < PAGE_HEADER {
            return Err(bad(
                id,
                format!("page is {} bytes, shorter than its header", buf.len()),
            ));
        }
        let flags = u16::from_le_bytes([buf[8], buf[9]]);
        let count = u16::from_le_bytes([buf[10], buf[11]]);
        let overflow = u32::from_le_bytes([buf[12], buf[13], buf[14], buf[15]]);
        Ok(Page {
            id,
            flags,
            count,
            overflow,
            inline,
            buf,
        })
    }

    /// The id the page's header claims.
    pub fn header_id(&self) -> u64 {
        u64::from_le_bytes(self.buf[0..8].try_into().expect("8 bytes"))
    }

    /// All bytes of the page (header, elements, overflow).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// True for a leaf page (bbolt's cursor tests the leaf flag first).
    pub fn is_leaf(&self) -> bool {
        self.flags & LEAF != 0
    }

    /// True for a branch page.
    pub fn is_branch(&self) -> bool {
        self.flags & BRANCH != 0 && !self.is_leaf()
    }

    fn elem_header(&self, i: usize) -> Result<(usize, &[u8])> {
        let at = PAGE_HEADER + i * ELEMENT_SIZE;
        match self.buf.get(at..at + ELEMENT_SIZE) {
            Some(h) => Ok((at, h)),
            None => Err(bad(
                self.id,
                format!(
                    "element {i} of {} lies past the end of the page",
                    self.count
                ),
            )),
        }
    }

    fn span(&self, i: usize, at: usize, pos: u32, len: u64, what: &str) -> Result<&[u8]> {
        let start = at as u64 + u64::from(pos);
        let end = start + len;
        if end > self.buf.len() as u64 {
            return Err(bad(
                self.id,
                format!(
                    "{what} of element {i} (bytes {start}..{end}) lies past the end of the page ({} bytes)",
                    self.buf.len()
                ),
            ));
        }
        Ok(&self.buf[start as usize..end as usize])
    }

    /// Bytes from the start of the page its elements reach (headers and data), as bbolt's
    /// pointer arithmetic reaches them; 0 for other page types. It may exceed the page.
    pub fn extent(&self) -> u64 {
        if !self.is_leaf() && !self.is_branch() {
            return 0;
        }
        let count = usize::from(self.count);
        let mut end = (PAGE_HEADER + count * ELEMENT_SIZE) as u64;
        for i in 0..count {
            let at = PAGE_HEADER + i * ELEMENT_SIZE;
            let Some(h) = self.buf.get(at..at + ELEMENT_SIZE) else {
                break;
            };
            let u = |o: usize| u64::from(u32::from_le_bytes(h[o..o + 4].try_into().expect("4")));
            let data = if self.is_leaf() {
                u(4) + u(8) + u(12)
            } else {
                u(0) + u(4)
            };
            end = end.max(at as u64 + data);
        }
        end
    }

    /// Leaf element `i`, bounds-checked.
    pub fn leaf(&self, i: usize) -> Result<LeafElem<'_>> {
        let (at, h) = self.elem_header(i)?;
        let flags = u32::from_le_bytes(h[0..4].try_into().expect("4"));
        let pos = u32::from_le_bytes(h[4..8].try_into().expect("4"));
        let ksize = u32::from_le_bytes(h[8..12].try_into().expect("4"));
        let vsize = u32::from_le_bytes(h[12..16].try_into().expect("4"));
        let kv = self.span(i, at, pos, u64::from(ksize) + u64::from(vsize), "key/value")?;
        let (key, value) = kv.split_at(ksize as usize);
        Ok(LeafElem { flags, key, value })
    }

    /// Branch element `i`, bounds-checked.
    pub fn branch(&self, i: usize) -> Result<BranchElem<'_>> {
        let (at, h) = self.elem_header(i)?;
        let pos = u32::from_le_bytes(h[0..4].try_into().expect("4"));
        let ksize = u32::from_le_bytes(h[4..8].try_into().expect("4"));
        let pgid = u64::from_le_bytes(h[8..16].try_into().expect("8"));
        let key = self.span(i, at, pos, u64::from(ksize), "key")?;
        Ok(BranchElem { key, pgid })
    }

    /// Freelist page ids (bbolt's `freelist.read`: a count of 0xFFFF means the real count
    /// is the first u64).
    pub fn freelist_ids(&self) -> Result<Vec<u64>> {
        let (start, count) = if self.count == 0xFFFF {
            let c = self
                .buf
                .get(PAGE_HEADER..PAGE_HEADER + 8)
                .ok_or_else(|| bad(self.id, "freelist count lies past the end of the page"))?;
            (1usize, u64::from_le_bytes(c.try_into().expect("8")))
        } else {
            (0, u64::from(self.count))
        };
        let avail = ((self.buf.len() - PAGE_HEADER) / 8) as u64;
        if count > avail.saturating_sub(start as u64) {
            return Err(bad(
                self.id,
                format!("freelist claims {count} ids but the page holds at most {avail}"),
            ));
        }
        let body = &self.buf[PAGE_HEADER + start * 8..PAGE_HEADER + (start + count as usize) * 8];
        Ok(body
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect())
    }
}

/// A bucket header: root page (0 = inline) and sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketHeader {
    /// Root page, or 0 for an inline bucket.
    pub root: u64,
    /// The bucket's sequence counter.
    pub sequence: u64,
}

impl BucketHeader {
    /// Decodes a bucket value's header; `page` names the page for errors.
    pub fn parse(value: &[u8], page: u64) -> Result<Self> {
        if value.len() < BUCKET_HEADER {
            return Err(bad(
                page,
                format!(
                    "bucket value is {} bytes, shorter than a bucket header",
                    value.len()
                ),
            ));
        }
        Ok(BucketHeader {
            root: u64::from_le_bytes(value[0..8].try_into().expect("8")),
            sequence: u64::from_le_bytes(value[8..16].try_into().expect("8")),
        })
    }
}
