//! OPFS in a dedicated worker (headless Chromium): the `FileSystemSyncAccessHandle` backend
//! runs the storage conformance suite and the Snapshotter behaviours.
//!
//! `make test-wasm-browser`, or:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_worker`

#![cfg(target_arch = "wasm32")]

#[path = "wasm_browser_support/mod.rs"]
mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

opfs_tests!(OpfsMode::SyncAccess);

/// Workers pick sync access handles by themselves, and can still use `createWritable()`.
#[wasm_bindgen_test]
async fn worker_modes() {
    assert_eq!(OpfsMode::detect(), OpfsMode::SyncAccess);
    let s = OpfsStorage::open("etcd-snap-tests/worker-modes")
        .await
        .unwrap();
    assert_eq!(s.mode(), OpfsMode::SyncAccess);
    let w = OpfsStorage::open_with_mode("etcd-snap-tests/worker-modes", OpfsMode::Writable)
        .await
        .unwrap();
    put(&w, "a", b"via writable").await;
    assert_eq!(s.read("a").await.unwrap(), b"via writable");
    cleanup(&s).await;
}
