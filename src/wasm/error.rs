//! The one place errors cross between Rust and JavaScript.
//!
//! Rust -> JS: [`to_js`] builds an `Error` whose `message` is etcd's string and whose `code` is
//! [`Error::code`] (stable, e.g. `ERR_CRC_MISMATCH`); a kept cause becomes `error.cause`.
//! JS -> Rust: [`from_js`] maps a thrown value (Node `err.code`, our own `ERR_*` codes,
//! DOMException names) onto an [`IoErrorKind`], worded like Go's `*os.PathError`.

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

/// A string property of a thrown value, if it has one.
fn str_prop(v: &JsValue, key: &str) -> Option<String> {
    if !v.is_object() {
        return None;
    }
    Reflect::get(v, &key.into())
        .ok()
        .and_then(|p| p.as_string())
}

/// Go's wording (`strerror`, lowercase) for the Node error codes a file system reports.
pub fn go_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "ENOENT" => "no such file or directory",
        "EEXIST" => "file exists",
        "EISDIR" => "is a directory",
        "ENOTDIR" => "not a directory",
        "EACCES" => "permission denied",
        "EPERM" => "operation not permitted",
        "ENOSPC" => "no space left on device",
        "EDQUOT" => "disk quota exceeded",
        "EROFS" => "read-only file system",
        "EBUSY" => "device or resource busy",
        "EMFILE" => "too many open files",
        "ENFILE" => "too many open files in system",
        "ENOTEMPTY" => "directory not empty",
        "EIO" => "input/output error",
        "EBADF" => "bad file descriptor",
        "EINVAL" => "invalid argument",
        "EXDEV" => "invalid cross-device link",
        "ENAMETOOLONG" => "file name too long",
        "ELOOP" => "too many levels of symbolic links",
        "EAGAIN" => "resource temporarily unavailable",
        "EFBIG" => "file too large",
        "EPIPE" => "broken pipe",
        _ => return None,
    })
}

/// The storage kind for an error `code` (Node's `E*` or ours) or a DOMException `name`.
pub fn kind_of(code: Option<&str>, name: Option<&str>) -> IoErrorKind {
    let by_code = match code {
        Some("ENOENT" | "ERR_NOT_FOUND") => Some(IoErrorKind::NotFound),
        Some("EEXIST" | "ERR_ALREADY_EXISTS") => Some(IoErrorKind::AlreadyExists),
        Some("EISDIR" | "ERR_IS_A_DIRECTORY") => Some(IoErrorKind::IsADirectory),
        Some("ENOSPC" | "EDQUOT" | "EFBIG" | "ERR_NO_SPACE") => Some(IoErrorKind::NoSpace),
        Some("EACCES" | "EPERM" | "EROFS" | "ERR_PERMISSION_DENIED") => {
            Some(IoErrorKind::PermissionDenied)
        }
        Some("ERR_LOCKED") => Some(IoErrorKind::Locked),
        Some("ERR_SHORT_WRITE") => Some(IoErrorKind::ShortWrite),
        Some("ERR_UNSUPPORTED") => Some(IoErrorKind::Unsupported),
        Some("ERR_NOT_REGULAR_FILE") => Some(IoErrorKind::NotRegular),
        Some("ERR_TOO_LARGE" | "ERR_FS_FILE_TOO_LARGE") => Some(IoErrorKind::TooLarge),
        _ => None,
    };
    by_code.unwrap_or(match name {
        Some("NotFoundError") => IoErrorKind::NotFound,
        Some("QuotaExceededError") => IoErrorKind::NoSpace,
        Some("TypeMismatchError") => IoErrorKind::IsADirectory,
        Some("NoModificationAllowedError") => IoErrorKind::Locked,
        Some("NotAllowedError" | "SecurityError") => IoErrorKind::PermissionDenied,
        _ => IoErrorKind::Other,
    })
}

/// Maps a thrown JS value to a storage error for `op` on `path`.
///
/// Node errors keep Go's wording (`open /d/x: no such file or directory`); other errors keep
/// their own message as the reason.
pub fn from_js(op: &'static str, path: impl Into<String>, e: &JsValue) -> Error {
    let code = str_prop(e, "code");
    let name = str_prop(e, "name");
    let kind = kind_of(code.as_deref(), name.as_deref());
    let detail = match code.as_deref().and_then(go_text) {
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
