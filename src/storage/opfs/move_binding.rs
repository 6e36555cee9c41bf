//! `FileSystemHandle.move()`, which web-sys does not bind. Chromium (since 110 for OPFS),
//! Firefox and Safari ship it; [`has_move`] tells whether this browser does.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{FileSystemDirectoryHandle, FileSystemHandle};

#[wasm_bindgen]
extern "C" {
    /// A handle seen through the `move` method only.
    type MovableHandle;

    #[wasm_bindgen(method, catch, js_name = "move")]
    fn move_into(
        this: &MovableHandle,
        dest: &FileSystemDirectoryHandle,
        name: &str,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// Whether `handle.move` exists (on the handle or its prototype chain).
pub(crate) fn has_move(handle: &FileSystemHandle) -> bool {
    js_sys::Reflect::has(handle, &JsValue::from_str("move")).unwrap_or(false)
        && js_sys::Reflect::get(handle, &JsValue::from_str("move"))
            .map(|f| f.is_function())
            .unwrap_or(false)
}

/// `handle.move(dest, name)`: renames within OPFS, replacing an existing file of that name.
pub(crate) async fn move_to(
    handle: &FileSystemHandle,
    dest: &FileSystemDirectoryHandle,
    name: &str,
) -> Result<(), JsValue> {
    let promise = handle
        .unchecked_ref::<MovableHandle>()
        .move_into(dest, name)?;
    JsFuture::from(promise).await.map(|_| ())
}
