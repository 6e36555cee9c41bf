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

impl super::GogoMessage for WalSnapshot {
    const NAME: &'static str = "Snapshot";
    fn schema() -> &'static Schema {
        &SCHEMA
    }
}
