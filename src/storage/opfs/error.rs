//! DOMException -> [`Error`]: OPFS reports failures as DOMException names, which map onto the
//! crate's storage kinds ([`IoErrorKind::of_js`], the one map) so JavaScript callers see the same `code`s as with every backend.

use wasm_bindgen::JsValue;

use crate::error::{Error, IoErrorKind};

/// The `name` and `message` of a thrown value (DOMException, TypeError, or anything else).
pub(crate) fn name_and_message(e: &JsValue) -> (String, String) {
    let get = |k: &str| {
        js_sys::Reflect::get(e, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    match (get("name"), get("message")) {
        (Some(n), Some(m)) => (n, m),
        (None, Some(m)) => ("Error".into(), m),
        _ => (
            "Error".into(),
            e.as_string().unwrap_or_else(|| format!("{e:?}")),
        ),
    }
}

/// Maps a rejected OPFS call onto [`Error::Io`], worded like Go's `*os.PathError`.
pub(crate) fn dom_error(op: &'static str, path: impl Into<String>, e: JsValue) -> Error {
    let (name, message) = name_and_message(&e);
    let kind = IoErrorKind::of_js(None, Some(&name));
    let detail = match kind {
        IoErrorKind::NotFound => "no such file or directory".to_string(),
        IoErrorKind::IsADirectory => "is a directory".to_string(),
        IoErrorKind::Locked => format!("file is locked by another handle ({name}: {message})"),
        IoErrorKind::NoSpace => format!("no space left on device ({name}: {message})"),
        _ => format!("{name}: {message}"),
    };
    Error::io(kind, op, path, detail)
}

/// A write that accepted fewer bytes than given: in OPFS that is the origin's quota.
pub(crate) fn short_write(path: impl Into<String>, wrote: f64, len: usize) -> Error {
    Error::io(
        IoErrorKind::NoSpace,
        "write",
        path,
        format!("no space left on device (short write: {wrote} of {len} bytes)"),
    )
}
