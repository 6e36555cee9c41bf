//! OPFS on the browser main thread (headless Chromium): the `createWritable()` backend runs
//! the storage conformance suite and the shared Snapshotter suite; so does the JS-object backend.
//!
//! `make test-wasm-browser`, or:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test wasm_browser`

#![cfg(target_arch = "wasm32")]

#[path = "snapshotter_suite/mod.rs"]
mod suite;
#[path = "wasm_browser_support/mod.rs"]
mod support;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

opfs_tests!(OpfsMode::Writable);

/// The shared Snapshotter suite on the JS-object backend, in the browser.
mod snapshotter_js_object {
    use crate::suite::js_object::JsFolder;
    crate::snapshotter_suite_wasm!(
        runner: "browser: JS object",
        folder: JsFolder::fresh(),
        run: [
            save_and_load,
            bad_crc,
            failback,
            snap_names,
            load_newest_snap,
            no_snapshot,
            empty_snapshot,
            all_snapshot_broken,
            release_snap_dbs,
            save_snap_index_zero_is_noop,
            save_snap_overwrites,
            mixed_directory_as_etcd,
            mixed_directory_default_open,
            save_db_from_cases,
            save_db_from_keeps_typed_reader_errors,
            save_db_from_streams_large,
            db_file_path,
            release_snap_dbs_parse_rules,
            lock_fail_gives_err_locked,
            lock_wait_until_released,
            no_cleanup_without_lock,
            load_bounds_broken_files,
            prune_keeps_valid_broken_files,
            list_reports_kinds_and_verdicts,
            real_etcd_fixtures,
            read_missing_is_not_found,
        ],
        excluded: [],
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
