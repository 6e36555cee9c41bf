//! `.snap` file bytes <-> [`Snapshot`], with etcd's check order (`snap.Read`).

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::pb::{self, SnapFile, Snapshot};

/// CRC-32C (Castagnoli), as etcd's `crc32.Update(0, castagnoliTable, b)`.
///
/// Natively the `crc32c` crate (SSE4.2/ARMv8 CRC instructions) stays after `benches/crc.rs`:
/// `crc-fast` is about 2x faster, but both exceed 7 GB/s (faster than the disk feeding them).
/// wasm32 has no CRC instructions and every crate's table loop ties there, so it uses the
/// braided loop in `crc32c_braid` (about 1.4x those in `make bench-crc-wasm`).
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_append(0, data)
}

/// Continues [`crc32c`] over the next piece: `crc32c_append(crc32c(a), b) == crc32c(a ++ b)`.
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        crate::crc32c_braid::crc32c_append(crc, data)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crc32c::crc32c_append(crc, data)
    }
}

/// Encodes a snapshot as the exact bytes etcd's `SaveSnap` writes:
/// `snappb.snapshot{crc: CRC-32C(inner), data: inner}` with `inner` = marshalled `raftpb.Snapshot`.
pub fn encode_snap_file(snap: &Snapshot) -> Vec<u8> {
    let parts = SnapFileParts::new(snap);
    let mut out = Vec::with_capacity(parts.len());
    for p in parts.parts() {
        out.extend_from_slice(p);
    }
    out
}

/// The bytes of a `.snap` file as three consecutive slices: the envelope and inner headers,
/// the payload (shared with the [`Snapshot`], not copied), and the encoded metadata.
///
/// Writing these in turn produces exactly [`encode_snap_file`]'s bytes without copying a
/// payload that may be gigabytes (etcd 3.4 keeps the whole v2 store in it).
#[derive(Debug, Clone)]
pub struct SnapFileParts {
    head: Vec<u8>,
    data: Bytes,
    tail: Vec<u8>,
}

impl SnapFileParts {
    /// Lays out `snap` in etcd 3.4's gogo encoding; the CRC runs over the pieces in order.
    pub fn new(snap: &Snapshot) -> Self {
        use prost::Message as _;
        use prost::encoding::{WireType, encode_key, encode_varint};

        // raftpb.Snapshot: data (1, iff present), then metadata (2, always).
        let mut inner_head = Vec::with_capacity(11);
        if let Some(d) = &snap.data {
            encode_key(1, WireType::LengthDelimited, &mut inner_head);
            encode_varint(d.len() as u64, &mut inner_head);
        }
        let mut tail = Vec::with_capacity(snap.metadata.encoded_len() + 11);
        encode_key(2, WireType::LengthDelimited, &mut tail);
        snap.metadata
            .encode_length_delimited(&mut tail)
            .expect("Vec grows");
        let data = snap.data.clone().unwrap_or_default();

        let crc = [&inner_head[..], &data[..], &tail[..]]
            .iter()
            .fold(0, |crc, p| crc32c_append(crc, p));
        let inner_len = inner_head.len() + data.len() + tail.len();

        // snappb.snapshot: crc (1, always), data (2) = the inner message.
        let mut head = Vec::with_capacity(17 + inner_head.len());
        encode_key(1, WireType::Varint, &mut head);
        encode_varint(u64::from(crc), &mut head);
        encode_key(2, WireType::LengthDelimited, &mut head);
        encode_varint(inner_len as u64, &mut head);
        head.extend_from_slice(&inner_head);
        SnapFileParts { head, data, tail }
    }

    /// The three slices, to be written in order.
    pub fn parts(&self) -> [&[u8]; 3] {
        [&self.head, &self.data, &self.tail]
    }

    /// Total file size.
    pub fn len(&self) -> usize {
        self.head.len() + self.data.len() + self.tail.len()
    }

    /// Never true: a `.snap` file always holds at least its envelope and metadata.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Decodes `.snap` file bytes in etcd's check order: empty file, envelope decode, empty data
/// or zero CRC, CRC mismatch, inner decode. Payload bytes are sliced from `file`, not copied.
pub fn decode_snap_file(file: Bytes) -> Result<Snapshot> {
    if file.is_empty() {
        return Err(Error::EmptySnapshot);
    }
    let envelope: SnapFile = pb::decode(file)?;
    let data = match envelope.data {
        Some(d) if !d.is_empty() && envelope.crc != 0 => d,
        _ => return Err(Error::EmptySnapshot),
    };
    if crc32c(&data) != envelope.crc {
        return Err(Error::CrcMismatch);
    }
    Ok(pb::decode(data)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::{ConfState, SnapshotMetadata};

    /// The piecewise layout must equal prost's plain two-step encoding, for absent, empty and
    /// multi-byte-length payloads.
    #[test]
    fn parts_equal_plain_encoding() {
        for data in [None, Some(Bytes::new()), Some(Bytes::from(vec![7u8; 300]))] {
            let snap = Snapshot {
                data,
                metadata: SnapshotMetadata {
                    conf_state: ConfState {
                        voters: vec![1, u64::MAX],
                        ..Default::default()
                    },
                    index: 1 << 40,
                    term: 3,
                },
            };
            let inner = pb::encode(&snap);
            let plain = pb::encode(&SnapFile {
                crc: crc32c(&inner),
                data: Some(Bytes::from(inner)),
            });
            assert_eq!(encode_snap_file(&snap), plain);
            assert_eq!(SnapFileParts::new(&snap).len(), plain.len());
        }
    }
}
