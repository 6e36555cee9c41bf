// Streaming: saveDbFrom of a 1 GiB generated stream through the Node fs backend keeps RSS
// growth bounded (< 256 MiB), writes every byte in order, and leaves no temp file. Also the
// WHATWG ReadableStream path (256 MiB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pkgDir, tmpDir, run, requirePkg } from './helpers.mjs';

requirePkg();
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'stream_child.cjs');
const MiB = 1 << 20;

function check(t, kind, mib) {
  const { dir, cleanup } = tmpDir('etcd-snap-stream-');
  t.after(cleanup);
  const r = run(process.execPath, ['--expose-gc', child, dir, kind, String(mib)],
    { env: { ...process.env, ETCD_SNAP_PKG: path.join(pkgDir, 'node.cjs') }, timeout: 900_000 });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  t.diagnostic(`${kind} ${mib} MiB: ${JSON.stringify(got)}`);
  assert.equal(got.bytes, String(mib * MiB));
  assert.ok(got.growthMiB < 256, `RSS grew by ${got.growthMiB.toFixed(1)} MiB`);
  const names = fs.readdirSync(dir).sort();
  assert.deepEqual(names, ['0000000000000001.snap.db', '0000000000000002.snap.db']);
  const f = path.join(dir, '0000000000000002.snap.db');
  assert.equal(fs.statSync(f).size, mib * MiB);
  // Every MiB holds its own index byte: chunks were written whole and in order.
  const fd = fs.openSync(f, 'r');
  const b = Buffer.alloc(2);
  for (let i = 0; i < mib; i += 7) {
    fs.readSync(fd, b, 0, 1, i * MiB);
    fs.readSync(fd, b, 1, 1, i * MiB + MiB - 1);
    assert.deepEqual([b[0], b[1]], [i & 255, i & 255], `MiB ${i}`);
  }
  fs.closeSync(fd);
}

test('saveDbFrom: 1 GiB async iterable, bounded RSS', (t) => check(t, 'iter', 1024));
test('saveDbFrom: 256 MiB ReadableStream, bounded RSS', (t) => check(t, 'web', 256));
