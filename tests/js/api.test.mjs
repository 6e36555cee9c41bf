// The JS surface through the Node entry: snapshot objects (bigint, data null vs empty), error
// objects (etcd's message + stable code, never a panic: the instance keeps working after
// thousands of malformed inputs), the memory and JS-object backends, close().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pkgDir, fixtures, tmpDir, copyDir, requirePkg } from './helpers.mjs';

requirePkg();
const snap = createRequire(import.meta.url)(path.join(pkgDir, 'node.cjs'));
const golden = (n) => new Uint8Array(fs.readFileSync(path.join(fixtures, 'golden/saved', n)));

async function rejects(p, code, message) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.equal(e.code, code, e.message);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}
function throws(f, code, message) {
  assert.throws(f, (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, code, e.message);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

test('decode/encode: etcd golden files round-trip byte for byte; nil vs empty data', () => {
  for (const n of fs.readdirSync(path.join(fixtures, 'golden/saved'))) {
    const bytes = golden(n);
    const s = snap.decodeSnap(bytes);
    assert.equal(snap.snapName(s.term, s.index), n);
    assert.deepEqual(snap.encodeSnap(s), bytes, n);
  }
  const nil = snap.decodeSnap(golden('0000000000000001-0000000000000001.snap'));
  assert.equal(nil.data, null);
  const empty = snap.decodeSnap(golden('0000000000000001-0000000000000002.snap'));
  assert.deepEqual(empty.data, new Uint8Array());
  const big = snap.decodeSnap(golden('ffffffffffffffff-fffffffffffffffe.snap'));
  assert.equal(big.term, 2n ** 64n - 1n);
  assert.deepEqual(big.confState.voters, [2n ** 64n - 1n, 2n ** 63n]);
  assert.equal(typeof big.confState.autoLeave, 'boolean');
  assert.equal(snap.crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(snap.dbName(42n), '000000000000002a.snap.db');
});

test('errors carry etcd messages and stable codes', () => {
  for (const n of fs.readdirSync(path.join(fixtures, 'golden/corrupt'))) {
    const want = fs.readFileSync(path.join(fixtures, `expected/golden/corrupt/${n}.err.txt`), 'utf8').trim().replace(/^ERROR: /, '');
    assert.throws(() => snap.decodeSnap(new Uint8Array(fs.readFileSync(path.join(fixtures, 'golden/corrupt', n)))),
      (e) => e instanceof Error && e.message === want && /^ERR_[A-Z_]+$/.test(e.code), n);
  }
  throws(() => snap.decodeSnap(new Uint8Array()), 'ERR_EMPTY_SNAPSHOT', 'snap: empty snapshot');
  throws(() => snap.decodeSnap('not bytes'), 'ERR_INVALID_ARGUMENT');
  throws(() => snap.encodeSnap({ term: -1n, index: 1n }), 'ERR_INVALID_ARGUMENT');
  throws(() => snap.encodeSnap({ term: 2n ** 64n, index: 1n }), 'ERR_INVALID_ARGUMENT');
  throws(() => snap.encodeSnap({ term: 1.5, index: 1n }), 'ERR_INVALID_ARGUMENT');
  throws(() => snap.encodeSnap({ term: 1n, index: 1n, data: 'x' }), 'ERR_INVALID_ARGUMENT');
  throws(() => snap.encodeSnap({ term: 1n, index: 1n, confState: { voters: [1n, 'x'] } }), 'ERR_INVALID_ARGUMENT');
  throws(() => snap.encodeSnap(null), 'ERR_INVALID_ARGUMENT');
  // Plain safe-integer numbers are accepted for convenience.
  assert.deepEqual(snap.encodeSnap({ term: 2, index: 100, confState: { voters: [1, 2, 3] }, data: new TextEncoder().encode('hello') }),
    golden('0000000000000002-0000000000000064.snap'));
});

test('no panic reaches JS: random and mutated inputs only throw coded errors', () => {
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 1; return seed; };
  const base = golden('ffffffffffffffff-fffffffffffffffe.snap');
  const codes = new Set();
  for (let i = 0; i < 5000; i++) {
    let b;
    if (i % 2) { b = new Uint8Array(rnd() % 80); for (let j = 0; j < b.length; j++) b[j] = rnd() & 255; }
    else if (i % 4 === 0) { b = base.slice(0, rnd() % (base.length + 1)); }
    else { b = base.slice(); b[rnd() % b.length] ^= 1 << (rnd() % 8); }
    try { snap.decodeSnap(b); } catch (e) {
      assert.ok(e instanceof Error && typeof e.code === 'string', String(e));
      codes.add(e.code);
    }
  }
  assert.ok(codes.has('ERR_DECODE') && codes.has('ERR_CRC_MISMATCH'), [...codes].join(','));
  assert.equal(snap.decodeSnap(base).index, 2n ** 64n - 2n, 'instance still alive');
});

test('Snapshotter over memory: behaviours and close()', async () => {
  const s = await snap.Snapshotter.open({ memory: 'api-test' });
  await rejects(s.load(), 'ERR_NO_SNAPSHOT', 'snap: no available snapshot');
  await rejects(snap.Snapshotter.open({ memory: 'api-test' }), 'ERR_LOCKED');
  await s.saveSnap({ term: 1n, index: 1n, confState: { voters: [1n, 2n, 3n] }, data: new TextEncoder().encode('some snapshot') });
  await s.saveSnap({ term: 1n, index: 5n });
  const got = await s.load();
  assert.deepEqual([got.term, got.index, got.data], [1n, 5n, null]);
  const older = await s.loadNewestAvailable([{ term: 1n, index: 1n }]);
  assert.deepEqual(older.confState, { voters: [1n, 2n, 3n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
  assert.equal(await s.saveDbFrom(new Blob(['hello']).stream(), 5n), 5n);
  assert.equal(await s.dbFilePath(5n), '0000000000000005.snap.db');
  await rejects(s.dbFilePath(6n), 'ERR_NO_DB_SNAPSHOT', "snap: snapshot file doesn't exist");
  await rejects(s.saveDbFrom((async function* () { yield 'text'; })(), 9n), 'ERR_INVALID_ARGUMENT');
  await rejects(s.saveDbFrom((async function* () { yield new Uint8Array(3); throw Object.assign(new Error('boom'), { code: 'EPIPE' }); })(), 9n), 'ERR_IO');
  const list = await s.list();
  assert.deepEqual(list.map((f) => [f.name, f.kind, f.verdict]).sort(), [
    ['0000000000000001-0000000000000001.snap', 'snap', 'ok'],
    ['0000000000000001-0000000000000005.snap', 'snap', 'ok'],
    ['0000000000000005.snap.db', 'db', null],
  ]);
  await s.releaseSnapDbs(got);
  await s.releaseSnapDbs({ index: 6n });
  assert.deepEqual((await s.list()).map((f) => f.name).sort(), ['0000000000000001-0000000000000001.snap', '0000000000000001-0000000000000005.snap']);
  s.close();
  s.close();
  await rejects(s.load(), 'ERR_INVALID_ARGUMENT', 'Snapshotter is closed');
  const again = await snap.Snapshotter.open({ memory: 'api-test' }, { lock: 'fail' });
  assert.equal((await again.load()).index, 5n);
  again.close();
  assert.equal(snap.deleteMemoryStore('api-test'), true);
  await rejects(snap.Snapshotter.open({ nope: 1 }), 'ERR_INVALID_ARGUMENT');
  await rejects(snap.Snapshotter.open(42), 'ERR_INVALID_ARGUMENT');
  await rejects(snap.Snapshotter.open({ opfs: 'x' }), 'ERR_UNSUPPORTED'); // no OPFS in Node
  await rejects(snap.Snapshotter.open({ memory: 'x' }, { lock: 'sometimes' }), 'ERR_INVALID_ARGUMENT');
  await rejects(snap.Snapshotter.open({ backend: { list() {} } }), 'ERR_INVALID_ARGUMENT');
});

test('Snapshotter over a JS-object backend (Node fs promises, user code)', async (t) => {
  const { dir, cleanup } = tmpDir();
  t.after(cleanup);
  copyDir(path.join(fixtures, 'single/member-snap'), dir);
  fs.writeFileSync(path.join(dir, '0000000000000003-0000000000000001.snap'), 'junk');
  const fsp = fs.promises;
  let locked = false; let synced = 0;
  const p = (n) => path.join(dir, n);
  const backend = {
    list: () => fsp.readdir(dir),
    stat: async (n) => { const st = await fsp.stat(p(n)); return { size: st.size, isDir: st.isDirectory() }; },
    read: async (n) => new Uint8Array(await fsp.readFile(p(n))),
    openRead: (n) => fs.createReadStream(p(n)),
    createAtomic: async (n) => {
      const tmp = p(`tmp.${n}.${Math.random()}`);
      const fh = await fsp.open(tmp, 'wx');
      return {
        write: (c) => fh.write(c),
        commit: async () => { await fh.sync(); await fh.close(); await fsp.rename(tmp, p(n)); },
        abort: async () => { await fh.close(); await fsp.rm(tmp, { force: true }); },
      };
    },
    rename: (a, b) => fsp.rename(p(a), p(b)),
    remove: (n) => fsp.unlink(p(n)),
    syncDir: () => { synced++; },
    lock: (mode) => {
      if (locked) throw Object.assign(new Error(`busy (${mode})`), { code: 'ERR_LOCKED' });
      locked = true;
      return { release: () => { locked = false; } };
    },
    pathOf: (n) => `user:${n}`,
  };
  const s = await snap.Snapshotter.open({ backend });
  await rejects(snap.Snapshotter.open({ backend }), 'ERR_LOCKED', 'lock user:: busy (fail)');
  const got = await s.load();
  assert.deepEqual([got.term, got.index], [2n, 308n]);
  assert.ok(fs.existsSync(p('0000000000000003-0000000000000001.snap.broken')), 'junk quarantined');
  await rejects(s.read('missing.snap'), 'ERR_NOT_FOUND', 'read user:missing.snap: no such file or directory');
  assert.equal(await s.saveDbFrom(fs.createReadStream(path.join(fixtures, 'cluster/follower-snap/00000000000015c5.snap.db')), 0x15c5n), 57344n);
  assert.equal(await s.dbFilePath(0x15c5n), 'user:00000000000015c5.snap.db');
  assert.ok(synced > 0, 'syncDir called');
  s.close();
  assert.equal(locked, false, 'released on close');
});
