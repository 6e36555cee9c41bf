//! The directory lock: a Web Lock (`navigator.locks`), shared by every tab and worker of the
//! origin, so two tabs never write one folder at once. Web Locks are not in web-sys's stable
//! API, hence the hand-written binding.
//!
//! A lock is held while the promise returned to `navigator.locks.request` is pending; the guard
//! resolves it on drop (or in [`WebLock::release`], which also waits until the browser has let
//! the lock go). The browser releases it by itself when the tab or worker goes away.
//!
//! Release is asynchronous (the browser lets go after the held promise settles, a few
//! microtasks later), so a guard dropped here is remembered until its request settles: a new
//! request for the same name from this instance waits for that first, and dropping a
//! Snapshotter then reopening the folder at once does not fail with `ERR_LOCKED`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::error::name_and_message;
use crate::error::{Error, IoErrorKind, Result};
use crate::storage::LockMode;

#[wasm_bindgen]
extern "C" {
    type LockManager;

    #[wasm_bindgen(method, catch)]
    fn request(
        this: &LockManager,
        name: &str,
        options: &JsValue,
        callback: &js_sys::Function,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// The lock name for a folder: one namespace per origin, so the path is enough.
pub fn lock_name(path: &str) -> String {
    format!("etcd-snap:opfs:{path}")
}

/// A held Web Lock. Dropping it releases the lock (asynchronously).
#[derive(Debug)]
pub struct WebLock {
    name: String,
    release: Option<js_sys::Function>,
    request: Option<js_sys::Promise>,
}

impl WebLock {
    /// The Web Lock name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Releases the lock and waits until the browser has released it, so that a new request
    /// made right after (by this or another tab) can succeed.
    pub async fn release(mut self) {
        if let Some(f) = self.release.take() {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
        if let Some(p) = self.request.take() {
            let _ = JsFuture::from(p).await;
        }
    }
}

impl Drop for WebLock {
    fn drop(&mut self) {
        if let Some(f) = self.release.take() {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
        if let Some(p) = self.request.take() {
            RELEASING.with(|r| r.borrow_mut().insert(self.name.clone(), p));
        }
    }
}

thread_local! {
    /// Request promises of guards dropped by this instance, by lock name, until they settle.
    static RELEASING: RefCell<HashMap<String, js_sys::Promise>> = RefCell::new(HashMap::new());
}

/// Waits until a lock of this name that this instance dropped has really been released.
async fn settle_own_release(name: &str) {
    let pending = RELEASING.with(|r| r.borrow_mut().remove(name));
    if let Some(p) = pending {
        let _ = JsFuture::from(p).await;
    }
}

fn lock_manager(path: &str) -> Result<LockManager> {
    let unsupported = |what: &str| {
        Error::io(
            IoErrorKind::Unsupported,
            "lock",
            path,
            format!("{what} is not available in this context"),
        )
    };
    let navigator = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| unsupported("navigator"))?;
    let locks = js_sys::Reflect::get(&navigator, &JsValue::from_str("locks"))
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| unsupported("navigator.locks (Web Locks)"))?;
    Ok(locks.unchecked_into())
}

type Outcome = std::result::Result<bool, JsValue>;

/// Takes the exclusive Web Lock for the folder at `path` (as shown by `path_of`).
/// [`LockMode::Fail`] asks with `ifAvailable` and fails with `Locked`; [`LockMode::Wait`]
/// queues behind the holder.
pub async fn acquire(path: &str, mode: LockMode) -> Result<WebLock> {
    let manager = lock_manager(path)?;
    let name = lock_name(path);
    settle_own_release(&name).await;

    // The promise the callback hands back: the lock is held until it resolves.
    let mut resolve: Option<js_sys::Function> = None;
    let hold = js_sys::Promise::new(&mut |res, _rej| resolve = Some(res));

    let (tx, rx) = oneshot::channel::<Outcome>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let tx_cb = tx.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let granted = !lock.is_null() && !lock.is_undefined();
        if let Some(tx) = tx_cb.borrow_mut().take() {
            let _ = tx.send(Ok(granted));
        }
        if granted {
            hold.into()
        } else {
            JsValue::UNDEFINED
        }
    });

    let options = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&options, &JsValue::from_str(k), &v);
    let _ = set("mode", JsValue::from_str("exclusive"));
    if mode != LockMode::Wait {
        let _ = set("ifAvailable", JsValue::TRUE);
    }
    let request = manager
        .request(&name, &options, callback.unchecked_ref())
        .map_err(|e| lock_error(path, e))?;

    // A request that fails before granting (e.g. SecurityError) never calls the callback.
    let watched = request.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = JsFuture::from(watched).await
            && let Some(tx) = tx.borrow_mut().take()
        {
            let _ = tx.send(Err(e));
        }
    });

    let outcome = rx
        .await
        .map_err(|_| Error::io(IoErrorKind::Other, "lock", path, "lock request dropped"))?;
    match outcome {
        Ok(true) => Ok(WebLock {
            name,
            release: resolve,
            request: Some(request),
        }),
        Ok(false) => Err(Error::io(
            IoErrorKind::Locked,
            "lock",
            path,
            "resource temporarily unavailable (another tab or worker holds the folder)",
        )),
        Err(e) => Err(lock_error(path, e)),
    }
}

fn lock_error(path: &str, e: JsValue) -> Error {
    let (name, message) = name_and_message(&e);
    Error::io(
        IoErrorKind::Other,
        "lock",
        path,
        format!("{name}: {message}"),
    )
}
