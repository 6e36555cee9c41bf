//! `walpb`: the WAL's record envelope and its snapshot record (the input of
//! `LoadNewestAvailable`).

use bytes::Bytes;

use super::ConfState;

/// `walpb.Record{type, crc, data}`: one framed record of a WAL segment (etcd
/// wal/walpb/record.proto). `crc` is the running CRC-32C after `data`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WalRecord {
    /// 1 metadata, 2 entry, 3 state, 4 crc, 5 snapshot.
    #[prost(int64, required, tag = "1")]
    pub r#type: i64,
    /// The running CRC-32C (for a `crc` record: the previous segment's final CRC).
    #[prost(uint32, required, tag = "2")]
    pub crc: u32,
    /// The payload: etcdserverpb.Metadata, raftpb.Entry, raftpb.HardState, walpb.Snapshot.
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub data: Option<Bytes>,
}

/// `walpb.Snapshot` as etcd 3.5+ writes it: [`WalSnapshot`] plus the optional `conf_state`
/// (field 3, since 3.5.0; etcd v3.5.16 server/wal/walpb/record.proto). 3.4 skips field 3.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct WalSnapshotRecord {
    /// Raft index.
    #[prost(uint64, required, tag = "1")]
    pub index: u64,
    /// Raft term.
    #[prost(uint64, required, tag = "2")]
    pub term: u64,
    /// The membership at the snapshot (3.5+), absent in 3.4's records.
    #[prost(message, optional, tag = "3")]
    pub conf_state: Option<ConfState>,
}

impl WalSnapshotRecord {
    /// The `(index, term)` pair etcd matches snapshots by.
    pub fn key(&self) -> WalSnapshot {
        WalSnapshot {
            index: self.index,
            term: self.term,
        }
    }
}

/// `walpb.Snapshot{index, term}` (3.5+ adds an optional conf_state, skipped here).
#[derive(Clone, Copy, PartialEq, Eq, Hash, prost::Message)]
pub struct WalSnapshot {
    /// Raft index.
    #[prost(uint64, required, tag = "1")]
    pub index: u64,
    /// Raft term.
    #[prost(uint64, required, tag = "2")]
    pub term: u64,
}

use super::gogo::{FieldKind::*, Schema};

static RECORD: Schema = Schema {
    name: "Record",
    fields: &[(1, "Type", Varint), (2, "Crc", Varint), (3, "Data", Bytes)],
};

impl super::GogoMessage for WalRecord {
    const NAME: &'static str = "Record";
    fn schema() -> &'static Schema {
        &RECORD
    }
}

static SNAPSHOT_RECORD: Schema = Schema {
    name: "Snapshot",
    fields: &[
        (1, "Index", Varint),
        (2, "Term", Varint),
        (3, "ConfState", Message(&super::raftpb::schemas::CONF_STATE)),
    ],
};

impl super::GogoMessage for WalSnapshotRecord {
    const NAME: &'static str = "Snapshot";
    fn schema() -> &'static Schema {
        &SNAPSHOT_RECORD
    }
}

static SCHEMA: Schema = Schema {
    name: "Snapshot",
    fields: &[(1, "Index", Varint), (2, "Term", Varint)],
};

impl super::GogoMessage for WalSnapshot {
    const NAME: &'static str = "Snapshot";
    fn schema() -> &'static Schema {
        &SCHEMA
    }
}
