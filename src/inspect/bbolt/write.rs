//! A bbolt writer: builds a fresh, compact bbolt file from buckets of sorted keys, page for
//! page the tree bbolt itself builds when the same keys are put into a new db in key order
//! with a bucket `FillPercent`, as etcd's defrag does (etcd mvcc/backend/backend.go:490
//! `defragdb`: a new bolt file, buckets copied in key order with `FillPercent = 0.9`).
//!
//! What is bbolt's and what is ours:
//! - **the tree** is bbolt's: leaves and branches are split where bbolt's `node.split`
//!   splits them (bbolt node.go:269 `splitTwo`, node.go:311 `splitIndex`: a node is cut at the
//!   first element, from the third, that takes it past `pageSize * FillPercent`, leaving at
//!   least two elements for the next, and only when it holds more than four elements and
//!   does not fit one page); a node of `n` bytes takes `ceil(n / pageSize)` pages (node.go:364);
//!   a bucket is stored inline in its parent's value exactly when bbolt's `inlineable` says so
//!   (bucket.go:586: no nested buckets and at most `pageSize / 4` bytes as a page); elements
//!   are laid out as `node.write` lays them (node.go:191).
//! - **the commits** are etcd's: its copy commits every 10,000 keys, and each commit splits
//!   the rightmost node of every level as if the bucket ended there (a cut then leaves at
//!   least two elements after it, where one transaction would cut later), so the writer
//!   replays those commits ([`Options::commit_every`]); `bucket.Stats()` of our file equals
//!   that of etcd's own defrag (tests/interop/inspect/write.rs).
//! - **the page numbering** is ours: pages are numbered in the order they are written (each
//!   leaf as it fills, each branch as it fills, a bucket's root last, the root bucket at the
//!   end), with no free pages. bbolt's own numbering depends on Go's map order and on its
//!   freelist reusing pages of earlier commits, so no two bbolt copies agree on it either.
//! - **the header** is bbolt's `db.init` (db.go:472) for a db whose tree is already written:
//!   meta pages 0 and 1 (FNV-64a checksums) both describe the finished tree (txids
//!   [`TXID`] and `TXID - 1`, so either one alone opens the same db), page 2 holds an empty
//!   array freelist (freelist.go:311), so any bbolt opens the file without scanning it
//!   and `tx.Check()` proves every page below the high water mark is reachable.
//!
//! Streaming: the meta pages come first in the file but name the root page and the high
//! water mark, which are known only at the end, and a storage writer only appends. So the
//! input is read twice: a first pass ([`Writer::plan`]) computes the [`Layout`] without
//! producing bytes (the tree's shape depends only on key and value sizes), the second
//! ([`Writer::write`]) writes the header from it and then the pages as they fill. Memory
//! holds, per open bucket and tree level, one node being filled (about a page) and nothing
//! else; output is handed out as it is produced ([`Writer::take_output`]).
//!
//! ```
//! # fn main() -> etcd_snap::Result<()> {
//! use etcd_snap::inspect::bbolt::write::{self, Op, OpsFeed, Options};
//! let ops = || {
//!     vec![
//!         Ok(Op::Bucket { name: b"key".to_vec(), sequence: 0 }),
//!         Ok(Op::Put { key: b"a".to_vec(), value: b"1".to_vec() }),
//!         Ok(Op::End),
//!     ]
//!     .into_iter()
//! };
//! let mut file = Vec::new();
//! let layout = write::write_to(Options::default(), &mut OpsFeed::new(ops), &mut file)?;
//! assert_eq!(file.len() as u64, layout.size());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use super::meta::{MAGIC, Meta, VERSION};
use super::page::PAGE_HEADER;
use super::page::{BRANCH, BUCKET_HEADER, BUCKET_LEAF, ELEMENT_SIZE, FREELIST, LEAF};
use super::{Bolt, Bucket};
use crate::error::{Error, Result};
use crate::go_fmt::quote;
use crate::inspect::source::PageSource;

/// The fill percent etcd's defrag sets on every bucket it copies (etcd
/// mvcc/backend/backend.go:517).
pub const DEFRAG_FILL_PERCENT: f64 = 0.9;
/// bbolt's `DefaultFillPercent` (bucket.go:26), which the root bucket always has (`tx.root`
/// is a `newBucket`, tx.go).
pub const DEFAULT_FILL_PERCENT: f64 = 0.5;
/// bbolt's `MaxKeySize` (bucket.go:11).
pub const MAX_KEY_SIZE: usize = 32768;
/// bbolt's `MaxValueSize` (bucket.go:14).
pub const MAX_VALUE_SIZE: usize = (1 << 31) - 2;
/// The txid of meta page 0, the one in use; meta page 1 holds `TXID - 1` (bbolt writes a
/// meta to page `txid % 2`, db.go:1211).
pub const TXID: u64 = 2;
/// The page holding the (empty) freelist.
pub const FREELIST_PAGE: u64 = 2;
/// The first page of the tree.
pub const FIRST_TREE_PAGE: u64 = 3;
/// How much output [`write_to`] and the storage writer let pile up before writing it.
pub const CHUNK: usize = 1 << 20;

/// bbolt's `minKeysPerPage` (node.go).
const MIN_KEYS_PER_PAGE: usize = 2;
/// Page sizes the writer accepts: the reader's limit above, a sensible floor below.
const PAGE_SIZES: std::ops::RangeInclusive<u32> = 512..=(1 << 20);

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Page size in bytes: the source db's, to copy one (bbolt's default is the OS page size,
    /// 4096).
    pub page_size: u32,
    /// The `FillPercent` of every bucket the caller opens (bbolt clamps it to 0.1..=1.0, as
    /// here). The root bucket keeps bbolt's [`DEFAULT_FILL_PERCENT`].
    pub fill_percent: f64,
    /// Build the tree a copy committed every this many keys builds, as etcd's defrag commits
    /// every [`DEFRAG_LIMIT`] keys (`None`: one transaction). A commit splits the rightmost
    /// node of every level of the open buckets as the end would, and the nodes it cuts off
    /// stay as they are; the next transaction fills what is left of the rightmost node.
    /// Counted as etcd counts: every key and nested bucket entry, across
    /// buckets, the commit coming before the key that passes the limit.
    pub commit_every: Option<u64>,
}

/// etcd's `defragLimit` (etcd mvcc/backend/backend.go:38): keys per transaction of its copy.
pub const DEFRAG_LIMIT: u64 = 10_000;

impl Default for Options {
    /// etcd's defrag: 4096-byte pages, fill percent 0.9, a commit every 10,000 keys.
    fn default() -> Self {
        Options {
            page_size: 4096,
            fill_percent: DEFRAG_FILL_PERCENT,
            commit_every: Some(DEFRAG_LIMIT),
        }
    }
}

impl Options {
    /// The defaults with another page size.
    pub fn with_page_size(page_size: u32) -> Self {
        Options {
            page_size,
            ..Options::default()
        }
    }

    fn check(&self) -> Result<()> {
        if !PAGE_SIZES.contains(&self.page_size) {
            return Err(Error::InvalidArgument(format!(
                "bbolt writer: page size {} is outside {}..={}",
                self.page_size,
                PAGE_SIZES.start(),
                PAGE_SIZES.end()
            )));
        }
        if !self.fill_percent.is_finite() {
            return Err(Error::InvalidArgument(
                "bbolt writer: fill percent must be a number".into(),
            ));
        }
        Ok(())
    }
}

/// Where the tree of a written file ends: what the meta pages say, and what was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// Page size in bytes.
    pub page_size: u32,
    /// The root bucket's page.
    pub root: u64,
    /// Pages in the file (bbolt's high water mark, `meta.pgid`).
    pub high_water_mark: u64,
    /// Buckets written, nested ones included (not the root bucket).
    pub buckets: u64,
    /// Keys written (not counting bucket entries).
    pub keys: u64,
}

impl Layout {
    /// The file's size in bytes: `tx.Size()`, what `snapshot status` reports as totalSize.
    pub fn size(&self) -> u64 {
        self.high_water_mark * u64::from(self.page_size)
    }
}

/// One element of a node: a key/value (leaf) or a key/child page (branch).
#[derive(Debug)]
struct Elem {
    flags: u32,
    key: Vec<u8>,
    value: Vec<u8>,
    pgid: u64,
}

impl Elem {
    /// Bytes the element takes in a page (bbolt's `node.size` terms).
    fn size(&self, leaf: bool) -> usize {
        ELEMENT_SIZE + self.key.len() + if leaf { self.value.len() } else { 0 }
    }
}

/// One level of a bucket's tree being built: the node being filled.
#[derive(Debug)]
struct Level {
    elems: Vec<Elem>,
    /// Page bytes of `elems` (headers, keys, values), without the page header.
    bytes: usize,
    /// `splitIndex`'s scan over `elems`: elements passed and page bytes before them.
    scanned: usize,
    scan_bytes: usize,
    /// The first element from the third on that takes the node past the threshold.
    cut: Option<usize>,
    /// Nodes of this level already written.
    emitted: u64,
}

impl Level {
    fn new() -> Self {
        Level {
            elems: Vec::new(),
            bytes: 0,
            scanned: 0,
            scan_bytes: PAGE_HEADER,
            cut: None,
            emitted: 0,
        }
    }

    /// Runs `splitIndex`'s loop (bbolt node.go:311) as far as the elements go.
    fn scan(&mut self, leaf: bool, threshold: usize) {
        while self.cut.is_none() && self.scanned < self.elems.len() {
            let i = self.scanned;
            let el = self.elems[i].size(leaf);
            if i >= MIN_KEYS_PER_PAGE && self.scan_bytes + el > threshold {
                self.cut = Some(i);
            } else {
                self.scan_bytes += el;
                self.scanned += 1;
            }
        }
    }

    /// Where bbolt's `splitTwo` cuts this node if it splits, given that more elements may
    /// follow: `Some` only when no later element can change the answer (the node is at
    /// least a page with more than four elements, and the cut leaves two after it).
    fn cut_now(&mut self, leaf: bool, threshold: usize, page_size: usize) -> Option<usize> {
        let len = self.elems.len();
        if len <= MIN_KEYS_PER_PAGE * 2 || PAGE_HEADER + self.bytes < page_size {
            return None;
        }
        self.scan(leaf, threshold);
        self.cut.filter(|&c| c + MIN_KEYS_PER_PAGE < len)
    }

    /// Where `splitTwo` cuts this node when nothing follows (`None`: it is one node).
    fn cut_last(&mut self, leaf: bool, threshold: usize, page_size: usize) -> Option<usize> {
        let len = self.elems.len();
        if len <= MIN_KEYS_PER_PAGE * 2 || PAGE_HEADER + self.bytes < page_size {
            return None;
        }
        self.scan(leaf, threshold);
        // The loop runs to len - minKeysPerPage - 1 and stops there without a cut.
        let last = len - MIN_KEYS_PER_PAGE - 1;
        Some(self.cut.map_or(last, |c| c.min(last)))
    }

    /// Takes the first `n` elements as a node.
    fn take(&mut self, n: usize, leaf: bool) -> Vec<Elem> {
        let node: Vec<Elem> = self.elems.drain(..n).collect();
        self.bytes -= node.iter().map(|e| e.size(leaf)).sum::<usize>();
        self.scanned = 0;
        self.scan_bytes = PAGE_HEADER;
        self.cut = None;
        node
    }
}

/// Where a finished bucket lives.
enum Root {
    /// Its value in the parent: bucket header and page (bbolt bucket.go:616 `write`).
    Inline(Vec<u8>),
    /// Its root page.
    Page(u64),
}

/// A bucket being written.
#[derive(Debug)]
struct Open {
    name: Vec<u8>,
    sequence: u64,
    /// `int(pageSize * FillPercent)` (node.go:283).
    threshold: usize,
    last: Option<Vec<u8>>,
    has_bucket: bool,
    is_root: bool,
    /// levels[0] holds leaves.
    levels: Vec<Level>,
}

/// Pages written so far and the output not yet handed out.
#[derive(Debug)]
struct Pages {
    page_size: usize,
    next: u64,
    write: bool,
    out: Vec<u8>,
}

impl Pages {
    /// Numbers a node's pages and, when writing, lays it out (node.go:191).
    fn emit(&mut self, node: &[Elem], leaf: bool) -> Result<u64> {
        let size = PAGE_HEADER + node.iter().map(|e| e.size(leaf)).sum::<usize>();
        let count = size.div_ceil(self.page_size).max(1);
        let overflow = u32::try_from(count - 1).map_err(|_| too_big("page"))?;
        let id = self.next;
        self.next += count as u64;
        if self.write {
            let start = self.out.len();
            self.out.resize(start + count * self.page_size, 0);
            encode(&mut self.out[start..], id, node, leaf, overflow)?;
        }
        Ok(id)
    }
}

fn too_big(what: &str) -> Error {
    Error::InvalidArgument(format!("bbolt writer: {what} too large for a bbolt page"))
}

/// Writes a page header and `node`'s elements into `buf` (at least the node's size).
fn encode(buf: &mut [u8], id: u64, node: &[Elem], leaf: bool, overflow: u32) -> Result<()> {
    // bbolt panics at 0xFFFF (node.go:199); no node of a page of at most 1 MiB gets there.
    let count = u16::try_from(node.len())
        .ok()
        .filter(|&c| c < 0xFFFF)
        .ok_or_else(|| too_big("node"))?;
    buf[0..8].copy_from_slice(&id.to_le_bytes());
    buf[8..10].copy_from_slice(&(if leaf { LEAF } else { BRANCH }).to_le_bytes());
    buf[10..12].copy_from_slice(&count.to_le_bytes());
    buf[12..16].copy_from_slice(&overflow.to_le_bytes());
    let mut off = PAGE_HEADER + ELEMENT_SIZE * node.len();
    for (i, e) in node.iter().enumerate() {
        let at = PAGE_HEADER + ELEMENT_SIZE * i;
        let pos = u32::try_from(off - at).map_err(|_| too_big("element"))?;
        let ksize = u32::try_from(e.key.len()).map_err(|_| too_big("key"))?;
        let h = &mut buf[at..at + ELEMENT_SIZE];
        if leaf {
            let vsize = u32::try_from(e.value.len()).map_err(|_| too_big("value"))?;
            h[0..4].copy_from_slice(&e.flags.to_le_bytes());
            h[4..8].copy_from_slice(&pos.to_le_bytes());
            h[8..12].copy_from_slice(&ksize.to_le_bytes());
            h[12..16].copy_from_slice(&vsize.to_le_bytes());
        } else {
            h[0..4].copy_from_slice(&pos.to_le_bytes());
            h[4..8].copy_from_slice(&ksize.to_le_bytes());
            h[8..16].copy_from_slice(&e.pgid.to_le_bytes());
        }
        buf[off..off + e.key.len()].copy_from_slice(&e.key);
        off += e.key.len();
        if leaf {
            buf[off..off + e.value.len()].copy_from_slice(&e.value);
            off += e.value.len();
        }
    }
    Ok(())
}

impl Open {
    fn new(
        name: Vec<u8>,
        sequence: u64,
        fill_percent: f64,
        page_size: usize,
        is_root: bool,
    ) -> Self {
        let fill = fill_percent.clamp(0.1, 1.0);
        Open {
            name,
            sequence,
            threshold: (page_size as f64 * fill) as usize,
            last: None,
            has_bucket: false,
            is_root,
            levels: vec![Level::new()],
        }
    }

    /// Adds an element to `level`, writing the nodes it completes (and theirs above).
    fn push(&mut self, pages: &mut Pages, level: usize, elem: Elem) -> Result<()> {
        if level == self.levels.len() {
            self.levels.push(Level::new());
        }
        let leaf = level == 0;
        let lv = &mut self.levels[level];
        lv.bytes += elem.size(leaf);
        lv.elems.push(elem);
        loop {
            let lv = &mut self.levels[level];
            let Some(cut) = lv.cut_now(leaf, self.threshold, pages.page_size) else {
                return Ok(());
            };
            let node = lv.take(cut, leaf);
            lv.emitted += 1;
            self.emit_up(pages, level, node)?;
        }
    }

    /// Writes `node` of `level` and adds its branch element to the level above.
    fn emit_up(&mut self, pages: &mut Pages, level: usize, node: Vec<Elem>) -> Result<()> {
        let pgid = pages.emit(&node, level == 0)?;
        let key = node.into_iter().next().map(|e| e.key).unwrap_or_default();
        self.push(
            pages,
            level + 1,
            Elem {
                flags: 0,
                key,
                value: Vec::new(),
                pgid,
            },
        )
    }

    /// bbolt's `Bucket.inlineable` (bucket.go:586).
    fn inlineable(&self, page_size: usize) -> bool {
        !self.is_root
            && self.levels.len() == 1
            && self.levels[0].emitted == 0
            && !self.has_bucket
            && PAGE_HEADER + self.levels[0].bytes <= page_size / 4
    }

    /// The bytes of this bucket's value in its parent now (bucket.go:532-545).
    fn value_size(&self, page_size: usize) -> usize {
        if self.inlineable(page_size) {
            BUCKET_HEADER + PAGE_HEADER + self.levels[0].bytes
        } else {
            BUCKET_HEADER
        }
    }

    /// What bbolt's commit does to this bucket (tx.go `Commit` → `Bucket.spill` →
    /// `node.spill`): its rightmost node on every level, which holds the element of the node
    /// below it (and, on the leaf level, of the open `child` bucket: name and current value
    /// size), is split as at the end; the nodes cut off are final, the rest stays open for
    /// the next transaction. Returns the bucket's value size in its parent.
    fn commit(&mut self, pages: &mut Pages, child: Option<(Vec<u8>, usize)>) -> Result<usize> {
        // The elements of the open nodes below, added for the split and removed after it.
        let mut added = Vec::new();
        if let Some((key, vlen)) = child {
            let e = Elem {
                flags: BUCKET_LEAF,
                key,
                value: vec![0; vlen],
                pgid: 0,
            };
            let lv = &mut self.levels[0];
            lv.bytes += e.size(true);
            lv.elems.push(e);
            added.push(0);
        }
        if !self.inlineable(pages.page_size) {
            let mut level = 0;
            while level < self.levels.len() {
                let leaf = level == 0;
                if level > 0 {
                    let key = self.levels[level - 1].elems.first().map(|e| e.key.clone());
                    let e = Elem {
                        flags: 0,
                        key: key.unwrap_or_default(),
                        value: Vec::new(),
                        pgid: 0,
                    };
                    let lv = &mut self.levels[level];
                    lv.bytes += e.size(false);
                    lv.elems.push(e);
                    added.push(level);
                }
                while let Some(cut) =
                    self.levels[level].cut_last(leaf, self.threshold, pages.page_size)
                {
                    let lv = &mut self.levels[level];
                    let node = lv.take(cut, leaf);
                    lv.emitted += 1;
                    self.emit_up(pages, level, node)?;
                }
                level += 1;
            }
        }
        for level in added {
            let lv = &mut self.levels[level];
            if let Some(e) = lv.elems.pop() {
                lv.bytes -= e.size(level == 0);
            }
            lv.scanned = 0;
            lv.scan_bytes = PAGE_HEADER;
            lv.cut = None;
        }
        Ok(self.value_size(pages.page_size))
    }

    /// Writes what is left of the tree; where the bucket now lives.
    fn finish(mut self, pages: &mut Pages) -> Result<Root> {
        if self.inlineable(pages.page_size) {
            let elems = std::mem::take(&mut self.levels[0].elems);
            let size = PAGE_HEADER + self.levels[0].bytes;
            let mut value = vec![0u8; BUCKET_HEADER + size];
            // Header {root: 0, sequence}; the page's id stays 0, as in bbolt's zeroed value.
            value[8..16].copy_from_slice(&self.sequence.to_le_bytes());
            encode(&mut value[BUCKET_HEADER..], 0, &elems, true, 0)?;
            return Ok(Root::Inline(value));
        }
        let mut level = 0;
        loop {
            let leaf = level == 0;
            let threshold = self.threshold;
            let is_last = level + 1 == self.levels.len();
            let lv = &mut self.levels[level];
            let mut nodes = Vec::new();
            while let Some(cut) = lv.cut_last(leaf, threshold, pages.page_size) {
                nodes.push(lv.take(cut, leaf));
            }
            let len = lv.elems.len();
            nodes.push(lv.take(len, leaf));
            let top = is_last && lv.emitted == 0 && nodes.len() == 1;
            if top {
                return Ok(Root::Page(pages.emit(&nodes[0], leaf)?));
            }
            lv.emitted += nodes.len() as u64;
            for node in nodes {
                self.emit_up(pages, level, node)?;
            }
            level += 1;
        }
    }
}

/// Builds a bbolt file (see the module docs): [`Writer::plan`] for the first pass,
/// [`Writer::write`] with its [`Layout`] for the second, the same calls on both.
///
/// Calls: [`bucket`](Writer::bucket) opens a bucket inside the one open (top-level buckets
/// in the root), [`put`](Writer::put) adds a key to the innermost open bucket, and
/// [`end_bucket`](Writer::end_bucket) closes it; keys and bucket names of one bucket come in
/// strictly ascending byte order. [`finish`](Writer::finish) closes what is open.
#[derive(Debug)]
pub struct Writer {
    pages: Pages,
    fill_percent: f64,
    commit_every: Option<u64>,
    /// Keys and nested bucket entries since the last commit.
    count: u64,
    /// stack[0] is the root bucket.
    stack: Vec<Open>,
    plan: Option<Layout>,
    buckets: u64,
    keys: u64,
}

impl Writer {
    fn start(opts: Options, plan: Option<Layout>) -> Result<Writer> {
        opts.check()?;
        let page_size = opts.page_size as usize;
        let mut pages = Pages {
            page_size,
            next: FIRST_TREE_PAGE,
            write: plan.is_some(),
            out: Vec::new(),
        };
        if let Some(l) = plan {
            if l.page_size != opts.page_size {
                return Err(Error::InvalidArgument(format!(
                    "bbolt writer: the layout is for {}-byte pages, the options say {}",
                    l.page_size, opts.page_size
                )));
            }
            for (id, txid) in [(0, TXID), (1, TXID - 1)] {
                let meta = Meta {
                    magic: MAGIC,
                    version: VERSION,
                    page_size: opts.page_size,
                    flags: 0,
                    root: l.root,
                    sequence: 0,
                    freelist: FREELIST_PAGE,
                    pgid: l.high_water_mark,
                    txid,
                    checksum: 0,
                    computed: 0,
                };
                pages.out.extend_from_slice(&meta.to_page(id, page_size));
            }
            // An empty freelist (db.go:492).
            let start = pages.out.len();
            pages.out.resize(start + page_size, 0);
            pages.out[start..start + 8].copy_from_slice(&FREELIST_PAGE.to_le_bytes());
            pages.out[start + 8..start + 10].copy_from_slice(&FREELIST.to_le_bytes());
        }
        Ok(Writer {
            pages,
            fill_percent: opts.fill_percent,
            commit_every: opts.commit_every,
            count: 0,
            stack: vec![Open::new(
                Vec::new(),
                0,
                DEFAULT_FILL_PERCENT,
                page_size,
                true,
            )],
            plan,
            buckets: 0,
            keys: 0,
        })
    }

    /// The first pass: computes the [`Layout`] ([`finish`](Writer::finish)) and produces no
    /// bytes.
    pub fn plan(opts: Options) -> Result<Writer> {
        Self::start(opts, None)
    }

    /// The second pass over the same input, with the first pass's layout: the output starts
    /// with the meta and freelist pages. [`finish`](Writer::finish) fails if the input gave
    /// another layout this time.
    pub fn write(opts: Options, layout: Layout) -> Result<Writer> {
        Self::start(opts, Some(layout))
    }

    /// Checks `key` against bbolt's rules and the order of the innermost bucket.
    fn next_key(&mut self, key: &[u8], what: &str) -> Result<&mut Open> {
        let open = self
            .stack
            .last_mut()
            .expect("the root bucket is never closed");
        if key.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "bbolt writer: {what} required"
            )));
        }
        if let Some(last) = &open.last
            && key <= last.as_slice()
        {
            return Err(Error::InvalidArgument(format!(
                "bbolt writer: keys out of order in bucket {}: {} after {}",
                quote(&open.name),
                quote(key),
                quote(last)
            )));
        }
        open.last = Some(key.to_vec());
        Ok(open)
    }

    /// Opens bucket `name` (sequence 0) inside the innermost open bucket, or in the root.
    pub fn bucket(&mut self, name: &[u8]) -> Result<()> {
        self.bucket_with_sequence(name, 0)
    }

    /// Opens bucket `name` with its `NextSequence` counter (bbolt's compact copies it, as
    /// here when copying a db; etcd uses none).
    pub fn bucket_with_sequence(&mut self, name: &[u8], sequence: u64) -> Result<()> {
        self.next_key(name, "bucket name")?;
        // etcd's defrag creates top-level buckets between its counted puts.
        if self.stack.len() > 1 {
            self.tick()?;
        }
        self.stack.last_mut().expect("the root").has_bucket = true;
        let b = Open::new(
            name.to_vec(),
            sequence,
            self.fill_percent,
            self.pages.page_size,
            false,
        );
        self.stack.push(b);
        self.buckets += 1;
        Ok(())
    }

    /// Adds `key` = `value` to the innermost open bucket (not the root: it holds buckets).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if self.stack.len() == 1 {
            return Err(Error::InvalidArgument(
                "bbolt writer: the root bucket holds only buckets; open one first".into(),
            ));
        }
        if key.len() > MAX_KEY_SIZE {
            return Err(Error::InvalidArgument("bbolt writer: key too large".into()));
        }
        if value.len() > MAX_VALUE_SIZE {
            return Err(Error::InvalidArgument(
                "bbolt writer: value too large".into(),
            ));
        }
        self.next_key(key, "key")?;
        self.tick()?;
        let open = self.stack.last_mut().expect("checked above");
        open.push(
            &mut self.pages,
            0,
            Elem {
                flags: 0,
                key: key.to_vec(),
                value: value.to_vec(),
                pgid: 0,
            },
        )?;
        self.keys += 1;
        Ok(())
    }

    /// Closes the innermost open bucket.
    pub fn end_bucket(&mut self) -> Result<()> {
        if self.stack.len() == 1 {
            return Err(Error::InvalidArgument(
                "bbolt writer: no bucket is open".into(),
            ));
        }
        let b = self.stack.pop().expect("checked above");
        let (name, sequence) = (b.name.clone(), b.sequence);
        let value = match b.finish(&mut self.pages)? {
            Root::Inline(v) => v,
            Root::Page(root) => {
                let mut v = vec![0u8; BUCKET_HEADER];
                v[0..8].copy_from_slice(&root.to_le_bytes());
                v[8..16].copy_from_slice(&sequence.to_le_bytes());
                v
            }
        };
        let parent = self.stack.last_mut().expect("the root stays");
        parent.push(
            &mut self.pages,
            0,
            Elem {
                flags: BUCKET_LEAF,
                key: name,
                value,
                pgid: 0,
            },
        )
    }

    /// Counts one entry as etcd's defrag does (backend.go:519-534: `count++`, a commit when
    /// it passes the limit, then the put).
    fn tick(&mut self) -> Result<()> {
        let Some(limit) = self.commit_every else {
            return Ok(());
        };
        self.count += 1;
        if self.count > limit {
            let mut child = None;
            for open in self.stack.iter_mut().rev() {
                let vlen = open.commit(&mut self.pages, child.take())?;
                child = Some((open.name.clone(), vlen));
            }
            self.count = 0;
        }
        Ok(())
    }

    /// Buckets open (0: only the root).
    pub fn depth(&self) -> usize {
        self.stack.len() - 1
    }

    /// Output bytes produced and not yet taken (always 0 in the first pass).
    pub fn pending(&self) -> usize {
        self.pages.out.len()
    }

    /// Takes the output produced so far, to be appended to the file.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pages.out)
    }

    /// Closes every open bucket and writes the root bucket; returns the layout and the
    /// last output. In the second pass, fails if the layout is not the first pass's.
    pub fn finish(mut self) -> Result<(Layout, Vec<u8>)> {
        while self.stack.len() > 1 {
            self.end_bucket()?;
        }
        let root = self.stack.pop().expect("the root");
        let Root::Page(root) = root.finish(&mut self.pages)? else {
            unreachable!("the root bucket is never inline");
        };
        let layout = Layout {
            page_size: self.pages.page_size as u32,
            root,
            high_water_mark: self.pages.next,
            buckets: self.buckets,
            keys: self.keys,
        };
        if let Some(plan) = self.plan
            && plan != layout
        {
            return Err(Error::InvalidArgument(
                "bbolt writer: the input changed between the two passes".into(),
            ));
        }
        Ok((layout, std::mem::take(&mut self.pages.out)))
    }
}

/// The input of a two-pass write, read from the start once per pass.
pub trait Feed {
    /// Starts the input over.
    fn rewind(&mut self) -> Result<()>;
    /// Feeds `w` until it holds at least `budget` bytes of output or the input ends; true
    /// when the input has ended (every bucket the feed opened is closed).
    fn feed(&mut self, w: &mut Writer, budget: usize) -> Result<bool>;
}

/// The first pass over `feed`: the layout the file will have.
pub fn plan(opts: Options, feed: &mut dyn Feed) -> Result<Layout> {
    feed.rewind()?;
    let mut w = Writer::plan(opts)?;
    while !feed.feed(&mut w, CHUNK)? {}
    Ok(w.finish()?.0)
}

/// Writes the file for `feed` to `out` (both passes). A caller that needs the file to
/// appear whole or not at all writes through the storage trait instead
/// (`etcd_snap::defrag::write_db`).
pub fn write_to(
    opts: Options,
    feed: &mut dyn Feed,
    out: &mut dyn std::io::Write,
) -> Result<Layout> {
    let layout = plan(opts, feed)?;
    feed.rewind()?;
    let mut w = Writer::write(opts, layout)?;
    loop {
        let done = feed.feed(&mut w, CHUNK)?;
        out.write_all(&w.take_output())?;
        if done {
            break;
        }
    }
    let (layout, rest) = w.finish()?;
    out.write_all(&rest)?;
    Ok(layout)
}

/// One step of an [`OpsFeed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// [`Writer::bucket_with_sequence`].
    Bucket {
        /// The bucket's name.
        name: Vec<u8>,
        /// Its sequence counter.
        sequence: u64,
    },
    /// [`Writer::put`].
    Put {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// [`Writer::end_bucket`].
    End,
}

/// A feed over an iterator of [`Op`]s that `make` starts anew for each pass.
#[derive(Debug)]
pub struct OpsFeed<F, I> {
    make: F,
    ops: Option<I>,
}

impl<F, I> OpsFeed<F, I>
where
    F: FnMut() -> I,
    I: Iterator<Item = Result<Op>>,
{
    /// The feed of `make()`'s ops.
    pub fn new(make: F) -> Self {
        OpsFeed { make, ops: None }
    }
}

impl<F, I> Feed for OpsFeed<F, I>
where
    F: FnMut() -> I,
    I: Iterator<Item = Result<Op>>,
{
    fn rewind(&mut self) -> Result<()> {
        self.ops = Some((self.make)());
        Ok(())
    }

    fn feed(&mut self, w: &mut Writer, budget: usize) -> Result<bool> {
        let Some(ops) = self.ops.as_mut() else {
            return Ok(true);
        };
        for op in ops {
            match op? {
                Op::Bucket { name, sequence } => w.bucket_with_sequence(&name, sequence)?,
                Op::Put { key, value } => w.put(&key, &value)?,
                Op::End => w.end_bucket()?,
            }
            if w.pending() >= budget {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// What [`CopyFeed`] writes for one top-level bucket instead of its copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketEdit {
    /// Leave it out.
    Drop,
    /// Write these keys instead (the bucket is created if the source has none; sequence 0).
    Replace(BTreeMap<Vec<u8>, Vec<u8>>),
}

/// One bucket being copied: its handle and the last key copied.
#[derive(Debug)]
struct Frame {
    bucket: Bucket,
    after: Option<Vec<u8>>,
}

/// A feed that copies every bucket of a bbolt file, nested ones included, with their
/// sequences (what etcd's defrag and bbolt's compact copy), except the top-level buckets
/// given a [`BucketEdit`] (a restore rewrites `members`, `members_removed` and `meta`).
///
/// Walks resume after the last key copied, so the feed holds no more than the writer asks
/// for. Run bbolt's check on the source first: a copy follows what the tree says.
#[derive(Debug)]
pub struct CopyFeed<'a, S> {
    bolt: &'a Bolt<S>,
    edits: BTreeMap<Vec<u8>, BucketEdit>,
    /// Edited names not yet written, in order.
    edit_names: Vec<Vec<u8>>,
    next_edit: usize,
    stack: Vec<Frame>,
}

impl<'a, S: PageSource> CopyFeed<'a, S> {
    /// Copies `bolt` as it is.
    pub fn new(bolt: &'a Bolt<S>) -> Self {
        CopyFeed {
            bolt,
            edits: BTreeMap::new(),
            edit_names: Vec::new(),
            next_edit: 0,
            stack: Vec::new(),
        }
    }

    /// Writes `edit` for the top-level bucket `name` instead of the source's (if any).
    pub fn edit(mut self, name: &[u8], edit: BucketEdit) -> Self {
        self.edits.insert(name.to_vec(), edit);
        self
    }

    /// Writes the edited buckets named below `upto` (all of them for `None`) that the source
    /// has not reached, then skips `upto` itself.
    fn edits_before(&mut self, w: &mut Writer, upto: Option<&[u8]>) -> Result<()> {
        while let Some(name) = self.edit_names.get(self.next_edit) {
            if upto.is_some_and(|u| name.as_slice() > u) {
                break;
            }
            let name = name.clone();
            self.next_edit += 1;
            if upto == Some(name.as_slice()) {
                break;
            }
            if let Some(BucketEdit::Replace(keys)) = self.edits.get(&name) {
                write_replaced(w, &name, keys)?;
            }
        }
        Ok(())
    }
}

fn write_replaced(w: &mut Writer, name: &[u8], keys: &BTreeMap<Vec<u8>, Vec<u8>>) -> Result<()> {
    w.bucket(name)?;
    for (k, v) in keys {
        w.put(k, v)?;
    }
    w.end_bucket()
}

/// A source that breaks the writer's rules (keys out of order, an empty key, a key larger
/// than bbolt allows) is damaged: bbolt never writes one, its check does not look.
fn damaged(e: Error, page: u64) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::BadDb {
            page: Some(page),
            problem: m.replacen("bbolt writer: ", "", 1),
        },
        e => e,
    }
}

/// What one walk of a [`CopyFeed`] stopped at.
enum Stop {
    Child(Vec<u8>, Bucket, u64),
    Full,
    End,
}

impl<S: PageSource> Feed for CopyFeed<'_, S> {
    fn rewind(&mut self) -> Result<()> {
        self.edit_names = self.edits.keys().cloned().collect();
        self.next_edit = 0;
        self.stack = vec![Frame {
            bucket: self.bolt.root(),
            after: None,
        }];
        Ok(())
    }

    fn feed(&mut self, w: &mut Writer, budget: usize) -> Result<bool> {
        loop {
            let depth = self.stack.len();
            let Some(frame) = self.stack.last_mut() else {
                return Ok(true);
            };
            let after = frame.after.take();
            let mut last = None;
            let mut stop = Stop::End;
            let bucket = &frame.bucket;
            self.bolt.walk(bucket, after.as_deref(), &mut |e| {
                if after.as_deref() == Some(e.key) {
                    return Ok(ControlFlow::Continue(()));
                }
                last = Some(e.key.to_vec());
                if e.is_bucket {
                    stop = Stop::Child(e.key.to_vec(), bucket.child(&e)?, e.page);
                    return Ok(ControlFlow::Break(()));
                }
                if depth == 1 {
                    // etcd's defrag: "backend: cannot defrag bucket %s" (backend.go:510).
                    return Err(Error::BadDb {
                        page: Some(e.page),
                        problem: format!(
                            "the root bucket holds {}, which is not a bucket",
                            quote(e.key)
                        ),
                    });
                }
                w.put(e.key, e.value).map_err(|err| damaged(err, e.page))?;
                if w.pending() >= budget {
                    stop = Stop::Full;
                    return Ok(ControlFlow::Break(()));
                }
                Ok(ControlFlow::Continue(()))
            })?;
            frame.after = last.or(after);
            match stop {
                Stop::Child(name, child, page) => {
                    if depth == 1 {
                        self.edits_before(w, Some(&name))?;
                        match self.edits.get(&name) {
                            Some(BucketEdit::Drop) => continue,
                            Some(BucketEdit::Replace(keys)) => {
                                write_replaced(w, &name, keys)?;
                                continue;
                            }
                            None => {}
                        }
                    }
                    w.bucket_with_sequence(&name, child.header.sequence)
                        .map_err(|err| damaged(err, page))?;
                    self.stack.push(Frame {
                        bucket: child,
                        after: None,
                    });
                }
                Stop::Full => return Ok(false),
                Stop::End => {
                    self.stack.pop();
                    if depth == 1 {
                        self.edits_before(w, None)?;
                    } else {
                        w.end_bucket()?;
                    }
                }
            }
            if w.pending() >= budget {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(ops: Vec<Op>, opts: Options) -> Result<(Layout, Vec<u8>)> {
        let mut out = Vec::new();
        let mut feed = OpsFeed::new(|| ops.clone().into_iter().map(Ok));
        let l = write_to(opts, &mut feed, &mut out)?;
        Ok((l, out))
    }

    fn bucket(name: &str) -> Op {
        Op::Bucket {
            name: name.as_bytes().to_vec(),
            sequence: 0,
        }
    }

    fn put(k: &[u8], v: &[u8]) -> Op {
        Op::Put {
            key: k.to_vec(),
            value: v.to_vec(),
        }
    }

    #[test]
    fn an_empty_db_is_meta_meta_freelist_and_an_empty_root_leaf() {
        let (l, f) = file(vec![], Options::default()).unwrap();
        assert_eq!((l.root, l.high_water_mark), (3, 4));
        assert_eq!(f.len(), 4 * 4096);
        let b = Bolt::open(f).unwrap();
        assert_eq!(b.meta().txid, TXID);
        assert!(b.check().is_empty(), "{:?}", b.check());
    }

    #[test]
    fn small_buckets_are_inline_and_reread() {
        let ops = vec![
            bucket("a"),
            put(b"k1", b"v1"),
            put(b"k2", b"v2"),
            Op::End,
            bucket("empty"),
            Op::End,
        ];
        let (l, f) = file(ops, Options::default()).unwrap();
        // Only the root leaf: both buckets are inline.
        assert_eq!(l.high_water_mark, 4);
        let b = Bolt::open(f).unwrap();
        assert!(b.check().is_empty());
        let a = b.bucket(&b.root(), b"a").unwrap().unwrap();
        assert!(a.is_inline());
        assert_eq!(b.get(&a, b"k2").unwrap().as_deref(), Some(&b"v2"[..]));
        assert!(b.bucket(&b.root(), b"empty").unwrap().unwrap().is_inline());
    }

    #[test]
    fn keys_out_of_order_and_puts_in_the_root_are_refused() {
        let e = file(
            vec![bucket("a"), put(b"b", b""), put(b"a", b"")],
            Options::default(),
        );
        assert!(matches!(e, Err(Error::InvalidArgument(m)) if m.contains("out of order")));
        let e = file(vec![put(b"a", b"")], Options::default());
        assert!(matches!(e, Err(Error::InvalidArgument(_))));
        let e = file(vec![bucket("a"), put(b"", b"")], Options::default());
        assert!(matches!(e, Err(Error::InvalidArgument(m)) if m.contains("key required")));
        let e = Writer::plan(Options::with_page_size(100));
        assert!(matches!(e, Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn a_second_pass_over_other_input_is_refused() {
        let l = {
            let mut w = Writer::plan(Options::default()).unwrap();
            w.bucket(b"a").unwrap();
            w.finish().unwrap().0
        };
        let mut w = Writer::write(Options::default(), l).unwrap();
        w.bucket(b"a").unwrap();
        for i in 0..1000u32 {
            w.put(&i.to_be_bytes(), &[0; 100]).unwrap();
        }
        assert!(matches!(w.finish(), Err(Error::InvalidArgument(m)) if m.contains("changed")));
    }
}
