//! Small helpers for calling into JavaScript without panicking on unexpected values.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::{Error, Result};

/// `obj[key]`, or `undefined` when `obj` is not an object or the getter throws.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !(obj.is_object() || obj.is_function()) {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key]` as a function, if it is one.
pub fn method(obj: &JsValue, key: &str) -> Option<Function> {
    get(obj, key).dyn_into::<Function>().ok()
}

/// Awaits `v` if it is a promise (any thenable), else returns it as is.
pub async fn settle(v: JsValue) -> std::result::Result<JsValue, JsValue> {
    if v.has_type::<Promise>() || method(&v, "then").is_some() {
        JsFuture::from(Promise::resolve(&v)).await
    } else {
        Ok(v)
    }
}

/// Resolves after `ms` milliseconds (via the global `setTimeout`).
pub async fn sleep_ms(ms: u32) -> Result<()> {
    let set_timeout = method(&js_sys::global().into(), "setTimeout")
        .ok_or_else(|| Error::InvalidArgument("setTimeout is not available".into()))?;
    let p = Promise::new(&mut |resolve, _reject| {
        let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &JsValue::from(ms));
    });
    let _ = JsFuture::from(p).await;
    Ok(())
}
