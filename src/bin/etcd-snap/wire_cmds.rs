//! The rafthttp snapshot stream (`POST /raft/snapshot` bodies): `frame`, `unframe`, `send`,
//! `serve-snapshots`. The framing and handler rules live in `etcd_snap::transport`; the HTTP
//! side in `etcd_snap::http` (feature `http`, on by default).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use clap::{Args, Subcommand};
use futures_executor::block_on;
use futures_util::io::AllowStdIo;
use serde::Serialize;
use sha2::Digest as _;

use etcd_snap::pb::{self, ConfState, MessageType, Snapshot, SnapshotMetadata};
use etcd_snap::storage::NativeStorage;
use etcd_snap::summary::hex;
use etcd_snap::transport::{self, DEFAULT_ENVELOPE_LIMIT};
use etcd_snap::{Error, Options, Result, Snapshotter};

use crate::print_json;

/// rafthttp snapshot stream subcommands.
#[derive(Debug, Subcommand)]
pub enum WireCmd {
    /// Write the exact `POST /raft/snapshot` body etcd's sender would send for a MsgSnap at
    /// TERM/INDEX carrying DBFILE; prints {"path","bytes","length_prefix","db_bytes","sha256"}.
    Frame {
        /// Output file.
        out: PathBuf,
        #[command(flatten)]
        msg: MsgArgs,
    },
    /// Decode a snapshot body: store its db with SaveDBFrom in DIR and print the message as
    /// JSON with {"db_path","db_bytes","db_sha256"}.
    Unframe {
        /// The body (`-` reads standard input).
        input: String,
        /// The snap folder to store `%016x.snap.db` in (created if missing).
        dir: PathBuf,
        /// Largest accepted envelope (length prefix), bytes; etcd 3.6.14+ uses 64 MiB.
        #[arg(long, default_value_t = DEFAULT_ENVELOPE_LIMIT)]
        limit: u64,
        #[command(flatten)]
        lock: crate::snap_cmds::LockArgs,
    },
    /// Stream a snapshot to an etcd peer (POST PEER_URL/raft/snapshot, chunked, etcd's
    /// headers); prints {"status":204,...} on success.
    #[cfg(feature = "http")]
    Send {
        /// The peer URL, e.g. http://127.0.0.1:2380.
        peer_url: String,
        #[command(flatten)]
        msg: MsgArgs,
        /// Cluster ID, hex (as `etcdctl member list -w table` prints it).
        #[arg(long, value_name = "HEX", value_parser = parse_hex)]
        cluster_id: u64,
        /// Server version sent in X-Server-Version.
        #[arg(long, default_value = "3.4.23")]
        server_version: String,
        /// Comma-separated local peer URLs sent in X-PeerURLs (none by default).
        #[arg(long, default_value = "")]
        peer_urls: String,
    },
    /// Receive snapshots as an etcd peer's /raft/snapshot handler does, storing each db in DIR;
    /// prints {"listening":ADDR}, then one JSON line per request.
    #[cfg(feature = "http")]
    ServeSnapshots {
        /// The snap folder (created if missing).
        dir: PathBuf,
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:2380")]
        listen: String,
        /// Cluster ID, hex; requests naming another get 412.
        #[arg(long, value_name = "HEX", value_parser = parse_hex)]
        cluster_id: u64,
        /// Largest accepted envelope, bytes.
        #[arg(long, default_value_t = DEFAULT_ENVELOPE_LIMIT)]
        limit: u64,
        #[command(flatten)]
        bounds: ServeBounds,
        #[command(flatten)]
        lock: crate::snap_cmds::LockArgs,
    },
}

/// What `serve-snapshots` holds at most at once (docs/transport.md, "Receiver bounds").
#[derive(Debug, Args)]
pub struct ServeBounds {
    /// Envelope bytes all uploads may hold at once; an upload beyond it gets 503.
    #[arg(long, value_name = "BYTES", default_value_t = transport::DEFAULT_ENVELOPE_BUDGET)]
    envelope_budget: u64,
    /// Connections served at once (at least 1); more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = 256)]
    max_connections: u64,
    /// Time a connection gets to send its request head (and may sit idle between requests);
    /// 0 disables the deadline.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    header_timeout_ms: u64,
}

/// The MsgSnap to build; defaults are etcd's zero values.
#[derive(Debug, Args)]
pub struct MsgArgs {
    /// Snapshot term (Snapshot.Metadata.Term).
    term: u64,
    /// Snapshot index (Snapshot.Metadata.Index); names the stored `%016x.snap.db`.
    index: u64,
    /// The db to carry (`-` reads standard input, for `frame` only when its size is unknown).
    dbfile: PathBuf,
    /// Sender member ID (decimal, or hex with 0x).
    #[arg(long, default_value = "0", value_parser = parse_id)]
    from: u64,
    /// Receiver member ID (decimal, or hex with 0x).
    #[arg(long, default_value = "0", value_parser = parse_id)]
    to: u64,
    /// Message term (Message.Term); defaults to TERM.
    #[arg(long)]
    msg_term: Option<u64>,
    /// Message commit index.
    #[arg(long, default_value_t = 0)]
    commit: u64,
    /// File holding Snapshot.Data (v2 store JSON in etcd 3.4); absent leaves Data nil.
    #[arg(long)]
    data: Option<PathBuf>,
    /// ConfState voters, comma-separated decimal member IDs.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    voters: Vec<u64>,
    /// ConfState learners, comma-separated decimal member IDs.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    learners: Vec<u64>,
}

fn parse_id(s: &str) -> std::result::Result<u64, String> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("bad ID {s:?}: {e}"))
}

fn parse_hex(s: &str) -> std::result::Result<u64, String> {
    transport::peer::parse_id(s).map_err(|e| e.to_string())
}

impl MsgArgs {
    fn message(&self) -> Result<pb::Message> {
        let data = match &self.data {
            Some(p) => Some(Bytes::from(
                std::fs::read(p).map_err(|e| fs_error("open", p, &e))?,
            )),
            None => None,
        };
        Ok(pb::Message {
            r#type: MessageType::MsgSnap as i32,
            to: self.to,
            from: self.from,
            term: self.msg_term.unwrap_or(self.term),
            commit: self.commit,
            snapshot: Snapshot {
                data,
                metadata: SnapshotMetadata {
                    conf_state: ConfState {
                        voters: self.voters.clone(),
                        learners: self.learners.clone(),
                        ..Default::default()
                    },
                    index: self.index,
                    term: self.term,
                },
            },
            ..Default::default()
        })
    }

    /// The db file and its size (the declared size of the Message body).
    fn db(&self) -> Result<(std::fs::File, u64)> {
        let f =
            std::fs::File::open(&self.dbfile).map_err(|e| fs_error("open", &self.dbfile, &e))?;
        let size = f
            .metadata()
            .map_err(|e| fs_error("stat", &self.dbfile, &e))?
            .len();
        Ok((f, size))
    }
}

impl WireCmd {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            WireCmd::Frame { out, msg } => block_on(frame(&out, &msg)),
            WireCmd::Unframe {
                input,
                dir,
                limit,
                lock,
            } => block_on(unframe(&input, &dir, limit, lock.options())),
            #[cfg(feature = "http")]
            WireCmd::Send {
                peer_url,
                msg,
                cluster_id,
                server_version,
                peer_urls,
            } => net::send(&peer_url, &msg, cluster_id, server_version, &peer_urls),
            #[cfg(feature = "http")]
            WireCmd::ServeSnapshots {
                dir,
                listen,
                cluster_id,
                limit,
                bounds,
                lock,
            } => net::serve_snapshots(&dir, &listen, cluster_id, limit, &bounds, lock.options()),
        }
    }
}

#[derive(Serialize)]
struct Framed {
    path: String,
    bytes: u64,
    length_prefix: u64,
    db_bytes: u64,
    sha256: String,
}

async fn frame(out: &Path, args: &MsgArgs) -> Result<()> {
    let m = args.message()?;
    let (db, size) = args.db()?;
    let (mut msg, _) = etcd_snap::Message::new(m, AllowStdIo::new(db), size)?;
    let file = std::fs::File::create(out).map_err(|e| fs_error("open", out, &e))?;
    let mut sink = HashWriter::new(AllowStdIo::new(std::io::BufWriter::new(file)));
    let length_prefix = transport::encode_envelope(&msg.message).len() as u64 - 8;
    let framed = futures_util::io::BufReader::with_capacity(
        1 << 20,
        transport::encoder(&msg.message, &mut msg.body),
    );
    let bytes = futures_util::io::copy_buf(framed, &mut sink)
        .await
        .map_err(Error::from)?;
    use futures_util::io::AsyncWriteExt as _;
    sink.inner
        .flush()
        .await
        .map_err(|e| fs_error("write", out, &e))?;
    msg.close_with_error(None)?;
    print_json(&Framed {
        path: out.display().to_string(),
        bytes,
        length_prefix,
        db_bytes: size,
        sha256: hex(&sink.hash.finalize()),
    })
}

async fn unframe(input: &str, dir: &Path, limit: u64, options: Options) -> Result<()> {
    let reader: Box<dyn std::io::Read> = match input {
        "-" => Box::new(std::io::stdin().lock()),
        f => Box::new(std::fs::File::open(f).map_err(|e| fs_error("open", Path::new(f), &e))?),
    };
    let r = AllowStdIo::new(std::io::BufReader::with_capacity(1 << 20, reader));
    std::fs::create_dir_all(dir).map_err(|e| fs_error("mkdir", dir, &e))?;
    let s = Snapshotter::open(NativeStorage::new(dir), options).await?;
    print_json(&transport::unframe(&s, r, limit).await?)
}

/// SHA-256 of everything written through it.
struct HashWriter<W> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W> HashWriter<W> {
    fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hash: sha2::Sha256::new(),
        }
    }
}

impl<W: futures_util::io::AsyncWrite + Unpin> futures_util::io::AsyncWrite for HashWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            this.hash.update(&buf[..n]);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// A local file failure worded like Go's `*os.PathError`.
fn fs_error(op: &'static str, path: &Path, e: &std::io::Error) -> Error {
    Error::os(op, path.display().to_string(), e)
}

#[cfg(feature = "http")]
mod net {
    use std::path::Path;
    use std::rc::Rc;

    use serde::Serialize;
    use serde_json::json;

    use etcd_snap::http::{SendOptions, SnapshotReceiver, send_snapshot, serve};
    use etcd_snap::storage::NativeStorage;
    use etcd_snap::transport::{LocalPeer, Reply, ReplyLine};
    use etcd_snap::{Error, Options, Result, Snapshotter};
    use futures_util::io::AllowStdIo;

    use super::MsgArgs;
    use crate::print_json;

    fn runtime() -> Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::InvalidArgument(format!("tokio runtime: {e}")))
    }

    #[derive(Serialize)]
    struct SendResult {
        status: u16,
        url: String,
        bytes: u64,
        db_bytes: u64,
        elapsed_ms: u128,
    }

    pub(super) fn send(
        peer_url: &str,
        args: &MsgArgs,
        cluster_id: u64,
        server_version: String,
        peer_urls: &str,
    ) -> Result<()> {
        let m = args.message()?;
        let (db, size) = args.db()?;
        let (msg, _) = etcd_snap::Message::new(m, AllowStdIo::new(db), size)?;
        let mut opts = SendOptions::new(args.from, cluster_id);
        opts.headers.server_version = server_version;
        opts.headers.peer_urls = peer_urls
            .split(',')
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect();
        let sent = runtime()?.block_on(send_snapshot(peer_url, msg, &opts))?;
        print_json(&SendResult {
            status: sent.status,
            url: sent.url,
            bytes: sent.bytes,
            db_bytes: size,
            elapsed_ms: sent.elapsed.as_millis(),
        })
    }

    pub(super) fn serve_snapshots(
        dir: &Path,
        listen: &str,
        cluster_id: u64,
        limit: u64,
        bounds: &super::ServeBounds,
        options: Options,
    ) -> Result<()> {
        let rt = runtime()?;
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            std::fs::create_dir_all(dir).map_err(|e| super::fs_error("mkdir", dir, &e))?;
            let snap = Snapshotter::open(NativeStorage::new(dir), options).await?;
            let observe = Rc::new(|r: &Reply| {
                let _ = print_json(&ReplyLine::of(r));
            });
            let recv = SnapshotReceiver::new(snap, LocalPeer::new(cluster_id))
                .with_limit(limit)
                .with_envelope_budget(bounds.envelope_budget)
                .with_max_connections(usize::try_from(bounds.max_connections).unwrap_or(usize::MAX))
                .with_header_timeout(std::time::Duration::from_millis(bounds.header_timeout_ms))
                .with_observer(observe);
            let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
                Error::io(
                    etcd_snap::IoErrorKind::Other,
                    "listen",
                    listen,
                    etcd_snap::error::go_reason(&e),
                )
            })?;
            let addr = listener
                .local_addr()
                .map_err(|e| Error::InvalidArgument(e.to_string()))?;
            print_json(&json!({ "listening": addr.to_string() }))?;
            // Never returns: accept errors are printed and retried (etcd_snap::http::serve).
            match serve(listener, Rc::new(recv)).await {}
        })
    }
}
