//! rafthttp snapshot receiving for JavaScript HTTP servers: [`receive_snapshot`] runs etcd's
//! `/raft/snapshot` handler (the same `transport::receive` the native server runs) on a
//! request given as plain values, and [`snapshot_handler`] wraps it as a `node:http` request
//! listener. Decoding and storage happen here in wasm; the body is pulled chunk by chunk.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::future::Either;
use js_sys::{Array, Function, Object, Promise, Reflect, Symbol};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{snapshot_from_js, snapshot_to_js_with, to_u64};
use super::snapshotter::{JsSnapshotter, Slot};
use crate::error::{Error, Result};
use crate::js::error::{message_of, to_js};
use crate::js::stream::js_to_async_read;
use crate::js::util::{get, method, settle};
use crate::pb;
use crate::transport::{self, DEFAULT_ENVELOPE_LIMIT, EnvelopeBudget, Limits, LocalPeer, Reply};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Who the receiver is, for etcd's header checks, and what it does with a stored snapshot. */
export interface SnapshotReceiverOptions {
  /** The cluster ID requests must name (`X-Etcd-Cluster-ID`): bigint, or a hex string. */
  clusterId: bigint | string;
  /** Largest accepted envelope (length prefix) in bytes; default 64 MiB (etcd 3.6.14+). */
  limit?: bigint | number;
  /** `snapshotHandler` only: envelope bytes all uploads of this handler may hold at once;
   *  an upload whose envelope does not fit gets 503 (`ERR_BUSY`) at once, and etcd's leader
   *  retries. Default 256 MiB; one envelope within `limit` is always admitted when no other
   *  is held, so envelope memory stays at most max(envelopeBudget, limit). */
  envelopeBudget?: bigint | number;
  /** Local server version for the compatibility check (default "3.4.23"). */
  serverVersion?: string;
  /** Local minimum cluster version (default "3.0.0"). */
  minClusterVersion?: string;
  /** etcd's `Raft.Process`: runs after the db is stored durably, before the 204; a throw or
   *  rejection answers 500 `failed to process raft message (...)`. */
  process?: (message: RaftMessage) => void | Promise<void>;
  /** `snapshotHandler` only: sees every reply before it is sent. */
  onReply?: (reply: SnapshotReply) => void;
}
/** A decoded raft message (MsgSnap). */
export interface RaftMessage {
  type: string; to: bigint; from: bigint; term: bigint; logTerm: bigint; index: bigint;
  commit: bigint; snapshot: Snapshot;
}
/** etcd's answer: status, headers and body exactly as etcd's handler sends them. */
export interface SnapshotReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** On 204: the stored message and db size. */
  message?: RaftMessage;
  dbBytes?: bigint;
  /** Otherwise: why (an Error with `code`). */
  error?: Error;
  /** The `etcd-snap serve-snapshots` JSON line for this reply. */
  line: string;
}
/** A MsgSnap to frame: u64s as bigints; omitted numbers are 0. */
export interface RaftMessageInput {
  to?: bigint; from?: bigint; term?: bigint; logTerm?: bigint; index?: bigint; commit?: bigint;
  snapshot: SnapshotInput;
}
/** Who sends, for `snapshotRequestHeaders`. */
export interface SnapshotSenderInfo {
  from: bigint;
  clusterId: bigint | string;
  serverVersion?: string;
  minClusterVersion?: string;
  peerUrls?: string[];
}
/** A `node:http` request listener (typed structurally, so no `@types/node` is needed). */
export type SnapshotRequestListener = (
  req: AsyncIterable<Uint8Array> & { method?: string; url?: string; headers: Record<string, string | string[] | undefined> },
  res: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown },
) => Promise<void>;
/** The request as plain values (any server). `headers`: Node's `req.headers` or a `Headers`. */
export interface SnapshotRequest {
  method: string;
  headers: Record<string, string | string[] | undefined> | { get(name: string): string | null };
  body?: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
}
"#;

struct Config {
    local: LocalPeer,
    limits: Limits,
    process: Option<Function>,
    on_reply: Option<Function>,
}

fn config_from_js(options: &JsValue) -> Result<Config> {
    let cluster_id = cluster_id_of(&get(options, "clusterId"), "options.clusterId")?;
    let mut local = LocalPeer::new(cluster_id);
    let version = |key: &str| -> Result<Option<semver::Version>> {
        match get(options, key).as_string() {
            None => Ok(None),
            Some(s) => semver::Version::parse(&s)
                .map(Some)
                .map_err(|e| Error::InvalidArgument(format!("options.{key}: {e}"))),
        }
    };
    if let Some(v) = version("serverVersion")? {
        local.server_version = v;
    }
    if let Some(v) = version("minClusterVersion")? {
        local.min_cluster_version = v;
    }
    let limits = Limits {
        envelope: envelope_limit(options)?,
        budget: EnvelopeBudget::new(option_u64(
            options,
            "envelopeBudget",
            transport::DEFAULT_ENVELOPE_BUDGET,
        )?),
    };
    Ok(Config {
        local,
        limits,
        process: method(options, "process"),
        on_reply: method(options, "onReply"),
    })
}

/// A request header by name: Node's lowercase-keyed object (arrays joined as Node does) or
/// anything with a `get(name)` method (WHATWG `Headers`).
fn header_of(headers: &JsValue, name: &str) -> Option<String> {
    if let Some(get_fn) = method(headers, "get") {
        return get_fn
            .call1(headers, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string());
    }
    let v = get(headers, &name.to_ascii_lowercase());
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    if Array::is_array(&v) {
        let parts: Vec<String> = Array::from(&v)
            .iter()
            .filter_map(|x| x.as_string())
            .collect();
        return Some(parts.join(", "));
    }
    None
}

fn set(obj: &Object, key: &str, v: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}

fn message_to_js(m: &pb::Message) -> JsValue {
    message_to_js_with(m, &Default::default())
}

/// [`message_to_js`] whose snapshot carries `unknown` fields (`unknownFields`).
fn message_to_js_with(m: &pb::Message, unknown: &crate::pb::size::SnapshotUnknown) -> JsValue {
    let o = Object::new();
    let ty = pb::MessageType::try_from(m.r#type)
        .map(|t| format!("{t:?}"))
        .unwrap_or_else(|_| m.r#type.to_string());
    set(&o, "type", &ty.into());
    for (k, v) in [
        ("to", m.to),
        ("from", m.from),
        ("term", m.term),
        ("logTerm", m.log_term),
        ("index", m.index),
        ("commit", m.commit),
    ] {
        set(&o, k, &js_sys::BigInt::from(v).into());
    }
    set(&o, "snapshot", &snapshot_to_js_with(&m.snapshot, unknown));
    o.into()
}

fn reply_to_js(reply: &Reply) -> JsValue {
    let o = Object::new();
    let line = serde_json::to_string(&transport::ReplyLine::of(reply)).unwrap_or_default();
    set(&o, "line", &JsValue::from_str(&line));
    set(&o, "status", &JsValue::from(reply.status));
    let h = Object::new();
    for (k, v) in &reply.headers {
        set(&h, k, &JsValue::from_str(v));
    }
    set(&o, "headers", &h);
    set(&o, "body", &JsValue::from_str(&reply.body));
    match &reply.outcome {
        Ok(r) => {
            let unknown = crate::pb::size::SnapshotUnknown::of_message(&r.raw).unwrap_or_default();
            set(&o, "message", &message_to_js_with(&r.message, &unknown));
            set(&o, "dbBytes", &js_sys::BigInt::from(r.db_bytes).into());
        }
        Err(e) => set(&o, "error", &to_js(e)),
    }
    o.into()
}

/// The folder a handler serves, held strongly: a handler built as
/// `snapshotHandler(await Snapshotter.open(dir), ...)` keeps its folder (and lock) for as long
/// as the server keeps the handler, even after the `Snapshotter` object is garbage-collected
/// (issue 9, item 3). `close()` empties the slot; requests then get [`Reply::closed`].
type Folder = Slot;

/// A request body, as a reader; no body (e.g. a GET) reads as empty (the handler rejects such
/// requests before reading).
fn body_reader(body: JsValue) -> impl futures_io::AsyncRead + Unpin {
    if body.is_undefined() || body.is_null() {
        Either::Left(futures_util::io::empty())
    } else {
        match js_to_async_read(body, "request body") {
            Ok(r) => Either::Right(r),
            Err(_) => Either::Left(futures_util::io::empty()),
        }
    }
}

async fn handle(
    folder: &Folder,
    cfg: &Config,
    method_name: &str,
    headers: &JsValue,
    reader: impl futures_io::AsyncRead + Unpin,
) -> Reply {
    let Some(snapshotter) = folder.borrow().clone() else {
        return Reply::closed(&cfg.local);
    };
    let process = cfg.process.clone();
    transport::receive(
        &snapshotter,
        &cfg.local,
        &cfg.limits,
        method_name,
        |name| header_of(headers, name),
        reader,
        move |m| async move {
            let Some(f) = process else { return Ok(()) };
            // A throw or rejection is reported by its message, as etcd prints Process's error.
            let failed = |e: JsValue| Error::InvalidArgument(message_of(&e));
            let r = f
                .call1(&JsValue::UNDEFINED, &message_to_js(&m))
                .map_err(failed)?;
            settle(r).await.map(|_| ()).map_err(failed)
        },
    )
    .await
}

/// A `node:http` request body that ends before its declared length or last chunk reads as
/// Go's `io.ErrUnexpectedEOF`, so the reply is etcd's 500 `failed to save KV snapshot
/// (unexpected EOF)` (or 400 `failed to decode raft message (unexpected EOF)` inside the
/// envelope). Node ends such a body only through [`on_client_error`], which pushes the end.
struct NodeBody<R> {
    inner: R,
    req: JsValue,
    was_cut: Rc<Cell<bool>>,
}

impl<R: futures_io::AsyncRead + Unpin> futures_io::AsyncRead for NodeBody<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(0))
                if !buf.is_empty()
                    && (self.was_cut.get() || get(&self.req, "complete") == false) =>
            {
                Poll::Ready(Err(std::io::ErrorKind::UnexpectedEof.into()))
            }
            other => other,
        }
    }
}

/// Where a socket's in-flight upload registers the function that ends its body early.
fn cut_key() -> JsValue {
    Symbol::for_("etcd-snap.snapshotHandler.cut").into()
}

/// Marks a server whose `clientError` events [`on_client_error`] already handles.
fn hooked_key() -> JsValue {
    Symbol::for_("etcd-snap.snapshotHandler.clientError").into()
}

/// Node answers a request cut off mid-body with its own `400 Bad Request` (no body, no cluster
/// header) and destroys the socket before the handler can reply (lib/_http_server.js
/// `socketOnError`, via `clientError`). A `clientError` listener on the handler's server turns
/// that case into the end of the body, so the handler answers as etcd does; every other client
/// error, and every socket without an upload in flight, gets Node's own handling unless some
/// other `clientError` listener takes care of it.
fn hook_client_errors(server: &JsValue) {
    if !server.is_object() || Reflect::has(server, &hooked_key()).unwrap_or(true) {
        return;
    }
    let Some(on) = method(server, "on") else {
        return;
    };
    let srv = server.clone();
    let listener =
        Closure::<dyn FnMut(JsValue, JsValue)>::new(move |err: JsValue, socket: JsValue| {
            on_client_error(&srv, &err, &socket);
        })
        .into_js_value();
    let _ = Reflect::set(server, &hooked_key(), &listener);
    let _ = on.call2(server, &JsValue::from_str("clientError"), &listener);
}

fn on_client_error(server: &JsValue, err: &JsValue, socket: &JsValue) {
    let code = get(err, "code").as_string().unwrap_or_default();
    if code == "HPE_INVALID_EOF_STATE" {
        let cut = Reflect::get(socket, &cut_key()).ok();
        if let Some(cut) = cut.and_then(|f| f.dyn_into::<Function>().ok()) {
            let _ = cut.call0(&JsValue::UNDEFINED);
            return;
        }
    }
    let listeners = method(server, "listenerCount")
        .and_then(|f| f.call1(server, &JsValue::from_str("clientError")).ok())
        .and_then(|n| n.as_f64())
        .unwrap_or(1.0);
    if listeners > 1.0 {
        return;
    }
    // Node's default (Node 20 lib/_http_server.js socketOnError).
    let sent = get(&get(socket, "_httpMessage"), "_headerSent").as_bool() == Some(true);
    if get(socket, "writable").as_bool() == Some(true) && !sent {
        let status = match code.as_str() {
            "HPE_HEADER_OVERFLOW" => "431 Request Header Fields Too Large",
            "HPE_CHUNK_EXTENSIONS_OVERFLOW" => "413 Payload Too Large",
            "ERR_HTTP_REQUEST_TIMEOUT" => "408 Request Timeout",
            _ => "400 Bad Request",
        };
        if let Some(write) = method(socket, "write") {
            let head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n\r\n");
            let _ = write.call1(socket, &JsValue::from_str(&head));
        }
    }
    if let Some(destroy) = method(socket, "destroy") {
        let _ = destroy.call1(socket, err);
    }
}

/// Serves one `node:http` request to `/raft/snapshot`: the body is `req` itself, and a body
/// cut off by the client ends as [`NodeBody`] expects (the socket is ended after the reply).
async fn handle_node(folder: &Folder, cfg: &Config, req: &JsValue, res: &JsValue) -> Reply {
    let socket = get(req, "socket");
    hook_client_errors(&get(&socket, "server"));
    let was_cut = Rc::new(Cell::new(false));
    let cut = {
        let (req, was_cut) = (req.clone(), was_cut.clone());
        Closure::<dyn FnMut()>::new(move || {
            was_cut.set(true);
            // End the body after what was received. `complete` is set first because a request
            // that ends incomplete is destroyed with its socket (IncomingMessage._destroy),
            // which would lose the reply; NodeBody reports the cut through `was_cut`.
            let _ = Reflect::set(&req, &JsValue::from_str("complete"), &JsValue::TRUE);
            if let Some(push) = method(&req, "push") {
                let _ = push.call1(&req, &JsValue::NULL);
            }
        })
    };
    let registered = socket.is_object() && Reflect::set(&socket, &cut_key(), cut.as_ref()).is_ok();
    let method_name = get(req, "method").as_string().unwrap_or_default();
    let reader = NodeBody {
        inner: body_reader(req.clone()),
        req: req.clone(),
        was_cut: was_cut.clone(),
    };
    let reply = handle(folder, cfg, &method_name, &get(req, "headers"), reader).await;
    if registered {
        let _ = Reflect::delete_property(socket.unchecked_ref::<Object>(), &cut_key());
    }
    drop(cut);
    if was_cut.get() {
        // Node leaves the half-closed socket open; close it once the reply is out.
        if let Some(once) = method(res, "once") {
            let end = Closure::once_into_js(move || {
                if let Some(end) = method(&socket, "end") {
                    let _ = end.call0(&socket);
                }
            });
            let _ = once.call2(res, &JsValue::from_str("finish"), &end);
        }
    }
    reply
}

/// etcd's `/raft/snapshot` handler on a request given as `{ method, headers, body }`; resolves
/// to the reply to send (`SnapshotReply`). Never rejects for a bad request: that is a 4xx reply.
#[wasm_bindgen(js_name = receiveSnapshot, unchecked_return_type = "Promise<SnapshotReply>")]
pub fn receive_snapshot(
    snapshotter: &JsSnapshotter,
    #[wasm_bindgen(unchecked_param_type = "SnapshotRequest")] request: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SnapshotReceiverOptions")] options: JsValue,
) -> Promise {
    let cfg = match config_from_js(&options) {
        Ok(c) => c,
        Err(e) => return Promise::reject(&e.into()),
    };
    let folder = snapshotter.slot();
    future_to_promise(async move {
        let method_name = get(&request, "method").as_string().unwrap_or_default();
        let reader = body_reader(get(&request, "body"));
        let reply = handle(
            &folder,
            &cfg,
            &method_name,
            &get(&request, "headers"),
            reader,
        )
        .await;
        Ok(reply_to_js(&reply))
    })
}

/// A `node:http` request listener serving etcd's `/raft/snapshot` (any other path: Go's
/// `404 page not found`): `http.createServer(snapshotHandler(snapshotter, { clusterId }))`.
/// The listener keeps the folder open for as long as it lives (the `Snapshotter` object may be
/// dropped); after `snapshotter.close()` every request gets 503 `Snapshotter is closed`.
#[wasm_bindgen(
    js_name = snapshotHandler,
    unchecked_return_type = "SnapshotRequestListener"
)]
pub fn snapshot_handler(
    snapshotter: &JsSnapshotter,
    #[wasm_bindgen(unchecked_param_type = "SnapshotReceiverOptions")] options: JsValue,
) -> std::result::Result<Function, JsValue> {
    let cfg = Rc::new(config_from_js(&options)?);
    snapshotter.shared()?;
    let folder = snapshotter.slot();
    let listener = Closure::<dyn FnMut(JsValue, JsValue) -> Promise>::new(
        move |req: JsValue, res: JsValue| {
            let (cfg, folder) = (cfg.clone(), folder.clone());
            future_to_promise(async move {
                let url = get(&req, "url").as_string().unwrap_or_default();
                let path = transport::target_path(&url);
                let reply = if transport::is_snapshot_path(path) {
                    handle_node(&folder, &cfg, &req, &res).await
                } else {
                    transport::not_found(path)
                };
                let js = reply_to_js(&reply);
                if let Some(f) = &cfg.on_reply {
                    let _ = f.call1(&JsValue::UNDEFINED, &js);
                }
                let write_head = method(&res, "writeHead").ok_or_else(|| {
                    JsValue::from(Error::InvalidArgument("res.writeHead missing".into()))
                })?;
                // Sized, as Go's server sends a small body (and hyper any), not chunked.
                let head = Object::assign(&Object::new(), &get(&js, "headers").unchecked_into());
                if reply.status != 204 {
                    set(
                        &head,
                        "Content-Length",
                        &reply.body.len().to_string().into(),
                    );
                }
                write_head.call2(&res, &JsValue::from(reply.status), &head)?;
                let end = method(&res, "end").ok_or_else(|| {
                    JsValue::from(Error::InvalidArgument("res.end missing".into()))
                })?;
                end.call1(&res, &JsValue::from_str(&reply.body))?;
                Ok(JsValue::UNDEFINED)
            })
        },
    );
    Ok(listener.into_js_value().unchecked_into())
}

/// `options[key]` as a u64 (bigint or safe integer), `default` when absent.
fn option_u64(options: &JsValue, key: &str, default: u64) -> Result<u64> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        Ok(default)
    } else {
        to_u64(&v, &format!("options.{key}"))
    }
}

/// `options.limit`: the envelope cap of a receiver or of `unframeSnapshot`.
fn envelope_limit(options: &JsValue) -> Result<u64> {
    option_u64(options, "limit", DEFAULT_ENVELOPE_LIMIT)
}

/// A member or cluster ID: a hex string as etcd prints it, or a number.
fn cluster_id_of(v: &JsValue, what: &str) -> Result<u64> {
    match v.as_string() {
        Some(s) => transport::peer::parse_id(&s),
        None => to_u64(v, what),
    }
}

fn u64_field(v: &JsValue, key: &str) -> Result<u64> {
    let x = get(v, key);
    if x.is_undefined() || x.is_null() {
        Ok(0)
    } else {
        to_u64(&x, key)
    }
}

/// The envelope etcd's snapshot sender puts before the db: 8-byte big-endian length and the
/// marshalled MsgSnap. Send it, then the db bytes, as the `POST /raft/snapshot` body.
#[wasm_bindgen(js_name = encodeSnapshotEnvelope)]
pub fn encode_snapshot_envelope(
    #[wasm_bindgen(unchecked_param_type = "RaftMessageInput")] message: JsValue,
) -> std::result::Result<Vec<u8>, JsValue> {
    let build = || -> Result<pb::Message> {
        Ok(pb::Message {
            r#type: pb::MessageType::MsgSnap as i32,
            to: u64_field(&message, "to")?,
            from: u64_field(&message, "from")?,
            term: u64_field(&message, "term")?,
            log_term: u64_field(&message, "logTerm")?,
            index: u64_field(&message, "index")?,
            commit: u64_field(&message, "commit")?,
            snapshot: snapshot_from_js(&get(&message, "snapshot"))?,
            ..Default::default()
        })
    };
    build()
        .map(|m| transport::encode_envelope(&m))
        .map_err(JsValue::from)
}

/// Decodes a snapshot body and stores its db (`SaveDBFrom`); resolves to the JSON text
/// `etcd-snap unframe` prints (`{"message",...,"db_path","db_bytes","db_sha256"}`).
#[wasm_bindgen(js_name = unframeSnapshot, unchecked_return_type = "Promise<string>")]
pub fn unframe_snapshot(
    snapshotter: &JsSnapshotter,
    #[wasm_bindgen(
        unchecked_param_type = "ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>"
    )]
    body: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ limit?: bigint | number }")] options: JsValue,
) -> Promise {
    let setup = || -> Result<_> {
        Ok((
            snapshotter.shared()?,
            js_to_async_read(body, "unframe body")?,
            envelope_limit(&options)?,
        ))
    };
    let (folder, reader, limit) = match setup() {
        Ok(x) => x,
        Err(e) => return Promise::reject(&e.into()),
    };
    future_to_promise(async move {
        let out = transport::unframe(&folder, reader, limit).await?;
        serde_json::to_string(&out)
            .map(|s| JsValue::from_str(&s))
            .map_err(|e| JsValue::from(Error::InvalidArgument(e.to_string())))
    })
}

/// The headers etcd's snapshot sender puts on `POST /raft/snapshot`, in etcd's order.
#[wasm_bindgen(
    js_name = snapshotRequestHeaders,
    unchecked_return_type = "Record<string, string>"
)]
pub fn snapshot_request_headers(
    #[wasm_bindgen(unchecked_param_type = "SnapshotSenderInfo")] info: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let build = || -> Result<transport::SenderHeaders> {
        let mut h = transport::SenderHeaders::new(
            to_u64(&get(&info, "from"), "from")?,
            cluster_id_of(&get(&info, "clusterId"), "clusterId")?,
        );
        if let Some(v) = get(&info, "serverVersion").as_string() {
            h.server_version = v;
        }
        if let Some(v) = get(&info, "minClusterVersion").as_string() {
            h.min_cluster_version = v;
        }
        let urls = get(&info, "peerUrls");
        if Array::is_array(&urls) {
            h.peer_urls = Array::from(&urls)
                .iter()
                .filter_map(|u| u.as_string())
                .collect();
        }
        Ok(h)
    };
    let h = build()?;
    let o = Object::new();
    for (k, v) in h.to_pairs() {
        set(&o, k, &JsValue::from_str(&v));
    }
    Ok(o.into())
}

/// rafthttp's `checkPostResponse`: returns on 204, throws etcd's error (with `code`) otherwise.
#[wasm_bindgen(js_name = checkPostResponse)]
pub fn check_post_response(
    status: u16,
    body: &[u8],
    url: &str,
) -> std::result::Result<(), JsValue> {
    transport::check_post_response(status, body, url).map_err(JsValue::from)
}
