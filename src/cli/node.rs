//! The Node.js [`Host`] (wasm only): the npm package's CLI. Stdio comes from the shim
//! (pkg-config/cli.cjs hands in `stdout(bytes)`, `stderr(bytes)`, `stdin()` and whether each
//! output is a terminal); snap folders are [`NodeStorage`]; plain files are `node:fs`'s
//! synchronous calls on one file descriptor (positioned reads for dbs, so a large one is never
//! whole in memory); the network is `node:http` (src/cli/node_http.rs). Node errors are
//! worded by the one Node map ([`from_js`]), as Go words them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::host::{Host, LinePrinter, SendRequest, Sent, ServeConfig, Stream};
use crate::error::{Error, IoErrorKind, Result};
use crate::inspect::source::out_of_range;
use crate::inspect::{Cached, PageSource};
use crate::js::error::from_js;
use crate::js::stream::{JsAsyncRead, js_to_async_read};
use crate::js::util::{get, method};
use crate::pb::DecodeError;
use crate::storage::node::{NodeFs, NodeStorage, node_fs};
use crate::{Message, Options};

fn fs() -> Result<NodeFs> {
    node_fs()
}

/// What the shim hands in, checked once.
struct Stdio {
    stdout: Function,
    stderr: Function,
    stdin: Function,
    stdout_tty: bool,
    stderr_tty: bool,
    /// One JS buffer output is copied into, reused (the shim writes synchronously): `keys`
    /// prints a large answer in pieces, and a fresh buffer per piece would pile up off the
    /// JS heap faster than the collector frees it.
    scratch: RefCell<Uint8Array>,
}

impl Stdio {
    /// `bytes` in the reused JS buffer (grown when too small); valid until the next call.
    fn staged(&self, bytes: &[u8]) -> Uint8Array {
        let mut s = self.scratch.borrow_mut();
        if (s.length() as usize) < bytes.len() {
            *s = Uint8Array::new_with_length(bytes.len().next_power_of_two() as u32);
        }
        let view = s.subarray(0, bytes.len() as u32);
        view.copy_from(bytes);
        view
    }
}

/// The npm package's host: the shim's stdio, `node:fs`, `node:http`.
#[derive(Clone)]
pub struct NodeHost {
    io: Rc<Stdio>,
}

impl NodeHost {
    /// The host over `io`: `{ stdout(bytes), stderr(bytes), stdin(), stdoutIsTTY,
    /// stderrIsTTY }` (pkg-config/cli.cjs).
    pub fn new(io: &JsValue) -> Result<Self> {
        let f = |key: &str| {
            method(io, key).ok_or_else(|| {
                Error::InvalidArgument(format!("runCli: host.{key} is not a function"))
            })
        };
        Ok(NodeHost {
            io: Rc::new(Stdio {
                stdout: f("stdout")?,
                stderr: f("stderr")?,
                stdin: f("stdin")?,
                stdout_tty: get(io, "stdoutIsTTY").as_bool() == Some(true),
                stderr_tty: get(io, "stderrIsTTY").as_bool() == Some(true),
                scratch: RefCell::new(Uint8Array::new_with_length(64 << 10)),
            }),
        })
    }
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| Error::InvalidArgument(format!("not a UTF-8 path: {}", p.display())))
}

/// An open file descriptor, closed on drop.
struct Fd {
    fs: NodeFs,
    fd: f64,
    path: String,
}

impl Drop for Fd {
    fn drop(&mut self) {
        let _ = self.fs.close_sync(self.fd);
    }
}

impl Fd {
    fn open(path: &Path, flags: &str) -> Result<Fd> {
        let fs = fs()?;
        let p = path_str(path)?;
        let fd = fs
            .open_sync(p, flags, 0o666)
            .map_err(|e| from_js("open", p, &e))?;
        Ok(Fd {
            fs,
            fd,
            path: p.to_owned(),
        })
    }

    /// Size, and whether it is a directory.
    fn stat(&self, op: &'static str) -> Result<(u64, bool)> {
        let st = self
            .fs
            .fstat_sync(self.fd)
            .map_err(|e| from_js(op, self.path.as_str(), &e))?;
        let size = get(&st, "size").as_f64().unwrap_or(0.0) as u64;
        let is_dir = method(&st, "isDirectory")
            .and_then(|f| f.call0(&st).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        Ok((size, is_dir))
    }
}

/// A plain file read front to back.
pub struct NodeFile(Fd);

impl futures_io::AsyncRead for NodeFile {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let f = &self.0;
        let len = buf.len().min(1 << 30);
        let r =
            f.fs.read_sync(f.fd, &mut buf[..len], 0, len as u32, JsValue::NULL)
                .map(|n| (n as usize).min(len))
                .map_err(|e| from_js("read", f.path.as_str(), &e).into());
        Poll::Ready(r)
    }
}

/// `frame`'s output file (synchronous writes, as the rest of the CLI's plain-file I/O).
pub struct NodeOut(Fd);

impl futures_io::AsyncWrite for NodeOut {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let f = &self.0;
        let r =
            f.fs.write_sync(f.fd, buf)
                .map(|n| n as usize)
                .map_err(|e| from_js("write", f.path.as_str(), &e).into());
        Poll::Ready(r)
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Standard input: the shim's `process.stdin` as a stream (or why it is not one).
pub enum NodeStdin {
    /// The stream.
    Js(JsAsyncRead),
    /// `stdin()` gave something that is not a byte stream.
    Failed(Option<Error>),
}

impl futures_io::AsyncRead for NodeStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            NodeStdin::Js(r) => Pin::new(r).poll_read(cx, buf),
            NodeStdin::Failed(e) => Poll::Ready(Err(e
                .take()
                .unwrap_or_else(|| Error::InvalidArgument("stdin: unreadable".into()))
                .into())),
        }
    }
}

/// A db file for positioned reads: `readSync` at an offset, whole pieces or
/// `unexpected EOF` (the file shrank), as the native `FileSource`.
pub struct NodeSource {
    fd: Fd,
    size: u64,
}

impl PageSource for NodeSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        if offset.checked_add(len as u64).is_none_or(|e| e > self.size) {
            return Err(out_of_range(offset, len, self.size));
        }
        let mut buf = vec![0u8; len];
        let mut n = 0;
        while n < len {
            let want = (len - n).min(1 << 30);
            let got = self
                .fd
                .fs
                .read_sync(
                    self.fd.fd,
                    &mut buf[n..n + want],
                    0,
                    want as u32,
                    JsValue::from((offset + n as u64) as f64),
                )
                .map_err(|e| from_js("read", "", &e))?;
            if got <= 0.0 {
                return Err(Error::Decode(DecodeError::UnexpectedEof));
            }
            n += got as usize;
        }
        Ok(Cow::Owned(buf))
    }
}

impl Host for NodeHost {
    type Storage = NodeStorage;
    type File = NodeFile;
    type Stdin = NodeStdin;
    type Output = NodeOut;
    type Source = Cached<NodeSource>;

    fn write_stdout(&self, bytes: &[u8]) -> Result<()> {
        self.io
            .stdout
            .call1(&JsValue::NULL, &self.io.staged(bytes))
            .map(drop)
            .map_err(|e| from_js("write", "/dev/stdout", &e))
    }

    fn write_stderr(&self, bytes: &[u8]) {
        let _ = self
            .io
            .stderr
            .call1(&JsValue::NULL, &Uint8Array::from(bytes));
    }

    fn is_terminal(&self, stream: Stream) -> bool {
        match stream {
            Stream::Stdout => self.io.stdout_tty,
            Stream::Stderr => self.io.stderr_tty,
        }
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn storage(&self, dir: &Path) -> Result<NodeStorage> {
        // `read NAME` of a bare name has an empty folder: the current one, shown as nothing.
        match path_str(dir)? {
            "" => NodeStorage::current_dir(),
            d => NodeStorage::new(d),
        }
    }

    fn create_dir_all(&self, dir: &Path) -> Result<()> {
        let p = path_str(dir)?;
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"recursive".into(), &JsValue::TRUE);
        fs()?
            .mkdir_sync(p, &opts)
            .map(drop)
            .map_err(|e| from_js("mkdir", p, &e))
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>> {
        let p = path_str(path)?;
        fs()?
            .read_file_sync(p)
            .map(|b| b.to_vec())
            .map_err(|e| from_js("open", p, &e))
    }

    fn open_file(&self, path: &Path) -> Result<(NodeFile, u64)> {
        let fd = Fd::open(path, "r")?;
        let (size, _) = fd.stat("stat")?;
        Ok((NodeFile(fd), size))
    }

    fn stdin(&self) -> NodeStdin {
        match self
            .io
            .stdin
            .call0(&JsValue::NULL)
            .map_err(|e| from_js("read", "/dev/stdin", &e))
            .and_then(|s| js_to_async_read(s, "stdin"))
        {
            Ok(r) => NodeStdin::Js(r),
            Err(e) => NodeStdin::Failed(Some(e)),
        }
    }

    fn create_file(&self, path: &Path) -> Result<NodeOut> {
        Fd::open(path, "w").map(NodeOut)
    }

    fn open_source(&self, path: &Path) -> Result<Cached<NodeSource>> {
        let fd = Fd::open(path, "r")?;
        let (size, is_dir) = fd.stat("open")?;
        if is_dir {
            return Err(Error::io(
                IoErrorKind::IsADirectory,
                "open",
                fd.path.as_str(),
                "is a directory",
            ));
        }
        Ok(Cached::for_one_pass(NodeSource { fd, size }))
    }

    fn open_entry_source(&self, dir: &Path, name: &str) -> Result<Cached<NodeSource>> {
        // A name that is not UTF-8 is opened by its lossy form, as Node shows it.
        let shown = crate::storage::raw_name::display(name);
        self.open_source(&dir.join(shown.as_ref()))
    }

    async fn send(&self, req: &SendRequest, msg: Message<NodeFile>) -> Result<Sent> {
        super::node_http::send(req, msg).await
    }

    async fn serve(
        &self,
        dir: &Path,
        options: Options,
        cfg: &ServeConfig,
        print: LinePrinter,
    ) -> Result<()> {
        super::node_http::serve(path_str(dir)?, options, cfg, print).await
    }
}
