//! `walpb.Snapshot`: a WAL snapshot record, the input of `LoadNewestAvailable`.

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

static SCHEMA: Schema = Schema {
    name: "Snapshot",
    fields: &[(1, "Index", Varint), (2, "Term", Varint)],
};

/// `walpb.Snapshot` as etcd 3.5+ writes it: with the optional `conf_state` (field 3,
/// server/storage/wal/walpb/record.proto), absent in 3.4's records.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct WalSnapshotRecord {
    /// Raft index.
    #[prost(uint64, required, tag = "1")]
    pub index: u64,
    /// Raft term.
    #[prost(uint64, required, tag = "2")]
    pub term: u64,
    /// The membership at that index (etcd 3.5+).
    #[prost(message, optional, tag = "3")]
    pub conf_state: Option<super::ConfState>,
}

static SCHEMA_RECORD: Schema = Schema {
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
        &SCHEMA_RECORD
    }
}

impl super::GogoMessage for WalSnapshot {
    const NAME: &'static str = "Snapshot";
    fn schema() -> &'static Schema {
        &SCHEMA
    }
}
