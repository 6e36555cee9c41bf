//! etcd's snapshot handler served over hyper (HTTP/1.1), one `spawn_local` task per connection.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::error::Result;
use crate::pb;
use crate::snapshotter::Snapshotter;
use crate::storage::Storage;
use crate::transport::{DEFAULT_ENVELOPE_LIMIT, LocalPeer, Reply, SNAPSHOT_PATH, receive};

/// Default body stall limit: generous next to etcd's 5 s read deadline, which fails snapshots
/// on slow disks and links (etcd#16377).
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// etcd's `Raft.Process`: called with each stored MsgSnap before the 204 is sent.
pub type Process = Rc<dyn Fn(pb::Message) -> Pin<Box<dyn Future<Output = Result<()>>>>>;

/// Sees every reply before it is sent (logging, metrics).
pub type Observer = Rc<dyn Fn(&Reply)>;

/// A `/raft/snapshot` endpoint storing into one snap folder.
pub struct SnapshotReceiver<S: Storage> {
    snapshotter: Snapshotter<S>,
    local: LocalPeer,
    limit: u64,
    process: Process,
    observe: Option<Observer>,
    idle: std::time::Duration,
}

impl<S: Storage + 'static> SnapshotReceiver<S> {
    /// A receiver for `local`'s cluster with the default 64 MiB envelope cap and a `process`
    /// that accepts every message.
    pub fn new(snapshotter: Snapshotter<S>, local: LocalPeer) -> Self {
        SnapshotReceiver {
            snapshotter,
            local,
            limit: DEFAULT_ENVELOPE_LIMIT,
            process: Rc::new(|_| Box::pin(async { Ok(()) })),
            observe: None,
            idle: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// Sets the envelope cap (`rafthttp: error limit exceeded` above it).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// Sets etcd's `Raft.Process` step.
    pub fn with_process(mut self, process: Process) -> Self {
        self.process = process;
        self
    }

    /// Sets how long the body may stall between frames before the upload fails with
    /// `i/o timeout` (default [`DEFAULT_IDLE_TIMEOUT`]).
    pub fn with_idle_timeout(mut self, idle: std::time::Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Calls `observe` with every reply (after the handler, before it is sent), e.g. to log.
    pub fn with_observer(mut self, observe: Observer) -> Self {
        self.observe = Some(observe);
        self
    }

    /// The snap folder.
    pub fn snapshotter(&self) -> &Snapshotter<S> {
        &self.snapshotter
    }

    /// Answers one request; any path other than `/raft/snapshot` is Go's `404 page not found`.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.uri().path() != SNAPSHOT_PATH {
            return Response::builder()
                .status(404)
                .header("Content-Type", "text/plain; charset=utf-8")
                .header("X-Content-Type-Options", "nosniff")
                .body(Full::new(Bytes::from_static(b"404 page not found\n")))
                .expect("static response");
        }
        let (parts, body) = req.into_parts();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let process = self.process.clone();
        let mut reader = super::body::incoming_reader(body, self.idle);
        let reply = receive(
            &self.snapshotter,
            &self.local,
            self.limit,
            parts.method.as_str(),
            header,
            &mut reader,
            move |m| process(m),
        )
        .await;
        if reply.status != 204 {
            // Refused before the body ended: read the rest in the background, so the sender
            // gets the reply instead of a reset connection (closing a socket with unread input
            // resets it). Go's server drains too, up to 256 KiB; this drains a whole upload.
            tokio::task::spawn_local(super::body::drain(reader));
        }
        if let Some(observe) = &self.observe {
            observe(&reply);
        }
        let mut resp = Response::builder().status(reply.status);
        for (k, v) in &reply.headers {
            resp = resp.header(*k, v.as_str());
        }
        resp.body(Full::new(Bytes::from(reply.body)))
            .expect("valid status and headers")
    }
}

/// Serves `receiver` on `listener` until the listener fails. Must run inside a
/// [`tokio::task::LocalSet`]; each connection is a local task.
pub async fn serve<S: Storage + 'static>(
    listener: tokio::net::TcpListener,
    receiver: Rc<SnapshotReceiver<S>>,
) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let receiver = receiver.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |req| {
                let receiver = receiver.clone();
                async move { Ok::<_, Infallible>(receiver.handle(req).await) }
            });
            // A peer that hangs up mid-request only ends its own connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
