//! OPFS on the browser main thread (headless Chromium): the `createWritable()` backend runs
//! the storage conformance suite and the shared Snapshotter suite; so does the JS-object backend.
//!
//! `make test-wasm-browser`, or:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_browser`

#![cfg(target_arch = "wasm32")]

#[path = "support/snapshotter_suite/mod.rs"]
mod suite;
#[path = "support/wasm_browser.rs"]
mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

opfs_tests!(OpfsMode::Writable);

/// The shared Snapshotter suite on the JS-object backend, in the browser.
mod snapshotter_js_object {
    use crate::suite::js_object::JsFolder;
    crate::snapshotter_suite_all!(
        snapshotter_suite_wasm,
        "browser: JS object",
        JsFolder::fresh()
    );
}

/// Sync access handles exist only in dedicated workers.
#[wasm_bindgen_test]
async fn sync_access_refused_on_main_thread() {
    assert_eq!(OpfsMode::detect(), OpfsMode::Writable);
    let e = OpfsStorage::open_with_mode("etcd-snap-tests/sync", OpfsMode::SyncAccess)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ERR_UNSUPPORTED", "{e}");
}
