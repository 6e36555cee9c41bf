//! etcd's protobuf messages (raftpb, snappb, walpb) as hand-written prost structs.
//!
//! The field attributes reproduce gogo-protobuf's 3.4–3.6 layout byte for byte: fields in
//! ascending number order (prost sorts by tag), non-nullable scalars and sub-messages always
//! emitted (`required`), repeated scalars unpacked, and nullable `bytes` as `Option<Bytes>` so
//! an absent field stays distinct from an empty one. Decoding is prost's (any order, packed or
//! unpacked, unknown fields skipped, as raftpb 3.5+ does); when it fails, [`decode`] re-walks
//! the bytes the way gogo does to report gogo's exact error string.

mod gogo;
mod raftpb;
mod snappb;
mod walpb;

pub use gogo::DecodeError;
pub use raftpb::*;
pub use snappb::SnapFile;
pub use walpb::WalSnapshot;

/// A message decodable with gogo-compatible error reporting.
pub trait GogoMessage: prost::Message + Default + Sized {
    /// The proto message name gogo puts in its errors (`snapshot`, `Snapshot`, ...).
    const NAME: &'static str;
    /// The gogo schema used to reproduce gogo's error on a failed decode.
    fn schema() -> &'static gogo::Schema;
}

/// Decodes `buf` as `M`. Zero-copy for `bytes` fields when `buf` is a [`bytes::Bytes`].
pub fn decode<M: GogoMessage>(buf: bytes::Bytes) -> Result<M, DecodeError> {
    match M::decode(buf.clone()) {
        Ok(m) => Ok(m),
        Err(prost_err) => Err(gogo::explain(M::schema(), &buf)
            .unwrap_or_else(|| DecodeError::Other(prost_err.to_string()))),
    }
}

/// Encodes `m` in etcd 3.4's gogo layout.
pub fn encode<M: prost::Message>(m: &M) -> Vec<u8> {
    m.encode_to_vec()
}
