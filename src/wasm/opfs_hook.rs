//! The OPFS entry point of `Snapshotter.open({ opfs: "dir/path", ... })`.
//! **Owned by helper E2** (OPFS backends); E1 only calls [`open_opfs`].
//!
//! Spec fields: `opfs` is the folder's path under the origin's OPFS root (created as needed),
//! or a `FileSystemDirectoryHandle` the caller already holds (then `path` names it for
//! messages and the Web Lock); `opfsMode` is `"auto"` (default: sync access handles in a
//! dedicated worker, `createWritable()` elsewhere), `"writable"` or `"sync"`.

use wasm_bindgen::{JsCast, JsValue};

use super::dyn_storage::DynStorage;
use crate::error::{Error, Result};
use crate::js::util::get;
use crate::storage::opfs::{OpfsMode, OpfsStorage};

/// Builds the OPFS storage the spec object asks for.
pub async fn open_opfs(spec: &JsValue) -> Result<DynStorage> {
    let mode_v = get(spec, "opfsMode");
    let mode = match mode_v.as_string().as_deref() {
        _ if mode_v.is_undefined() => OpfsMode::detect(),
        Some("auto") => OpfsMode::detect(),
        Some("writable") => OpfsMode::Writable,
        Some("sync") => OpfsMode::SyncAccess,
        _ => {
            return Err(Error::InvalidArgument(
                "storage.opfsMode: expected \"auto\", \"writable\" or \"sync\"".into(),
            ));
        }
    };
    let target = get(spec, "opfs");
    if let Some(path) = target.as_string() {
        return Ok(DynStorage::new(
            OpfsStorage::open_with_mode(&path, mode).await?,
        ));
    }
    if let Some(dir) = target.dyn_ref::<web_sys::FileSystemDirectoryHandle>() {
        let path = get(spec, "path").as_string().ok_or_else(|| {
            Error::InvalidArgument(
                "storage.path: a string naming the directory handle is required".into(),
            )
        })?;
        return Ok(DynStorage::new(OpfsStorage::from_handle(
            dir.clone(),
            &path,
            mode,
        )));
    }
    Err(Error::InvalidArgument(
        "storage.opfs: expected a path string or a FileSystemDirectoryHandle".into(),
    ))
}
