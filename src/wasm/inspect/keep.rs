//! Keeping files in OPFS: the viewer keeps opened folders there with these two calls,
//! through the OPFS backend.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::error::{Error, Result};
use crate::js::error::from_js;
use crate::js::stream::js_to_async_read;
use crate::js::util::{get, method};
use crate::storage::copy::{CopyError, copy_into};
use crate::storage::{AtomicWrite as _, Storage as _};
use crate::wasm::DynStorage;

/// The OPFS folder `spec` names (no other backend: this is for the viewer's kept files).
async fn storage_of(spec: JsValue) -> Result<DynStorage> {
    if get(&spec, "opfs").is_undefined() {
        return Err(Error::InvalidArgument(
            "storage: expected an OPFS spec { opfs: path | handle, ... }".into(),
        ));
    }
    crate::wasm::opfs_hook::open_opfs(&spec).await
}

/// Writes `source` (bytes, a `Blob`, a `ReadableStream` or async iterable of bytes) to
/// `name` in the OPFS folder `spec` names (as in `Snapshotter.open({ opfs })`), atomically
/// and durably through the OPFS backend. Resolves to the bytes written. Unlike `saveSnap`,
/// this keeps any file as it is (a broken `.snap`, a member `db`).
#[wasm_bindgen(js_name = opfsWriteFile, unchecked_return_type = "Promise<number>")]
pub fn write_storage_file(
    #[wasm_bindgen(unchecked_param_type = "StorageSpec")] spec: JsValue,
    name: String,
    #[wasm_bindgen(
        unchecked_param_type = "Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>"
    )]
    source: JsValue,
) -> Promise {
    let source = if source.dyn_ref::<Uint8Array>().is_some() {
        Ok(source)
    } else if let (Some(stream), true) = (
        method(&source, "stream"),
        method(&source, "slice").is_some(),
    ) {
        stream
            .call0(&source)
            .map_err(|e| from_js("read", name.clone(), &e))
    } else {
        Ok(source)
    };
    future_to_promise(async move {
        let run = async {
            let source = source?;
            let storage = storage_of(spec).await?;
            let mut w = storage.create_atomic(&name).await?;
            let total = if let Some(a) = source.dyn_ref::<Uint8Array>() {
                let v = a.to_vec();
                w.write(&v).await?;
                v.len() as u64
            } else {
                let r = js_to_async_read(source, "opfsWriteFile source")?;
                let (copied, n) = copy_into(w, r).await.map_err(|e| match e {
                    CopyError::Read(mut err) => {
                        if let Error::Io(io) = &mut err {
                            io.op = "read";
                            io.path = name.clone();
                        }
                        err
                    }
                    CopyError::Write(err) => err,
                })?;
                w = copied;
                n
            };
            w.commit().await?;
            storage.sync_dir().await?;
            Ok::<_, Error>(JsValue::from_f64(total as f64))
        };
        run.await.map_err(JsValue::from)
    })
}

/// Removes `name` from the OPFS folder `spec` names; resolves to false if it was not there.
#[wasm_bindgen(js_name = opfsRemoveFile, unchecked_return_type = "Promise<boolean>")]
pub fn remove_storage_file(
    #[wasm_bindgen(unchecked_param_type = "StorageSpec")] spec: JsValue,
    name: String,
) -> Promise {
    future_to_promise(async move {
        let run = async {
            let storage = storage_of(spec).await?;
            match storage.remove(&name).await {
                Ok(()) => {}
                Err(e) if e.code() == "ERR_NOT_FOUND" => return Ok(JsValue::FALSE),
                Err(e) => return Err(e),
            }
            storage.sync_dir().await?;
            Ok::<_, Error>(JsValue::TRUE)
        };
        run.await.map_err(JsValue::from)
    })
}
