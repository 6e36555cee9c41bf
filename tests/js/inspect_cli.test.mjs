// The npm CLI's `status` and `keys` (pkg/cli.cjs -> runCli, wasm) against the native
// `etcd-snap` binary: same arguments -> same stdout (JSON or table), same exit status, same
// last stderr line. On a real etcd 3.4.23 .snap.db, the viewer's sample member db (hostile and
// non-ASCII keys), an `etcdctl snapshot save` file (sha256 trailer; its status is checked
// against what etcdctl printed), and corrupt variants (flipped bytes, truncated, missing).
// The native binary: $ETCD_SNAP_BIN, else target/debug/etcd-snap (make test-js builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pkgDir, fixtures, root, tmpDir, run, requirePkg } from './helpers.mjs';

requirePkg();
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');

const followerDb = path.join(fixtures, 'cluster/follower-snap/00000000000015c5.snap.db');
const sampleDb = path.join(root, 'www/sample/member-snap/db');
const savedDb = path.join(root, 'tests/js/viewer/fixtures/snapshot-save.db');
const savedStatus = path.join(root, 'tests/js/viewer/fixtures/snapshot-save.status.json');

function lastLine(s) {
  const lines = s.trimEnd().split('\n');
  return lines[lines.length - 1];
}

/** Runs `args` on both CLIs; asserts the same status, stdout and last stderr line. */
function same(args) {
  const n = run(nativeBin, args);
  const j = run(process.execPath, [nodeCli, ...args]);
  const what = `etcd-snap ${args.join(' ')}`;
  const errN = n.status === 0 ? '' : lastLine(n.stderr);
  const errJ = j.status === 0 ? '' : lastLine(j.stderr);
  assert.equal(j.status, n.status, `${what}: exit status (node: ${errJ}; native: ${errN})`);
  assert.equal(j.stdout, n.stdout, `${what}: stdout`);
  assert.equal(errJ, errN, `${what}: last stderr line`);
  // On success stderr holds only the warnings about damage bbolt reads through: all equal.
  if (n.status === 0) assert.equal(j.stderr, n.stderr, `${what}: warnings`);
  return { status: n.status, stdout: n.stdout, err: errN, stderr: n.stderr };
}

/** Every status and keys form the issue lists, on one db; results keyed by the arguments
 *  without the file (`keys --limit 1`). */
function everyForm(db, { prefixes, froms, revs }) {
  const out = new Map();
  const forms = [
    ['status', db], ['status', db, '-w', 'json'], ['status', db, '-w', 'table'], ['status', db, '--skip-hash-check'],
    ['keys', db], ['keys', db, '-w', 'table'], ['keys', db, '--limit', '1'], ['keys', db, '--limit', '3', '-w', 'table'],
    ['keys', db, '--limit', '0'], ['keys', db, '--limit', '100000'], ['keys', db, '--limit=18446744073709551615'],
    ['keys', db, '--rev=-5'], ['keys', db, '--prefix='], ['keys', db, '--from=', '--limit=2'],
  ];
  for (const p of prefixes) {
    forms.push(['keys', db, '--prefix', p], ['keys', db, '--prefix', p, '-w', 'table'], ['keys', db, '--prefix', p, '--limit', '2']);
  }
  for (const f of froms) {
    forms.push(['keys', db, '--from', f, '--limit', '5'], ['keys', db, '--from', f, '-w', 'table', '--limit', '5']);
  }
  for (const r of revs) {
    forms.push(['keys', db, '--rev', String(r)], ['keys', db, '--rev', String(r), '-w', 'table', '--limit', '4']);
    if (prefixes.length) forms.push(['keys', db, '--rev', String(r), '--prefix', prefixes[0], '--limit', '2', '-w', 'table']);
  }
  for (const args of forms) out.set([args[0], ...args.slice(2)].join(' '), { args, ...same(args) });
  return out;
}

function revisionOf(db) {
  return JSON.parse(run(nativeBin, ['status', db]).stdout).revision;
}

test('status and keys: a real etcd 3.4.23 .snap.db', () => {
  const rev = revisionOf(followerDb);
  const r = everyForm(followerDb, { prefixes: ['after/', 'before/', 'nope'], froms: ['after/000100', 'zzz'], revs: [0, rev, rev - 30, 1, rev + 1] });
  assert.equal(r.get('status').status, 0);
  assert.deepEqual(JSON.parse(r.get('status').stdout), { hash: 2513690080, revision: 5565, totalKey: 269, totalSize: 57344 });
  assert.match(r.get('status -w table').stdout, /\| 95d3dde0 \|\s+5565 \|/);
  const page = JSON.parse(r.get('keys --limit 1').stdout);
  assert.equal(page.kvs.length, 1);
  assert.equal(page.more, true);
  // A revision past the current one is etcd's error, from both CLIs.
  assert.equal(same(['keys', followerDb, '--rev', String(rev + 1)]).err, 'mvcc: required revision is a future revision');
});

test('status and keys: the viewer sample member db (hostile and non-ASCII keys)', () => {
  const rev = revisionOf(sampleDb);
  const r = everyForm(sampleDb, { prefixes: ['<img', 'ключ', '/app/', '/registry/'], froms: ['/registry/', '<'], revs: [0, rev - 10, 1] });
  const hostile = JSON.parse(r.get('keys --prefix <img').stdout);
  assert.equal(Buffer.from(hostile.kvs[0].key, 'base64').toString(), '<img src=x onerror=alert(1)>');
  assert.equal(Buffer.from(hostile.kvs[0].value, 'base64').toString(), '<script>alert(2)</script>');
  const uni = JSON.parse(r.get('keys --prefix ключ').stdout);
  assert.equal(Buffer.from(uni.kvs[0].key, 'base64').toString(), 'ключ/юникод');
  assert.equal(r.get('keys --rev 1').err, 'mvcc: required revision has been compacted');
});

test('status and keys: an etcdctl snapshot save file (sha256 trailer) matches etcdctl', () => {
  const r = everyForm(savedDb, { prefixes: ['/app/'], froms: ['/registry/pods'], revs: [0] });
  assert.deepEqual(JSON.parse(r.get('status').stdout), JSON.parse(fs.readFileSync(savedStatus, 'utf8')));
});

test('corrupt and missing dbs: the same error line and exit 1 from both CLIs', (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-inspect-cli-');
  t.after(cleanup);
  const variants = [];
  const write = (name, bytes) => { const p = path.join(dir, name); fs.writeFileSync(p, bytes); variants.push(p); return p; };
  for (const [label, src] of [['follower', followerDb], ['sample', sampleDb], ['saved', savedDb]]) {
    const orig = fs.readFileSync(src);
    const flip = (offsets) => { const b = Buffer.from(orig); for (const o of offsets) b[o] ^= 0xff; return b; };
    write(`${label}-both-metas`, flip([16, 4096 + 16]));
    write(`${label}-meta0-magic`, flip([16]));
    write(`${label}-meta0-checksum`, flip([64]));
    write(`${label}-root-page`, flip([2 * 4096 + 20]));
    write(`${label}-middle`, flip([orig.length >> 1, (orig.length >> 1) + 1]));
    write(`${label}-last`, flip([orig.length - 1]));
    write(`${label}-half`, orig.subarray(0, orig.length >> 1));
    write(`${label}-one-page`, orig.subarray(0, 4096));
    write(`${label}-100`, orig.subarray(0, 100));
    write(`${label}-minus-1`, orig.subarray(0, orig.length - 1));
  }
  write('empty', Buffer.alloc(0));
  const failed = new Set();
  for (const p of variants) {
    for (const args of [
      ['status', p], ['status', p, '-w', 'table'], ['status', p, '--skip-hash-check'],
      ['keys', p], ['keys', p, '-w', 'table', '--limit', '3'], ['keys', p, '--prefix', '/app/', '--skip-hash-check'],
    ]) {
      const r = same(args);
      if (r.status !== 0) failed.add(path.basename(p));
    }
  }
  // The damage that must be caught is caught (by both, with the same line, checked above).
  for (const must of ['follower-both-metas', 'sample-both-metas', 'saved-both-metas', 'follower-half', 'sample-100', 'empty',
    'saved-last', 'saved-middle']) {
    assert.ok(failed.has(must), `${must}: expected a failure`);
  }
  // A db cut short but readable as bbolt reads it: etcdctl's numbers and the same warning.
  const cut = same(['status', path.join(dir, 'follower-minus-1'), '--skip-hash-check']);
  assert.equal(cut.status, 0);
  assert.match(cut.stderr, /^warning: page \d: high water mark of \d+ pages of 4096 bytes does not fit the 57343-byte file \(truncated\?\)\n$/);
  // The sha256 trailer catches a flipped byte, with etcd's restore message.
  assert.match(same(['status', path.join(dir, 'saved-middle')]).err, /^expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}$/);

  const missing = path.join(dir, 'no-such.db');
  for (const args of [['status', missing], ['keys', missing, '-w', 'table'], ['status', dir], ['keys', dir]]) {
    const r = same(args);
    assert.equal(r.status, 1);
  }
  assert.equal(same(['status', missing]).err, `open ${missing}: no such file or directory`);
  assert.equal(same(['keys', dir]).err, `open ${dir}: is a directory`);
});

test('usage errors: exit 2 from both CLIs', () => {
  for (const args of [
    ['status'], ['keys'], ['status', sampleDb, '-w', 'yaml'], ['keys', sampleDb, '--rev', 'x'],
    ['keys', sampleDb, '--limit', '-1'], ['status', sampleDb, '--prefix', 'a'], ['status', sampleDb, 'extra'],
    ['keys', sampleDb, '--limit', '2', '--limit', '1'], ['status', sampleDb, '-w', 'json', '-w', 'table'],
    ['keys', sampleDb, '--rev', '-5'], ['keys', sampleDb, '--rev', '9223372036854775808'],
  ]) {
    const n = run(nativeBin, args);
    const j = run(process.execPath, [nodeCli, ...args]);
    assert.equal(n.status, 2, `native ${args.join(' ')}`);
    assert.equal(j.status, 2, `node ${args.join(' ')}: ${j.stderr}`);
    assert.equal(j.stdout, '');
    // One command layer (src/cli/): clap's usage text on both, byte for byte.
    assert.equal(j.stderr, n.stderr, `usage text of ${args.join(' ')}`);
  }
});

test('etcdctlStatus / etcdctlKeys read a { size, read } source a page at a time', () => {
  const require = createRequire(import.meta.url);
  const snap = require(path.join(pkgDir, 'node.cjs'));
  const fd = fs.openSync(sampleDb, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let biggest = 0;
    const source = {
      size,
      read(offset, length) {
        biggest = Math.max(biggest, length);
        const b = Buffer.alloc(length);
        fs.readSync(fd, b, 0, length, offset);
        return new Uint8Array(b.buffer, b.byteOffset, length);
      },
    };
    assert.equal(snap.etcdctlStatus(source, { writeOut: 'json' }) + '\n', run(nativeBin, ['status', sampleDb]).stdout);
    const keys = snap.etcdctlKeys(source, { prefix: '/app/', limit: 2n, writeOut: 'table' });
    assert.equal(keys, run(nativeBin, ['keys', sampleDb, '--prefix', '/app/', '--limit', '2', '-w', 'table']).stdout);
    assert.ok(biggest < size, `largest read ${biggest} of a ${size}-byte db`);
    assert.throws(() => snap.etcdctlKeys(source, { writeOut: 'yaml' }), { code: 'ERR_INVALID_ARGUMENT' });
    // Fault injection (a mock source): read errors and short reads are worded as the native
    // CLI's FileSource words them (std::io::Error -> etcd_snap::Error: `read: <go text>`, and
    // an EOF inside read_exact_at -> `unexpected EOF`).
    // (Reads fail past the first 64 KiB block only: the meta pages open, the walk then fails.)
    const eio = () => Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    assert.ok(size > 65536);
    const failing = { size, read: (offset, length) => { if (offset >= 65536) throw eio(); return source.read(offset, length); } };
    // A failed read is an I/O error, in bbolt's check too: the db could not be read, which
    // says nothing about its consistency (issue 9, item 11).
    assert.throws(() => snap.etcdctlStatus(failing), { message: 'read: input/output error', code: 'ERR_IO' });
    assert.throws(() => snap.etcdctlKeys(failing), { message: 'read: input/output error', code: 'ERR_IO' });
    const shrunk = { size, read: (offset, length) => source.read(offset, length).subarray(0, offset >= 65536 ? length - 1 : length) };
    assert.throws(() => snap.etcdctlKeys(shrunk), { message: 'unexpected EOF', code: 'ERR_DECODE' });
    assert.throws(() => snap.etcdctlKeys(source, { rev: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' });
  } finally {
    fs.closeSync(fd);
  }
});

test('types: etcdctlStatus / etcdctlKeys under tsc --strict', (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-inspect-types-');
  t.after(cleanup);
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(pkgDir, path.join(dir, 'node_modules', 'etcd-snap'), 'dir');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
      lib: ['esnext', 'dom'], types: ['node'], typeRoots: [path.join(root, 'tests/js/node_modules/@types')],
    },
    files: ['usage.ts'],
  }));
  const tsc = () => run(path.join(root, 'pkg-config/node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir });
  fs.writeFileSync(path.join(dir, 'usage.ts'), `import { etcdctlStatus, etcdctlKeys, type DbSource, type EtcdctlKeysOptions } from 'etcd-snap';
const src: DbSource = { size: 0, read: (_o: number, n: number) => new Uint8Array(n) };
const a: string = etcdctlStatus(src);
const b: string = etcdctlStatus(new Uint8Array(0), { writeOut: 'table', verifyTrailer: false });
const q: EtcdctlKeysOptions = { prefix: '/registry/', from: new Uint8Array([1]), rev: 5n, limit: 10, writeOut: 'json' };
const c: string = etcdctlKeys(src, q);
export { a, b, c };
`);
  const ok = tsc();
  assert.equal(ok.status, 0, `${ok.stdout}${ok.stderr}`);
  // ... and misuse is rejected (the check is not vacuous).
  fs.writeFileSync(path.join(dir, 'usage.ts'), "import { etcdctlKeys } from 'etcd-snap';\nconst n: string = etcdctlKeys(new Uint8Array(0), { writeOut: 'yaml' });\nexport { n };\n");
  assert.notEqual(tsc().status, 0, 'tsc accepts writeOut: "yaml"');
});
