// Types of both entries (Node and browser): the wasm-bindgen API plus init().
export * from "./etcd_snap.js";
import type { InitInput } from "./etcd_snap.js";

/**
 * Browser: loads the wasm (idempotent; await it once before using the API).
 * Node: a no-op that resolves at once (the Node entry instantiates synchronously).
 */
export declare function init(input?: InitInput | { module_or_path: InitInput | Promise<InitInput> }): Promise<void>;
export default init;
