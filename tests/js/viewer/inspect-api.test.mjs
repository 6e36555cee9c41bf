// The wasm inspect bindings the viewer uses (InspectDb, v2StoreInfo), through the built npm
// package in Node, against etcd's own verdicts: etcdctl snapshot status (fixture README and the
// committed sample's db.status.json), the v2 store members of a real follower snapshot.
// Run: `make test-viewer`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const etcd = createRequire(import.meta.url)(path.join(REPO, 'pkg', 'node.cjs'));
const FOLLOWER = path.join(REPO, 'tests', 'fixtures', 'etcd-3.4.23', 'cluster', 'follower-snap');
const SAMPLE = path.join(REPO, 'www', 'sample');
const followerDb = fs.readFileSync(path.join(FOLLOWER, '00000000000015c5.snap.db'));
const sampleDb = fs.readFileSync(path.join(SAMPLE, 'member-snap', 'db'));
const text = (b) => Buffer.from(b).toString('utf8');

/** A `{ size, read }` source that counts reads and checks every request is in range. */
function source(buf) {
  const s = {
    size: buf.length,
    reads: 0,
    read(offset, length) {
      s.reads++;
      assert.ok(offset >= 0 && offset + length <= buf.length, `read ${offset}+${length}`);
      return new Uint8Array(buf.buffer, buf.byteOffset + offset, length);
    },
  };
  return s;
}

test('status equals etcdctl snapshot status, from bytes and from a positioned-read source', () => {
  const want = { hash: 2513690080, revision: 5565, totalKey: 269, totalSize: 57344 };
  assert.deepEqual(etcd.InspectDb.open(new Uint8Array(followerDb)).status(), want);
  const src = source(followerDb);
  const db = etcd.InspectDb.open(src);
  assert.deepEqual(db.status(), want);
  assert.ok(src.reads > 0);
  assert.deepEqual(etcd.InspectDb.open(source(sampleDb)).status(), JSON.parse(fs.readFileSync(path.join(SAMPLE, 'db.status.json'), 'utf8')));
  const saved = fs.readFileSync(path.join(REPO, 'tests', 'js', 'viewer', 'fixtures', 'snapshot-save.db'));
  const sdb = etcd.InspectDb.open(new Uint8Array(saved));
  assert.equal(sdb.layout().trailer, 'verified');
  assert.deepEqual(sdb.status(), JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'js', 'viewer', 'fixtures', 'snapshot-save.status.json'), 'utf8')));
});

test('status follows the storage version: 3.6 counts live keys and prints version (tests/fixtures/etcd-3.6)', () => {
  const d36 = path.join(REPO, 'tests', 'fixtures', 'etcd-3.6');
  // etcd v3.6.0's Status, ported into tests/oracle/status36_oracle.go (expected-status.txt).
  const want = Object.fromEntries(fs.readFileSync(path.join(d36, 'expected-status.txt'), 'utf8')
    .trim().split('\n').map((l) => l.split(' ')).map(([f, c, j]) => [`${f} ${c}`, JSON.parse(j)]));
  const db = etcd.InspectDb.open(new Uint8Array(fs.readFileSync(path.join(d36, 'storage-3.6.db'))));
  assert.deepEqual(db.schemaVersion(), { storageVersion: '3.6.0', detected: '3.6.0', detectError: null, compat: '3.6' });
  assert.deepEqual(db.status(), want['storage-3.6.db 3.6']);
  assert.match(etcd.etcdctlStatusTable(db.status()), /\| VERSION \|\n[^]*\|   3\.6\.0 \|/);
  const d35 = etcd.InspectDb.open(new Uint8Array(fs.readFileSync(path.join(d36, 'fields-3.5.db'))));
  assert.equal(d35.schemaVersion().compat, '3.5');
  assert.deepEqual(d35.status(), want['fields-3.5.db 3.5']);
  const d34 = etcd.InspectDb.open(new Uint8Array(followerDb));
  assert.deepEqual(d34.schemaVersion(), { storageVersion: null, detected: null, detectError: 'missing confstate information', compat: '3.4' });
});

test('buckets add up to totalKey; layout and meta', () => {
  const db = etcd.InspectDb.open(new Uint8Array(followerDb));
  const buckets = db.buckets();
  assert.equal(buckets.reduce((a, b) => a + b.keys, 0), 269);
  assert.ok(buckets.find((b) => b.name === 'key').keys > 0);
  assert.deepEqual(
    (({ size, pageSize, highWaterMark, trailer }) => ({ size, pageSize, highWaterMark, trailer }))(db.layout()),
    { size: 57344, pageSize: 4096, highWaterMark: 57344, trailer: 'none' },
  );
  const info = db.clusterInfo();
  assert.equal(info.members.length, 3);
  assert.equal(info.clusterVersion, '3.4.0');
});

test('keys: pages of any size list every key exactly once, in byte order; totals match the index', () => {
  const db = etcd.InspectDb.open(new Uint8Array(sampleDb));
  const idx = db.index();
  const all = [];
  let after = null;
  let total = null;
  for (let n = 0; n < 1000; n++) {
    const page = db.keys({ prefix: '', after, limit: 7, count: total === null });
    if (total === null) total = page.total;
    all.push(...page.keys.map((k) => Buffer.from(k.key)));
    if (!page.next) break;
    after = page.next;
  }
  assert.equal(all.length, idx.keys);
  assert.equal(total, idx.keys);
  for (let i = 1; i < all.length; i++) assert.ok(Buffer.compare(all[i - 1], all[i]) < 0, 'strictly increasing');
  // Prefix search: only keys under it, and all of them.
  const pods = db.keys({ prefix: '/registry/pods/', limit: 10000, count: true });
  assert.equal(pods.total, pods.keys.length);
  assert.equal(pods.keys.length, all.filter((k) => k.toString().startsWith('/registry/pods/')).length);
  assert.equal(pods.next, null);
  // 20 pods were deleted by make-sample.sh: they stay listed, not live.
  assert.equal(pods.keys.filter((k) => !k.live).length, 20);
});

test('history and value: revisions oldest first, tombstones, cut values read whole on demand', () => {
  const db = etcd.InspectDb.open(new Uint8Array(sampleDb));
  const h = db.history('/app/config');
  assert.equal(h.length, 18);
  assert.deepEqual(h.map((r) => r.version), Array.from({ length: 18 }, (_, i) => i + 1));
  assert.equal(text(h.at(-1).value), '{"version":18}');
  const del = db.history('/app/to-delete');
  assert.deepEqual(del.map((r) => r.tombstone), [false, true]);
  assert.equal(text(del[0].value), 'short-lived');
  const cut = db.history('/app/config', { limit: 2, maxValueBytes: 3 });
  assert.equal(cut.length, 2);
  assert.equal(text(cut[1].value), '{"v');
  assert.equal(cut[1].valueSize, 14);
  assert.equal(text(db.value('/app/config', cut[1].main, cut[1].sub)), '{"version":18}');
  assert.throws(() => db.value('/app/config', 1, 0), { code: 'ERR_INVALID_ARGUMENT' });
  const xss = db.history('<img src=x onerror=alert(1)>');
  assert.equal(text(xss[0].value), '<script>alert(2)</script>');
});

test('space by prefix sums every stored revision', () => {
  const db = etcd.InspectDb.open(new Uint8Array(sampleDb));
  const idx = db.index();
  for (const depth of [1, 2, 3]) {
    const items = db.spaceByPrefix('/', depth);
    assert.equal(items.reduce((a, x) => a + x.keys, 0), idx.keys, `depth ${depth}`);
    assert.equal(items.reduce((a, x) => a + x.revisions, 0), idx.revisions, `depth ${depth}`);
  }
  const bytes = db.spaceByPrefix('/', 1).reduce((a, x) => a + x.bytes, 0);
  const keyBucket = db.buckets().find((b) => b.name === 'key');
  assert.equal(bytes, keyBucket.keyBytes + keyBucket.valueBytes);
});

test('v2StoreInfo: the members of a real follower snapshot', () => {
  const snap = etcd.decodeSnap(new Uint8Array(fs.readFileSync(path.join(FOLLOWER, '0000000000000002-00000000000015c5.snap'))));
  const v2 = etcd.v2StoreInfo(snap.data);
  const voters = snap.confState.voters.map((v) => v.toString(16)).sort();
  assert.deepEqual(v2.members.map((m) => m.id).sort(), voters);
  assert.ok(v2.members.every((m) => m.peerURLs.length === 1 && m.name));
  assert.throws(() => etcd.v2StoreInfo(new TextEncoder().encode('{')), { code: 'ERR_INVALID_ARGUMENT' });
});

test('corrupt and hostile inputs are typed errors, never a crash of the instance', () => {
  assert.throws(() => etcd.InspectDb.open(new Uint8Array(0)), { code: 'ERR_BAD_DB' });
  // Cut short: it opens as bbolt opens it, with a warning; reading past the end is an error.
  const cut = etcd.InspectDb.open(new Uint8Array(followerDb.subarray(0, 20480)));
  assert.match(cut.warnings.join('\n'), /truncated/);
  assert.throws(() => cut.status(), { code: 'ERR_BAD_DB', message: /past the end of the 20480-byte file \(truncated\?\)/ });
  const bad = Buffer.from(followerDb);
  bad[72] ^= 1;
  bad[4096 + 72] ^= 1;
  assert.throws(() => etcd.InspectDb.open(new Uint8Array(bad)), { code: 'ERR_BAD_DB', message: /checksum/ });
  assert.throws(() => etcd.InspectDb.open('nope'), { code: 'ERR_INVALID_ARGUMENT' });
  // Sources that misbehave while the meta pages are read: typed errors (the bbolt reader
  // reports any failed meta read as a too-small file).
  const typed = (e) => ['ERR_IO', 'ERR_BAD_DB', 'ERR_INVALID_ARGUMENT'].includes(e.code);
  assert.throws(() => etcd.InspectDb.open({ size: 57344, read: () => 'x' }), typed);
  assert.throws(() => etcd.InspectDb.open({ size: 57344, read: (o, l) => new Uint8Array(l - 1) }), typed);
  assert.throws(() => etcd.InspectDb.open({ size: 57344, read: () => { throw new Error('disk gone'); } }), typed);
  // Blob sources need FileReaderSync (workers only).
  assert.throws(() => etcd.InspectDb.open(new Blob([followerDb])), { code: 'ERR_INVALID_ARGUMENT', message: /worker/ });
  // Random flips never panic: every outcome is a value or a typed error.
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(followerDb);
    for (let j = 0; j < 8; j++) b[Math.floor(rnd() * b.length)] ^= 1 + Math.floor(rnd() * 255);
    for (const step of [
      () => etcd.InspectDb.open(new Uint8Array(b)),
    ]) {
      let db;
      try { db = step(); } catch (e) { assert.ok(e.code, String(e)); continue; }
      for (const f of [() => db.status(), () => db.buckets(), () => db.clusterInfo(), () => db.index(), () => db.keys({ limit: 50 }), () => db.spaceByPrefix('/', 2)]) {
        try { f(); } catch (e) { assert.ok(e.code, String(e)); }
      }
      db.free();
    }
  }
  // The instance still works.
  assert.equal(etcd.InspectDb.open(new Uint8Array(followerDb)).status().hash, 2513690080);
});

test('free() and close() are idempotent; any call after them is a typed error (issue 9, item 11)', () => {
  const closedErr = { code: 'ERR_INVALID_ARGUMENT', message: 'InspectDb is closed' };
  for (const end of ['free', 'close']) {
    const db = etcd.InspectDb.open(new Uint8Array(followerDb));
    db.index();
    assert.equal(db.closed, false);
    db[end]();
    db[end]();
    db.free();
    db.close();
    assert.equal(db.closed, true);
    for (const call of [() => db.status(), () => db.layout(), () => db.check(), () => db.buckets(), () => db.clusterInfo(),
      () => db.index(), () => db.keys(), () => db.history('after/000100'), () => db.value('after/000100'), () => db.spaceByPrefix('/', 1)]) {
      assert.throws(call, closedErr, `${end}: ${call}`);
    }
  }
  // Other handles are untouched.
  const a = etcd.InspectDb.open(new Uint8Array(followerDb));
  const b = etcd.InspectDb.open(new Uint8Array(followerDb));
  a.free();
  assert.equal(b.status().revision, 5565);
});

test('a DbSource.read that throws is an I/O error carrying its message, not a corrupt db (issue 9, item 11)', () => {
  // The first read takes the meta pages (it was ERR_BAD_DB `file size too small`); the db is
  // read in 64 KiB blocks, so later ones are tree pages.
  const big = sampleDb;
  assert.ok(big.length >= 2 * 65536);
  for (const failAfter of [0, 1]) {
    let reads = 0;
    const src = {
      size: big.length,
      read(offset, length) {
        if (reads++ >= failAfter) throw new Error(`disk on fire at ${offset}`);
        return new Uint8Array(big.buffer, big.byteOffset + offset, length);
      },
    };
    let err;
    try {
      etcd.InspectDb.open(src, { verifyTrailer: false }).status();
    } catch (e) {
      err = e;
    }
    assert.ok(err, `failAfter ${failAfter}: should fail`);
    assert.equal(err.code, 'ERR_IO', `failAfter ${failAfter}: ${err.code} ${err.message}`);
    assert.match(err.message, /^read source: disk on fire at \d+$/);
  }
  // A Node error code keeps Go's wording, as a file read would.
  const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  assert.throws(() => etcd.InspectDb.open({ size: followerDb.length, read() { throw eio; } }),
    { code: 'ERR_IO', message: 'read source: input/output error' });
  // The same through the CLI text functions.
  assert.throws(() => etcd.etcdctlStatus({ size: followerDb.length, read() { throw new Error('gone'); } }),
    { code: 'ERR_IO', message: 'read: gone' });
});

// The viewer's share of etcd's rules, from the library (src/wasm/viewer.rs).
test('etcdctlStatusTable / etcdctlBytes print what etcdctlStatus -w table prints', () => {
  for (const buf of [followerDb, sampleDb]) {
    const st = etcd.InspectDb.open(new Uint8Array(buf)).status();
    assert.equal(etcd.etcdctlStatusTable(st), etcd.etcdctlStatus(new Uint8Array(buf), { writeOut: 'table' }));
    assert.ok(etcd.etcdctlStatusTable(st).includes(` ${etcd.etcdctlBytes(st.totalSize)} |`));
  }
  assert.equal(etcd.etcdctlBytes(57344), '57 kB');
  assert.equal(etcd.etcdctlBytes(9), '9 B');
  assert.throws(() => etcd.etcdctlStatusTable({ hash: 1 }), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => etcd.etcdctlStatusTable(null), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => etcd.etcdctlBytes(-1), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => etcd.etcdctlBytes(1.5), { code: 'ERR_INVALID_ARGUMENT' });
});

test('nameKind is the kind Snapshotter.list() gives; brokenName the name Load quarantines to', () => {
  assert.equal(etcd.nameKind('0000000000000002-0000000000000134.snap'), 'snap');
  assert.equal(etcd.nameKind('00000000000015c5.snap.db'), 'db');
  assert.equal(etcd.nameKind('db'), 'live-db');
  assert.equal(etcd.nameKind('x.snap.broken'), 'broken');
  assert.equal(etcd.nameKind('db.tmp.1'), 'db.tmp');
  assert.equal(etcd.nameKind('tmp123'), 'tmp');
  assert.equal(etcd.nameKind('backup.db'), 'other');
  assert.equal(etcd.brokenName('0000000000000002-0000000000000134.snap'), '0000000000000002-0000000000000134.snap.broken');
});

test('loadPick is the .snap Snapshotter.load() returns: newest by bytes, readable', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-loadpick-'));
  try {
    const snaps = path.join(REPO, 'tests', 'fixtures', 'etcd-3.4.23', 'single', 'member-snap');
    // UTF-16 order (a JS sort) puts U+FF21 last; byte order (etcd's sort of names) puts U+10000
    // last, and U+10001 above it is not a snapshot.
    fs.copyFileSync(path.join(snaps, '0000000000000002-0000000000000134.snap'), path.join(dir, '\u{ff21}.snap'));
    fs.copyFileSync(path.join(snaps, '0000000000000002-0000000000000033.snap'), path.join(dir, '\u{10000}.snap'));
    fs.writeFileSync(path.join(dir, '\u{10001}.snap'), 'not a snapshot');
    const s = await etcd.Snapshotter.open(dir, { lock: 'none', cleanTmpOnOpen: false, maxBroken: null });
    try {
      const list = await s.list();
      assert.equal(etcd.loadPick(list), '\u{10000}.snap');
      const naive = list.filter((f) => f.verdict === 'ok').map((f) => f.name).sort().at(-1);
      assert.equal(naive, '\u{ff21}.snap', 'a JS sort would pick another file');
      assert.equal((await s.load()).index, 0x33n);
      // Every entry without a verdict is ignored unless Load would try it.
      assert.equal(etcd.loadPick([{ name: 'db', verdict: null }, { name: 'a.snap', verdict: 'ok' }]), 'a.snap');
      assert.equal(etcd.loadPick([{ name: 'b.snap', verdict: 'too big', code: 'ERR_TOO_LARGE' }, { name: 'a.snap', verdict: 'ok' }]), null);
      assert.equal(etcd.loadPick([]), null);
      const entries = await s.listEntries();
      assert.throws(() => etcd.loadPick(entries), { code: 'ERR_INVALID_ARGUMENT' });
      assert.throws(() => etcd.loadPick('x'), { code: 'ERR_INVALID_ARGUMENT' });
    } finally {
      s.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
