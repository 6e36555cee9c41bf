//! The `node:http` request listener ([`snapshot_handler`]): routing, Node's body and
//! client-error quirks (a cut body reads as Go's `unexpected EOF`), and writing the reply.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use js_sys::{Function, Object, Promise, Reflect, Symbol};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::receiver::{Config, Folder, body_reader, config_from_js, handle, reply_to_js, set};
use crate::error::Error;
use crate::js::util::{get, method};
use crate::transport::{self, Reply};
use crate::wasm::snapshotter::JsSnapshotter;

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
