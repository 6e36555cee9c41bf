//! What the doctor asks of the WAL: etcd's `wal.Exist`, `ValidSnapshotEntries`, `Open` +
//! `ReadAll` with `readWAL`'s one repair of a torn tail (etcd etcdserver/storage.go:85).
//! Answered by the WAL reader (`src/wal/`) through [`WalView`].

#![allow(async_fn_in_trait)]

use bytes::Bytes;
use serde::Serialize;

use crate::pb::WalSnapshot;
use crate::pb::HardState;
use crate::{EtcdVersion, Result};

/// One raft entry of the WAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalEntry {
    /// Raft index.
    pub index: u64,
    /// Raft term.
    pub term: u64,
    /// `raftpb.EntryType`: 0 normal, 1 conf change, 2 conf change v2.
    pub kind: i32,
    /// The entry's data (for a normal entry, etcd's request).
    pub data: Bytes,
}

/// A successful `ReadAll`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalRead {
    /// The metadata record (`etcdserverpb.Metadata`).
    pub metadata: Bytes,
    /// The last HardState.
    pub hard_state: HardState,
    /// Entries after the snapshot, as `ReadAll` leaves them (later ones overwrite).
    pub entries: Vec<WalEntry>,
}

/// What `wal.Repair` does with the last segment (etcd wal/repair.go:30).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "repair", rename_all = "snake_case")]
pub enum Repair {
    /// The last segment ends in a torn record: it is copied to `<segment>.broken` and
    /// truncated at `offset`, losing `lost_bytes` (and the entries in them).
    Truncates {
        /// The segment's name.
        segment: String,
        /// Where the torn record starts.
        offset: u64,
        /// Bytes cut off (up to the end of the file; preallocated zeros included).
        lost_bytes: u64,
        /// Entries whose records were cut off.
        lost_entries: u64,
    },
    /// The last segment reads to its end: nothing to repair (the tear is in an earlier one).
    Nothing,
    /// The last segment has another error: `Repair` returns false.
    Fails,
}

/// `wal.Open` + `ReadAll` at a snapshot, with `readWAL`'s repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalOutcome {
    /// `wal.Open` failed with this error (etcd wal/wal.go:345 `openAtIndex`).
    OpenFailed(String),
    /// `ReadAll` failed with this error, which is not `io.ErrUnexpectedEOF`.
    ReadFailed(String),
    /// `ReadAll` hit `io.ErrUnexpectedEOF`: what `Repair` does, and the second `ReadAll`
    /// after a truncation (`None` when the repair does not truncate).
    Torn {
        /// `Repair`'s action.
        repair: Repair,
        /// The second read, after the truncation.
        after: Option<Box<WalOutcome>>,
    },
    /// Read.
    Read(WalRead),
}

/// The WAL folder, as the doctor reads it.
pub trait WalView {
    /// Every name in the WAL folder (`wal.Exist` is "any name": etcd wal/util.go:48).
    async fn names(&self) -> Result<Vec<String>>;
    /// `wal.ValidSnapshotEntries` (etcd wal/wal.go:558): `Ok(Err(e))` is etcd's error `e`.
    async fn valid_snapshot_entries(
        &self,
        v: EtcdVersion,
    ) -> Result<std::result::Result<Vec<WalSnapshot>, String>>;
    /// `wal.Open(at)` + `ReadAll`, then `readWAL`'s repair.
    async fn read_all(&self, at: WalSnapshot, v: EtcdVersion) -> Result<WalOutcome>;
}
