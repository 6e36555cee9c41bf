// The page's side of the decoding worker (worker.js): numbered requests, one promise each.
// Protocol: the page posts { id, op, ...args }; the worker answers { id, ok, value | error }.

const pending = new Map();
let seq = 0;
let worker;
let hooks = { onRestart: () => {}, onFail: () => {} };

/** Starts the decoding worker. `onRestart` runs after a crash restarted it (the open folder
 *  is gone); `onFail(message)` when the worker itself fails to run. */
export function startWorker(h) {
  hooks = { ...hooks, ...h };
  spawn();
}

function spawn() {
  worker = new Worker(new URL('../worker.js', import.meta.url), { type: 'module', name: 'etcd-snap-decoder' });
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.ok) return p.resolve(data.value);
    const err = Object.assign(new Error(data.error.message), { code: data.error.code });
    if (!data.error.code && /unreachable|RuntimeError/.test(data.error.message)) {
      err.message = `The decoder crashed (${data.error.message}) and was restarted; open the folder or file again.`;
      restart();
    }
    p.reject(err);
  };
  worker.onerror = (e) => hooks.onFail(`The decoding worker failed: ${e.message || 'unknown error'}`);
}

/** A trap in the wasm (a bug, never bad input) leaves that instance unusable, so a fresh
 *  worker replaces it and the page is told to forget what was open. */
function restart() {
  worker.terminate();
  for (const p of pending.values()) p.reject(new Error('the decoder was restarted'));
  pending.clear();
  hooks.onRestart();
  spawn();
}

/** Runs `op` in the worker; resolves to its value or rejects with an Error carrying `code`. */
export function call(op, args = {}) {
  const id = ++seq;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, ...args });
  });
}
