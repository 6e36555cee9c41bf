//! The sha256 trailer `etcdctl snapshot save` appends to a db: present when the file size
//! is 32 more than a multiple of 512 (etcd's `hasChecksum`), checked as `snapshot restore`
//! (and etcdutl) check it before trusting the file.

use sha2::{Digest as _, Sha256};

use super::source::PageSource;
use crate::error::{Error, Result};

/// Size of the trailer.
pub const SHA256_LEN: u64 = 32;
/// Bytes hashed per read, so a large db is never read whole.
const CHUNK: u64 = 1 << 20;

/// What the file's tail says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trailer {
    /// A plain bbolt file (as in `member/snap/db` or a `.snap.db`).
    None,
    /// A sha256 trailer that matches the bytes before it.
    Verified,
    /// A sha256 trailer that was not checked (verification turned off).
    Unverified,
}

/// etcd's `hasChecksum`.
pub fn has_checksum(size: u64) -> bool {
    size % 512 == SHA256_LEN
}

/// Checks the trailer of `src` if it has one; returns the length of the db before it.
pub fn check<S: PageSource>(src: &S, verify: bool) -> Result<(u64, Trailer)> {
    let size = src.size();
    if !has_checksum(size) {
        return Ok((size, Trailer::None));
    }
    let body = size - SHA256_LEN;
    if !verify {
        return Ok((body, Trailer::Unverified));
    }
    let expected: [u8; 32] = src
        .read_at(body, SHA256_LEN as usize)?
        .as_ref()
        .try_into()
        .expect("32 bytes");
    let mut h = Sha256::new();
    let mut off = 0;
    while off < body {
        let n = CHUNK.min(body - off);
        h.update(src.read_at(off, n as usize)?);
        off += n;
    }
    let actual: [u8; 32] = h.finalize().into();
    if actual != expected {
        return Err(Error::DbHashMismatch { expected, actual });
    }
    Ok((body, Trailer::Verified))
}
