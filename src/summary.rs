//! The JSON summary of a snapshot printed by `etcd-snap read` / `load` (and the npm CLI), in
//! the shape of the fixtures' `expected/*.json`.

use serde::Serialize;

use crate::pb::Snapshot;

/// `{"term","index","conf_state":{...},"data_nil","data_len","data_sha256","pb_size"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapSummary {
    pub term: u64,
    pub index: u64,
    pub conf_state: ConfStateSummary,
    pub data_nil: bool,
    pub data_len: u64,
    pub data_sha256: String,
    /// etcd 3.4's `Size()` of the inner `raftpb.Snapshot`: its marshalled size, plus the
    /// unknown fields gogo kept when it came from bytes ([`SnapSummary::of_raw`]).
    pub pb_size: u64,
}

/// ConfState with etcd's JSON field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfStateSummary {
    pub voters: Vec<u64>,
    pub learners: Vec<u64>,
    pub voters_outgoing: Vec<u64>,
    pub learners_next: Vec<u64>,
    pub auto_leave: bool,
}

impl SnapSummary {
    /// Summarises a decoded snapshot.
    pub fn of(snap: &Snapshot) -> Self {
        use prost::Message as _;
        let data = snap.data.as_deref().unwrap_or_default();
        let cs = &snap.metadata.conf_state;
        SnapSummary {
            term: snap.metadata.term,
            index: snap.metadata.index,
            conf_state: ConfStateSummary {
                voters: cs.voters.clone(),
                learners: cs.learners.clone(),
                voters_outgoing: cs.voters_outgoing.clone(),
                learners_next: cs.learners_next.clone(),
                auto_leave: cs.auto_leave,
            },
            data_nil: snap.data.is_none(),
            data_len: data.len() as u64,
            data_sha256: hex(&crate::crc::sha256(data)),
            pb_size: snap.encoded_len() as u64,
        }
    }

    /// As [`SnapSummary::of`] for `snap` decoded from `raw`, with `pb_size` as etcd 3.4's
    /// `Size()` gives it: unknown fields included ([`crate::pb::size`]; issue 9, item 10).
    pub fn of_raw(snap: &Snapshot, raw: &[u8]) -> Self {
        let mut s = Self::of(snap);
        if let Ok(n) = crate::pb::size::snapshot_size(snap, raw) {
            s.pb_size = n;
        }
        s
    }

    /// As [`SnapSummary::of`] for `snap` carrying the unknown fields `unknown`.
    pub fn of_unknown(snap: &Snapshot, unknown: &crate::pb::size::SnapshotUnknown) -> Self {
        let mut s = Self::of(snap);
        s.pb_size = unknown.size(snap);
        s
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
