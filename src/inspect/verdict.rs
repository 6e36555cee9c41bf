//! Checks that say what a file is before bbolt reads it, and the one verdict a listing gives a
//! db (`etcd-snap ls`, the viewer's folder panel): a compressed backup, a backup cut short
//! (whose last 32 bytes would be read as a sha256 trailer), a db that does not open, or one
//! shorter than its high water mark.

use super::source::{PageSource, Prefix};
use super::trailer::{self, SHA256_LEN};
use super::{Bolt, Db, OpenOptions, Trailer};
use crate::error::{Error, Result};

/// Magic numbers of the compressors backups are commonly kept with.
const COMPRESSED: &[(&[u8], &str, &str)] = &[
    (&[0x1f, 0x8b], "gzip", "gunzip"),
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd", "zstd -d"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz", "unxz"),
    (b"BZh", "bzip2", "bunzip2"),
];

/// A compressed file is not a bbolt db (whose page 0 starts with a page id of 0): name the
/// compressor rather than report an invalid meta page.
pub fn not_compressed<S: PageSource + ?Sized>(src: &S) -> Result<()> {
    let n = src.size().min(6) as usize;
    if n < 2 {
        return Ok(());
    }
    let head = src.read_at(0, n)?;
    for (magic, what, tool) in COMPRESSED {
        if head.as_ref().starts_with(magic) {
            return Err(Error::BadDb {
                page: None,
                problem: format!(
                    "a {what}-compressed file, not a bbolt db: decompress it first (`{tool}`)"
                ),
            });
        }
    }
    Ok(())
}

/// For a file of `file_size` bytes whose size says it ends in a sha256 trailer: an error if
/// the db before the trailer is shorter than its meta page's high water mark. Such a file is
/// a db cut short, and its last 32 bytes are bbolt data, not a digest (etcd would report a
/// hash mismatch).
pub fn check_length<S: PageSource>(bolt: &Bolt<S>, file_size: u64) -> Result<()> {
    let says = bolt.size();
    if says > file_size - SHA256_LEN.min(file_size) {
        return Err(Error::BadDb {
            page: None,
            problem: format!(
                "truncated: the meta page says {says} bytes, the file has {file_size}"
            ),
        });
    }
    Ok(())
}

/// The truncation check before the hash check: `Ok` unless `src` ends in what its size says
/// is a trailer and the db before it is shorter than its meta page says. Reads the two meta
/// pages only; a db whose meta pages do not read is left to the checks that follow.
pub fn check_truncated_backup<S: PageSource>(src: &S) -> Result<()> {
    let size = src.size();
    if !trailer::has_checksum(size) {
        return Ok(());
    }
    match Bolt::open(Prefix::new(src, size - SHA256_LEN)) {
        Ok(bolt) => check_length(&bolt, size),
        Err(_) => Ok(()),
    }
}

/// The listing's verdict on a db file (`.snap.db`, a member `db`, a backup): `Ok` when its
/// meta pages open and it is as long as they say, else the problem. Cheap: a few pages are
/// read, never the sha256 of the whole file (`etcd-snap status` and `InspectDb` do that), so
/// a listing of large dbs stays fast. The CLI's `ls` and the viewer both use it.
pub fn listing_verdict<S: PageSource>(src: Result<S>) -> Result<()> {
    let src = src?;
    let size = src.size();
    let db = Db::open_with(
        src,
        OpenOptions {
            verify_trailer: false,
        },
    )?;
    if db.trailer() != Trailer::None {
        check_length(db.bolt(), size)?;
    }
    if let Some(w) = db.warnings().into_iter().next() {
        return Err(Error::BadDb {
            page: None,
            problem: w,
        });
    }
    Ok(())
}
