//! `snap.Message`: a MsgSnap plus the db body stream of a declared size and a close
//! notification, and `ioutil.ExactReadCloser`.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::oneshot;
use futures_io::AsyncRead;

use crate::error::{Error, Result};
use crate::pb;

/// An `AsyncRead` that must yield exactly `total` bytes: more is `ioutil: expect EOF`, an early
/// end is `ioutil: short read` (with the inner error, if any, kept as its cause).
pub struct ExactReader<R> {
    inner: R,
    total: u64,
    read: u64,
}

impl<R> ExactReader<R> {
    /// Wraps `inner`, expecting `total` bytes.
    pub fn new(inner: R, total: u64) -> Self {
        ExactReader {
            inner,
            total,
            read: 0,
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// etcd's `Close`: `ShortRead` if fewer than `total` bytes were read.
    pub fn finish(&self) -> Result<()> {
        todo!()
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ExactReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let _ = (cx, buf);
        todo!()
    }
}

/// Resolves to `true` if the message was closed without error, `false` otherwise
/// (etcd's `CloseNotify()` channel).
pub type CloseNotify = oneshot::Receiver<bool>;

/// etcd `snap.Message`.
pub struct Message<R> {
    /// The raft message; its type must be `MsgSnap`.
    pub message: pb::Message,
    /// The db body, exactly `db_size` bytes.
    pub body: ExactReader<R>,
    total_size: u64,
    close: Option<oneshot::Sender<bool>>,
}

impl<R: AsyncRead + Unpin> Message<R> {
    /// etcd `NewMessage`. Fails with `InvalidArgument` if the type is not MsgSnap.
    pub fn new(message: pb::Message, body: R, db_size: u64) -> Result<(Self, CloseNotify)> {
        let _ = (message, body, db_size, Error::ExpectEof);
        todo!()
    }

    /// etcd `TotalSize`: protobuf size of the message plus the db size (no length prefix).
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// etcd `CloseWithError`: a body that was not read to exactly its size turns a success
    /// into `ShortRead`; notifies `true` iff the final result is success, and returns it.
    pub fn close_with_error(self, err: Option<Error>) -> Result<()> {
        let _ = (err, &self.close);
        todo!()
    }
}
