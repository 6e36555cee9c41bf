//! etcd's `snapshotHandler` (etcdserver/api/rafthttp/http.go:200) over any backend: checks, decode,
//! `SaveDBFrom`, hand-off, and the exact status and body etcd answers with. The caller maps a
//! [`Reply`] onto whatever HTTP server it runs (hyper natively, `node:http` in wasm).

use std::future::Future;

use futures_io::AsyncRead;

use crate::error::{Error, Result};
use crate::names;
use crate::pb;
use crate::snapshotter::Snapshotter;
use crate::storage::Storage;
use crate::transport::budget::Limits;
use crate::transport::frame::{DecodedMessage, read_message_raw, read_prefix};
use crate::transport::peer::{LocalPeer, format_id};

/// A snapshot that was stored: its raft message and the db size written.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The decoded MsgSnap.
    pub message: pb::Message,
    /// The marshalled message as received (etcd's `Size()` counts the unknown fields in it;
    /// shares its buffer with `message`'s snapshot payload).
    pub raw: bytes::Bytes,
    /// Bytes stored as `%016x.snap.db` (the rest of the body).
    pub db_bytes: u64,
    /// The stored file, as the backend names it (`DBFilePath`).
    pub db_path: String,
}

/// What to answer, exactly as etcd's handler answers.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status: 204, 400, 403, 405, 412, 500, or 503 when the envelope budget is spent.
    pub status: u16,
    /// Response headers, in etcd's order.
    pub headers: Vec<(&'static str, String)>,
    /// The body (`http.Error`'s message plus `\n`; empty for 204).
    pub body: String,
    /// What happened: the stored snapshot, or why not.
    pub outcome: Result<Received>,
}

impl Reply {
    /// A refusal as Go's `http.Error` writes it: `headers`, then the plain-text content type
    /// and `nosniff`; the body is `body` plus `\n`; `e` is what the caller is told.
    pub fn error(
        mut headers: Vec<(&'static str, String)>,
        status: u16,
        body: String,
        e: Error,
    ) -> Self {
        headers.push(("Content-Type", "text/plain; charset=utf-8".into()));
        headers.push(("X-Content-Type-Options", "nosniff".into()));
        Reply {
            status,
            headers,
            body: body + "\n",
            outcome: Err(e),
        }
    }

    /// 503 `Snapshotter is closed`: a receiver whose folder was closed answers every request
    /// so, so the server does not look healthy.
    pub fn closed(local: &LocalPeer) -> Self {
        let e = Error::InvalidArgument("Snapshotter is closed".into());
        let body = e.to_string();
        let id = vec![("X-Etcd-Cluster-ID", format_id(local.cluster_id))];
        Reply::error(id, 503, body, e)
    }
}

/// Handles one request to `/raft/snapshot`.
///
/// `header` looks a request header up by name (case-insensitively, as HTTP does); `body` is the
/// request body, read once and streamed to storage; `limits.envelope` caps the envelope (see
/// [`DEFAULT_ENVELOPE_LIMIT`](crate::transport::DEFAULT_ENVELOPE_LIMIT)) and `limits.budget`
/// the envelope bytes of all requests sharing it: the declared length is reserved before the
/// message is read and held until this returns; if it does not fit, the answer is
/// 503 [`Error::Busy`] (**differs from etcd**, which has no bound; its leader retries a
/// failed snapshot). `process` is etcd's
/// `Raft.Process`: it runs after the db is durably stored (file and directory synced) and
/// before the 204; its error gives etcd's 500 (or 403 for [`Error::MemberRemoved`]).
///
/// A body that fails or ends early leaves no file (the atomic write is aborted). As in etcd, a
/// `process` failure leaves the stored `.snap.db` in place (`ReleaseSnapDBs` or the purge loop
/// removes it); removing it could delete a db that an earlier, pending snapshot still needs.
pub async fn receive<S, R, P, F>(
    snapshotter: &Snapshotter<S>,
    local: &LocalPeer,
    limits: &Limits,
    method: &str,
    header: impl Fn(&str) -> Option<String>,
    mut body: R,
    process: P,
) -> Reply
where
    S: Storage,
    R: AsyncRead + Unpin,
    P: FnOnce(pb::Message) -> F,
    F: Future<Output = Result<()>>,
{
    if method != "POST" {
        let e = Error::InvalidArgument(format!("method {method} not allowed"));
        let h = vec![("Allow", "POST".to_string())];
        return Reply::error(h, 405, "Method Not Allowed".into(), e);
    }
    let h = vec![("X-Etcd-Cluster-ID", format_id(local.cluster_id))];
    if let Err(e) = local.check_headers(
        header("X-Server-Version").as_deref(),
        header("X-Min-Cluster-Version").as_deref(),
        header("X-Etcd-Cluster-ID").as_deref(),
    ) {
        return Reply::error(h, 412, e.to_string(), e);
    }
    let decode_failed = |e: Error| {
        let text = format!("failed to decode raft message ({e})");
        Reply::error(h.clone(), 400, text, e)
    };
    let len = match read_prefix(&mut body).await {
        Ok(len) if len > limits.envelope => return decode_failed(Error::ExceedSizeLimit),
        Ok(len) => len,
        Err(e) => return decode_failed(e),
    };
    let Some(_reserved) = limits.budget.try_reserve(len) else {
        let e = Error::Busy(format!(
            "snapshot receiver busy: a {len}-byte envelope does not fit the envelope budget \
             ({} of {} bytes held by other uploads), retry later",
            limits.budget.held(),
            limits.budget.total()
        ));
        return Reply::error(h.clone(), 503, e.to_string(), e);
    };
    let DecodedMessage { message, raw } = match read_message_raw(&mut body, len).await {
        Ok(m) => m,
        Err(e) => return decode_failed(e),
    };
    if message.r#type != pb::MessageType::MsgSnap as i32 {
        let e = Error::InvalidArgument(format!("wrong raft message type {}", message.r#type));
        return Reply::error(h, 400, "wrong raft message type".into(), e);
    }
    let index = message.snapshot.metadata.index;
    let db_bytes = match snapshotter.save_db_from(body, index).await {
        Ok(n) => n,
        Err(e) => {
            let text = format!("failed to save KV snapshot ({e})");
            return Reply::error(h, 500, text, e);
        }
    };
    if let Err(e) = process(message.clone()).await {
        let text = match e {
            Error::MemberRemoved => {
                return Reply::error(
                    h,
                    403,
                    "cannot process message from removed member".into(),
                    e,
                );
            }
            _ => format!("failed to process raft message ({e})"),
        };
        return Reply::error(h, 500, text, e);
    }
    Reply {
        status: 204,
        headers: h,
        body: String::new(),
        outcome: Ok(Received {
            db_path: db_path(snapshotter, index),
            message,
            raw,
            db_bytes,
        }),
    }
}

/// The name `SaveDBFrom` stores `index` under, as the backend shows it.
pub fn db_path<S: Storage>(snapshotter: &Snapshotter<S>, index: u64) -> String {
    snapshotter.storage().path_of(&names::db_name(index))
}
