//! bbolt meta pages: the two roots of the file, each with an FNV-64a checksum; the reader
//! uses the valid one with the higher txid, as `bolt.DB.meta()` does.

use std::fmt;

use super::page::{META, PAGE_HEADER};

/// bbolt's magic number.
pub const MAGIC: u32 = 0xED0C_DAED;
/// bbolt's file format version.
pub const VERSION: u32 = 2;

/// `pgidNoFreelist`: the freelist is not stored (etcd's default) and is rebuilt by scanning.
pub const NO_FREELIST: u64 = u64::MAX;
/// Size of the meta struct inside a meta page.
pub const META_SIZE: usize = 64;
/// Offset of the checksum inside the meta struct: the checksum covers the bytes before it.
const CHECKSUM_AT: usize = 56;

/// A decoded meta page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Magic number (valid: [`MAGIC`]).
    pub magic: u32,
    /// Format version (valid: [`VERSION`]).
    pub version: u32,
    /// Page size the file was written with.
    pub page_size: u32,
    /// Meta flags (unused by bbolt).
    pub flags: u32,
    /// Root page of the root bucket.
    pub root: u64,
    /// Root bucket sequence.
    pub sequence: u64,
    /// Freelist page, or [`NO_FREELIST`].
    pub freelist: u64,
    /// High water mark: pages `0..pgid` are in use or free.
    pub pgid: u64,
    /// Transaction id that wrote this meta.
    pub txid: u64,
    /// Stored FNV-64a checksum of the first 56 bytes (0 = unchecked, as bbolt accepts).
    pub checksum: u64,
    /// The checksum computed over the stored bytes.
    pub computed: u64,
}

/// Why a meta page is unusable, in bbolt's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaError {
    /// `ErrInvalid`: wrong magic.
    Invalid,
    /// `ErrVersionMismatch`.
    VersionMismatch,
    /// `ErrChecksum`.
    Checksum,
    /// The page is not there (file too short).
    Missing,
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetaError::Invalid => "invalid database",
            MetaError::VersionMismatch => "version mismatch",
            MetaError::Checksum => "checksum error",
            MetaError::Missing => "file size too small",
        })
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// FNV-64a, the hash bbolt uses for meta checksums.
pub fn fnv64a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Meta {
    /// Decodes the meta struct from the start of a meta page (`page` holds at least
    /// `PAGE_HEADER + META_SIZE` bytes, else `None`).
    pub fn parse(page: &[u8]) -> Option<Meta> {
        let m = page.get(PAGE_HEADER..PAGE_HEADER + META_SIZE)?;
        Some(Meta {
            magic: u32_at(m, 0),
            version: u32_at(m, 4),
            page_size: u32_at(m, 8),
            flags: u32_at(m, 12),
            root: u64_at(m, 16),
            sequence: u64_at(m, 24),
            freelist: u64_at(m, 32),
            pgid: u64_at(m, 40),
            txid: u64_at(m, 48),
            checksum: u64_at(m, CHECKSUM_AT),
            computed: fnv64a(&m[..CHECKSUM_AT]),
        })
    }

    /// A meta page of `page_size` bytes for page `id` (0 or 1) holding this meta, its
    /// checksum computed as bbolt's `meta.write` does (bbolt db.go:1202: FNV-64a over the
    /// 56 bytes before the checksum); the rest of the page is zeros. `checksum` and
    /// `computed` are ignored.
    pub fn to_page(&self, id: u64, page_size: usize) -> Vec<u8> {
        let mut page = vec![0u8; page_size.max(PAGE_HEADER + META_SIZE)];
        page[0..8].copy_from_slice(&id.to_le_bytes());
        page[8..10].copy_from_slice(&META.to_le_bytes());
        let m = &mut page[PAGE_HEADER..PAGE_HEADER + META_SIZE];
        m[0..4].copy_from_slice(&self.magic.to_le_bytes());
        m[4..8].copy_from_slice(&self.version.to_le_bytes());
        m[8..12].copy_from_slice(&self.page_size.to_le_bytes());
        m[12..16].copy_from_slice(&self.flags.to_le_bytes());
        m[16..24].copy_from_slice(&self.root.to_le_bytes());
        m[24..32].copy_from_slice(&self.sequence.to_le_bytes());
        m[32..40].copy_from_slice(&self.freelist.to_le_bytes());
        m[40..48].copy_from_slice(&self.pgid.to_le_bytes());
        m[48..56].copy_from_slice(&self.txid.to_le_bytes());
        let sum = fnv64a(&m[..CHECKSUM_AT]);
        m[CHECKSUM_AT..].copy_from_slice(&sum.to_le_bytes());
        page
    }

    /// bbolt's `meta.validate()`.
    pub fn validate(&self) -> Result<(), MetaError> {
        if self.magic != MAGIC {
            Err(MetaError::Invalid)
        } else if self.version != VERSION {
            Err(MetaError::VersionMismatch)
        } else if self.checksum != 0 && self.checksum != self.computed {
            Err(MetaError::Checksum)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv64a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv64a(b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn a_written_meta_page_parses_back_and_validates() {
        let m = Meta {
            magic: MAGIC,
            version: VERSION,
            page_size: 4096,
            flags: 0,
            root: 7,
            sequence: 3,
            freelist: 2,
            pgid: 9,
            txid: 2,
            checksum: 0,
            computed: 0,
        };
        let page = m.to_page(0, 4096);
        assert_eq!(page.len(), 4096);
        let back = Meta::parse(&page).unwrap();
        assert_eq!(back.validate(), Ok(()));
        assert_eq!(back.checksum, back.computed);
        assert_eq!((back.root, back.pgid, back.txid), (7, 9, 2));
    }
}
