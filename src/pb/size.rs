//! gogo's `Size()` of a decoded message, as etcd 3.4 computes it: the known fields (what
//! prost encodes) plus every unknown field gogo kept in an `XXX_unrecognized`, at each level
//! (raft/raftpb/raft.pb.go: `if m.XXX_unrecognized != nil { n += len(m.XXX_unrecognized) }`).
//! etcd-snap drops unknown fields, so the bytes they took are read again from the input
//! ([`super::gogo::unknown`]); an embedded message that grows also grows its length prefix.

use prost::Message as _;
use prost::encoding::encoded_len_varint;

use super::gogo::{Unknown, unknown};
use super::{ConfState, DecodeError, GogoMessage, Message, Snapshot, SnapshotMetadata};

/// Bytes an embedded message of `len` known bytes and `extra` unknown ones adds over its
/// known encoding (the length prefix may need more bytes).
fn grown(len: usize, extra: u64) -> u64 {
    let len = len as u64;
    extra + encoded_len_varint(len + extra) as u64 - encoded_len_varint(len) as u64
}

fn conf_state_extra(_: &ConfState, u: &Unknown) -> u64 {
    u.here
}

fn metadata_extra(m: &SnapshotMetadata, u: &Unknown) -> u64 {
    let cs = conf_state_extra(&m.conf_state, &u.merged(1));
    u.here + grown(m.conf_state.encoded_len(), cs)
}

fn snapshot_extra(s: &Snapshot, u: &Unknown) -> u64 {
    let md = metadata_extra(&s.metadata, &u.merged(2));
    u.here + grown(s.metadata.encoded_len(), md)
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
    let u = unknown(Snapshot::schema(), raw)?;
    Ok(s.encoded_len() as u64 + snapshot_extra(s, &u))
}

/// `raftpb.Message.Size()` in etcd 3.4 of `m`, decoded from `raw`, and the `Size()` of its
/// snapshot.
pub fn message_size(m: &Message, raw: &[u8]) -> Result<(u64, u64), DecodeError> {
    let u = unknown(Message::schema(), raw)?;
    let snap = m.snapshot.encoded_len() as u64 + snapshot_extra(&m.snapshot, &u.merged(9));
    Ok((m.encoded_len() as u64 + message_extra(m, &u), snap))
}
