//! The JS-object backend's test double (a Map, async everywhere, chunked reads: the way users
//! plug in IndexedDB or S3) and its [`Folder`], shared by the Node and browser runners.
//! Plain JS, no Node or DOM API, so the same snippet runs in both.

use etcd_snap::storage::js::JsStorage;
use etcd_snap::wasm::DynStorage;
use wasm_bindgen::prelude::*;

use super::Folder;

#[wasm_bindgen(inline_js = r#"
function err(code, msg) { return Object.assign(new Error(msg), { code }); }
class MapBackend {
  constructor() { this.files = new Map(); this.dirs = new Set(); this.locked = false; }
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
    if (this.dirs.has(n)) throw err('EISDIR', 'is a directory');
    const chunks = []; const self = this; let done = false;
    return {
      async write(c) { if (done) throw err('EBADF', 'closed'); chunks.push(c.slice()); },
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
    if (this.dirs.has(b)) throw err('EISDIR', 'is a directory');
    if (this.dirs.delete(a)) { this.dirs.add(b); return; }
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
export function mkdirIn(b, n) { b.dirs.add(n); }
"#)]
extern "C" {
    /// A fresh, empty Map-backed `StorageBackend` object.
    #[wasm_bindgen(js_name = makeBackend)]
    pub fn make_backend() -> JsValue;
    #[wasm_bindgen(js_name = mkdirIn)]
    fn mkdir_in(backend: &JsValue, name: &str);
}

/// A folder on one Map backend, seen through `DynStorage` (what the JS `Snapshotter` uses).
pub struct JsFolder(pub JsValue);

impl JsFolder {
    pub async fn fresh() -> Self {
        JsFolder(make_backend())
    }
}

impl Folder for JsFolder {
    type S = DynStorage;
    fn storage(&self) -> DynStorage {
        DynStorage::new(JsStorage::new(self.0.clone()).unwrap())
    }
    async fn mkdir(&self, name: &str) {
        mkdir_in(&self.0, name);
    }
}
