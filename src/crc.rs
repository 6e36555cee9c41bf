//! CRC-32C, the checksum of `.snap` files and of `etcdctl snapshot status`'s hash, and SHA-256,
//! both fed to wasm in pieces ([`PIECE`]): a leaf
//! that the codec and the inspector both use.

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
        pieces(data).fold(crc, crate::crc32c_braid::crc32c_append)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crc32c::crc32c_append(crc, data)
    }
}

/// How long work is fed to a wasm loop: one call per piece. V8 has no on-stack replacement
/// for wasm, so a function entered once runs its whole call in the baseline tier (Liftoff),
/// about 10x slower than the optimized tier it reaches after a few calls; a 64 MiB buffer
/// hashed in one call ran at 25 MB/s, in 256 KiB pieces at 330 MB/s (issue 13). Natively the
/// pieces cost nothing measurable.
pub const PIECE: usize = 64 * 1024;

/// `data` in [`PIECE`]-sized slices (one, possibly empty, for a short buffer).
pub fn pieces(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let n = data.len().div_ceil(PIECE).max(1);
    (0..n).map(move |i| &data[(i * PIECE).min(data.len())..((i + 1) * PIECE).min(data.len())])
}

/// SHA-256 of `data`, fed in [`pieces`] so `sha2`'s compress function is called per piece.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in pieces(data) {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod piece_tests {
    use super::*;

    #[test]
    fn pieces_cover_the_buffer_once() {
        for len in [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            assert_eq!(pieces(&data).map(<[u8]>::len).sum::<usize>(), len);
            assert_eq!(pieces(&data).collect::<Vec<_>>().concat(), data);
            use sha2::Digest;
            assert_eq!(sha256(&data), <[u8; 32]>::from(sha2::Sha256::digest(&data)));
        }
    }
}
