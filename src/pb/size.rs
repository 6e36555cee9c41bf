//! gogo's `Size()` of a decoded message, as etcd 3.4 computes it: the known fields (what
//! prost encodes) plus every unknown field gogo kept in an `XXX_unrecognized`, at each level
//! (raft/raftpb/raft.pb.go: `if m.XXX_unrecognized != nil { n += len(m.XXX_unrecognized) }`).
//! etcd-snap drops unknown fields, so the bytes they took are read again from the input
//! ([`super::gogo::unknown`]); an embedded message that grows also grows its length prefix.

use prost::Message as _;
use prost::encoding::encoded_len_varint;

use super::gogo::{Unknown, unknown};
use super::{DecodeError, GogoMessage, Message, Snapshot};

/// Bytes an embedded message of `len` known bytes and `extra` unknown ones adds over its
/// known encoding (the length prefix may need more bytes).
fn grown(len: usize, extra: u64) -> u64 {
    let len = len as u64;
    extra + encoded_len_varint(len + extra) as u64 - encoded_len_varint(len) as u64
}

fn snapshot_extra(s: &Snapshot, u: &Unknown) -> u64 {
    SnapshotUnknown::from_tree(u).extra(s)
}

/// The unknown-field bytes gogo keeps in a decoded `raftpb.Snapshot`, level by level: all
/// `Size()` needs besides the known fields, so a snapshot handed out without its bytes (a JS
/// object) can still be sized as etcd sizes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotUnknown {
    /// `Snapshot.XXX_unrecognized`.
    pub snapshot: u64,
    /// `SnapshotMetadata.XXX_unrecognized` (every occurrence merged, as gogo merges them).
    pub metadata: u64,
    /// `ConfState.XXX_unrecognized`.
    pub conf_state: u64,
}

impl SnapshotUnknown {
    /// The unknown fields of `raw`, a marshalled `raftpb.Snapshot` (gogo's error if it
    /// rejects `raw`).
    pub fn of(raw: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_tree(&unknown(Snapshot::schema(), raw)?))
    }

    /// The unknown fields of the snapshot inside `raw`, a marshalled `raftpb.Message`.
    pub fn of_message(raw: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_tree(&unknown(Message::schema(), raw)?.merged(9)))
    }

    /// True if there are none (gogo's `XXX_unrecognized` all nil).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn from_tree(u: &Unknown) -> Self {
        let md = u.merged(2);
        SnapshotUnknown {
            snapshot: u.here,
            metadata: md.here,
            conf_state: md.merged(1).here,
        }
    }

    /// Bytes they add to `s`'s known encoding.
    fn extra(&self, s: &Snapshot) -> u64 {
        let m = &s.metadata;
        let md = self.metadata + grown(m.conf_state.encoded_len(), self.conf_state);
        self.snapshot + grown(m.encoded_len(), md)
    }

    /// `raftpb.Snapshot.Size()` in etcd 3.4 of `s` carrying these unknown fields.
    pub fn size(&self, s: &Snapshot) -> u64 {
        s.encoded_len() as u64 + self.extra(s)
    }
}

fn message_extra(m: &Message, u: &Unknown) -> u64 {
    let entries: u64 = m
        .entries
        .iter()
        .zip(u.each(7))
        .map(|(e, eu)| grown(e.encoded_len(), eu.here))
        .sum();
    let snap = snapshot_extra(&m.snapshot, &u.merged(9));
    u.here + entries + grown(m.snapshot.encoded_len(), snap)
}

/// `raftpb.Snapshot.Size()` in etcd 3.4 of `s`, decoded from `raw`.
pub fn snapshot_size(s: &Snapshot, raw: &[u8]) -> Result<u64, DecodeError> {
    Ok(SnapshotUnknown::of(raw)?.size(s))
}

/// `raftpb.Message.Size()` in etcd 3.4 of `m`, decoded from `raw`, and the `Size()` of its
/// snapshot.
pub fn message_size(m: &Message, raw: &[u8]) -> Result<(u64, u64), DecodeError> {
    let u = unknown(Message::schema(), raw)?;
    let snap = m.snapshot.encoded_len() as u64 + snapshot_extra(&m.snapshot, &u.merged(9));
    Ok((m.encoded_len() as u64 + message_extra(m, &u), snap))
}
