//! The seam between the command layer and the platform it runs on: everything a subcommand
//! does that is not the library itself (stdio, terminals, plain files, the network) goes
//! through [`Host`], so parsing, library calls and every printed byte are written once
//! (issue 8). Snap folders are opened through [`Host::storage`], the platform's
//! [`Storage`] backend; all directory rules stay in the library.
//!
//! Two hosts exist: the native one (src/cli/native.rs: std::fs, src/http over tokio) and, in
//! wasm, the Node one (src/cli/node.rs: `node:fs`, `node:http`, the package's stdio handed
//! in by `pkg-config/cli.cjs`).

#![allow(async_fn_in_trait)]

use std::path::Path;
use std::rc::Rc;

use futures_io::{AsyncRead, AsyncWrite};

use crate::inspect::PageSource;
use crate::transport::SenderHeaders;
use crate::{Message, Options, Result, Storage};

/// One of the two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output: results.
    Stdout,
    /// Standard error: failures, warnings, the progress bar.
    Stderr,
}

/// What `send` asks the host's HTTP client to do.
#[derive(Debug, Clone)]
pub struct SendRequest {
    /// The peer URL as given (`http://host:port`).
    pub peer_url: String,
    /// etcd's sender headers.
    pub headers: SenderHeaders,
}

/// A successful `send`.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The peer's status (204).
    pub status: u16,
    /// The URL posted to.
    pub url: String,
    /// Body bytes sent: length prefix + message + db.
    pub bytes: u64,
    /// Wall time of the whole POST, milliseconds.
    pub elapsed_ms: u128,
}

/// What `serve-snapshots` asks the host's HTTP server to do.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// `host:port` to listen on.
    pub listen: String,
    /// The cluster ID requests must name.
    pub cluster_id: u64,
    /// Largest accepted envelope, bytes.
    pub limit: u64,
    /// Envelope bytes all uploads may hold at once.
    pub envelope_budget: u64,
    /// Connections served at once.
    pub max_connections: u64,
    /// Deadline for a request head (and idle keep-alive), ms; 0 disables it.
    pub header_timeout_ms: u64,
}

/// Called with each text line the server prints: `{"listening":ADDR}` first, then one
/// `ReplyLine` JSON per request (both shaped by the library, printed by the command layer).
pub type LinePrinter = Rc<dyn Fn(&str)>;

/// The platform under the command layer.
pub trait Host: Clone + 'static {
    /// A snap folder's backend.
    type Storage: Storage + 'static;
    /// A plain input file, read front to back.
    type File: AsyncRead + Unpin;
    /// Standard input.
    type Stdin: AsyncRead + Unpin;
    /// A plain output file (`frame`'s OUT).
    type Output: AsyncWrite + Unpin;
    /// A db file read with positioned reads (`status`, `keys`, `ls`'s db verdict).
    type Source: PageSource;

    /// Writes `bytes` to stdout whole and flushes; a failure is `write /dev/stdout: ...`.
    fn write_stdout(&self, bytes: &[u8]) -> Result<()>;
    /// Writes `bytes` to stderr (best effort: there is nowhere left to report a failure).
    fn write_stderr(&self, bytes: &[u8]);
    /// Whether `stream` is a terminal (colours in clap's messages, `savedb`'s progress bar).
    fn is_terminal(&self, stream: Stream) -> bool;
    /// A monotonic-enough clock in milliseconds (the progress bar's rate).
    fn now_ms(&self) -> f64;

    /// The snap folder `dir` (no I/O yet, like etcd's `snap.New`).
    fn storage(&self, dir: &Path) -> Result<Self::Storage>;
    /// `mkdir -p dir` (op `mkdir` in errors).
    fn create_dir_all(&self, dir: &Path) -> Result<()>;
    /// A whole small file (`save`'s DATAFILE, `--data`); op `open` in errors.
    fn read_file(&self, path: &Path) -> Result<Vec<u8>>;
    /// A file to stream and its size at open; ops `open` / `stat` in errors.
    fn open_file(&self, path: &Path) -> Result<(Self::File, u64)>;
    /// Standard input as a stream.
    fn stdin(&self) -> Self::Stdin;
    /// Creates or truncates `path` for writing; op `open` in errors.
    fn create_file(&self, path: &Path) -> Result<Self::Output>;
    /// A db file for positioned reads; op `open` in errors, a directory is `IsADirectory`.
    fn open_source(&self, path: &Path) -> Result<Self::Source>;
    /// The entry `name` (as the storage lists it) of the folder `dir`, as [`open_source`].
    ///
    /// [`open_source`]: Host::open_source
    fn open_entry_source(&self, dir: &Path, name: &str) -> Result<Self::Source>;

    /// POSTs `msg` to the peer as etcd's snapshot sender does.
    async fn send(&self, req: &SendRequest, msg: Message<Self::File>) -> Result<Sent>;
    /// Serves etcd's `/raft/snapshot` handler on `cfg.listen`, storing into `dir` opened
    /// with `options`, printing through `print`; returns only on failure.
    async fn serve(
        &self,
        dir: &Path,
        options: Options,
        cfg: &ServeConfig,
        print: LinePrinter,
    ) -> Result<()>;
}
