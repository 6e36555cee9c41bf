//! `.snap` file bytes <-> [`Snapshot`], with etcd's check order (`snap.Read`).

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::pb::{self, SnapFile, Snapshot};

/// CRC-32C (Castagnoli), as etcd's `crc32.Update(0, castagnoliTable, b)`.
///
/// The `crc32c` crate (SSE4.2/ARMv8 CRC instructions, tables elsewhere) stays after
/// `benches/crc.rs`: `crc-fast` is about 2x faster natively, but both exceed 7 GB/s there
/// (faster than the disk feeding them), and on wasm32 the candidates tie within noise.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Encodes a snapshot as the exact bytes etcd's `SaveSnap` writes:
/// `snappb.snapshot{crc: CRC-32C(inner), data: inner}` with `inner` = marshalled `raftpb.Snapshot`.
pub fn encode_snap_file(snap: &Snapshot) -> Vec<u8> {
    let inner = pb::encode(snap);
    let envelope = SnapFile {
        crc: crc32c(&inner),
        data: Some(Bytes::from(inner)),
    };
    pb::encode(&envelope)
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
