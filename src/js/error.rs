//! The one place errors cross between Rust and JavaScript.
//!
//! Rust -> JS: `JsValue::from(Error)` (or [`to_js`] for a borrowed error) builds an `Error` whose `message` is etcd's string and whose `code` is
//! [`Error::code`] (stable, e.g. `ERR_CRC_MISMATCH`); a kept cause becomes `error.cause`.
//! JS -> Rust: [`from_js`] maps a thrown value (Node `err.code`, our own `ERR_*` codes,
//! DOMException names) onto an [`IoErrorKind`] through [`IoErrorKind::of_js`], worded like Go's `*os.PathError`.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Error, IoErrorKind};

/// A JS `Error` carrying etcd's message and the stable `code`.
pub fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    if let Error::ShortRead { cause: Some(c) } = e {
        let _ = Reflect::set(&err, &"cause".into(), &to_js(c));
    }
    err.into()
}

/// The one error conversion to JavaScript, so bindings return `Result<_, Error>` and `?` does it.
impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        to_js(&e)
    }
}

/// A string property of a thrown value, if it has one.
fn str_prop(v: &JsValue, key: &str) -> Option<String> {
    if !v.is_object() {
        return None;
    }
    Reflect::get(v, &key.into())
        .ok()
        .and_then(|p| p.as_string())
}

/// Maps a thrown JS value to a storage error for `op` on `path`.
///
/// Node errors keep Go's wording (`open /d/x: no such file or directory`); other errors keep
/// their own message as the reason.
pub fn from_js(op: &'static str, path: impl Into<String>, e: &JsValue) -> Error {
    let code = str_prop(e, "code");
    let name = str_prop(e, "name");
    let kind = IoErrorKind::of_js(code.as_deref(), name.as_deref());
    let detail = match code.as_deref().and_then(IoErrorKind::go_text) {
        Some(t) => t.to_owned(),
        None => message_of(e),
    };
    Error::io(kind, op, path, detail)
}

/// The message of a thrown value, whatever it is.
pub fn message_of(e: &JsValue) -> String {
    if let Some(m) = str_prop(e, "message") {
        return m;
    }
    if let Some(s) = e.as_string() {
        return s;
    }
    match e.dyn_ref::<js_sys::Object>() {
        Some(o) => String::from(o.to_string()),
        None => format!("{e:?}"),
    }
}
