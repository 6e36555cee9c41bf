//! `etcdctl get`-style range queries answered in bounded memory, for `etcd-snap keys` (issue
//! 9, item 9): no index of the whole keyspace ([`super::Mvcc`] keeps one, for the viewer's
//! histories), no list of answers. The `key` bucket is ordered by revision, not by key, so
//! keys are found in windows: one scan of the bucket keeps, for the smallest keys of the
//! range, the revision visible at the query's revision; when the window outgrows its
//! budget its largest key is dropped and the window ends before it. The window's keys are
//! then handed out in key order (each value read when it is handed out) and the next scan
//! starts where the window ended. Memory is the window budget plus one value, whatever the
//! number of keys; a keyspace that fits the budget (the common case) takes one scan.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

use super::bbolt::{Bolt, Bucket};
use super::mvcc::{Event, Mvcc, RangeQuery, Revision, key_entry};
use super::mvccpb::KeyValue;
use super::source::PageSource;
use crate::error::{Error, Result};

/// Default window budget in bytes (keys plus bookkeeping).
pub const WINDOW_BYTES: usize = 16 << 20;

/// Bookkeeping bytes a window entry costs besides its key (B-tree slot, `Vec`, `Event`).
const ENTRY_OVERHEAD: usize = 96;

/// What a streamed range reports after its keys (etcd's `more` and `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeTail {
    /// Total matching keys, ignoring the limit.
    pub count: u64,
    /// True if the limit cut the list.
    pub more: bool,
}

/// Where a stream sends its answer.
pub trait RangeSink {
    /// Called once, before any key: the store's current revision (the header revision).
    fn header(&mut self, revision: i64) -> Result<()>;
    /// Called for each key shown, in key order.
    fn kv(&mut self, kv: KeyValue) -> Result<()>;
}

/// Runs `q` over `db` (compaction revision `compacted`), window by window within `budget`
/// bytes. Every entry of the `key` bucket is checked (as [`Mvcc::build`] does) before the
/// header is sent, so a damaged bucket fails before any output.
pub fn range<S: PageSource>(
    db: &Bolt<S>,
    compacted: i64,
    q: &RangeQuery,
    budget: usize,
    sink: &mut dyn RangeSink,
) -> Result<RangeTail> {
    let root = db.root();
    let Some(bucket) = db.bucket(&root, b"key")? else {
        resolve(q.rev, compacted, compacted)?;
        sink.header(compacted)?;
        return Ok(RangeTail {
            count: 0,
            more: false,
        });
    };
    // `rev <= 0` reads the newest revision of each key: the last one stored.
    let target = if q.rev <= 0 { i64::MAX } else { q.rev };
    let end = match &q.end {
        None => Bound::Included(q.start.clone()),
        Some(e) if e.is_empty() || e.as_slice() == [0] => Bound::Unbounded,
        Some(e) => Bound::Excluded(e.clone()),
    };
    let empty = matches!(&end, Bound::Excluded(e) if e.as_slice() <= q.start.as_slice());
    let mut lo = q.start.clone();
    let mut tail = RangeTail {
        count: 0,
        more: false,
    };
    let mut shown = 0usize;
    let mut first = true;
    loop {
        let mut w = Window {
            lo: &lo,
            hi: end.clone(),
            cut: false,
            keys: BTreeMap::new(),
            bytes: 0,
            budget,
            target,
            empty,
        };
        let last = scan(db, &bucket, &mut w)?;
        if first {
            let current = last.max(compacted);
            resolve(q.rev, current, compacted)?;
            sink.header(current)?;
            first = false;
        }
        let Window { hi, cut, keys, .. } = w;
        for ev in keys.into_values() {
            if ev.tombstone {
                continue;
            }
            tail.count += 1;
            if q.limit == 0 || shown < q.limit {
                sink.kv(value_at(db, &bucket, ev.rev)?)?;
                shown += 1;
            }
        }
        match hi {
            // The window was cut before `k`: the next one starts there.
            Bound::Excluded(k) if cut => lo = k,
            _ => break,
        }
    }
    tail.more = q.limit > 0 && tail.count > q.limit as u64;
    Ok(tail)
}

/// etcd's checks of the requested revision against the store's.
fn resolve(rev: i64, current: i64, compacted: i64) -> Result<i64> {
    if rev > current {
        return Err(Error::FutureRev);
    }
    let rev = if rev <= 0 { current } else { rev };
    if rev < compacted {
        return Err(Error::Compacted);
    }
    Ok(rev)
}

/// The keys of one scan: `[lo, hi)` with the revision of each visible at `target`.
struct Window<'a> {
    lo: &'a [u8],
    hi: Bound<Vec<u8>>,
    /// `hi` was lowered: keys from `hi` on are left to the next window.
    cut: bool,
    keys: BTreeMap<Vec<u8>, Event>,
    bytes: usize,
    budget: usize,
    target: i64,
    empty: bool,
}

impl Window<'_> {
    fn offer(&mut self, key: Vec<u8>, ev: Event) {
        if self.empty || ev.rev.main > self.target || key.as_slice() < self.lo {
            return;
        }
        let below_hi = match &self.hi {
            Bound::Included(h) => key <= *h,
            Bound::Excluded(h) => key < *h,
            Bound::Unbounded => true,
        };
        if !below_hi {
            return;
        }
        let cost = key.len() + ENTRY_OVERHEAD;
        // Revisions come in order: a later one of the same key replaces the earlier.
        if self.keys.insert(key, ev).is_none() {
            self.bytes += cost;
        }
        while self.bytes > self.budget && self.keys.len() > 1 {
            let (k, _) = self.keys.pop_last().expect("non-empty");
            self.bytes -= k.len() + ENTRY_OVERHEAD;
            self.hi = Bound::Excluded(k);
            self.cut = true;
        }
    }
}

/// Scans the whole `key` bucket into `w`, checking every entry as [`Mvcc::build`] does;
/// returns the newest main revision stored.
fn scan<S: PageSource>(db: &Bolt<S>, bucket: &Bucket, w: &mut Window<'_>) -> Result<i64> {
    let mut last = 0i64;
    db.walk(bucket, None, &mut |e| {
        let (key, ev) = key_entry(&e)?;
        last = ev.rev.main;
        w.offer(key, ev);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(last)
}

/// Reads the `KeyValue` stored at `rev` (never a tombstone: those are not shown).
fn value_at<S: PageSource>(db: &Bolt<S>, bucket: &Bucket, rev: Revision) -> Result<KeyValue> {
    Mvcc::value_in(db, bucket, rev, false)
}
