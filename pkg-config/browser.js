// Browser (and bundler) entry: call `await init()` once before anything else. init() is
// idempotent: every call returns the same promise; a failed attempt may be retried.
import __wbg_init, { InspectDb } from './etcd_snap.js';

export * from './etcd_snap.js';

// As in node.cjs: free() is close(), idempotent, and later calls throw a typed error
// (wasm-bindgen's own free() leaves calls that throw `null pointer passed to rust`).
InspectDb.prototype.free = function free() { this.close(); };

let ready;

/**
 * Loads and instantiates the wasm. `input` (optional): the .wasm URL, a Response, a
 * BufferSource or a WebAssembly.Module; default: etcd_snap_bg.wasm next to this file.
 */
export function init(input) {
  if (!ready) {
    const arg = input === undefined ? undefined
      : (Object.getPrototypeOf(input) === Object.prototype ? input : { module_or_path: input });
    ready = __wbg_init(arg).then(() => undefined);
    ready.catch(() => { ready = undefined; });
  }
  return ready;
}

export default init;
