//! What the CLIs print about the snapshot stream (`unframe`, `serve-snapshots`), defined once so
//! the native and the npm CLI print the same JSON. Also [`unframe`], the decode-and-store step
//! they share.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;
use serde::Serialize;
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::pb::{self, MessageType};
use crate::snapshotter::Snapshotter;
use crate::storage::Storage;
use crate::summary::{SnapSummary, hex};
use crate::transport::frame::{DecodedMessage, decode_envelope_raw};
use crate::transport::receive::Reply;
pub use crate::transport::receive::db_path;

/// A raft message with etcd's field names, as the fixtures' `frame.json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageSummary {
    /// `MsgSnap`, ... (the number, for a type etcd does not know).
    pub r#type: String,
    /// Receiver member ID.
    pub to: u64,
    /// Sender member ID.
    pub from: u64,
    /// Message term.
    pub term: u64,
    /// Message log term.
    pub log_term: u64,
    /// Message index.
    pub index: u64,
    /// Message commit index.
    pub commit: u64,
    /// The snapshot metadata and data summary.
    pub snapshot: SnapSummary,
    /// Size of the marshalled message (the length prefix).
    pub msg_size: u64,
}

impl MessageSummary {
    /// Summarises a decoded message.
    pub fn of(m: &pb::Message) -> Self {
        use prost::Message as _;
        MessageSummary {
            r#type: MessageType::try_from(m.r#type)
                .map(|t| format!("{t:?}"))
                .unwrap_or_else(|_| m.r#type.to_string()),
            to: m.to,
            from: m.from,
            term: m.term,
            log_term: m.log_term,
            index: m.index,
            commit: m.commit,
            snapshot: SnapSummary::of(&m.snapshot),
            msg_size: m.encoded_len() as u64,
        }
    }

    /// As [`MessageSummary::of`] for `m` decoded from `raw`, with `msg_size` and the
    /// snapshot's `pb_size` as etcd 3.4's `Size()` gives them: unknown fields included
    /// ([`crate::pb::size`]; issue 9, item 10).
    pub fn of_raw(m: &pb::Message, raw: &[u8]) -> Self {
        let mut s = Self::of(m);
        if let Ok((msg, snap)) = crate::pb::size::message_size(m, raw) {
            s.msg_size = msg;
            s.snapshot.pb_size = snap;
        }
        s
    }
}

/// `etcd-snap unframe`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unframed {
    /// The decoded message.
    pub message: MessageSummary,
    /// The length prefix read (= `message.msg_size` for a canonically encoded message).
    pub length_prefix: u64,
    /// Where the db was stored (`DBFilePath`).
    pub db_path: String,
    /// Bytes of db read from the body.
    pub db_bytes: u64,
    /// SHA-256 of those bytes.
    pub db_sha256: String,
}

/// Decodes a snapshot body and stores its db with `SaveDBFrom`, hashing it on the way.
/// A message that is not MsgSnap is refused with etcd's `wrong raft message type`.
pub async fn unframe<S: Storage, R: AsyncRead + Unpin>(
    snapshotter: &Snapshotter<S>,
    mut body: R,
    limit: u64,
) -> Result<Unframed> {
    let DecodedMessage { message: m, raw } = decode_envelope_raw(&mut body, limit).await?;
    if m.r#type != MessageType::MsgSnap as i32 {
        return Err(Error::InvalidArgument("wrong raft message type".into()));
    }
    let index = m.snapshot.metadata.index;
    let mut hashing = HashReader::new(body);
    let db_bytes = snapshotter.save_db_from(&mut hashing, index).await?;
    let message = MessageSummary::of_raw(&m, &raw);
    Ok(Unframed {
        length_prefix: raw.len() as u64,
        message,
        db_path: snapshotter.db_file_path(index).await?,
        db_bytes,
        db_sha256: hex(&hashing.hash.finalize()),
    })
}

/// One line of `etcd-snap serve-snapshots`: a stored snapshot, or why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyLine {
    /// The HTTP status answered.
    pub status: u16,
    /// On success: the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageSummary>,
    /// On success: where the db is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_path: Option<String>,
    /// On success: db bytes stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_bytes: Option<u64>,
    /// On failure: the error's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// On failure: the error's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ReplyLine {
    /// The line for `reply`.
    pub fn of(reply: &Reply) -> Self {
        let mut line = ReplyLine {
            status: reply.status,
            message: None,
            db_path: None,
            db_bytes: None,
            code: None,
            error: None,
        };
        match &reply.outcome {
            Ok(r) => {
                line.message = Some(MessageSummary::of_raw(&r.message, &r.raw));
                line.db_path = Some(r.db_path.clone());
                line.db_bytes = Some(r.db_bytes);
            }
            Err(e) => {
                line.code = Some(e.code());
                line.error = Some(e.to_string());
            }
        }
        line
    }
}

/// SHA-256 of everything read through it.
pub struct HashReader<R> {
    inner: R,
    hash: sha2::Sha256,
}

impl<R> HashReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashReader {
            inner,
            hash: sha2::Sha256::new(),
        }
    }

    /// Lowercase hex SHA-256 of the bytes read so far.
    pub fn hex_digest(&self) -> String {
        hex(&self.hash.clone().finalize())
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for HashReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            this.hash.update(&buf[..n]);
        }
        r
    }
}
