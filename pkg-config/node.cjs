'use strict';
// Node entry (CommonJS; node.mjs re-exports it for `import`): instantiates the wasm
// synchronously at load time, so there is no init step and no top-level await.
const glue = require('./etcd_snap.cjs');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

glue.initSync({ module: readFileSync(join(__dirname, 'etcd_snap_bg.wasm')) });

/** Already initialised in Node; kept so code shared with browsers can call it. */
function init() {
  return Promise.resolve();
}

module.exports = { ...glue, init, default: init };
