//! CRC-32C, the checksum of `.snap` files and of `etcdctl snapshot status`'s hash: a leaf
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
        crate::crc32c_braid::crc32c_append(crc, data)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crc32c::crc32c_append(crc, data)
    }
}
