//! wasm in Node (wasm-bindgen-test): the storage conformance suite and the shared Snapshotter
//! suite (tests/support/snapshotter_suite) over the Node fs backend (temp dirs), the JS-object backend
//! (a Map-backed test double written in JS, the way users plug in IndexedDB or S3) and the
//! in-memory backend, all through `DynStorage`, the type the JS `Snapshotter` class uses.
//!
//! `make test-wasm-node`, or
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  cargo test --target wasm32-unknown-unknown --test wasm_node`, or `wasm-pack test --node -- --test wasm_node`.

#![cfg(target_arch = "wasm32")]

#[path = "support/snapshotter_suite/mod.rs"]
mod suite;

use etcd_snap::storage::js::JsStorage;
use etcd_snap::storage::node::NodeStorage;
use etcd_snap::storage::{MemoryStorage, conformance};
use etcd_snap::wasm::DynStorage;
use etcd_snap::{LockMode, Options, Snapshotter, Storage};
use suite::Folder;
use suite::js_object::{JsFolder, make_backend};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
const fs = process.getBuiltinModule('node:fs');
const os = process.getBuiltinModule('node:os');
const path = process.getBuiltinModule('node:path');
export function mkTmp() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-wasm-node-'));
}
export function rmTmp(d) {
  fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(d + '.etcd-snap.lock', { force: true });
}
export function exists(p) { try { fs.lstatSync(p); return true; } catch { return false; } }
export function writeRaw(p, bytes) { fs.writeFileSync(p, bytes); }
export function ageFile(p, secs) { const t = Date.now() / 1000 - secs; fs.utimesSync(p, t, t); }
export function mkdirIn(d, n) { fs.mkdirSync(path.join(d, n)); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = mkTmp)]
    fn mk_tmp() -> String;
    #[wasm_bindgen(js_name = rmTmp)]
    fn rm_tmp(d: &str);
    fn exists(p: &str) -> bool;
    #[wasm_bindgen(js_name = writeRaw)]
    fn write_raw(p: &str, bytes: &[u8]);
    #[wasm_bindgen(js_name = ageFile)]
    fn age_file(p: &str, secs: f64);
    #[wasm_bindgen(js_name = mkdirIn)]
    fn mkdir_in(dir: &str, name: &str);
}

/// A fresh temp dir, removed (with its lock file) on drop.
struct TmpDir(String);
impl TmpDir {
    fn new() -> Self {
        TmpDir(mk_tmp())
    }
}
impl Drop for TmpDir {
    fn drop(&mut self) {
        rm_tmp(&self.0);
    }
}

// ---- conformance -----------------------------------------------------------------------

#[wasm_bindgen_test]
async fn conformance_memory() {
    conformance::run_all(|| async { DynStorage::new(MemoryStorage::new()) }).await;
}

#[wasm_bindgen_test]
async fn conformance_node_fs() {
    let mut dirs = Vec::new();
    for name in conformance::CHECKS {
        let d = TmpDir::new();
        conformance::run_one(name, DynStorage::new(NodeStorage::new(&d.0).unwrap())).await;
        dirs.push(d);
    }
}

#[wasm_bindgen_test]
async fn conformance_js_object() {
    conformance::run_all(|| async { DynStorage::new(JsStorage::new(make_backend()).unwrap()) })
        .await;
}

// ---- the Snapshotter suite (tests/support/snapshotter_suite), through DynStorage ----------------------

/// A Node fs folder: a fresh temp dir, removed on drop.
struct NodeFolder(TmpDir);
impl Folder for NodeFolder {
    type S = DynStorage;
    fn storage(&self) -> DynStorage {
        DynStorage::new(NodeStorage::new(&self.0.0).unwrap())
    }
    async fn mkdir(&self, name: &str) {
        mkdir_in(&self.0.0, name);
    }
}

/// An in-memory folder.
struct MemFolder(MemoryStorage);
impl Folder for MemFolder {
    type S = DynStorage;
    fn storage(&self) -> DynStorage {
        DynStorage::new(self.0.clone())
    }
    async fn mkdir(&self, name: &str) {
        self.0.mkdir(name);
    }
}

mod node_fs {
    use super::*;
    crate::snapshotter_suite_all!(snapshotter_suite_wasm, "node: Node fs", async {
        NodeFolder(TmpDir::new())
    });
}

mod memory {
    use super::*;
    crate::snapshotter_suite_all!(snapshotter_suite_wasm, "node: memory", async {
        MemFolder(MemoryStorage::new())
    });
}

mod js_object {
    use super::*;
    crate::snapshotter_suite_all!(snapshotter_suite_wasm, "node: JS object", JsFolder::fresh());
}

// ---- Node fs specifics ---------------------------------------------------------------------

/// The lock file sits beside the folder, is removed on release, and a stale one (dead PID)
/// is taken over.
#[wasm_bindgen_test]
async fn node_lock_file_beside_dir_and_stale_takeover() {
    let d = TmpDir::new();
    let st = NodeStorage::new(&d.0).unwrap();
    let lock_path = st.lock_path().unwrap();
    assert_eq!(lock_path, format!("{}.etcd-snap.lock", d.0));
    let l = st.lock(LockMode::Fail).await.unwrap();
    assert!(exists(&lock_path));
    assert!(
        st.list().await.unwrap().is_empty(),
        "no lock file inside the snap dir"
    );
    drop(l);
    assert!(!exists(&lock_path));
    // A lock left by a process that has exited (a finished child's PID) is stale.
    write_raw(
        &lock_path,
        format!(
            "{{\"pid\":{},\"host\":{},\"token\":\"dead\"}}\n",
            dead_pid(),
            js_sys::JSON::stringify(&JsValue::from_str(&hostname())).unwrap()
        )
        .as_bytes(),
    );
    let l = st.lock(LockMode::Fail).await.unwrap();
    drop(l);
    // A half-written (empty) lock file is held while fresh, stale once old.
    write_raw(&lock_path, b"");
    let e = st.lock(LockMode::Fail).await.err().unwrap();
    assert_eq!(e.code(), "ERR_LOCKED", "{e}");
    age_file(&lock_path, 60.0);
    drop(st.lock(LockMode::Fail).await.unwrap());
    assert!(!exists(&lock_path));
    // A lock of a live process (ours) is not stale.
    let _held = st.lock(LockMode::Fail).await.unwrap();
    assert_eq!(
        st.lock(LockMode::Fail).await.err().unwrap().code(),
        "ERR_LOCKED"
    );
}

#[wasm_bindgen(inline_js = "
export function hostname() { return process.getBuiltinModule('node:os').hostname(); }
export function deadPid() { return process.getBuiltinModule('node:child_process').spawnSync('true').pid; }
")]
extern "C" {
    fn hostname() -> String;
    #[wasm_bindgen(js_name = deadPid)]
    fn dead_pid() -> u32;
}

/// Errors read like Go's: `open <dir>: no such file or directory`.
#[wasm_bindgen_test]
async fn node_errors_are_go_worded() {
    let d = TmpDir::new();
    let missing = format!("{}/nope", d.0);
    let st = NodeStorage::new(&missing).unwrap();
    let e = st.list().await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("open {missing}: no such file or directory")
    );
    assert_eq!(e.code(), "ERR_NOT_FOUND");
    let st = NodeStorage::new(&d.0).unwrap();
    let s = Snapshotter::open(st, Options::default()).await.unwrap();
    let e = s.read("x.snap").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("open {}/x.snap: no such file or directory", d.0)
    );
}
