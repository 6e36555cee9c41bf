//! The native [`Host`]: std's stdio and files, [`NativeStorage`], and src/http (hyper on a
//! current-thread tokio runtime) for `send` and `serve-snapshots`.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use futures_util::io::AllowStdIo;

use super::host::{Host, LinePrinter, SendRequest, Sent, ServeConfig, Stream};
use crate::inspect::FileSource;
use crate::storage::NativeStorage;
use crate::{Error, IoErrorKind, Message, Options, Result};

/// The process's own stdio, files and sockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct NativeHost;

/// Runs the command line of this process to completion; returns its exit status.
pub fn main() -> std::process::ExitCode {
    let code = futures_executor::block_on(super::run(&NativeHost, std::env::args_os()));
    std::process::ExitCode::from(code)
}

/// A failed write to stdout (closed pipe, full disk) as a storage error.
fn stdout_error(e: &std::io::Error) -> Error {
    Error::io(
        IoErrorKind::Other,
        "write",
        "/dev/stdout",
        crate::error::go_reason(e),
    )
}

fn os(op: &'static str, path: &Path, e: &std::io::Error) -> Error {
    Error::os(op, path.display().to_string(), e)
}

impl Host for NativeHost {
    type Storage = NativeStorage;
    type File = AllowStdIo<std::fs::File>;
    type Stdin = AllowStdIo<std::io::StdinLock<'static>>;
    type Output = AllowStdIo<std::fs::File>;
    type Source = FileSource;

    fn write_stdout(&self, bytes: &[u8]) -> Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| stdout_error(&e))
    }

    fn write_stderr(&self, bytes: &[u8]) {
        let _ = std::io::stderr().lock().write_all(bytes);
    }

    fn is_terminal(&self, stream: Stream) -> bool {
        match stream {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }

    fn now_ms(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    fn storage(&self, dir: &Path) -> Result<NativeStorage> {
        Ok(NativeStorage::new(dir))
    }

    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| os("mkdir", dir, &e))
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| os("open", path, &e))
    }

    fn open_file(&self, path: &Path) -> Result<(Self::File, u64)> {
        let f = std::fs::File::open(path).map_err(|e| os("open", path, &e))?;
        let size = f.metadata().map_err(|e| os("stat", path, &e))?.len();
        Ok((AllowStdIo::new(f), size))
    }

    fn stdin(&self) -> Self::Stdin {
        AllowStdIo::new(std::io::stdin().lock())
    }

    fn create_file(&self, path: &Path) -> Result<Self::Output> {
        std::fs::File::create(path)
            .map(AllowStdIo::new)
            .map_err(|e| os("open", path, &e))
    }

    fn open_source(&self, path: &Path) -> Result<FileSource> {
        FileSource::open(path)
    }

    fn open_entry_source(&self, dir: &Path, name: &str) -> Result<FileSource> {
        FileSource::open(raw_entry_path(dir, name))
    }

    async fn send(&self, req: &SendRequest, msg: Message<Self::File>) -> Result<Sent> {
        #[cfg(feature = "http")]
        {
            let mut opts = crate::http::SendOptions::new(req.headers.from, req.headers.cluster_id);
            opts.headers = req.headers.clone();
            let sent =
                runtime()?.block_on(crate::http::send_snapshot(&req.peer_url, msg, &opts))?;
            Ok(Sent {
                status: sent.status,
                url: sent.url,
                bytes: sent.bytes,
                elapsed_ms: sent.elapsed.as_millis(),
            })
        }
        #[cfg(not(feature = "http"))]
        {
            let _ = (req, msg);
            Err(no_http())
        }
    }

    async fn serve(
        &self,
        dir: &Path,
        options: Options,
        cfg: &ServeConfig,
        print: LinePrinter,
    ) -> Result<()> {
        #[cfg(feature = "http")]
        {
            serve(dir, options, cfg, print)
        }
        #[cfg(not(feature = "http"))]
        {
            let _ = (dir, options, cfg, print);
            Err(no_http())
        }
    }
}

/// The real path of a listed entry (its raw bytes, also when they are not UTF-8).
fn raw_entry_path(dir: &Path, name: &str) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let raw = crate::storage::raw_name::decode(name);
        dir.join(std::ffi::OsStr::from_bytes(&raw))
    }
    #[cfg(not(unix))]
    dir.join(name)
}

#[cfg(not(feature = "http"))]
fn no_http() -> Error {
    Error::io(
        IoErrorKind::Unsupported,
        "http",
        "",
        "built without the `http` feature",
    )
}

#[cfg(feature = "http")]
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::InvalidArgument(format!("tokio runtime: {e}")))
}

/// etcd's `/raft/snapshot` handler on a tokio listener, until the process is killed.
#[cfg(feature = "http")]
fn serve(dir: &Path, options: Options, cfg: &ServeConfig, print: LinePrinter) -> Result<()> {
    use std::rc::Rc;

    use crate::http::{SnapshotReceiver, serve};
    use crate::transport::{LocalPeer, Reply, ReplyLine};
    use crate::{Snapshotter, cli::print::to_json};

    let rt = runtime()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let snap = Snapshotter::open(NativeStorage::new(dir), options).await?;
        let lines = print.clone();
        let observe = Rc::new(move |r: &Reply| {
            if let Ok(line) = to_json(&ReplyLine::of(r)) {
                lines(&line);
            }
        });
        let recv = SnapshotReceiver::new(snap, LocalPeer::new(cfg.cluster_id))
            .with_limit(cfg.limit)
            .with_envelope_budget(cfg.envelope_budget)
            .with_max_connections(usize::try_from(cfg.max_connections).unwrap_or(usize::MAX))
            .with_header_timeout(std::time::Duration::from_millis(cfg.header_timeout_ms))
            .with_observer(observe);
        let listen = cfg.listen.as_str();
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
            Error::io(
                IoErrorKind::Other,
                "listen",
                listen,
                crate::error::go_reason(&e),
            )
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        print(&crate::cli::wire::listening_line(&addr.to_string())?);
        // Never returns: accept errors are printed and retried (crate::http::serve).
        match serve(listener, Rc::new(recv)).await {}
    })
}
