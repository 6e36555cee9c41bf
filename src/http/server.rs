//! etcd's snapshot handler served over hyper (HTTP/1.1), one `spawn_local` task per connection.
//!
//! Bounded against idle and hostile peers (issue 9, item 2): request headers must arrive within
//! [`DEFAULT_HEADER_TIMEOUT`] (hyper's `header_read_timeout`, which also closes a kept-alive
//! connection that sends no next request), at most [`DEFAULT_MAX_CONNECTIONS`] connections are
//! served at once (beyond that the server stops accepting: new peers wait in the kernel's listen
//! backlog, holding none of our file descriptors), and an accept error (`EMFILE` and the like)
//! never ends the server: it is reported, then accepting resumes after a back-off of 10 ms
//! doubling to 1 s.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::error::Result;
use crate::pb;
use crate::snapshotter::Snapshotter;
use crate::storage::Storage;
use crate::transport::{
    EnvelopeBudget, Limits, LocalPeer, Reply, is_snapshot_path, not_found, receive,
};

/// Default body stall limit: generous next to etcd's 5 s read deadline, which fails snapshots
/// on slow disks and links (etcd#16377).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default time a connection gets to deliver a complete request head, counted from accept (or
/// from the end of the previous response on a kept-alive connection); then it is closed.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Default bound on connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// First and last pause after a failed `accept`.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// etcd's `Raft.Process`: called with each stored MsgSnap before the 204 is sent.
pub type Process = Rc<dyn Fn(pb::Message) -> Pin<Box<dyn Future<Output = Result<()>>>>>;

/// Sees every reply before it is sent (logging, metrics).
pub type Observer = Rc<dyn Fn(&Reply)>;

/// Told about each failed `accept` and the pause before the next try.
pub type AcceptErrorHook = Rc<dyn Fn(&std::io::Error, Duration)>;

/// A `/raft/snapshot` endpoint storing into one snap folder.
pub struct SnapshotReceiver<S: Storage> {
    snapshotter: Snapshotter<S>,
    local: LocalPeer,
    limits: Limits,
    process: Process,
    observe: Option<Observer>,
    idle: Duration,
    header_timeout: Duration,
    max_connections: usize,
    on_accept_error: AcceptErrorHook,
}

impl<S: Storage + 'static> SnapshotReceiver<S> {
    /// A receiver for `local`'s cluster with the defaults: 64 MiB envelope cap, 256 MiB
    /// envelope budget, [`DEFAULT_IDLE_TIMEOUT`], [`DEFAULT_HEADER_TIMEOUT`],
    /// [`DEFAULT_MAX_CONNECTIONS`], accept errors printed to stderr, and a `process` that
    /// accepts every message.
    pub fn new(snapshotter: Snapshotter<S>, local: LocalPeer) -> Self {
        SnapshotReceiver {
            snapshotter,
            local,
            limits: Limits::default(),
            process: Rc::new(|_| Box::pin(async { Ok(()) })),
            observe: None,
            idle: DEFAULT_IDLE_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            on_accept_error: Rc::new(|e, pause| {
                eprintln!(
                    "etcd-snap: accept: {} (retrying in {} ms)",
                    crate::error::go_reason(e),
                    pause.as_millis()
                );
            }),
        }
    }

    /// Sets the envelope cap (`rafthttp: error limit exceeded` above it).
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limits.envelope = limit;
        self
    }

    /// Sets the bytes of envelopes all uploads may hold at once (default
    /// [`DEFAULT_ENVELOPE_BUDGET`](crate::transport::DEFAULT_ENVELOPE_BUDGET)); an upload whose
    /// envelope does not fit gets 503 (see [`EnvelopeBudget`]).
    pub fn with_envelope_budget(mut self, bytes: u64) -> Self {
        self.limits.budget = EnvelopeBudget::new(bytes);
        self
    }

    /// Sets etcd's `Raft.Process` step.
    pub fn with_process(mut self, process: Process) -> Self {
        self.process = process;
        self
    }

    /// Sets how long the body may stall between frames before the upload fails with
    /// `i/o timeout` (default [`DEFAULT_IDLE_TIMEOUT`]).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Sets how long a connection may take to send a request head, and how long a kept-alive
    /// connection may sit idle, before it is closed (default [`DEFAULT_HEADER_TIMEOUT`]; zero
    /// disables the deadline, as `headersTimeout: 0` does in Node).
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets how many connections are served at once (default [`DEFAULT_MAX_CONNECTIONS`];
    /// at least 1). Beyond it, [`serve`] stops accepting until one closes.
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        self
    }

    /// Replaces the stderr line printed for each failed `accept`.
    pub fn with_accept_error_hook(mut self, hook: AcceptErrorHook) -> Self {
        self.on_accept_error = hook;
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

    /// The envelope budget shared by this receiver's requests.
    pub fn envelope_budget(&self) -> &EnvelopeBudget {
        &self.limits.budget
    }

    /// Answers one request; any path other than `/raft/snapshot` is Go's `404 page not found`.
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        if !is_snapshot_path(path) {
            return to_response(not_found(path));
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
            &self.limits,
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
        to_response(reply)
    }
}

/// A [`Reply`] as hyper's response: etcd's status, headers in etcd's order, and the body.
fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut resp = Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(*k, v.as_str());
    }
    resp.body(Full::new(Bytes::from(reply.body)))
        .expect("valid status and headers")
}

/// Serves `receiver` on `listener`, forever: a failed `accept` is reported to the receiver's
/// accept-error hook and retried after a back-off (10 ms doubling to 1 s, reset by the next
/// success), so running out of file descriptors only slows accepting down. Must run inside a
/// [`tokio::task::LocalSet`]; each connection is a local task.
pub async fn serve<S: Storage + 'static>(
    listener: tokio::net::TcpListener,
    receiver: Rc<SnapshotReceiver<S>>,
) -> Infallible {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(receiver.max_connections));
    let mut backoff: Option<Duration> = None;
    loop {
        let slot = slots.clone().acquire_owned().await.expect("never closed");
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff = None;
                stream
            }
            Err(e) => {
                let pause = backoff.map_or(ACCEPT_BACKOFF.0, |d| (d * 2).min(ACCEPT_BACKOFF.1));
                backoff = Some(pause);
                (receiver.on_accept_error)(&e, pause);
                drop(slot);
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let receiver = receiver.clone();
        tokio::task::spawn_local(async move {
            let _slot = slot;
            let header_timeout = receiver.header_timeout;
            let service = hyper::service::service_fn(move |req| {
                let receiver = receiver.clone();
                async move { Ok::<_, Infallible>(receiver.handle(req).await) }
            });
            // A peer that hangs up mid-request only ends its own connection. half_close: a
            // sender that shuts down its side mid-body still reads etcd's 500 (unexpected EOF).
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout((!header_timeout.is_zero()).then_some(header_timeout))
                .half_close(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
