//! Ordered walks over a bucket's B+tree (what bbolt's `Cursor.First/Seek/Next` and
//! `Bucket.ForEach` do), with a start key for paging, a depth bound and a visited set so a
//! hostile file cannot loop.

use std::collections::HashSet;
use std::ops::ControlFlow;

use super::page::{BUCKET_HEADER, BucketHeader, LeafElem, Page};
use super::{Bolt, MAX_DEPTH};
use crate::error::{Error, Result};
use crate::inspect::source::PageSource;

/// Where a bucket's tree lives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    /// A page id.
    Page(u64),
    /// An inline bucket: the page bytes stored in the parent's value, and the parent page.
    Inline { parent: u64, page: Vec<u8> },
}

/// A bucket handle: the root bucket or one found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket's header.
    pub header: BucketHeader,
    /// Nesting level (0 = root bucket).
    pub level: usize,
    root: Root,
}

/// One key/value pair of a bucket, borrowed from its page for the duration of a callback.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'p> {
    /// The key.
    pub key: &'p [u8],
    /// The value; for a nested bucket, its header (and inline page).
    pub value: &'p [u8],
    /// True if the value is a nested bucket.
    pub is_bucket: bool,
    /// The page holding the entry (for an inline bucket: the page holding the bucket).
    pub page: u64,
}

impl Bucket {
    /// The root bucket of a file.
    pub(super) fn from_root(root: u64, sequence: u64) -> Self {
        Bucket {
            header: BucketHeader { root, sequence },
            level: 0,
            root: Root::Page(root),
        }
    }

    /// True if stored inline in its parent.
    pub fn is_inline(&self) -> bool {
        matches!(self.root, Root::Inline { .. })
    }

    /// The root page id (for inline buckets: the page holding the parent entry).
    pub fn root_page(&self) -> u64 {
        match &self.root {
            Root::Page(id) => *id,
            Root::Inline { parent, .. } => *parent,
        }
    }

    /// The bucket a bucket entry of this bucket describes.
    pub fn child(&self, entry: &Entry<'_>) -> Result<Bucket> {
        if !entry.is_bucket {
            return Err(Error::BadDb {
                page: Some(entry.page),
                problem: "entry is not a bucket".into(),
            });
        }
        if self.level + 1 > MAX_DEPTH {
            return Err(Error::BadDb {
                page: Some(entry.page),
                problem: format!("buckets nested more than {MAX_DEPTH} deep"),
            });
        }
        let header = BucketHeader::parse(entry.value, entry.page)?;
        let root = if header.root == 0 {
            Root::Inline {
                parent: entry.page,
                page: entry.value[BUCKET_HEADER..].to_vec(),
            }
        } else {
            Root::Page(header.root)
        };
        Ok(Bucket {
            header,
            level: self.level + 1,
            root,
        })
    }
}

/// What a walk callback returns: go on, or stop early.
pub type Flow = ControlFlow<()>;

impl<S: PageSource> Bolt<S> {
    /// Calls `f` for every entry of `bucket` in key order, starting at the first key
    /// `>= start` (bbolt's `Seek`), until `f` breaks.
    pub fn walk(
        &self,
        bucket: &Bucket,
        start: Option<&[u8]>,
        f: &mut dyn FnMut(Entry<'_>) -> Result<Flow>,
    ) -> Result<()> {
        let flow = match &bucket.root {
            Root::Inline { parent, page } => {
                let p = Page::new(*parent, page.as_slice().into(), true)?;
                if !p.is_leaf() {
                    return Err(Error::BadDb {
                        page: Some(*parent),
                        problem: format!(
                            "inline bucket page is a {}, not a leaf",
                            super::page::type_name(p.flags)
                        ),
                    });
                }
                self.walk_page(&p, start, 0, &mut HashSet::new(), f)
            }
            Root::Page(id) => {
                let mut visited = HashSet::from([*id]);
                let p = self.page(*id)?;
                self.walk_page(&p, start, 0, &mut visited, f)
            }
        };
        flow.map(drop)
    }

    fn walk_page(
        &self,
        p: &Page<'_>,
        start: Option<&[u8]>,
        depth: usize,
        visited: &mut HashSet<u64>,
        f: &mut dyn FnMut(Entry<'_>) -> Result<Flow>,
    ) -> Result<Flow> {
        if p.is_leaf() {
            let from = match start {
                Some(s) => first_leaf_at_or_after(p, s)?,
                None => 0,
            };
            for i in from..usize::from(p.count) {
                let LeafElem { flags, key, value } = p.leaf(i)?;
                let e = Entry {
                    key,
                    value,
                    is_bucket: flags & super::page::BUCKET_LEAF != 0,
                    page: p.id,
                };
                if f(e)?.is_break() {
                    return Ok(Flow::Break(()));
                }
            }
            return Ok(Flow::Continue(()));
        }
        if !p.is_branch() || p.inline {
            return Err(Error::BadDb {
                page: Some(p.id),
                problem: format!(
                    "invalid page type: {}: expected a branch or leaf",
                    super::page::type_name(p.flags)
                ),
            });
        }
        if depth >= MAX_DEPTH {
            return Err(Error::BadDb {
                page: Some(p.id),
                problem: format!("tree deeper than {MAX_DEPTH} levels"),
            });
        }
        let from = match start {
            Some(s) => branch_child_for(p, s)?,
            None => 0,
        };
        for i in from..usize::from(p.count) {
            let child = p.branch(i)?.pgid;
            if !visited.insert(child) {
                return Err(Error::BadDb {
                    page: Some(child),
                    problem: format!("multiple references (again from branch page {})", p.id),
                });
            }
            let cp = self.page(child)?;
            // Only the first child visited can hold keys below `start`.
            let s = if i == from { start } else { None };
            if self.walk_page(&cp, s, depth + 1, visited, f)?.is_break() {
                return Ok(Flow::Break(()));
            }
        }
        Ok(Flow::Continue(()))
    }

    /// The child bucket `name` of `parent`, if there is one (`Bucket.Bucket`: a key that
    /// holds a plain value is not a bucket).
    pub fn bucket(&self, parent: &Bucket, name: &[u8]) -> Result<Option<Bucket>> {
        let mut found = None;
        self.walk(parent, Some(name), &mut |e| {
            if e.key == name && e.is_bucket {
                found = Some(parent.child(&e)?);
            }
            Ok(Flow::Break(()))
        })?;
        Ok(found)
    }

    /// The value stored under `key` in `bucket` (not a bucket), copied.
    pub fn get(&self, bucket: &Bucket, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut found = None;
        self.walk(bucket, Some(key), &mut |e| {
            if e.key == key && !e.is_bucket {
                found = Some(e.value.to_vec());
            }
            Ok(Flow::Break(()))
        })?;
        Ok(found)
    }
}

/// Index of the first leaf element whose key is `>= start` (binary search, as bbolt's).
fn first_leaf_at_or_after(p: &Page<'_>, start: &[u8]) -> Result<usize> {
    let (mut lo, mut hi) = (0usize, usize::from(p.count));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if p.leaf(mid)?.key < start {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// bbolt's `Cursor.searchPage`: the first branch key `>= start`, stepping back one unless it
/// matches exactly.
fn branch_child_for(p: &Page<'_>, start: &[u8]) -> Result<usize> {
    let (mut lo, mut hi) = (0usize, usize::from(p.count));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if p.branch(mid)?.key < start {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let exact = lo < usize::from(p.count) && p.branch(lo)?.key == start;
    Ok(if !exact && lo > 0 { lo - 1 } else { lo })
}
