//! rafthttp snapshot receiving for JavaScript HTTP servers: [`receive_snapshot`] runs etcd's
//! `/raft/snapshot` handler (the same `transport::receive` the native server runs) on a
//! request given as plain values, and [`snapshot_handler`] wraps it as a `node:http` request
//! listener. Decoding and storage happen here in wasm; the body is pulled chunk by chunk.

mod node_http;
mod receiver;

use js_sys::{Array, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::error::{Error, Result};
use crate::js::stream::js_to_async_read;
use crate::js::util::get;
use crate::pb;
use crate::transport;
use crate::wasm::convert::{snapshot_from_js, to_u64};
use crate::wasm::snapshotter::JsSnapshotter;
pub use node_http::snapshot_handler;
use receiver::{
    body_reader, cluster_id_of, config_from_js, envelope_limit, handle, reply_to_js, set,
};

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
