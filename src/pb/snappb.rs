//! `snappb.snapshot`: the envelope of a `.snap` file.

use bytes::Bytes;

/// `snappb.snapshot` (proto name lowercase, as in gogo's error strings): CRC-32C of `data`,
/// and `data` = a marshalled `raftpb.Snapshot`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SnapFile {
    /// CRC-32C (Castagnoli) of `data`; always emitted, even when 0.
    #[prost(uint32, required, tag = "1")]
    pub crc: u32,
    /// Emitted iff present.
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub data: Option<Bytes>,
}

use super::gogo::{FieldKind::*, Schema};

static SCHEMA: Schema = Schema {
    name: "snapshot",
    fields: &[(1, "Crc", Varint), (2, "Data", Bytes)],
};

impl super::GogoMessage for SnapFile {
    const NAME: &'static str = "snapshot";
    fn schema() -> &'static Schema {
        &SCHEMA
    }
}
