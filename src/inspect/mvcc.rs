//! etcd's mvcc keyspace as stored in the `key` bucket: keys are revisions (`main` and `sub`
//! as big-endian u64 around a `_`, plus a `t` for tombstones), values `mvccpb.KeyValue`.
//! [`Mvcc`] indexes user keys to their revisions once (like etcd's in-memory `treeIndex`),
//! then answers `get`-style range queries at any retained revision, key histories and
//! space-by-prefix totals; values are read from the db only for the keys shown.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};

use prost::Message as _;
use serde::Serialize;

use super::bbolt::{Bolt, Bucket, Entry};
use super::mvccpb::KeyValue;
use super::source::PageSource;
use crate::error::{Error, Result};

/// Length of a revision key; tombstones have one more byte, `t`.
pub const REV_BYTES: usize = 17;

/// An mvcc revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Revision {
    /// Main revision (one per transaction).
    pub main: i64,
    /// Sub revision (one per change in a transaction).
    pub sub: i64,
}

impl Revision {
    /// etcd's `bytesToRev`; `None` if the key is shorter than a revision. A tombstone mark or
    /// other trailing bytes are ignored here, as etcd ignores them.
    pub fn from_key(k: &[u8]) -> Option<Revision> {
        if k.len() < REV_BYTES {
            return None;
        }
        Some(Revision {
            main: i64::from_be_bytes(k[0..8].try_into().expect("8")),
            sub: i64::from_be_bytes(k[9..17].try_into().expect("8")),
        })
    }

    /// etcd's `revToBytes`.
    pub fn to_key(self) -> [u8; REV_BYTES] {
        let mut b = [0u8; REV_BYTES];
        b[0..8].copy_from_slice(&self.main.to_be_bytes());
        b[8] = b'_';
        b[9..17].copy_from_slice(&self.sub.to_be_bytes());
        b
    }
}

/// True for a tombstone key (`isTombstone`: 18 bytes ending in `t`).
pub fn is_tombstone(k: &[u8]) -> bool {
    k.len() == REV_BYTES + 1 && k[REV_BYTES] == b't'
}

/// One stored revision of a user key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Where it is stored.
    pub rev: Revision,
    /// A delete.
    pub tombstone: bool,
    /// Bytes it takes in the `key` bucket (revision key + encoded `KeyValue`).
    pub size: u64,
}

/// What a range query selects (like `etcdctl get`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeQuery {
    /// First key (inclusive). Empty = from the beginning.
    pub start: Vec<u8>,
    /// End key (exclusive); `None` = the single key `start`; `Some(empty)` = to the end.
    pub end: Option<Vec<u8>>,
    /// Revision to read at; 0 = current.
    pub rev: i64,
    /// Maximum keys returned; 0 = no limit.
    pub limit: usize,
}

impl RangeQuery {
    /// All keys starting with `prefix` (`--prefix`; an empty prefix means every key).
    pub fn prefix(prefix: &[u8]) -> Self {
        RangeQuery {
            start: prefix.to_vec(),
            end: Some(prefix_end(prefix)),
            ..Default::default()
        }
    }
}

/// clientv3's `GetPrefixRangeEnd`: the smallest key greater than every key with `prefix`
/// (empty = no upper bound).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(&last) = end.last() {
        if last < 0xff {
            *end.last_mut().expect("non-empty") += 1;
            return end;
        }
        end.pop();
    }
    Vec::new()
}

/// The answer to a [`RangeQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResult {
    /// The store's current revision (etcd's response header revision).
    pub header_revision: i64,
    /// Matching keys in key order, at most `limit`.
    pub kvs: Vec<KeyValue>,
    /// Total matching keys, ignoring the limit.
    pub count: u64,
    /// True if the limit cut the list.
    pub more: bool,
}

/// Totals for one key prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrefixSpace {
    /// The prefix (up to and including the separator).
    #[serde(serialize_with = "super::ser_lossy")]
    pub prefix: Vec<u8>,
    /// Distinct user keys with a stored revision.
    pub keys: u64,
    /// Keys live at the current revision.
    pub live_keys: u64,
    /// Stored revisions (puts and tombstones).
    pub revisions: u64,
    /// Bytes those revisions take in the `key` bucket.
    pub bytes: u64,
}

/// An index of the `key` bucket.
#[derive(Debug)]
pub struct Mvcc<'d, S> {
    db: &'d Bolt<S>,
    bucket: Bucket,
    index: BTreeMap<Vec<u8>, Vec<Event>>,
    current: i64,
    compacted: i64,
    revisions: u64,
}

fn bad(page: u64, problem: String) -> Error {
    Error::BadDb {
        page: Some(page),
        problem,
    }
}

/// One entry of the `key` bucket, checked as etcd's mvcc reads it: a revision key, not a
/// nested bucket, a value that decodes as `mvccpb.KeyValue`. Returns the user key and the
/// revision's [`Event`]. Shared by [`Mvcc::build`] and the streaming scan (`stream.rs`).
pub(crate) fn key_entry(e: &Entry<'_>) -> Result<(Vec<u8>, Event)> {
    let rev = Revision::from_key(e.key).ok_or_else(|| {
        bad(
            e.page,
            format!("key bucket key of {} bytes is not a revision", e.key.len()),
        )
    })?;
    if e.is_bucket {
        return Err(bad(e.page, "nested bucket inside the key bucket".into()));
    }
    let key = decode_kv(e.value, e.page, rev)?.key;
    let ev = Event {
        rev,
        tombstone: is_tombstone(e.key),
        size: (e.key.len() + e.value.len()) as u64,
    };
    Ok((key, ev))
}

/// Decodes a stored `KeyValue`; `page` names where it was for the error.
pub fn decode_kv(value: &[u8], page: u64, rev: Revision) -> Result<KeyValue> {
    KeyValue::decode(value).map_err(|e| {
        bad(
            page,
            format!("key bucket value at revision {}_{}: {e}", rev.main, rev.sub),
        )
    })
}

impl<'d, S: PageSource> Mvcc<'d, S> {
    /// Indexes the `key` bucket; `compacted` is the compaction revision from the `meta`
    /// bucket (0 if none). An absent `key` bucket is an empty keyspace.
    pub fn build(db: &'d Bolt<S>, compacted: i64) -> Result<Self> {
        let root = db.root();
        let Some(bucket) = db.bucket(&root, b"key")? else {
            return Ok(Mvcc {
                db,
                bucket: root,
                index: BTreeMap::new(),
                current: compacted,
                compacted,
                revisions: 0,
            });
        };
        let mut index: BTreeMap<Vec<u8>, Vec<Event>> = BTreeMap::new();
        let mut last = 0i64;
        let mut revisions = 0u64;
        db.walk(&bucket, None, &mut |e| {
            let (key, ev) = key_entry(&e)?;
            last = ev.rev.main;
            index.entry(key).or_default().push(ev);
            revisions += 1;
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(Mvcc {
            db,
            bucket,
            index,
            current: last.max(compacted),
            compacted,
            revisions,
        })
    }

    /// The current revision: the newest stored one, or the compaction revision if that is
    /// newer (etcd's restore rule).
    pub fn current_revision(&self) -> i64 {
        self.current
    }

    /// The compaction revision in effect.
    pub fn compact_revision(&self) -> i64 {
        self.compacted
    }

    /// Distinct user keys with any stored revision.
    pub fn key_count(&self) -> usize {
        self.index.len()
    }

    /// Stored revisions.
    pub fn revision_count(&self) -> u64 {
        self.revisions
    }

    fn resolve_rev(&self, rev: i64) -> Result<i64> {
        if rev > self.current {
            return Err(Error::FutureRev);
        }
        let rev = if rev <= 0 { self.current } else { rev };
        if rev < self.compacted {
            return Err(Error::Compacted);
        }
        Ok(rev)
    }

    /// The revision of `key` visible at `rev`, if the key is live then.
    fn visible(events: &[Event], rev: i64) -> Option<&Event> {
        let i = events.partition_point(|e| e.rev.main <= rev);
        let e = events[..i].last()?;
        (!e.tombstone).then_some(e)
    }

    fn bounds(q: &RangeQuery) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        let start = Bound::Included(q.start.clone());
        let end = match &q.end {
            None => Bound::Included(q.start.clone()),
            Some(e) if e.is_empty() || e.as_slice() == [0] => Bound::Unbounded,
            Some(e) => Bound::Excluded(e.clone()),
        };
        (start, end)
    }

    /// Reads the `KeyValue` stored at `rev`.
    pub fn value_at(&self, rev: Revision, tombstone: bool) -> Result<KeyValue> {
        Self::value_in(self.db, &self.bucket, rev, tombstone)
    }

    /// Reads the `KeyValue` stored at `rev` in the `key` bucket `bucket` of `db`.
    pub(crate) fn value_in(
        db: &Bolt<S>,
        bucket: &Bucket,
        rev: Revision,
        tombstone: bool,
    ) -> Result<KeyValue> {
        let mut k = rev.to_key().to_vec();
        if tombstone {
            k.push(b't');
        }
        let mut found = None;
        db.walk(bucket, Some(&k), &mut |e| {
            if e.key == k.as_slice() {
                found = Some(decode_kv(e.value, e.page, rev)?);
            }
            Ok(ControlFlow::Break(()))
        })?;
        found.ok_or_else(|| Error::BadDb {
            page: Some(bucket.root_page()),
            problem: format!(
                "revision {}_{} vanished from the key bucket",
                rev.main, rev.sub
            ),
        })
    }

    /// `etcdctl get`: keys in the range live at `q.rev`, in key order.
    pub fn range(&self, q: &RangeQuery) -> Result<RangeResult> {
        let rev = self.resolve_rev(q.rev)?;
        if let Some(e) = &q.end
            && !e.is_empty()
            && e.as_slice() != [0]
            && e.as_slice() <= q.start.as_slice()
        {
            return Ok(RangeResult {
                header_revision: self.current,
                kvs: Vec::new(),
                count: 0,
                more: false,
            });
        }
        let mut kvs = Vec::new();
        let mut count = 0u64;
        for events in self.index.range(Self::bounds(q)).map(|(_, v)| v) {
            let Some(ev) = Self::visible(events, rev) else {
                continue;
            };
            count += 1;
            if q.limit == 0 || kvs.len() < q.limit {
                kvs.push(self.value_at(ev.rev, false)?);
            }
        }
        Ok(RangeResult {
            header_revision: self.current,
            more: q.limit > 0 && count > q.limit as u64,
            kvs,
            count,
        })
    }

    /// Every stored revision of `key`, oldest first (what compaction left).
    pub fn history(&self, key: &[u8]) -> &[Event] {
        self.index.get(key).map_or(&[], Vec::as_slice)
    }

    /// Live keys attached to each lease at the current revision: the lease of each live
    /// key's newest `KeyValue`, as etcd re-attaches keys to leases when it restores its
    /// store (etcd 3.4 mvcc/kvstore.go:533 `restoreChunk` keeps each key's lease, :448 `le.Attach`).
    /// Reads every live key's newest value once.
    pub fn lease_keys(&self) -> Result<BTreeMap<i64, u64>> {
        let mut out = BTreeMap::new();
        for events in self.index.values() {
            let Some(e) = events.last() else { continue };
            if e.tombstone {
                continue;
            }
            let kv = self.value_at(e.rev, false)?;
            if kv.lease != 0 {
                *out.entry(kv.lease).or_insert(0) += 1;
            }
        }
        Ok(out)
    }

    /// Keys in `[start, ..)` with any stored revision, for paging through the whole index.
    pub fn keys_from<'a>(
        &'a self,
        start: &[u8],
    ) -> impl Iterator<Item = (&'a [u8], &'a [Event])> + 'a {
        self.index
            .range::<[u8], _>((Bound::Included(start), Bound::Unbounded))
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// Sums stored revisions by key prefix: keys are cut after the `depth`-th `sep` (keys
    /// with fewer separators count whole). Sorted by bytes, largest first.
    pub fn space_by_prefix(&self, sep: u8, depth: usize) -> Vec<PrefixSpace> {
        let mut acc: BTreeMap<&[u8], PrefixSpace> = BTreeMap::new();
        for (key, events) in &self.index {
            let mut cut = key.len();
            let mut seen = 0;
            for (i, &b) in key.iter().enumerate() {
                if b == sep {
                    seen += 1;
                    if seen == depth {
                        cut = i + 1;
                        break;
                    }
                }
            }
            let p = acc.entry(&key[..cut]).or_default();
            p.keys += 1;
            if Self::visible(events, self.current).is_some() {
                p.live_keys += 1;
            }
            p.revisions += events.len() as u64;
            p.bytes += events.iter().map(|e| e.size).sum::<u64>();
        }
        let mut out: Vec<PrefixSpace> = acc
            .into_iter()
            .map(|(k, mut v)| {
                v.prefix = k.to_vec();
                v
            })
            .collect();
        out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.prefix.cmp(&b.prefix)));
        out
    }
}
