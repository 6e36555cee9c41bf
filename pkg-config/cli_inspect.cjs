'use strict';
// etcd-snap (npm): `status` and `keys`, same arguments and the same bytes as the native CLI
// (src/bin/etcd-snap/inspect_cmds.rs): the wasm core formats etcdctl's output
// (etcdctlStatus / etcdctlKeysStream); this file parses arguments and reads the db a page at a time
// with positioned reads on one file descriptor (a large db never sits whole in memory).
//   status FILE [-w json|table] [--skip-hash-check]
//   keys FILE [--prefix P] [--from K] [--rev R] [--limit N] [-w json|table] [--skip-hash-check]
const fs = require('node:fs');

const USAGE = `  status FILE [-w json|table] [--skip-hash-check]
                                            a db's hash, revision, total keys and size, as etcdctl snapshot status
  keys FILE [--prefix P] [--from K] [--rev R] [--limit N] [-w json|table] [--skip-hash-check]
                                            keys live at a revision, as etcdctl get --prefix -w json
`;

// `from` and `limit` are also wire options (same type); parseArgs takes one table.
const OPTIONS = {
  prefix: { type: 'string' }, from: { type: 'string' }, rev: { type: 'string' }, limit: { type: 'string' },
  'skip-hash-check': { type: 'boolean' },
};

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Runs `fn(source)` over `{ size, read(offset, length) }` on FILE, closing it after. */
function withFileSource(file, fsError, fn) {
  let fd;
  try { fd = fs.openSync(file, 'r'); } catch (e) { throw fsError('open', file, e); }
  try {
    let st;
    try { st = fs.fstatSync(fd); } catch (e) { throw fsError('open', file, e); }
    if (st.isDirectory()) throw fsError('open', file, { code: 'EISDIR' });
    // One scratch buffer, reused: the wasm side copies each slice out before the next read.
    let scratch = Buffer.allocUnsafe(64 << 10);
    const source = {
      size: st.size,
      read(offset, length) {
        if (scratch.length < length) scratch = Buffer.allocUnsafe(length);
        const b = scratch;
        let n = 0;
        while (n < length) {
          // Thrown as is: the wasm side words it as the native CLI (`read: input/output error`).
          const got = fs.readSync(fd, b, n, length - n, offset + n);
          if (got === 0) break;
          n += got;
        }
        return new Uint8Array(b.buffer, b.byteOffset, n);
      },
    };
    return fn(source);
  } finally {
    fs.closeSync(fd);
  }
}

function print(text) { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`); }

/** Writes `text` to stdout now, whole (a pipe may take it in parts or say EAGAIN): `keys`
 * streams its answer, so nothing may queue up in memory behind a slow reader. */
function writeStdout(text) {
  const b = Buffer.from(text);
  let n = 0;
  while (n < b.length) {
    try {
      n += fs.writeSync(1, b, n, b.length - n);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      // A non-blocking pipe is full: wait for the reader without spinning.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

/** `parse(cmd, values, positionals, helpers)` → a job, or null if `cmd` is not ours. */
function parse(cmd, values, positionals, h) {
  const { u64, UsageError, fsError, snap } = h;
  if (cmd !== 'status' && cmd !== 'keys') return null;
  const allow = (ok) => {
    for (const k of Object.keys(values)) if (!ok.includes(k)) throw new UsageError(`unexpected argument '--${k}' found`);
  };
  // clap takes each option once; parseArgs would let the last one win.
  const seen = new Set();
  for (const tk of h.tokens ?? []) {
    if (tk.kind !== 'option') continue;
    if (seen.has(tk.name)) throw new UsageError(`the argument '--${tk.name}' cannot be used multiple times`);
    seen.add(tk.name);
  }
  const common = ['write-out', 'skip-hash-check'];
  allow(cmd === 'status' ? common : [...common, 'prefix', 'from', 'rev', 'limit']);
  if (positionals.length !== 1) throw new UsageError(`${cmd}: expected FILE`);
  const file = positionals[0];
  const writeOut = values['write-out'] ?? 'json';
  if (writeOut !== 'json' && writeOut !== 'table') throw new UsageError(`invalid value '${writeOut}' for '--write-out <WRITE_OUT>'`);
  // Damage bbolt reads through: a warning line each, as the native CLI prints them.
  const onWarning = (w) => process.stderr.write(`warning: ${w}\n`);
  const opts = { writeOut, verifyTrailer: !values['skip-hash-check'], onWarning };
  if (cmd === 'status') return () => withFileSource(file, fsError, (src) => print(snap.etcdctlStatus(src, opts)));
  let rev = 0n;
  if (values.rev !== undefined) {
    const s = values.rev;
    if (!/^[+-]?[0-9]+$/.test(s)) throw new UsageError(`invalid value '${s}' for '--rev <R>': invalid digit found in string`);
    rev = BigInt(s.replace(/^\+/, ''));
    if (rev < I64_MIN || rev > I64_MAX) throw new UsageError(`invalid value '${s}' for '--rev <R>': number too ${rev < 0n ? 'small' : 'large'} to fit in target type`);
  }
  const limit = values.limit === undefined ? 0n : u64(values.limit, '--limit <N>');
  Object.assign(opts, { prefix: values.prefix ?? '', from: values.from ?? null, rev, limit });
  // Streamed as keys are found (bounded memory, issue 9): a thrown write error (EPIPE...)
  // comes back from the wasm side worded as the native CLI's (`write /dev/stdout: ...`).
  return () => withFileSource(file, fsError, (src) => snap.etcdctlKeysStream(src, writeStdout, opts));
}

module.exports = { parse, OPTIONS, USAGE };
