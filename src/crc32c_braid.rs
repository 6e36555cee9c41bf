//! Software CRC-32C (Castagnoli) using zlib's "braided" method (N = 10 interleaved 8-byte
//! words), used for `codec::crc32c` on wasm32 only.
//!
//! Why: wasm32 has no CRC or carry-less-multiply instructions, so every crate falls back to
//! slicing-by-8/16, whose loop is one long dependency chain (each word waits for the previous
//! CRC). Braiding keeps N independent CRC registers, one per interleaved word, so the table
//! loads of N words overlap. N = 10 measured best under V8 (N = 5, zlib's choice, gained
//! half as much; 12 and 16 no more); see `benches/crc.rs` (`make bench-crc-wasm`). Natively the `crc32c` crate's hardware path is far faster and stays.
//!
//! Self-contained (no `crate::` paths) so that `benches/crc.rs` can include it by `#[path]`.

/// Reflected Castagnoli polynomial.
const POLY: u32 = 0x82F6_3B78;
/// Interleaved words per block.
const N: usize = 10;
/// Bytes per word.
const W: usize = 8;
/// Bytes per block.
const BLOCK: usize = N * W;

/// One-byte table: `TABLE[b]` = register after feeding byte `b` into a zero register.
static TABLE: [u32; 256] = byte_table();

/// `BRAID[k][b]`: the register contribution of byte `b` at offset `k` of a word, carried
/// forward to the start of the same braid's word in the next block (`BLOCK - k` bytes on).
static BRAID: [[u32; 256]; W] = braid_table();

const fn byte_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

const fn braid_table() -> [[u32; 256]; W] {
    let t = byte_table();
    let mut out = [[0u32; 256]; W];
    let mut k = 0;
    while k < W {
        let mut b = 0;
        while b < 256 {
            // Feed byte b at offset k, then the zero bytes up to the next block's word.
            let mut c = t[b];
            let mut z = 0;
            while z < BLOCK - 1 - k {
                c = (c >> 8) ^ t[(c & 0xff) as usize];
                z += 1;
            }
            out[k][b] = c;
            b += 1;
        }
        k += 1;
    }
    out
}

/// Runs a whole word through the register (`data` already XORed with the register).
#[inline(always)]
fn word(mut data: u64) -> u32 {
    for _ in 0..W {
        data = (data >> 8) ^ u64::from(TABLE[data as u8 as usize]);
    }
    data as u32
}

/// One braid step: the word at `b` XORed with its braid's register `c`, carried a block on.
#[inline(always)]
fn braid(c: u32, b: &[u8; W]) -> u32 {
    let w = u64::from(c) ^ u64::from_le_bytes(*b);
    BRAID[0][w as u8 as usize]
        ^ BRAID[1][(w >> 8) as u8 as usize]
        ^ BRAID[2][(w >> 16) as u8 as usize]
        ^ BRAID[3][(w >> 24) as u8 as usize]
        ^ BRAID[4][(w >> 32) as u8 as usize]
        ^ BRAID[5][(w >> 40) as u8 as usize]
        ^ BRAID[6][(w >> 48) as u8 as usize]
        ^ BRAID[7][(w >> 56) as u8 as usize]
}

/// Word `j` of a block.
#[inline(always)]
fn word_at(blk: &[u8], j: usize) -> &[u8; W] {
    blk[j * W..j * W + W].try_into().unwrap()
}

/// Continues a CRC-32C: `crc32c_append(crc32c(a), b) == crc32c(a ++ b)`, as the `crc32c`
/// crate's function of the same name.
#[inline(never)] // one call per piece (crate::crc::PIECE): V8 optimizes across calls, not within one
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    let mut c = !crc;
    let mut blocks = data.chunks_exact(BLOCK);
    // The last whole block is folded sequentially below, so braid only when two or more.
    let n = blocks.len();
    if n >= 2 {
        let mut cs = [0u32; N];
        cs[0] = c;
        for blk in blocks.by_ref().take(n - 1) {
            let blk: &[u8; BLOCK] = blk.try_into().unwrap();
            for (j, cj) in cs.iter_mut().enumerate() {
                *cj = braid(*cj, word_at(blk, j));
            }
        }
        // Last block: fold the N pending registers into one, word by word.
        let blk = blocks.next().expect("n >= 2");
        c = 0;
        for (j, cj) in cs.iter().enumerate() {
            c = word(u64::from(cj ^ c) ^ u64::from_le_bytes(*word_at(blk, j)));
        }
    }
    // Fewer than two blocks and the tail: a word, then a byte at a time.
    let rest = &data[(data.len() - blocks.remainder().len() - blocks.len() * BLOCK)..];
    let mut words = rest.chunks_exact(W);
    for w in words.by_ref() {
        c = word(u64::from(c) ^ u64::from_le_bytes(w.try_into().unwrap()));
    }
    for &b in words.remainder() {
        c = (c >> 8) ^ TABLE[((c as u8) ^ b) as usize];
    }
    !c
}

// proptest is a native-only dev-dependency: `wasm-pack test` builds this crate's tests for wasm32.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use proptest::prelude::*;

    use super::crc32c_append;

    fn crc32c(data: &[u8]) -> u32 {
        crc32c_append(0, data)
    }

    #[test]
    fn check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn every_length_around_the_block_edges() {
        let buf: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in 0..buf.len() {
            assert_eq!(
                crc32c(&buf[..len]),
                ::crc32c::crc32c(&buf[..len]),
                "len {len}"
            );
        }
    }

    proptest! {
        #[test]
        fn matches_crc32c_crate(
            data in proptest::collection::vec(any::<u8>(), 0..5000),
            start in 0usize..64,
            split in 0usize..5000,
            seed in any::<u32>(),
        ) {
            // Random offsets (so alignment varies) and an append split, from a non-zero seed.
            let d = &data[start.min(data.len())..];
            let split = split.min(d.len());
            prop_assert_eq!(crc32c(d), ::crc32c::crc32c(d));
            prop_assert_eq!(crc32c_append(seed, d), ::crc32c::crc32c_append(seed, d));
            prop_assert_eq!(
                crc32c_append(crc32c(&d[..split]), &d[split..]),
                ::crc32c::crc32c(d)
            );
        }
    }
}
