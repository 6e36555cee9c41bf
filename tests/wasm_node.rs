//! wasm in Node (wasm-bindgen-test): the storage conformance suite and Snapshotter behaviours
//! over the Node fs backend (temp dirs), the JS-object backend (a Map-backed test double
//! written in JS, the way users plug in IndexedDB or S3) and the in-memory backend, all
//! through `DynStorage`, the type the JS `Snapshotter` class uses.
//!
//! `make test-wasm-node`, or
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//!  cargo test --target wasm32-unknown-unknown --test wasm_node`, or `wasm-pack test --node -- --test wasm_node`.

#![cfg(target_arch = "wasm32")]

use bytes::Bytes;
use etcd_snap::storage::js::JsStorage;
use etcd_snap::storage::node::NodeStorage;
use etcd_snap::storage::{MemoryStorage, conformance};
use etcd_snap::wasm::DynStorage;
use etcd_snap::{
    AtomicWrite, ConfState, LockMode, Options, Snapshot, SnapshotMetadata, Snapshotter, Storage,
    WalSnapshot, codec,
};
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
export function exists(p) { return fs.existsSync(p); }
export function writeRaw(p, bytes) { fs.writeFileSync(p, bytes); }
export function ageFile(p, secs) { const t = Date.now() / 1000 - secs; fs.utimesSync(p, t, t); }
function err(code, msg) { return Object.assign(new Error(msg), { code }); }
// A test double of the StorageBackend interface: a Map, async everywhere, chunked reads.
class MapBackend {
  constructor() { this.files = new Map(); this.dirs = new Set(); this.locked = false; this.seq = 0; }
  async list() { return [...this.files.keys(), ...this.dirs]; }
  async stat(n) {
    if (this.dirs.has(n)) return { size: 0, isDir: true };
    const f = this.files.get(n);
    if (!f) throw err('ENOENT', 'no such file or directory');
    return { size: BigInt(f.length), isDir: false };
  }
  async read(n) {
    if (this.dirs.has(n)) throw err('EISDIR', 'is a directory');
    const f = this.files.get(n);
    if (!f) throw err('ENOENT', 'no such file or directory');
    return f.slice();
  }
  async openRead(n) {
    const f = await this.read(n);
    return (async function* () { for (let i = 0; i < f.length; i += 1000) yield f.subarray(i, i + 1000); })();
  }
  async createAtomic(n) {
    const chunks = []; const self = this; let done = false;
    return {
      async write(c) { if (done) throw err('EBADF', 'closed'); chunks.push(c); },
      async commit() {
        done = true;
        const len = chunks.reduce((a, c) => a + c.length, 0);
        const all = new Uint8Array(len); let o = 0;
        for (const c of chunks) { all.set(c, o); o += c.length; }
        self.files.set(n, all);
      },
      abort() { done = true; },
    };
  }
  async rename(a, b) {
    const f = this.files.get(a);
    if (!f) throw err('ENOENT', 'no such file or directory');
    this.files.delete(a); this.files.set(b, f);
  }
  async remove(n) {
    if (this.dirs.delete(n)) return;
    if (!this.files.delete(n)) throw err('ENOENT', 'no such file or directory');
  }
  async syncDir() {}
  async lock(mode) {
    while (this.locked) {
      if (mode === 'fail') throw err('ERR_LOCKED', 'folder is locked');
      await new Promise((r) => setTimeout(r, 5));
    }
    this.locked = true;
    let held = true;
    return { release: () => { if (held) { held = false; this.locked = false; } } };
  }
  pathOf(n) { return 'map:' + n; }
}
export function makeBackend() { return new MapBackend(); }
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
    #[wasm_bindgen(js_name = makeBackend)]
    fn make_backend() -> JsValue;
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

// ---- Snapshotter behaviours, written once over DynStorage ---------------------------------

fn test_snap(term: u64, index: u64) -> Snapshot {
    Snapshot {
        data: Some(Bytes::from_static(b"some snapshot")),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..ConfState::default()
            },
            index,
            term,
        },
    }
}

async fn put(s: &impl Storage, name: &str, bytes: &[u8]) {
    let mut w = s.create_atomic(name).await.unwrap();
    w.write(bytes).await.unwrap();
    w.commit().await.unwrap();
}

async fn sorted(s: &impl Storage) -> Vec<String> {
    let mut v = s.list().await.unwrap();
    v.sort();
    v
}

/// A factory of handles on one folder.
trait Folder {
    fn handle(&self) -> DynStorage;
}

struct NodeFolder(TmpDir);
impl Folder for NodeFolder {
    fn handle(&self) -> DynStorage {
        DynStorage::new(NodeStorage::new(&self.0.0).unwrap())
    }
}
struct MemFolder(MemoryStorage);
impl Folder for MemFolder {
    fn handle(&self) -> DynStorage {
        DynStorage::new(self.0.clone())
    }
}
struct JsFolder(JsValue);
impl Folder for JsFolder {
    fn handle(&self) -> DynStorage {
        DynStorage::new(JsStorage::new(self.0.clone()).unwrap())
    }
}

async fn open(f: &impl Folder) -> Snapshotter<DynStorage> {
    Snapshotter::open(f.handle(), Options::default())
        .await
        .unwrap()
}

async fn save_and_load(f: impl Folder) {
    let s = open(&f).await;
    s.save_snap(&test_snap(1, 1)).await.unwrap();
    assert_eq!(s.load().await.unwrap(), test_snap(1, 1));
    // etcd's exact bytes (G1 of the spec) under etcd's name.
    let bytes = s
        .storage()
        .read("0000000000000001-0000000000000001.snap")
        .await
        .unwrap();
    assert_eq!(bytes, codec::encode_snap_file(&test_snap(1, 1)));
    assert_eq!(bytes.len(), 39);
    // Index 0 is a no-op.
    s.save_snap(&test_snap(1, 0)).await.unwrap();
    assert_eq!(
        sorted(s.storage()).await,
        ["0000000000000001-0000000000000001.snap"]
    );
}

async fn failback_and_broken(f: impl Folder) {
    let s = open(&f).await;
    s.save_snap(&test_snap(1, 1)).await.unwrap();
    put(
        s.storage(),
        "000000000000ffff-000000000000ffff-000000000000ffff.snap",
        b"bad data",
    )
    .await;
    assert_eq!(s.load().await.unwrap(), test_snap(1, 1));
    assert_eq!(
        sorted(s.storage()).await,
        [
            "0000000000000001-0000000000000001.snap",
            "000000000000ffff-000000000000ffff-000000000000ffff.snap.broken"
        ]
    );
}

async fn no_snapshot_and_empty(f: impl Folder) {
    let s = open(&f).await;
    assert_eq!(s.load().await.unwrap_err().code(), "ERR_NO_SNAPSHOT");
    put(s.storage(), "1.snap", b"").await;
    let e = s.read("1.snap").await.unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("ERR_EMPTY_SNAPSHOT", "snap: empty snapshot")
    );
    let e = s.read("missing.snap").await.unwrap_err();
    assert_eq!(e.code(), "ERR_NOT_FOUND", "{e}");
    assert!(
        e.to_string()
            .ends_with("missing.snap: no such file or directory"),
        "{e}"
    );
}

async fn real_etcd_fixtures(f: impl Folder) {
    let s = open(&f).await;
    let single: [(&str, &[u8]); 2] = [
        (
            "0000000000000002-0000000000000033.snap",
            include_bytes!(
                "fixtures/etcd-3.4.23/single/member-snap/0000000000000002-0000000000000033.snap"
            ),
        ),
        (
            "0000000000000002-0000000000000134.snap",
            include_bytes!(
                "fixtures/etcd-3.4.23/single/member-snap/0000000000000002-0000000000000134.snap"
            ),
        ),
    ];
    for (name, bytes) in single {
        put(s.storage(), name, bytes).await;
        // Byte-exact round trip of etcd's own file.
        let snap = s.read(name).await.unwrap();
        assert_eq!(codec::encode_snap_file(&snap), bytes, "{name}");
    }
    put(
        s.storage(),
        "0000000000000002-0000000000000065.snap",
        include_bytes!(
            "fixtures/etcd-3.4.23/golden/corrupt/0000000000000002-0000000000000065.snap"
        ),
    )
    .await;
    let e = s
        .read("0000000000000002-0000000000000065.snap")
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "snap: crc mismatch");
    let snap = s.load().await.unwrap();
    assert_eq!((snap.metadata.term, snap.metadata.index), (2, 308));
    let snap = s
        .load_newest_available(&[WalSnapshot {
            term: 2,
            index: 0x33,
        }])
        .await
        .unwrap();
    assert_eq!(snap.metadata.index, 0x33);
}

async fn save_db_from_and_release(f: impl Folder) {
    let s = open(&f).await;
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let n = s
        .save_db_from(futures_util::io::Cursor::new(body.clone()), 0x15c5)
        .await
        .unwrap();
    assert_eq!(n, body.len() as u64);
    let p = s.db_file_path(0x15c5).await.unwrap();
    assert!(p.ends_with("00000000000015c5.snap.db"), "{p}");
    assert_eq!(
        s.storage().read("00000000000015c5.snap.db").await.unwrap(),
        body
    );
    assert_eq!(
        s.db_file_path(7).await.unwrap_err().code(),
        "ERR_NO_DB_SNAPSHOT"
    );
    for i in [100u64, 200, 300] {
        s.save_db_from(futures_util::io::Cursor::new(vec![1u8; 10]), i)
            .await
            .unwrap();
    }
    s.release_snap_dbs(&test_snap(1, 200)).await.unwrap();
    let names = sorted(s.storage()).await;
    assert_eq!(
        names,
        [
            "00000000000000c8.snap.db",
            "000000000000012c.snap.db",
            "00000000000015c5.snap.db"
        ]
    );
}

async fn second_opener_is_locked(f: impl Folder) {
    let s = open(&f).await;
    let e = Snapshotter::open(f.handle(), Options::default())
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), "ERR_LOCKED", "{e}");
    // A waiting opener gets the folder once the first one is dropped.
    let waiter = Snapshotter::open(
        f.handle(),
        Options {
            lock: Some(LockMode::Wait),
            ..Options::default()
        },
    );
    let release = async {
        etcd_snap::wasm::jsutil::sleep_ms(30).await.unwrap();
        drop(s);
    };
    let (w, ()) = futures_util::future::join(waiter, release).await;
    w.unwrap();
}

macro_rules! on_backends {
    ($($name:ident),* $(,)?) => {
        mod node_fs {
            use super::*;
            $( #[wasm_bindgen_test] async fn $name() { super::$name(NodeFolder(TmpDir::new())).await } )*
        }
        mod memory {
            use super::*;
            $( #[wasm_bindgen_test] async fn $name() { super::$name(MemFolder(MemoryStorage::new())).await } )*
        }
        mod js_object {
            use super::*;
            $( #[wasm_bindgen_test] async fn $name() { super::$name(JsFolder(make_backend())).await } )*
        }
    };
}

on_backends!(
    save_and_load,
    failback_and_broken,
    no_snapshot_and_empty,
    real_etcd_fixtures,
    save_db_from_and_release,
    second_opener_is_locked,
);

// ---- Node fs specifics ---------------------------------------------------------------------

/// The lock file sits beside the folder, is removed on release, and a stale one (dead PID)
/// is taken over.
#[wasm_bindgen_test]
async fn node_lock_file_beside_dir_and_stale_takeover() {
    let d = TmpDir::new();
    let st = NodeStorage::new(&d.0).unwrap();
    let lock_path = st.lock_path();
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
