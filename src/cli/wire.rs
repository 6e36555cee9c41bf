//! The rafthttp snapshot stream (`POST /raft/snapshot` bodies): `frame`, `unframe`, `send`,
//! `serve-snapshots`. The framing and handler rules live in `crate::transport`; the HTTP
//! client and server are the host's ([`Host::send`], [`Host::serve`]): natively src/http,
//! in the npm package `node:http` around the same `transport` code.

use std::path::{Path, PathBuf};
use std::pin::Pin;
#[cfg(any(feature = "http", target_arch = "wasm32"))]
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;
use clap::{Args, Subcommand};
use futures_util::future::Either;
use serde::Serialize;
use sha2::Digest as _;

use super::host::Host;
#[cfg(any(feature = "http", target_arch = "wasm32"))]
use super::host::{SendRequest, ServeConfig};
use super::print;
use super::snap::LockArgs;
use crate::pb::{self, ConfState, MessageType, Snapshot, SnapshotMetadata};
use crate::summary::hex;
#[cfg(any(feature = "http", target_arch = "wasm32"))]
use crate::transport::SenderHeaders;
use crate::transport::{self, DEFAULT_ENVELOPE_LIMIT};
use crate::{Error, Options, Result, Snapshotter};

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
        lock: LockArgs,
    },
    /// Stream a snapshot to an etcd peer (POST PEER_URL/raft/snapshot, chunked, etcd's
    /// headers); prints {"status":204,...} on success.
    #[cfg(any(feature = "http", target_arch = "wasm32"))]
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
    #[cfg(any(feature = "http", target_arch = "wasm32"))]
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
        lock: LockArgs,
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

#[cfg(any(feature = "http", target_arch = "wasm32"))]
fn parse_hex(s: &str) -> std::result::Result<u64, String> {
    transport::peer::parse_id(s).map_err(|e| e.to_string())
}

impl MsgArgs {
    fn message<H: Host>(&self, host: &H) -> Result<pb::Message> {
        let data = match &self.data {
            Some(p) => Some(Bytes::from(host.read_file(p)?)),
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
}

impl WireCmd {
    /// Runs the subcommand on `host`.
    pub async fn run<H: Host>(self, host: &H) -> Result<()> {
        match self {
            WireCmd::Frame { out, msg } => frame(host, &out, &msg).await,
            WireCmd::Unframe {
                input,
                dir,
                limit,
                lock,
            } => unframe(host, &input, &dir, limit, lock.options()).await,
            #[cfg(any(feature = "http", target_arch = "wasm32"))]
            WireCmd::Send {
                peer_url,
                msg,
                cluster_id,
                server_version,
                peer_urls,
            } => send(host, peer_url, &msg, cluster_id, server_version, &peer_urls).await,
            #[cfg(any(feature = "http", target_arch = "wasm32"))]
            WireCmd::ServeSnapshots {
                dir,
                listen,
                cluster_id,
                limit,
                bounds,
                lock,
            } => {
                let cfg = ServeConfig {
                    listen,
                    cluster_id,
                    limit,
                    envelope_budget: bounds.envelope_budget,
                    max_connections: bounds.max_connections,
                    header_timeout_ms: bounds.header_timeout_ms,
                };
                serve(host, &dir, &cfg, lock.options()).await
            }
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

async fn frame<H: Host>(host: &H, out: &Path, args: &MsgArgs) -> Result<()> {
    let m = args.message(host)?;
    let (db, size) = host.open_file(&args.dbfile)?;
    let (mut msg, _) = crate::Message::new(m, db, size)?;
    let file = host.create_file(out)?;
    let mut sink = HashWriter::new(futures_util::io::BufWriter::with_capacity(1 << 20, file));
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
        .map_err(|e| Error::os("write", out.display().to_string(), &e))?;
    msg.close_with_error(None)?;
    print::json(
        host,
        &Framed {
            path: out.display().to_string(),
            bytes,
            length_prefix,
            db_bytes: size,
            sha256: hex(&sink.hash.finalize()),
        },
    )
}

async fn unframe<H: Host>(
    host: &H,
    input: &str,
    dir: &Path,
    limit: u64,
    options: Options,
) -> Result<()> {
    let reader = match input {
        "-" => Either::Right(host.stdin()),
        f => Either::Left(host.open_file(Path::new(f))?.0),
    };
    let r = futures_util::io::BufReader::with_capacity(1 << 20, reader);
    host.create_dir_all(dir)?;
    let s = Snapshotter::open(host.storage(dir)?, options).await?;
    print::json(host, &transport::unframe(&s, r, limit).await?)
}

#[cfg(any(feature = "http", target_arch = "wasm32"))]
#[derive(Serialize)]
struct SendResult {
    status: u16,
    url: String,
    bytes: u64,
    db_bytes: u64,
    elapsed_ms: u128,
}

#[cfg(any(feature = "http", target_arch = "wasm32"))]
async fn send<H: Host>(
    host: &H,
    peer_url: String,
    args: &MsgArgs,
    cluster_id: u64,
    server_version: String,
    peer_urls: &str,
) -> Result<()> {
    let m = args.message(host)?;
    let (db, size) = host.open_file(&args.dbfile)?;
    let (msg, _) = crate::Message::new(m, db, size)?;
    let mut headers = SenderHeaders::new(args.from, cluster_id);
    headers.server_version = server_version;
    headers.peer_urls = peer_urls
        .split(',')
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    let sent = host.send(&SendRequest { peer_url, headers }, msg).await?;
    print::json(
        host,
        &SendResult {
            status: sent.status,
            url: sent.url,
            bytes: sent.bytes,
            db_bytes: size,
            elapsed_ms: sent.elapsed_ms,
        },
    )
}

/// The first line `serve-snapshots` prints: `{"listening":ADDR}`.
#[cfg(any(feature = "http", target_arch = "wasm32"))]
pub(super) fn listening_line(addr: &str) -> Result<String> {
    print::to_json(&serde_json::json!({ "listening": addr }))
}

/// Serves until killed; each line the server reports (`{"listening":..}`, then one
/// `ReplyLine` per request) is printed as it comes.
#[cfg(any(feature = "http", target_arch = "wasm32"))]
async fn serve<H: Host>(host: &H, dir: &Path, cfg: &ServeConfig, options: Options) -> Result<()> {
    host.create_dir_all(dir)?;
    let h = host.clone();
    let printer = Rc::new(move |line: &str| {
        let _ = print::text(&h, line);
    });
    host.serve(dir, options, cfg, printer).await
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
