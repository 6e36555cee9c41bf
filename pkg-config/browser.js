// Browser (and bundler) entry: call `await init()` once before anything else. init() is
// idempotent: every call returns the same promise; a failed attempt may be retried.
import __wbg_init from './etcd_snap.js';

export * from './etcd_snap.js';

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
