//! The OPFS entry point of `Snapshotter.open({ opfs: "dir/path", ... })`.
//! **Owned by helper E2** (OPFS backends); E1 only calls [`open_opfs`].

use wasm_bindgen::JsValue;

use super::dyn_storage::DynStorage;
use crate::error::{Error, IoErrorKind, Result};

/// Builds the OPFS storage the spec object asks for (`spec.opfs` is the directory path).
pub async fn open_opfs(spec: &JsValue) -> Result<DynStorage> {
    let _ = spec;
    Err(Error::io(
        IoErrorKind::Unsupported,
        "open",
        "opfs",
        "the OPFS backend is not built in yet",
    ))
}
