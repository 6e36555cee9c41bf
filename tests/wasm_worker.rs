//! OPFS in a dedicated worker (headless Chromium): the `FileSystemSyncAccessHandle` backend
//! runs the storage conformance suite and the Snapshotter behaviours.
//!
//! `make test-wasm-browser`, or:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_worker`

#![cfg(target_arch = "wasm32")]

#[path = "support/snapshotter_suite/mod.rs"]
mod suite;
#[path = "support/wasm_browser.rs"]
mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

opfs_tests!(OpfsMode::SyncAccess);

use suite::Generated;

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

/// Fault injection: `FileSystemSyncAccessHandle.prototype.write` patched to accept one byte
/// less than given, as a quota-starved handle may. The writer reports `ERR_NO_SPACE` and the
/// aborted save leaves nothing behind.
#[wasm_bindgen_test]
async fn short_sync_write_is_no_space() {
    let s = fresh(OpfsMode::SyncAccess, "short-write").await;
    let sn = Snapshotter::open(s.clone(), Options::default())
        .await
        .unwrap();
    sn.save_snap(&snap(1, 1, b"before")).await.unwrap();
    let patch = js_sys::Function::new_no_args(
        "const p = FileSystemSyncAccessHandle.prototype;
         p.__etcdSnapRealWrite = p.write;
         p.write = function (buf, opts) {
           return this.__etcdSnapRealWrite(buf.subarray(0, Math.max(0, buf.length - 1)), opts);
         };",
    );
    let unpatch = js_sys::Function::new_no_args(
        "const p = FileSystemSyncAccessHandle.prototype;
         p.write = p.__etcdSnapRealWrite;
         delete p.__etcdSnapRealWrite;",
    );
    patch.call0(&wasm_bindgen::JsValue::NULL).unwrap();
    let saved = sn.save_db_from(Generated::new(3 << 20), 2).await;
    let snapped = sn.save_snap(&snap(1, 2, b"after")).await;
    unpatch.call0(&wasm_bindgen::JsValue::NULL).unwrap();
    let e = saved.unwrap_err();
    assert_eq!(e.code(), "ERR_NO_SPACE", "{e}");
    assert!(e.to_string().contains("short write"), "{e}");
    assert_eq!(snapped.unwrap_err().code(), "ERR_NO_SPACE");
    assert_eq!(sorted(&s).await, ["0000000000000001-0000000000000001.snap"]);
    assert_eq!(sn.load().await.unwrap(), snap(1, 1, b"before"));
    // Unpatched, the same writes go through.
    sn.save_snap(&snap(1, 2, b"after")).await.unwrap();
    assert_eq!(
        sn.save_db_from(Generated::new(3 << 20), 2).await.unwrap(),
        3 << 20
    );
    drop(sn);
    cleanup(&s).await;
}
