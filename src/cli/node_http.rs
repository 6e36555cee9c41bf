//! `send` and `serve-snapshots` over `node:http` (wasm only): Node cannot do network I/O
//! synchronously, so the Node host drives `node:http` from Rust futures woken by its events.
//! The rafthttp rules are the library's: the envelope and body come from
//! [`transport::encoder`], the reply is judged by [`transport::check_post_response`], and the
//! server is the package's own `snapshotHandler` (src/wasm/transport.rs).

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_util::io::AsyncReadExt as _;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::host::{LinePrinter, SendRequest, Sent, ServeConfig};
use super::node::NodeFile;
use crate::error::{Error, IoErrorKind, Result};
use crate::js::error::message_of;
use crate::js::util::{get, method, sleep_ms};
use crate::storage::node::NodeStorage;
use crate::transport;
use crate::wasm::DynStorage;
use crate::wasm::snapshotter::JsSnapshotter;
use crate::{Message, Options, Snapshotter};

/// `process.getBuiltinModule(name)`.
fn builtin(name: &str) -> Result<JsValue> {
    let process = get(&js_sys::global().into(), "process");
    method(&process, "getBuiltinModule")
        .and_then(|f| f.call1(&process, &JsValue::from_str(name)).ok())
        .filter(JsValue::is_object)
        .ok_or_else(|| {
            Error::io(
                IoErrorKind::Unsupported,
                "open",
                name,
                "not running in Node.js >= 20.16".to_owned(),
            )
        })
}

fn set(o: &JsValue, key: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &JsValue::from_str(key), &v.into());
}

fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue> {
    let f = method(target, name)
        .ok_or_else(|| Error::InvalidArgument(format!("node:http: {name} is missing")))?;
    let args: js_sys::Array = args.iter().collect();
    f.apply(target, &args)
        .map_err(|e| Error::InvalidArgument(message_of(&e)))
}

/// `target.on(event, f)`; the listener lives as long as JS keeps it.
fn on(target: &JsValue, event: &str, f: impl FnMut(JsValue) + 'static) {
    let f = Closure::<dyn FnMut(JsValue)>::new(f).into_js_value();
    let _ = call(target, "on", &[JsValue::from_str(event), f]);
}

/// What `node:http` has told us about one POST so far.
#[derive(Default)]
struct Exchange {
    status: Option<u16>,
    body: Vec<u8>,
    ended: bool,
    error: Option<JsValue>,
    drained: bool,
    waker: Option<Waker>,
}

type Shared = Rc<RefCell<Exchange>>;

fn update(s: &Shared, f: impl FnOnce(&mut Exchange)) {
    let mut e = s.borrow_mut();
    f(&mut e);
    if let Some(w) = e.waker.take() {
        w.wake();
    }
}

/// Waits until `ready` holds.
async fn until(s: &Shared, ready: impl Fn(&Exchange) -> bool) {
    poll_fn(|cx| {
        let mut e = s.borrow_mut();
        if ready(&e) {
            Poll::Ready(())
        } else {
            e.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .await;
}

/// `http://host:port[/...]` → `http://host:port/raft/snapshot`, worded as the native
/// sender's errors (src/http/sender.rs).
fn snapshot_url(peer_url: &str) -> Result<String> {
    let ctor: Function = get(&js_sys::global().into(), "URL").unchecked_into();
    let args: js_sys::Array = [JsValue::from_str(peer_url)].iter().collect();
    let u = Reflect::construct(&ctor, &args).ok();
    let protocol = u.as_ref().and_then(|u| get(u, "protocol").as_string());
    match protocol.as_deref() {
        Some("http:") => {}
        Some("https:") => {
            return Err(Error::InvalidArgument(format!(
                "peer URL {peer_url:?}: https (TLS) peers are not supported"
            )));
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "invalid peer URL {peer_url:?}: want http://host:port"
            )));
        }
    }
    let host = u.map(|u| get(&u, "host")).and_then(|h| h.as_string());
    Ok(format!(
        "http://{}{}",
        host.unwrap_or_default(),
        transport::SNAPSHOT_PATH
    ))
}

/// POSTs the envelope and the db with `node:http`, as etcd's snapshot sender; the outcome is
/// the native sender's: the body's own error if the db had the wrong size (the upload is
/// destroyed, so the peer stores nothing), else the reply as `checkPostResponse` judges it.
pub async fn send(req: &SendRequest, mut msg: Message<NodeFile>) -> Result<Sent> {
    let start = js_sys::Date::now();
    let url = snapshot_url(&req.peer_url)?;
    let http = builtin("node:http")?;
    let headers = Object::new();
    for (k, v) in req.headers.to_pairs() {
        set(&headers, k, JsValue::from_str(&v));
    }
    let opts = Object::new();
    set(&opts, "method", "POST");
    set(&opts, "headers", headers);
    let request = call(&http, "request", &[JsValue::from_str(&url), opts.into()])?;

    let state: Shared = Rc::default();
    {
        let s = state.clone();
        on(&request, "response", move |res| {
            let status = get(&res, "statusCode").as_f64().unwrap_or(0.0) as u16;
            update(&s, |e| e.status = Some(status));
            let s1 = s.clone();
            on(&res, "data", move |chunk| {
                let bytes = Uint8Array::new(&chunk).to_vec();
                update(&s1, |e| e.body.extend_from_slice(&bytes));
            });
            let s2 = s.clone();
            on(&res, "end", move |_| update(&s2, |e| e.ended = true));
            let s3 = s.clone();
            on(&res, "error", move |err| {
                update(&s3, |e| {
                    e.error.get_or_insert(err);
                })
            });
        });
    }
    {
        let s = state.clone();
        on(&request, "error", move |err| {
            update(&s, |e| {
                e.error.get_or_insert(err);
            })
        });
        let s = state.clone();
        on(&request, "drain", move |_| update(&s, |e| e.drained = true));
        // Late socket errors (EPIPE after an early reply) are the reply's outcome already.
        on(&request, "socket", |sock| on(&sock, "error", |_| {}));
    }

    // Upload until the end, or until the peer answers or the connection fails.
    let mut sent = 0u64;
    let pumped: Result<()> = {
        let mut body = transport::encoder(&msg.message, &mut msg.body);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            {
                let e = state.borrow();
                if e.status.is_some() || e.error.is_some() {
                    break Ok(());
                }
            }
            match body.read(&mut buf).await {
                Ok(0) => {
                    call(&request, "end", &[])?;
                    break Ok(());
                }
                Ok(n) => {
                    sent += n as u64;
                    state.borrow_mut().drained = false;
                    let more = call(&request, "write", &[Uint8Array::from(&buf[..n]).into()])?;
                    if more == false {
                        until(&state, |e| {
                            e.drained || e.status.is_some() || e.error.is_some()
                        })
                        .await;
                    }
                }
                Err(e) => break Err(Error::from(e)),
            }
        }
    };
    let outcome = match pumped {
        Err(e) => {
            let _ = call(&request, "destroy", &[]);
            Err(e)
        }
        Ok(()) => reply(&state, &url).await,
    };
    let _ = call(&request, "destroy", &[]);
    msg.close_with_error(outcome.err())?;
    Ok(Sent {
        status: 204,
        url,
        bytes: sent,
        elapsed_ms: (js_sys::Date::now() - start).max(0.0) as u128,
    })
}

/// The reply, judged; a connection error that is followed by a reply (the peer answered
/// 412 and closed before the upload ended) is the reply's outcome, as Go's client sees it.
async fn reply(state: &Shared, url: &str) -> Result<()> {
    until(state, |e| e.ended || e.error.is_some()).await;
    if !state.borrow().ended {
        let s = state.clone();
        let ended = until(&s, |e| e.ended);
        futures_util::pin_mut!(ended);
        let grace = sleep_ms(500);
        futures_util::pin_mut!(grace);
        futures_util::future::select(ended, grace).await;
    }
    let e = state.borrow();
    match (e.ended, e.status) {
        (true, Some(status)) => transport::check_post_response(status, &e.body, url),
        _ => Err(Error::Transport {
            url: url.to_owned(),
            detail: e.error.as_ref().map(message_of).unwrap_or_default(),
        }),
    }
}

/// etcd's `/raft/snapshot` handler (`snapshotHandler`) on a `node:http` server, until the
/// process is killed. Node's counterparts of the native bounds: the head deadline (checked at
/// least every `connectionsCheckingInterval`), idle keep-alive sockets closed after the same
/// time, and at most `maxConnections` sockets (Node closes the ones beyond it; the native
/// server waits); no whole-request deadline (Node's default 300 s would cut a large snapshot
/// on a slow link), but a body that stalls for 60 s closes the socket (native:
/// `DEFAULT_IDLE_TIMEOUT`).
pub async fn serve(
    dir: &str,
    options: Options,
    cfg: &ServeConfig,
    print: LinePrinter,
) -> Result<()> {
    let listen = cfg.listen.as_str();
    let (host, port) = listen
        .rsplit_once(':')
        .filter(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::InvalidArgument(format!("listen {listen}: invalid address")))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port: f64 = port.parse().unwrap_or(f64::NAN);

    let snap = Snapshotter::open(DynStorage::new(NodeStorage::new(dir)?), options).await?;
    let folder = JsSnapshotter::from_snapshotter(snap);
    let hopts = Object::new();
    set(&hopts, "clusterId", js_sys::BigInt::from(cfg.cluster_id));
    set(&hopts, "limit", js_sys::BigInt::from(cfg.limit));
    set(
        &hopts,
        "envelopeBudget",
        js_sys::BigInt::from(cfg.envelope_budget),
    );
    let lines = print.clone();
    let on_reply = Closure::<dyn FnMut(JsValue)>::new(move |r: JsValue| {
        if let Some(line) = get(&r, "line").as_string() {
            lines(&line);
        }
    })
    .into_js_value();
    set(&hopts, "onReply", on_reply);
    let handler = crate::wasm::transport::snapshot_handler(&folder, hopts.into())
        .map_err(|e| Error::InvalidArgument(message_of(&e)))?;

    let ms = cfg.header_timeout_ms as f64;
    let sopts = Object::new();
    set(&sopts, "headersTimeout", ms);
    set(&sopts, "keepAliveTimeout", ms);
    set(&sopts, "requestTimeout", 0.0);
    let check = if ms > 0.0 {
        (ms / 2.0).floor().clamp(50.0, 30_000.0)
    } else {
        30_000.0
    };
    set(&sopts, "connectionsCheckingInterval", check);
    let http = builtin("node:http")?;
    let server = call(&http, "createServer", &[sopts.into(), handler.into()])?;
    call(&server, "setTimeout", &[JsValue::from(60_000.0)])?;
    // 0 would mean unbounded.
    set(&server, "maxConnections", cfg.max_connections.max(1) as f64);

    let listening = Promise::new(&mut |resolve, reject| {
        let _ = call(
            &server,
            "once",
            &[JsValue::from_str("error"), reject.into()],
        );
        let _ = call(
            &server,
            "listen",
            &[JsValue::from(port), JsValue::from_str(host), resolve.into()],
        );
    });
    if let Err(e) = JsFuture::from(listening).await {
        return Err(Error::io(
            IoErrorKind::Other,
            "listen",
            listen,
            message_of(&e),
        ));
    }
    let addr = call(&server, "address", &[])?;
    let address = get(&addr, "address").as_string().unwrap_or_default();
    let port = get(&addr, "port").as_f64().unwrap_or(0.0);
    let shown = if get(&addr, "family").as_string().as_deref() == Some("IPv6") {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    };
    print(&super::wire::listening_line(&shown)?);
    // Serves until killed (the server keeps Node's event loop alive; this never resolves).
    let _keep = (folder, server);
    std::future::pending::<()>().await;
    Ok(())
}
