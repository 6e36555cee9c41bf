//! The snapshot stream's framing: an 8-byte big-endian length, the raft message, then the db.
//!
//! Both directions stream: the encoder chains the envelope in front of the db reader, and the
//! decoder reads only the envelope, leaving the db in the reader for the caller to stream on.

use bytes::Bytes;
use futures_io::AsyncRead;
use futures_util::io::{AsyncReadExt as _, Chain, Cursor};

use crate::error::{Error, Result};
use crate::pb::{self, DecodeError};

/// Size of the length prefix.
pub const PREFIX_LEN: usize = 8;

/// Default cap on the declared envelope (message) length: 64 MiB, as etcd 3.6.14+ and 3.7.1+
/// (`snapshotLimitByte`). etcd 3.4 accepts up to 2^63 and 3.5 up to 1 TiB, allocating the
/// claimed size up front; the cap is checked here before any allocation.
pub const DEFAULT_ENVELOPE_LIMIT: u64 = 64 << 20;

/// Growth step while reading an envelope: memory follows the bytes that actually arrive, not the
/// length the peer claims.
const ENVELOPE_READ_STEP: u64 = 64 << 10;

/// The envelope: length prefix plus the marshalled message (gogo layout, byte-identical to
/// etcd's `messageEncoder`).
pub fn encode_envelope(m: &pb::Message) -> Vec<u8> {
    use prost::Message as _;
    let len = m.encoded_len();
    let mut out = Vec::with_capacity(PREFIX_LEN + len);
    out.extend_from_slice(&(len as u64).to_be_bytes());
    m.encode_raw(&mut out);
    out
}

/// The wire stream: [`encode_envelope`] followed by every byte of `db`.
pub type Encoder<R> = Chain<Cursor<Vec<u8>>, R>;

/// Streams the wire body for `m` and `db`, exactly as etcd's snapshot sender builds it. Pass a
/// [`Message`](crate::Message)'s `&mut body` to keep its exact-size check.
pub fn encoder<R: AsyncRead>(m: &pb::Message, db: R) -> Encoder<R> {
    Cursor::new(encode_envelope(m)).chain(db)
}

/// Reads the envelope from `r` (etcd's `messageDecoder.decodeLimit`) and leaves the db bytes
/// unread in `r`.
///
/// Errors as etcd words them inside `failed to decode raft message (...)`: [`Error::Eof`] for an
/// empty body, `unexpected EOF` for a body that ends inside the prefix or the message,
/// [`Error::ExceedSizeLimit`] when the declared length is above `limit` (checked before any
/// allocation), gogo's decode errors for a malformed message. The envelope buffer grows with the
/// bytes received, so a false length costs no memory.
pub async fn decode_envelope<R: AsyncRead + Unpin>(r: &mut R, limit: u64) -> Result<pb::Message> {
    decode_envelope_raw(r, limit).await.map(|d| d.message)
}

/// A raft message read from the wire, with the bytes it was decoded from: etcd 3.4 keeps the
/// unknown fields in them and counts them in `Size()` ([`crate::pb::size`]), which the CLIs
/// report as `msg_size` / `pb_size`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedMessage {
    /// The decoded message (unknown fields dropped).
    pub message: pb::Message,
    /// The marshalled message as received (its snapshot's payload is a slice of it: no copy).
    pub raw: Bytes,
}

/// [`decode_envelope`], keeping the message's bytes.
pub async fn decode_envelope_raw<R: AsyncRead + Unpin>(
    r: &mut R,
    limit: u64,
) -> Result<DecodedMessage> {
    let len = read_prefix(r).await?;
    if len > limit {
        return Err(Error::ExceedSizeLimit);
    }
    read_message_raw(r, len).await
}

/// The first half of [`decode_envelope`]: the declared message length (no limit check).
pub async fn read_prefix<R: AsyncRead + Unpin>(r: &mut R) -> Result<u64> {
    let mut prefix = [0u8; PREFIX_LEN];
    let mut got = 0;
    while got < PREFIX_LEN {
        match r.read(&mut prefix[got..]).await {
            Ok(0) if got == 0 => return Err(Error::Eof),
            Ok(0) => return Err(DecodeError::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(u64::from_be_bytes(prefix))
}

/// The second half of [`decode_envelope`]: the `len`-byte message, buffered as it arrives.
pub async fn read_message<R: AsyncRead + Unpin>(r: &mut R, len: u64) -> Result<pb::Message> {
    read_message_raw(r, len).await.map(|d| d.message)
}

/// [`read_message`], keeping the message's bytes.
pub async fn read_message_raw<R: AsyncRead + Unpin>(r: &mut R, len: u64) -> Result<DecodedMessage> {
    let mut buf = Vec::new();
    while (buf.len() as u64) < len {
        let step = (len - buf.len() as u64).min(ENVELOPE_READ_STEP);
        buf.reserve(step as usize);
        let n = (&mut *r).take(step).read_to_end(&mut buf).await?;
        if n == 0 {
            return Err(DecodeError::UnexpectedEof.into());
        }
    }
    let raw = Bytes::from(buf);
    Ok(DecodedMessage {
        message: pb::decode::<pb::Message>(raw.clone())?,
        raw,
    })
}
