// `defrag` in the npm package: the npm CLI (pkg/cli.cjs -> runCli, wasm) against the native
// `etcd-snap` binary, and the `defragDb()` API into Node fs and memory storage. The writer is
// deterministic, so every copy of one db is the same bytes; a damaged db and an existing
// output are refused alike with nothing written.
// The native binary: $ETCD_SNAP_BIN, else target/debug/etcd-snap (make test-js builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pkgDir, fixtures, root, tmpDir, run, requirePkg } from './helpers.mjs';

requirePkg();
const snap = createRequire(import.meta.url)(path.join(pkgDir, 'node.cjs'));
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');
const followerDb = path.join(fixtures, 'cluster/follower-snap/00000000000015c5.snap.db');
const memberDb = path.join(root, 'tests/fixtures/member-3.4.23/data/member/snap/db');

const lastLine = (s) => s.trimEnd().split('\n').pop();

/** `defrag DB --out OUT` on both CLIs, each into its own folder; both results. */
function both(t, bytes) {
  const results = [];
  for (const [name, cmd, pre] of [['native', nativeBin, []], ['node', process.execPath, [nodeCli]]]) {
    const { dir, cleanup } = tmpDir(`etcd-snap-defrag-${name}-`);
    t.after(cleanup);
    const db = path.join(dir, 'db');
    fs.writeFileSync(db, bytes);
    const r = run(cmd, [...pre, 'defrag', db]);
    results.push({ dir, db, r, out: path.join(dir, 'db.defrag') });
  }
  return results;
}

test('the npm CLI defrag writes the bytes the native one writes', (t) => {
  for (const file of [followerDb, memberDb]) {
    const [n, j] = both(t, fs.readFileSync(file));
    assert.equal(n.r.status, 0, n.r.stderr);
    assert.equal(j.r.status, 0, j.r.stderr);
    const rn = JSON.parse(n.r.stdout), rj = JSON.parse(j.r.stdout);
    assert.equal(rj.path, j.out);
    for (const k of ['pageSize', 'before', 'after', 'buckets', 'keys']) assert.deepEqual(rj[k], rn[k], k);
    assert.deepEqual(fs.readFileSync(j.out), fs.readFileSync(n.out), 'the same file');
    assert.ok(rj.after.totalSize < rj.before.totalSize);
    assert.deepEqual(fs.readdirSync(j.dir).sort(), ['db', 'db.defrag']);
  }
});

test('the npm CLI refuses what the native one refuses, writing nothing', (t) => {
  const good = fs.readFileSync(followerDb);
  const truncated = good.subarray(0, good.length >> 1);
  for (const bytes of [truncated, Buffer.alloc(8192, 0x5a), Buffer.alloc(0)]) {
    const [n, j] = both(t, bytes);
    assert.equal(n.r.status, 1);
    assert.equal(j.r.status, n.r.status);
    assert.equal(lastLine(j.r.stderr), lastLine(n.r.stderr));
    assert.deepEqual(fs.readdirSync(j.dir), ['db']);
  }
  // An existing output is never replaced.
  const { dir, cleanup } = tmpDir();
  t.after(cleanup);
  fs.writeFileSync(path.join(dir, 'db'), good);
  fs.writeFileSync(path.join(dir, 'db.defrag'), 'mine');
  const r = run(process.execPath, [nodeCli, 'defrag', path.join(dir, 'db')]);
  assert.equal(r.status, 1);
  assert.match(lastLine(r.stderr), /file exists/);
  assert.equal(fs.readFileSync(path.join(dir, 'db.defrag'), 'utf8'), 'mine');
});

test('defragDb() into Node fs and memory storage', async (t) => {
  const { dir, cleanup } = tmpDir();
  t.after(cleanup);
  const bytes = new Uint8Array(fs.readFileSync(followerDb));
  const native = run(nativeBin, ['defrag', followerDb, '--out', path.join(dir, 'native.db')]);
  assert.equal(native.status, 0, native.stderr);
  const want = fs.readFileSync(path.join(dir, 'native.db'));

  const report = await snap.defragDb(bytes, { node: dir }, 'api.db');
  assert.equal(report.path, path.join(dir, 'api.db'));
  assert.equal(report.after.fileBytes, want.length);
  assert.equal(report.before.fileBytes, bytes.length);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'api.db')), want);

  // A DbSource (positioned reads) into memory storage.
  const source = { size: bytes.length, read: (off, len) => bytes.subarray(off, off + len) };
  const inMemory = await snap.defragDb(source, { memory: 'defrag-test' }, 'db');
  assert.deepEqual(inMemory.after, report.after);
  snap.deleteMemoryStore('defrag-test');

  const code = async (p) => { try { await p; return null; } catch (e) { return e.code; } };
  assert.equal(await code(snap.defragDb(bytes, { node: dir }, 'api.db')), 'ERR_ALREADY_EXISTS');
  assert.equal(await code(snap.defragDb(bytes.subarray(0, 20000), { node: dir }, 'cut.db')), 'ERR_BAD_DB');
  assert.equal(fs.existsSync(path.join(dir, 'cut.db')), false);
  assert.equal(await code(snap.defragDb(bytes, { nope: 1 }, 'x')), 'ERR_INVALID_ARGUMENT');
});
