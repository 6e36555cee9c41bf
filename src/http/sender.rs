//! etcd's snapshot sender (`send` in etcd etcdserver/api/rafthttp/snapshot_sender.go:69) over hyper.

use std::pin::pin;
use std::time::{Duration, Instant};

use futures_channel::mpsc;
use futures_io::AsyncRead;
use http_body_util::{BodyExt as _, Limited, StreamBody};
use hyper::Request;
use hyper_util::rt::TokioIo;

use crate::error::{Error, Result, go_reason};
use crate::http::body::{Chunk, pump};
use crate::message::Message;
use crate::transport::{SNAPSHOT_PATH, SenderHeaders, check_post_response, encoder};

/// How the sender behaves besides what it sends.
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// Headers (member, cluster, versions, peer URLs).
    pub headers: SenderHeaders,
    /// Limit on reading the reply body once the headers are in (etcd: 5 s).
    pub response_timeout: Duration,
    /// Limit on opening the connection (etcd's peer dial timeout is about 1 s).
    pub connect_timeout: Duration,
}

impl SendOptions {
    /// etcd 3.4.23's headers for `from` in `cluster_id`, and its 5 s reply timeout.
    pub fn new(from: u64, cluster_id: u64) -> Self {
        SendOptions {
            headers: SenderHeaders::new(from, cluster_id),
            response_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A successful send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The peer's status (always 204 on success).
    pub status: u16,
    /// The URL posted to.
    pub url: String,
    /// Body bytes sent: length prefix + message + db.
    pub bytes: u64,
    /// Wall time of the whole POST.
    pub elapsed: Duration,
}

/// Streams `m` to the peer at `peer_url` (`http://host:port`; any path is replaced by
/// `/raft/snapshot`, as etcd does), chunked, with etcd's headers. Then closes `m` with the
/// outcome, so its close notification is `true` only on a 204 with the db read to exactly its
/// declared size. Returns that same outcome: the body's own error if the db stream failed or had
/// the wrong size (the upload is aborted, so the peer stores nothing), else the reply mapped as
/// etcd's `checkPostResponse`.
pub async fn send_snapshot<R: AsyncRead + Unpin>(
    peer_url: &str,
    mut m: Message<R>,
    opts: &SendOptions,
) -> Result<Sent> {
    let start = Instant::now();
    let posted = post(peer_url, &mut m, opts).await;
    let (result, url, bytes) = match posted {
        Ok((url, bytes)) => (Ok(()), url, bytes),
        Err(e) => (Err(e), String::new(), 0),
    };
    m.close_with_error(result.err())?;
    Ok(Sent {
        status: 204,
        url,
        bytes,
        elapsed: start.elapsed(),
    })
}

/// `http://host:port[/...]` → (`http://host:port/raft/snapshot`, `host:port` to dial, Host
/// header).
fn snapshot_url(peer_url: &str) -> Result<(String, String, String)> {
    let uri: hyper::Uri = peer_url
        .parse()
        .map_err(|e| Error::InvalidArgument(format!("invalid peer URL {peer_url:?}: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(Error::InvalidArgument(format!(
                "peer URL {peer_url:?}: https (TLS) peers are not supported"
            )));
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "invalid peer URL {peer_url:?}: want http://host:port"
            )));
        }
    }
    let auth = uri
        .authority()
        .ok_or_else(|| Error::InvalidArgument(format!("invalid peer URL {peer_url:?}: no host")))?;
    let hostport = match auth.port_u16() {
        Some(_) => auth.as_str().to_string(),
        None => format!("{}:80", auth.host()),
    };
    Ok((
        format!("http://{}{SNAPSHOT_PATH}", auth.as_str()),
        hostport,
        auth.as_str().to_string(),
    ))
}

async fn post<R: AsyncRead + Unpin>(
    peer_url: &str,
    m: &mut Message<R>,
    opts: &SendOptions,
) -> Result<(String, u64)> {
    let (url, hostport, host) = snapshot_url(peer_url)?;
    let fail = |detail: String| Error::Transport {
        url: url.clone(),
        detail,
    };
    let tcp = tokio::time::timeout(
        opts.connect_timeout,
        tokio::net::TcpStream::connect(&hostport),
    )
    .await
    .map_err(|_| fail(format!("dial tcp {hostport}: i/o timeout")))?
    .map_err(|e| fail(format!("dial tcp {hostport}: connect: {}", go_reason(&e))))?;
    let _ = tcp.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<
        _,
        StreamBody<mpsc::Receiver<Chunk>>,
    >(TokioIo::new(tcp))
    .await
    .map_err(|e| fail(e.to_string()))?;
    let conn = tokio::spawn(conn);

    let (tx, rx) = mpsc::channel::<Chunk>(2);
    // Origin-form request target, as Go's client sends it.
    let mut req = Request::post(SNAPSHOT_PATH).header(hyper::header::HOST, host.as_str());
    for (k, v) in opts.headers.to_pairs() {
        req = req.header(k, v);
    }
    let req = req
        .body(StreamBody::new(rx))
        .map_err(|e| Error::InvalidArgument(format!("bad request header: {e}")))?;

    // Upload and wait for the reply together; the body borrows the message, so it is pumped
    // here rather than in a spawned task.
    let (resp, pumped) = {
        let mut pumped: Option<Result<u64>> = None;
        let mut upload = pin!(pump(encoder(&m.message, &mut m.body), tx));
        let mut reply = pin!(sender.send_request(req));
        let resp = loop {
            tokio::select! {
                biased;
                r = &mut upload, if pumped.is_none() => pumped = Some(r),
                r = &mut reply => break r,
            }
        };
        (resp, pumped)
    };
    let sent = match pumped {
        Some(Err(e)) => {
            conn.abort();
            return Err(e);
        }
        Some(Ok(n)) => n,
        None => 0,
    };
    let resp = resp.map_err(|e| {
        conn.abort();
        fail(e.to_string())
    })?;
    let status = resp.status().as_u16();
    let body = Limited::new(resp.into_body(), 64 << 10).collect();
    let body = match tokio::time::timeout(opts.response_timeout, body).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => return Err(fail(format!("reading reply: {e}"))),
        Err(_) => return Err(fail("reading reply: timeout".into())),
    };
    drop(sender);
    conn.abort();
    check_post_response(status, &body, &url)?;
    Ok((url, sent))
}
