//! `etcdctl snapshot status` (etcd 3.4.23, `clientv3/snapshot.v3Manager.Status`): bbolt's
//! integrity check, then a CRC-32C over every top-level bucket name and every key and value
//! of each bucket in bbolt order; revision is the last key of the `key` bucket, totalKey
//! counts every entry of every top-level bucket, totalSize is `tx.Size()`. etcd 3.5's
//! `etcdutl snapshot status` is the same.
//!
//! etcd 3.6's `etcdutl snapshot status` (etcdutl/snapshot/v3_snapshot.go:117-200 at v3.6.0,
//! commit 2d377000f) keeps hash, revision and size, but `totalKey` is the number of distinct
//! user keys left in a map where each put adds `kv.Key` and each tombstone removes it, in
//! revision order (lines 174-185, 197): the keys live at the last revision. It also decodes
//! every value of `key` (line 175) and adds `version`, `meta/storageVersion` (line 141).

use std::ops::ControlFlow;

use serde::Serialize;

use super::bbolt::Bolt;
use prost::Message as _;

use super::mvcc::{RangeQuery, Revision};
use super::mvccpb::KeyValue;
use super::schema::{self, Compat};
use super::source::PageSource;
use super::stream;
use crate::error::{Error, Result};

/// etcdctl's `snapshot.Status`, serialized with etcdctl's JSON keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Status {
    /// CRC-32C (Castagnoli) of bucket names, keys and values.
    pub hash: u32,
    /// Main revision of the last key in the `key` bucket.
    pub revision: i64,
    /// Entries in all top-level buckets.
    #[serde(rename = "totalKey")]
    pub total_key: u64,
    /// High water mark in bytes.
    #[serde(rename = "totalSize")]
    pub total_size: u64,
    /// etcd 3.6's `version` (`meta/storageVersion`, "" when absent); `None` for the 3.4/3.5
    /// shape, which has no such field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Computes the status of an open db as `compat`'s etcd does, failing as it does on an
/// inconsistent one.
pub fn status<S: PageSource>(db: &Bolt<S>, compat: Compat) -> Result<Status> {
    let v36 = compat == Compat::V3_6;
    let problems = db.try_check()?;
    if !problems.is_empty() {
        return Err(Error::BadDb {
            page: None,
            problem: format!(
                "snapshot file integrity check failed. {} errors found.\n{}",
                problems.len(),
                problems.join("\n")
            ),
        });
    }
    let mut hash = 0u32;
    let mut revision = 0i64;
    let mut total_key = 0u64;
    let root = db.root();
    let mut buckets = Vec::new();
    db.walk(&root, None, &mut |e| {
        if !e.is_bucket {
            return Err(Error::BadDb {
                page: Some(e.page),
                problem: format!(
                    "cannot get hash of bucket {}",
                    String::from_utf8_lossy(e.key)
                ),
            });
        }
        buckets.push((e.key.to_vec(), root.child(&e)?));
        Ok(ControlFlow::Continue(()))
    })?;
    for (name, bucket) in buckets {
        hash = crate::crc::crc32c_append(hash, &name);
        let is_key = name == b"key";
        db.walk(&bucket, None, &mut |e| {
            hash = crate::crc::crc32c_append(hash, e.key);
            if !e.is_bucket {
                hash = crate::crc::crc32c_append(hash, e.value);
            }
            if is_key {
                // etcdctl would index out of range here; report it instead.
                revision = Revision::from_key(e.key)
                    .ok_or_else(|| Error::BadDb {
                        page: Some(e.page),
                        problem: format!(
                            "key bucket key of {} bytes is not a revision",
                            e.key.len()
                        ),
                    })?
                    .main;
                if v36 {
                    KeyValue::decode(e.value).map_err(|err| Error::BadDb {
                        page: Some(e.page),
                        problem: format!(
                            "cannot unmarshal value, key: {} err: {err}",
                            crate::inspect::go_bytes(e.key)
                        ),
                    })?;
                }
            }
            total_key += 1;
            Ok(ControlFlow::Continue(()))
        })?;
    }
    let (total_key, version) = if v36 {
        // The keys live at the last revision, counted a window at a time (bounded memory,
        // unlike etcd's map): the same number as etcd's seenKeys.
        let all = RangeQuery::prefix(b"");
        let mut sink = CountOnly;
        let tail = stream::range(db, 0, &all, stream::WINDOW_BYTES, &mut sink)?;
        let version = schema::schema_version(db)?.storage_version;
        (tail.count, Some(version.unwrap_or_default()))
    } else {
        (total_key, None)
    };
    Ok(Status {
        hash,
        revision,
        total_key,
        total_size: db.size(),
        version,
    })
}

/// Counts without keeping anything.
struct CountOnly;

impl stream::RangeSink for CountOnly {
    fn header(&mut self, _revision: i64) -> Result<()> {
        Ok(())
    }
    fn kv(&mut self, _kv: KeyValue) -> Result<()> {
        Ok(())
    }
}

/// etcdctl's table: `hash` in hex, `total size` as go-humanize's `Bytes` (SI units), then
/// 3.6's `version` (etcdutl/etcdutl/printer.go:68-78 at v3.6.0).
pub fn table_row(s: &Status) -> Vec<String> {
    let mut row = vec![
        format!("{:x}", s.hash),
        s.revision.to_string(),
        s.total_key.to_string(),
        humanize_bytes(s.total_size),
    ];
    if let Some(v) = &s.version {
        row.push(v.clone());
    }
    row
}

/// go-humanize `Bytes`: SI units, one decimal below 10, none above (`57 kB`, `1.2 MB`).
pub fn humanize_bytes(n: u64) -> String {
    if n < 10 {
        return format!("{n} B");
    }
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let e = ((n as f64).ln() / 1000f64.ln()).floor() as usize;
    let e = e.min(UNITS.len() - 1);
    let val = ((n as f64 / 1000f64.powi(e as i32)) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 {
        format!("{val:.1} {}", UNITS[e])
    } else {
        format!("{val:.0} {}", UNITS[e])
    }
}

#[cfg(test)]
mod tests {
    use super::humanize_bytes;

    #[test]
    fn humanize_like_go() {
        assert_eq!(humanize_bytes(0), "0 B");
        assert_eq!(humanize_bytes(57344), "57 kB");
        assert_eq!(humanize_bytes(1_234_567), "1.2 MB");
        assert_eq!(humanize_bytes(20480), "20 kB");
    }
}
