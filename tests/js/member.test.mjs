// `wal` and `doctor` (issue 10) in the npm package: the npm CLI prints the same bytes and exits
// with the same status as the native one on a real etcd 3.4.23 data dir
// (tests/fixtures/member-3.4.23) and a faulted copy; `doctor()` and `readWal()` give the same
// report over a Node path and over JS-object backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pkgDir, root, tmpDir, run, requirePkg } from './helpers.mjs';

requirePkg();
const snap = createRequire(import.meta.url)(path.join(pkgDir, 'node.cjs'));
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');
const dataDir = path.join(root, 'tests/fixtures/member-3.4.23/data');

/** A copy of the data dir whose WAL has one byte of `value 55` flipped (a CRC mismatch). */
function faulted(t) {
  const { dir, cleanup } = tmpDir('etcd-snap-member-');
  t.after(cleanup);
  fs.cpSync(dataDir, path.join(dir, 'data'), { recursive: true });
  const seg = path.join(dir, 'data/member/wal/0000000000000000-0000000000000000.wal');
  const b = fs.readFileSync(seg);
  b[b.indexOf('value 55') + 7] ^= 1;
  fs.writeFileSync(seg, b);
  return path.join(dir, 'data');
}

function same(args, status) {
  const n = run(nativeBin, args);
  const j = run(process.execPath, [nodeCli, ...args]);
  const what = args.join(' ');
  assert.equal(n.status, status, `${what}: native status (${n.stderr})`);
  assert.equal(j.status, n.status, `${what}: npm status (${j.stderr})`);
  assert.equal(j.stdout, n.stdout, `${what}: stdout`);
  assert.equal(j.stderr, n.stderr, `${what}: stderr`);
  return n;
}

test('npm CLI == native CLI: wal and doctor, byte for byte', (t) => {
  const bad = faulted(t);
  const d = dataDir;
  const m = path.join(d, 'member');
  const cases = [
    [['wal', d], 0],
    [['wal', m], 0],
    [['wal', path.join(m, 'wal'), '-w', 'json'], 0],
    [['wal', d, '--start-index', '1', '--entry-type', 'IRRTxn,IRRPut,Bogus'], 0],
    [['wal', d, '--end-index', '65', '-w', 'json'], 0],
    [['wal', d, '--raw'], 0],
    [['wal', bad, '--raw', '-w', 'json'], 0],
    [['wal', bad, '--start-index', '1'], 1],
    [['doctor', d], 0],
    [['doctor', d, '--etcd', '3.4', '-w', 'json'], 0],
    [['doctor', bad], 3],
    [['doctor', bad, d], 3],
    [['doctor', bad, d, '-w', 'json'], 3],
    [['doctor', path.join(d, 'nope')], 1],
    [['doctor'], 2],
    [['doctor', '--help'], 0],
  ];
  for (const [args, status] of cases) same(args, status);
  assert.match(same(['doctor', d], 0).stdout, /^etcd 3\.5 starts from snapshot 2\/63 /);
});

test('npm CLI == native CLI: check v2store, clean and with a v2 key in the snapshot etcd loads', (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-v2store-');
  t.after(cleanup);
  const custom = path.join(dir, 'data');
  fs.cpSync(dataDir, custom, { recursive: true });
  // The snapshot etcd loads (2/63), rewritten with a v2 key under /1.
  const snap = path.join(custom, 'member/snap');
  fs.rmSync(path.join(snap, '0000000000000002-000000000000003f.snap'));
  const store = { Root: { Path: '/', Children: {
    0: { Path: '/0', Children: { version: { Path: '/0/version', Value: '3.4.0' } } },
    1: { Path: '/1', Children: { foo: { Path: '/1/foo', Value: 'bar' } } },
  } } };
  // First with nil Data (what `save ... -` writes): JSON Recovery refuses it, in etcdutl's words.
  let saved = run(nativeBin, ['save', snap, '2', '63', '-']);
  assert.equal(saved.status, 0, saved.stderr);
  assert.equal(same(['check', 'v2store', custom], 1).stderr, 'failed to recover v2store from snapshot: unexpected end of JSON input\n');
  fs.rmSync(path.join(snap, '0000000000000002-000000000000003f.snap'));
  const data = path.join(dir, 'store.json');
  fs.writeFileSync(data, JSON.stringify(store));
  saved = run(nativeBin, ['save', snap, '2', '63', data]);
  assert.equal(saved.status, 0, saved.stderr);
  same(['check', 'v2store', dataDir], 0);
  same(['check', 'v2store', dataDir, '-w', 'json'], 0);
  const r = same(['check', 'v2store', custom], 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'custom content: /1 (1 children) in 0000000000000002-000000000000003f.snap\nError: detected custom content in v2store\n');
  assert.deepEqual(JSON.parse(same(['check', 'v2store', custom, '-w', 'json', '--etcd', '3.5.21'], 1).stdout),
    { snapshot: '0000000000000002-000000000000003f.snap', custom: [{ path: '/1', children: 1 }] });
  same(['check', 'v2store', custom, '--etcd', '3.4.23'], 2);
  same(['check', 'v2store', path.join(dir, 'nope')], 1);
});

/** A read-only JS-object backend over a Node folder (user code, not a mock of etcd). */
function jsBackend(dir) {
  const fsp = fs.promises;
  const p = (n) => path.join(dir, n);
  const no = () => { throw Object.assign(new Error('read-only'), { code: 'EROFS' }); };
  return {
    list: () => fsp.readdir(dir),
    stat: async (n) => { const st = await fsp.stat(p(n)); return { size: st.size, isDir: st.isDirectory() }; },
    read: async (n) => new Uint8Array(await fsp.readFile(p(n))),
    openRead: (n) => fs.createReadStream(p(n)),
    createAtomic: no, rename: no, remove: no, syncDir: () => {},
    lock: () => ({ release: () => {} }),
    pathOf: (n) => path.join(dir, n),
  };
}

test('doctor() and readWal(): a Node path and JS-object backends agree with the CLI', async () => {
  const cli = JSON.parse(run(nativeBin, ['doctor', dataDir, '-w', 'json']).stdout);
  const byPath = await snap.doctor(dataDir, { etcd: '3.5' });
  const spec = {
    snap: { backend: jsBackend(path.join(dataDir, 'member/snap')) },
    wal: { backend: jsBackend(path.join(dataDir, 'member/wal')) },
  };
  const byBackend = await snap.doctor(spec);
  for (const r of [byPath, byBackend]) {
    assert.equal(r.members.length, 1);
    assert.equal(r.members[0].summary, cli.members[0].summary);
    assert.equal(r.members[0].verdict.verdict, 'starts');
    assert.equal(r.members[0].verdict.snapshotFile, '0000000000000002-000000000000003f.snap');
    assert.equal(r.recommendation, null);
  }
  const v34 = await snap.doctor(dataDir, { etcd: '3.4' });
  assert.match(v34.members[0].summary, /^etcd 3\.4 starts/);
  await assert.rejects(snap.doctor(dataDir, { etcd: '3.3' }), (e) => e.code === 'ERR_INVALID_ARGUMENT');
  await assert.rejects(snap.doctor({ wal: spec.wal }), (e) => e.code === 'ERR_INVALID_ARGUMENT');

  const wal = JSON.parse(run(nativeBin, ['wal', dataDir, '--start-index', '1', '-w', 'json']).stdout);
  const page = await snap.readWal(spec, { startIndex: 1, offset: 10, limit: 5 });
  assert.equal(page.count, wal.count);
  assert.equal(page.nodeId, wal.node_id);
  assert.deepEqual(page.list.map((e) => e.text), wal.list.slice(10, 15).map((e) => e.text));
  assert.deepEqual(page.segments.map((s) => s.name), ['0000000000000000-0000000000000000.wal']);
  const fromSnap = await snap.readWal(dataDir);
  assert.equal(fromSnap.snapshot.index, 63);
  assert.equal(fromSnap.list.length, 4);
});
