//! Streaming a reader into an atomic writer through one bounded buffer: the copy loop of
//! `SaveDBFrom` ([`crate::Snapshotter::save_db_from`]) and of every binding that stores a
//! stream, written once.

use futures_io::AsyncRead;
use futures_util::AsyncReadExt as _;

use super::AtomicWrite;
use crate::error::Error;

/// Size of the one buffer a stream passes through on its way to storage.
pub const COPY_CHUNK: usize = 1 << 20;

/// Which side of a copy failed (the writer is aborted either way).
#[derive(Debug)]
pub enum CopyError {
    /// Reading the source failed.
    Read(Error),
    /// Writing to storage failed.
    Write(Error),
}

impl From<CopyError> for Error {
    fn from(e: CopyError) -> Error {
        match e {
            CopyError::Read(e) | CopyError::Write(e) => e,
        }
    }
}

/// Streams `r` into `w` in [`COPY_CHUNK`] pieces and hands `w` back with the byte count, for
/// the caller to commit (or abort). On a failure `w` is aborted first.
pub async fn copy_into<W: AtomicWrite, R: AsyncRead + Unpin>(
    mut w: W,
    mut r: R,
) -> Result<(W, u64), CopyError> {
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut n: u64 = 0;
    loop {
        let got = match r.read(&mut buf).await {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = w.abort().await;
                return Err(CopyError::Read(Error::from(e)));
            }
        };
        n += got as u64;
        if let Err(e) = w.write(&buf[..got]).await {
            let _ = w.abort().await;
            return Err(CopyError::Write(e));
        }
    }
    Ok((w, n))
}
