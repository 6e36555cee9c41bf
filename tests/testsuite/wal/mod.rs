//! The WAL reader (src/wal) on WALs framed as etcd frames them (tests/support/wal.rs):
//! names and the listing, framing and padding, each etcd error, the zero tail, torn tails and
//! `Repair`, the CRC chain across segments, the overwrite rule, hostile length words, and a
//! proptest of flips and truncations. etcd's own verdicts on real WALs: tests/interop/wal.rs.

mod hostile;
mod names;
mod read;

use etcd_snap::storage::MemoryStorage;
use etcd_snap::wal::{EtcdVersion, OpenMode, ReadAll, Wal};
use etcd_snap::{Error, WalSnapshot};
use futures_executor::block_on;

pub const V34: EtcdVersion = EtcdVersion::V3_4;
pub const V35: EtcdVersion = EtcdVersion::V3_5;
pub const AT0: WalSnapshot = WalSnapshot { index: 0, term: 0 };

pub fn read_all(
    s: &MemoryStorage,
    at: WalSnapshot,
    v: EtcdVersion,
    mode: OpenMode,
) -> Result<ReadAll, Error> {
    block_on(async { Wal::open(s.clone()).await?.read_all(at, v, mode).await })
}

pub fn vse(s: &MemoryStorage, v: EtcdVersion) -> Result<Vec<WalSnapshot>, Error> {
    block_on(async { Wal::open(s.clone()).await?.valid_snapshot_entries(v).await })
}

/// `(index, term)` of each entry returned.
pub fn ids(r: &ReadAll) -> Vec<(u64, u64)> {
    r.entries.iter().map(|e| (e.index, e.term)).collect()
}
