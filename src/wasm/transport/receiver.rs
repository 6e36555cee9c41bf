//! What both JS receivers share: the options (`SnapshotReceiverOptions`), the request body
//! and headers as the core handler takes them, the one call to [`transport::receive`], and
//! its [`Reply`] as a JS object.

use futures_util::future::Either;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::{Error, Result};
use crate::js::error::{message_of, to_js};
use crate::js::stream::js_to_async_read;
use crate::js::util::{get, method, settle};
use crate::pb;
use crate::transport::{self, DEFAULT_ENVELOPE_LIMIT, EnvelopeBudget, Limits, LocalPeer, Reply};
use crate::wasm::convert::{snapshot_to_js_with, to_u64};
use crate::wasm::snapshotter::Slot;

/// A receiver's options, parsed once.
pub(super) struct Config {
    pub(super) local: LocalPeer,
    pub(super) limits: Limits,
    pub(super) process: Option<Function>,
    pub(super) on_reply: Option<Function>,
}

pub(super) fn config_from_js(options: &JsValue) -> Result<Config> {
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

pub(super) fn set(obj: &Object, key: &str, v: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), v);
}

pub(super) fn message_to_js(m: &pb::Message) -> JsValue {
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

pub(super) fn reply_to_js(reply: &Reply) -> JsValue {
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
pub(super) type Folder = Slot;

/// A request body, as a reader; no body (e.g. a GET) reads as empty (the handler rejects such
/// requests before reading).
pub(super) fn body_reader(body: JsValue) -> impl futures_io::AsyncRead + Unpin {
    if body.is_undefined() || body.is_null() {
        Either::Left(futures_util::io::empty())
    } else {
        match js_to_async_read(body, "request body") {
            Ok(r) => Either::Right(r),
            Err(_) => Either::Left(futures_util::io::empty()),
        }
    }
}

pub(super) async fn handle(
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
pub(super) fn envelope_limit(options: &JsValue) -> Result<u64> {
    option_u64(options, "limit", DEFAULT_ENVELOPE_LIMIT)
}

/// A member or cluster ID: a hex string as etcd prints it, or a number.
pub(super) fn cluster_id_of(v: &JsValue, what: &str) -> Result<u64> {
    match v.as_string() {
        Some(s) => transport::peer::parse_id(&s),
        None => to_u64(v, what),
    }
}
