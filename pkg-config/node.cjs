'use strict';
// Node entry (CommonJS; node.mjs re-exports it for `import`): instantiates the wasm
// synchronously at load time, so there is no init step and no top-level await.
const glue = require('./etcd_snap.cjs');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

glue.initSync({ module: readFileSync(join(__dirname, 'etcd_snap_bg.wasm')) });

// wasm-bindgen's free() leaves a handle whose every call (and a second free) throws an
// untyped `null pointer passed to rust`: make it close(), which is idempotent and makes
// later calls throw `InspectDb is closed` (ERR_INVALID_ARGUMENT); the handle's few bytes
// are freed with it by the glue's FinalizationRegistry (issue 9, item 11).
glue.InspectDb.prototype.free = function free() { this.close(); };

/** Already initialised in Node; kept so code shared with browsers can call it. */
function init() {
  return Promise.resolve();
}

module.exports = { ...glue, init, default: init };
