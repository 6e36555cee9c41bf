//! rafthttp snapshot receiving for JavaScript HTTP servers: [`receive_snapshot`] runs etcd's
//! `/raft/snapshot` handler (the same `transport::receive` the native server runs) on a
//! request given as plain values, and [`snapshot_handler`] wraps it as a `node:http` request
//! listener. Decoding and storage happen here in wasm; the body is pulled chunk by chunk.

use std::rc::{Rc, Weak};

use futures_util::future::Either;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{snapshot_from_js, snapshot_to_js, to_u64};
use super::dyn_storage::DynStorage;
use super::error::{message_of, to_js};
use super::jsutil::{get, method, settle};
use super::snapshotter::JsSnapshotter;
use super::stream::js_to_async_read;
use crate::Snapshotter;
use crate::error::{Error, Result};
use crate::pb;
use crate::transport::{self, DEFAULT_ENVELOPE_LIMIT, LocalPeer, Reply};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Who the receiver is, for etcd's header checks, and what it does with a stored snapshot. */
export interface SnapshotReceiverOptions {
  /** The cluster ID requests must name (`X-Etcd-Cluster-ID`): bigint, or a hex string. */
  clusterId: bigint | string;
  /** Largest accepted envelope (length prefix) in bytes; default 64 MiB (etcd 3.6.14+). */
  limit?: bigint | number;
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
    limit: u64,
    process: Option<Function>,
    on_reply: Option<Function>,
}

fn config_from_js(options: &JsValue) -> Result<Config> {
    let cid = get(options, "clusterId");
    let cluster_id = match cid.as_string() {
        Some(s) => transport::peer::parse_id(&s)?,
        None => to_u64(&cid, "options.clusterId")?,
    };
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
    let limit = get(options, "limit");
    let limit = if limit.is_undefined() || limit.is_null() {
        DEFAULT_ENVELOPE_LIMIT
    } else {
        to_u64(&limit, "options.limit")?
    };
    Ok(Config {
        local,
        limit,
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
    set(&o, "snapshot", &snapshot_to_js(&m.snapshot));
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
            set(&o, "message", &message_to_js(&r.message));
            set(&o, "dbBytes", &js_sys::BigInt::from(r.db_bytes).into());
        }
        Err(e) => set(&o, "error", &to_js(e)),
    }
    o.into()
}

type Folder = Weak<Snapshotter<DynStorage>>;

async fn handle(folder: Folder, cfg: Rc<Config>, request: JsValue) -> Reply {
    let method_name = get(&request, "method").as_string().unwrap_or_default();
    let headers = get(&request, "headers");
    let body = get(&request, "body");
    // No body (e.g. a GET) reads as empty; the handler rejects such requests before reading.
    let reader = if body.is_undefined() || body.is_null() {
        Either::Left(futures_util::io::empty())
    } else {
        match js_to_async_read(body, "request body") {
            Ok(r) => Either::Right(r),
            Err(_) => Either::Left(futures_util::io::empty()),
        }
    };
    let Some(snapshotter) = folder.upgrade() else {
        let e = Error::InvalidArgument("Snapshotter is closed".into());
        return Reply {
            status: 500,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
            body: format!("failed to save KV snapshot ({e})\n"),
            outcome: Err(e),
        };
    };
    let process = cfg.process.clone();
    transport::receive(
        &snapshotter,
        &cfg.local,
        cfg.limit,
        &method_name,
        |name| header_of(&headers, name),
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

/// etcd's `/raft/snapshot` handler on a request given as `{ method, headers, body }`; resolves
/// to the reply to send (`SnapshotReply`). Never rejects for a bad request: that is a 4xx reply.
#[wasm_bindgen(js_name = receiveSnapshot, unchecked_return_type = "Promise<SnapshotReply>")]
pub fn receive_snapshot(
    snapshotter: &JsSnapshotter,
    #[wasm_bindgen(unchecked_param_type = "SnapshotRequest")] request: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SnapshotReceiverOptions")] options: JsValue,
) -> Promise {
    let setup = config_from_js(&options).and_then(|c| Ok((c, snapshotter.shared()?)));
    let (cfg, folder) = match setup {
        Ok(x) => x,
        Err(e) => return Promise::reject(&to_js(&e)),
    };
    let folder = Rc::downgrade(&folder);
    future_to_promise(async move {
        let reply = handle(folder, Rc::new(cfg), request).await;
        Ok(reply_to_js(&reply))
    })
}

/// A `node:http` request listener serving etcd's `/raft/snapshot` (any other path: Go's
/// `404 page not found`): `http.createServer(snapshotHandler(snapshotter, { clusterId }))`.
/// The listener holds the folder weakly: after `snapshotter.close()` requests get a 500.
#[wasm_bindgen(
    js_name = snapshotHandler,
    unchecked_return_type = "SnapshotRequestListener"
)]
pub fn snapshot_handler(
    snapshotter: &JsSnapshotter,
    #[wasm_bindgen(unchecked_param_type = "SnapshotReceiverOptions")] options: JsValue,
) -> std::result::Result<Function, JsValue> {
    let cfg = Rc::new(config_from_js(&options).map_err(|e| to_js(&e))?);
    let folder = Rc::downgrade(&snapshotter.shared().map_err(|e| to_js(&e))?);
    let listener = Closure::<dyn FnMut(JsValue, JsValue) -> Promise>::new(
        move |req: JsValue, res: JsValue| {
            let (cfg, folder) = (cfg.clone(), folder.clone());
            future_to_promise(async move {
                let url = get(&req, "url").as_string().unwrap_or_default();
                // Origin-form (`/raft/snapshot`), or absolute-form (`http://host/raft/snapshot`).
                let target = match url.split_once("://") {
                    Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
                    None => url.as_str(),
                };
                let path = target.split('?').next().unwrap_or_default();
                let reply = if path == transport::SNAPSHOT_PATH {
                    let request = Object::new();
                    set(&request, "method", &get(&req, "method"));
                    set(&request, "headers", &get(&req, "headers"));
                    set(&request, "body", &req);
                    handle(folder, cfg.clone(), request.into()).await
                } else {
                    Reply {
                        status: 404,
                        headers: vec![
                            ("Content-Type", "text/plain; charset=utf-8".into()),
                            ("X-Content-Type-Options", "nosniff".into()),
                        ],
                        body: "404 page not found\n".into(),
                        outcome: Err(Error::InvalidArgument(format!("no handler for {path}"))),
                    }
                };
                let js = reply_to_js(&reply);
                if let Some(f) = &cfg.on_reply {
                    let _ = f.call1(&JsValue::UNDEFINED, &js);
                }
                let write_head = method(&res, "writeHead").ok_or_else(|| {
                    to_js(&Error::InvalidArgument("res.writeHead missing".into()))
                })?;
                write_head.call2(&res, &JsValue::from(reply.status), &get(&js, "headers"))?;
                let end = method(&res, "end")
                    .ok_or_else(|| to_js(&Error::InvalidArgument("res.end missing".into())))?;
                end.call1(&res, &JsValue::from_str(&reply.body))?;
                Ok(JsValue::UNDEFINED)
            })
        },
    );
    Ok(listener.into_js_value().unchecked_into())
}

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
        .map_err(|e| to_js(&e))
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
        let limit = get(&options, "limit");
        let limit = if limit.is_undefined() || limit.is_null() {
            DEFAULT_ENVELOPE_LIMIT
        } else {
            to_u64(&limit, "options.limit")?
        };
        Ok((
            snapshotter.shared()?,
            js_to_async_read(body, "unframe body")?,
            limit,
        ))
    };
    let (folder, reader, limit) = match setup() {
        Ok(x) => x,
        Err(e) => return Promise::reject(&to_js(&e)),
    };
    future_to_promise(async move {
        let out = transport::unframe(&folder, reader, limit)
            .await
            .map_err(|e| to_js(&e))?;
        serde_json::to_string(&out)
            .map(|s| JsValue::from_str(&s))
            .map_err(|e| to_js(&Error::InvalidArgument(e.to_string())))
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
    let h = build().map_err(|e| to_js(&e))?;
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
    transport::check_post_response(status, body, url).map_err(|e| to_js(&e))
}
