//! etcd's protobuf messages (raftpb, snappb, walpb) as hand-written prost structs.
//!
//! The field attributes reproduce gogo-protobuf's 3.4–3.6 layout byte for byte: fields in
//! ascending number order (prost sorts by tag), non-nullable scalars and sub-messages always
//! emitted (`required`), repeated scalars unpacked, and nullable `bytes` as `Option<Bytes>` so
//! an absent field stays distinct from an empty one.
//!
//! Decoding gives etcd 3.4's verdict on every input: prost decodes (any order, packed or
//! unpacked, unknown fields skipped, last scalar wins, repeated sub-messages merged: gogo's
//! rules); when prost fails, [`decode`] replays gogo's generated `Unmarshal` (module `gogo`)
//! to return gogo's exact error, or, for the inputs gogo accepts and prost does not, gogo's
//! value. Unknown fields are dropped, as raftpb 3.5+ does (3.4 re-emits them; etcd never
//! re-marshals a snapshot it read, so no file etcd-snap writes differs).

pub(crate) mod gogo;
pub(crate) mod gogo_stream;
mod raftpb;
pub mod size;
mod snappb;
mod walpb;

pub use gogo::{DecodeError, Unknown};
pub use raftpb::*;
pub use snappb::SnapFile;
pub use walpb::{WalRecord, WalSnapshot, WalSnapshotRecord};

/// A message decodable with gogo-compatible error reporting.
pub trait GogoMessage: prost::Message + Default + Sized {
    /// The proto message name gogo puts in its errors (`snapshot`, `Snapshot`, ...).
    const NAME: &'static str;
    /// The gogo schema used to reproduce gogo's error on a failed decode.
    fn schema() -> &'static gogo::Schema;
}

/// Decodes `buf` as `M` with etcd 3.4's verdict: what gogo accepts decodes to gogo's value,
/// what gogo rejects fails with gogo's error. Zero-copy for `bytes` fields: they are slices of
/// `buf`.
///
/// prost accepts a strict subset of what gogo accepts (checked against etcd's own code by
/// `tests/interop/pb.rs`), so prost runs first; only when it fails does [`gogo`] replay the
/// bytes, either to word the error as gogo does or, where gogo is more lenient, to re-encode
/// gogo's reading canonically for prost (one copy, on that rare path only).
pub fn decode<M: GogoMessage>(buf: bytes::Bytes) -> Result<M, DecodeError> {
    match M::decode(buf.clone()) {
        Ok(m) => Ok(m),
        Err(prost_err) => {
            // The error check walks without allocating; only gogo-lenient inputs are copied.
            if let Some(e) = gogo::explain(M::schema(), &buf) {
                return Err(e);
            }
            let canonical = gogo::canonicalize(M::schema(), &buf)?;
            M::decode(bytes::Bytes::from(canonical))
                .map_err(|_| DecodeError::Other(prost_err.to_string()))
        }
    }
}

/// The error etcd 3.4's gogo decoder reports for `buf` as `M`, if any (the oracle behind
/// [`decode`]; exposed for tests and diagnostics).
pub fn gogo_verdict<M: GogoMessage>(buf: &[u8]) -> Option<DecodeError> {
    gogo::explain(M::schema(), buf)
}

/// Encodes `m` in etcd 3.4's gogo layout.
pub fn encode<M: prost::Message>(m: &M) -> Vec<u8> {
    m.encode_to_vec()
}
