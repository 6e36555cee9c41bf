//! What the doctor asks of the WAL reader (`src/wal/`), in the shape of etcdserver's
//! `readWAL` (etcd etcdserver/storage.go:85): `wal.Open` at the snapshot, `ReadAll`, and on
//! `io.ErrUnexpectedEOF` one `Repair` and a second `ReadAll`.

use serde::Serialize;

use crate::pb::WalSnapshot;
use crate::wal::{OpenMode, ReadAll, RepairOutcome, Wal};
use crate::{Error, EtcdVersion, Result, Storage};

/// What `wal.Repair` does with the last segment (etcd wal/repair.go:30).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "repair", rename_all = "snake_case")]
pub enum Repair {
    /// The last segment ends in a torn record: copied to `<segment>.broken`, truncated at
    /// `offset`, losing `lost_bytes` and the entries in them.
    Truncates {
        /// The segment's name.
        segment: String,
        /// Where the torn record starts.
        offset: u64,
        /// Bytes cut off.
        lost_bytes: u64,
        /// Entries whose records were cut off.
        lost_entries: u64,
    },
    /// The last segment reads to its end: `Repair` says yes and changes nothing (the tear
    /// is in an earlier segment), so the second `ReadAll` tears again.
    Nothing,
    /// The last segment has another error: `Repair` returns false.
    Fails,
}

/// `wal.Open` + `ReadAll` at a snapshot, with `readWAL`'s repair.
#[derive(Debug)]
pub(super) enum WalOutcome {
    /// `wal.Open` failed (etcd wal/wal.go:345 `openAtIndex`).
    OpenFailed(String),
    /// `ReadAll` failed with an error `Repair` does not take.
    ReadFailed(String),
    /// `ReadAll` hit `io.ErrUnexpectedEOF`: what `Repair` does, and after a truncation the
    /// second read.
    Torn {
        repair: Repair,
        after: Option<Box<WalOutcome>>,
    },
    /// Read.
    Read(Box<ReadAll>),
}

fn is_unexpected_eof(e: &Error, v: EtcdVersion) -> bool {
    // 3.4 repairs on `err == io.ErrUnexpectedEOF` only; 3.5 on `errors.Is` (v3.5.16
    // server/etcdserver/storage.go:104), which also takes its wrapped size-limit error.
    match e {
        Error::WalUnexpectedEof => true,
        Error::WalMaxEntrySizeEof { .. } => v == EtcdVersion::V3_5,
        _ => false,
    }
}

/// `ValidSnapshotEntries`: `Ok(Err(e))` is etcd's error `e` (the WAL is damaged), `Err` a
/// folder that cannot be read.
pub(super) async fn valid_snapshot_entries<S: Storage>(
    wal: &Wal<S>,
    v: EtcdVersion,
) -> Result<std::result::Result<Vec<WalSnapshot>, String>> {
    match wal.valid_snapshot_entries(v).await {
        Ok(s) => Ok(Ok(s)),
        Err(e @ Error::Io(_)) => Err(e),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// `readWAL`'s open, read and repair.
pub(super) async fn read_wal<S: Storage>(
    wal: &Wal<S>,
    at: WalSnapshot,
    v: EtcdVersion,
) -> Result<WalOutcome> {
    match wal.read_all(at, v, OpenMode::Write).await {
        Ok(r) => Ok(match r.torn_tail.clone() {
            Some(t) => WalOutcome::Torn {
                repair: Repair::Truncates {
                    segment: t.segment,
                    offset: t.offset,
                    lost_bytes: t.lost_bytes,
                    lost_entries: t.lost_entries,
                },
                after: Some(Box::new(WalOutcome::Read(Box::new(r)))),
            },
            None => WalOutcome::Read(Box::new(r)),
        }),
        Err(e @ Error::Io(_)) => Err(e),
        // `selectWALFiles`: no segment at or before the snapshot, or a gap after it.
        Err(Error::WalFileNotFound) => {
            Ok(WalOutcome::OpenFailed(Error::WalFileNotFound.to_string()))
        }
        // The reader already tried `Repair`: ask what it does to tell the cases apart.
        Err(e) if is_unexpected_eof(&e, v) => Ok(match wal.repair(v).await? {
            RepairOutcome::Clean => WalOutcome::Torn {
                repair: Repair::Nothing,
                after: None,
            },
            RepairOutcome::Fails(_) => WalOutcome::Torn {
                repair: Repair::Fails,
                after: None,
            },
            // Truncated, and the second `ReadAll` failed with `e`.
            RepairOutcome::Truncate(t) => WalOutcome::Torn {
                repair: Repair::Truncates {
                    segment: t.segment,
                    offset: t.offset,
                    lost_bytes: t.lost_bytes,
                    lost_entries: t.lost_entries,
                },
                after: Some(Box::new(WalOutcome::ReadFailed(e.to_string()))),
            },
        }),
        Err(e) => Ok(WalOutcome::ReadFailed(e.to_string())),
    }
}
