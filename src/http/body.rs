//! Adapters between hyper bodies and `futures-io` readers, with bounded buffering.

use bytes::{Bytes, BytesMut};
use futures_channel::mpsc;
use futures_io::AsyncRead;
use std::time::Duration;

use futures_util::io::AsyncReadExt as _;
use futures_util::{StreamExt as _, TryStreamExt as _};
use http_body_util::BodyStream;
use hyper::body::{Frame, Incoming};

use crate::error::{Error, Result};

/// Chunk size of a streamed request body (Go's `io.Copy` uses 32 KiB).
pub const CHUNK: usize = 64 << 10;

/// One frame of an outgoing body.
pub type Chunk = std::result::Result<Frame<Bytes>, std::io::Error>;

/// A request body as an `AsyncRead`; never buffered beyond the frame hyper hands over. A gap
/// of more than `idle` between frames is an `i/o timeout` error (etcd's peer listener uses a
/// 5 s read deadline), so a stalled sender cannot hold a temp file and a task forever.
pub fn incoming_reader(body: Incoming, idle: Duration) -> impl AsyncRead + Unpin {
    let frames = BodyStream::new(body);
    futures_util::stream::unfold(frames, move |mut frames| async move {
        let item = match tokio::time::timeout(idle, frames.next()).await {
            Ok(None) => return None,
            Ok(Some(Ok(frame))) => Ok(frame.into_data().ok()),
            Ok(Some(Err(e))) => Err(body_error(e)),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "i/o timeout",
            )),
        };
        Some((item, frames))
    })
    .try_filter_map(|data| futures_util::future::ready(Ok(data)))
    .boxed_local()
    .into_async_read()
}

/// A body that ends before its declared length or final chunk is Go's `io.ErrUnexpectedEOF`,
/// which etcd's handler prints as `failed to save KV snapshot (unexpected EOF)` (hyper reports
/// an `UnexpectedEof` I/O cause, or an incomplete message); other failures keep hyper's text.
fn body_error(e: hyper::Error) -> std::io::Error {
    let cut = e.is_incomplete_message()
        || std::error::Error::source(&e)
            .and_then(|c| c.downcast_ref::<std::io::Error>())
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
    if cut {
        std::io::ErrorKind::UnexpectedEof.into()
    } else {
        std::io::Error::other(e)
    }
}

/// Copies `r` into `tx` chunk by chunk (the channel bound keeps memory constant). A read error
/// is sent down the channel, so hyper aborts the upload instead of ending it cleanly, and is
/// returned typed. A closed channel (the request ended first) stops quietly.
pub async fn pump<R: AsyncRead + Unpin>(mut r: R, mut tx: mpsc::Sender<Chunk>) -> Result<u64> {
    let mut buf = BytesMut::new();
    let mut total = 0u64;
    loop {
        buf.reserve(CHUNK);
        buf.resize(CHUNK, 0);
        match r.read(&mut buf).await {
            Ok(0) => return Ok(total),
            Ok(n) => {
                total += n as u64;
                let chunk = buf.split_to(n).freeze();
                buf.clear();
                if send(&mut tx, Ok(Frame::data(chunk))).await.is_err() {
                    return Ok(total);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let err = Error::from(e);
                let _ = send(&mut tx, Err(std::io::Error::other(err.to_string()))).await;
                return Err(err);
            }
        }
    }
}

/// Waits for room in the channel, then sends (`SinkExt::send` without the `sink` feature).
async fn send(tx: &mut mpsc::Sender<Chunk>, item: Chunk) -> std::result::Result<(), ()> {
    futures_util::future::poll_fn(|cx| tx.poll_ready(cx))
        .await
        .map_err(|_| ())?;
    tx.start_send(item).map_err(|_| ())
}

/// Reads `r` to its end (or first error) and drops the bytes; gives up after 30 s without data.
pub async fn drain<R: AsyncRead + Unpin>(mut r: R) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(30), r.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
    }
}
