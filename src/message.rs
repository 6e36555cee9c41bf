//! `snap.Message`: a MsgSnap plus the db body stream of a declared size and a close
//! notification, and `ioutil.ExactReadCloser`.
//!
//! Errors cross `AsyncRead` as `std::io::Error` carrying the typed [`Error`]; convert back with
//! `Error::from(io_err)` to get [`Error::ShortRead`] / [`Error::ExpectEof`] again.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::oneshot;
use futures_io::AsyncRead;

use crate::error::{Error, Result};
use crate::pb;

/// An `AsyncRead` that must yield exactly `total` bytes: more is `ioutil: expect EOF`, an early
/// end is `ioutil: short read` (with the inner error, if any, kept as its cause).
///
/// Per read, exactly as etcd's `exactReadCloser.Read`: the bytes the inner reader returned are
/// counted first; a count above `total` gives [`Error::ExpectEof`] (the bytes are dropped); a
/// count below `total` with nothing read gives [`Error::ShortRead`]; otherwise the inner result
/// is returned as is (so a clean EOF at exactly `total` is `Ok(0)`).
///
/// **Differs from etcd:** etcd's short read masks the inner error (issue #21418: operators saw
/// `ioutil: short read` instead of the real `EOF`/pipe failure). Here the inner error is kept as
/// the `cause` of [`Error::ShortRead`] (its [`std::error::Error::source`]); the message and code
/// stay etcd's. `Interrupted`/`WouldBlock` are passed through, since they are retries, not
/// failures.
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

    /// Bytes read so far (including any excess that triggered `ExpectEof`).
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The declared size.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// etcd's `Close`: `ShortRead` if fewer than `total` bytes were read. (Rust readers have
    /// no close of their own; dropping the reader releases it.)
    pub fn finish(&self) -> Result<()> {
        if self.read < self.total {
            Err(Error::ShortRead { cause: None })
        } else {
            Ok(())
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for ExactReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            // A zero-length read is not an end of stream; do not count it as one.
            return Poll::Ready(Ok(0));
        }
        let res = match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(r) => r,
        };
        let (n, err) = match res {
            Ok(n) => (n, None),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
                ) =>
            {
                return Poll::Ready(Err(e));
            }
            Err(e) => (0, Some(e)),
        };
        this.read = this.read.saturating_add(n as u64);
        if this.read > this.total {
            return Poll::Ready(Err(Error::ExpectEof.into()));
        }
        if this.read < this.total && n == 0 {
            let cause = err.map(|e| Box::new(Error::from(e)));
            return Poll::Ready(Err(Error::ShortRead { cause }.into()));
        }
        Poll::Ready(match err {
            Some(e) => Err(e),
            None => Ok(n),
        })
    }
}

/// Resolves to `true` if the message was closed without error, `false` otherwise
/// (etcd's `CloseNotify()` channel). If the [`Message`] is dropped without
/// [`Message::close_with_error`], it resolves to `Err(Canceled)`: treat that as `false`.
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
    ///
    /// **Differs from etcd:** etcd documents but does not check the MsgSnap requirement.
    pub fn new(message: pb::Message, body: R, db_size: u64) -> Result<(Self, CloseNotify)> {
        if message.r#type != pb::MessageType::MsgSnap as i32 {
            let ty = pb::MessageType::try_from(message.r#type)
                .map(|t| format!("{t:?}"))
                .unwrap_or_else(|_| message.r#type.to_string());
            return Err(Error::InvalidArgument(format!(
                "snap: message type must be MsgSnap, got {ty}"
            )));
        }
        use prost::Message as _;
        let total_size = (message.encoded_len() as u64).saturating_add(db_size);
        let (tx, rx) = oneshot::channel();
        Ok((
            Message {
                message,
                body: ExactReader::new(body, db_size),
                total_size,
                close: Some(tx),
            },
            rx,
        ))
    }
}

impl<R> Message<R> {
    /// etcd `TotalSize`: protobuf size of the message plus the db size (no length prefix).
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// etcd `CloseWithError`: a body that was not read to exactly its size turns a success
    /// into `ShortRead`; notifies `true` iff the final result is success, and returns it.
    ///
    /// The notification is sent exactly once: `self` is consumed, so a second call (which
    /// blocks forever in etcd when nobody receives) cannot be written.
    ///
    /// **Differs from etcd:** when `err` is `Some`, etcd replaces it with the body's close
    /// error (`ioutil: short read`) if the body was short; here the caller's error is kept,
    /// since it is the real reason (the notification is `false` either way).
    pub fn close_with_error(mut self, err: Option<Error>) -> Result<()> {
        let result = match err {
            Some(e) => Err(e),
            None => self.body.finish(),
        };
        if let Some(tx) = self.close.take() {
            // A dropped receiver only means nobody is waiting.
            let _ = tx.send(result.is_ok());
        }
        result
    }
}
