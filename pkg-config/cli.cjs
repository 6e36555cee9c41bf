#!/usr/bin/env node
'use strict';
// etcd-snap (npm): the same command line as the native `etcd-snap` binary. Parsing, the
// library calls and every printed byte are the crate's Rust `cli` module (src/cli/), run in
// wasm by `runCli`; this file only hands it argv and stdio and sets the exit code.
const fs = require('node:fs');
const tty = require('node:tty');
const { runCli } = require('./node.cjs');

/** Writes `bytes` to `fd` now, whole: a pipe may take them in parts or say EAGAIN (then wait
 *  for the reader without spinning), so nothing queues up in memory behind a slow reader. */
function writeAll(fd, bytes) {
  let n = 0;
  while (n < bytes.length) {
    try {
      n += fs.writeSync(fd, bytes, n, bytes.length - n);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

const host = {
  stdout: (bytes) => writeAll(1, bytes),
  stderr: (bytes) => { try { writeAll(2, bytes); } catch { /* nowhere left to report it */ } },
  stdin: () => process.stdin,
  stdoutIsTTY: tty.isatty(1),
  stderrIsTTY: tty.isatty(2),
};

runCli(['etcd-snap', ...process.argv.slice(2)], host).then((code) => { process.exitCode = code; });
