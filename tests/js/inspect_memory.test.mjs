// `keys` streams (issue 9, item 9): on a generated db of 310,000 keys whose `keys` output is
// about 77 MB, both CLIs (native etcd-snap and the npm one) print the same bytes while their
// peak RSS (GNU time's %M, the kernel's VmHWM at exit) stays far below the output size and
// no higher than for a one-key answer. Before the fix both built the whole answer in memory (a list of every value,
// then one string): 317 MB native / 866 MB npm for 113 MB of output.
// The db comes from tests/js/viewer/gen-bigdb (bbolt + mvccpb from etcd's own Go source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pkgDir, root, tmpDir, run, requirePkg } from './helpers.mjs';

requirePkg();
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');
const work = path.join(root, 'target', 'tmp', 'inspect-memory');

/** Builds gen-bigdb (offline, Debian's Go packages) once per target dir. */
function genBigdb() {
  const gen = path.join(work, 'gen-bigdb');
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(work, 'gocache'), GOFLAGS: '' };
  const b = run('go', ['build', '-o', gen, '.'], { cwd: path.join(root, 'tests/js/viewer/gen-bigdb'), env, timeout: 600_000 });
  assert.equal(b.status, 0, b.stderr);
  return gen;
}

/** Runs `cmd args` with stdout to `out`; returns its peak RSS in bytes and its exit status. */
function peakRss(cmd, args, out, dir) {
  const rss = path.join(dir, 'rss');
  const fd = fs.openSync(out, 'w');
  try {
    const r = run('/usr/bin/time', ['-f', '%M', '-o', rss, cmd, ...args], { stdio: ['ignore', fd, 'pipe'] });
    return { status: r.status, stderr: r.stderr, rss: Number(fs.readFileSync(rss, 'utf8').trim().split('\n').pop()) * 1024 };
  } finally {
    fs.closeSync(fd);
  }
}

function sha256(file) {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

test('keys streams: peak RSS of both CLIs stays far below the output size', (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-keysmem-');
  t.after(cleanup);
  fs.mkdirSync(work, { recursive: true });
  const db = path.join(dir, 'many-keys.db');
  // Small values, many keys: the index and the answer, not the values, used to dominate.
  const made = run(genBigdb(), ['-out', db, '-size', String(64 << 20), '-value', '120'], { timeout: 600_000 });
  assert.equal(made.status, 0, made.stderr);
  const { keys } = JSON.parse(made.stdout);

  const outN = path.join(dir, 'native.json');
  const outJ = path.join(dir, 'node.json');
  // Each CLI's peak for a one-key answer over the same db (the scan without the output)...
  const nBase = peakRss(nativeBin, ['keys', db, '--limit', '1'], outN, dir);
  const jBase = peakRss(process.execPath, [nodeCli, 'keys', db, '--limit', '1'], outJ, dir);
  assert.equal(nBase.status, 0, nBase.stderr);
  assert.equal(jBase.status, 0, jBase.stderr);
  // ...and for every key.
  const n = peakRss(nativeBin, ['keys', db], outN, dir);
  assert.equal(n.status, 0, n.stderr);
  const j = peakRss(process.execPath, [nodeCli, 'keys', db], outJ, dir);
  assert.equal(j.status, 0, j.stderr);
  const size = fs.statSync(outN).size;
  assert.equal(fs.statSync(outJ).size, size);
  assert.equal(sha256(outJ), sha256(outN), 'native and npm print the same bytes');

  // The output is one valid etcdctl `get -w json` document with every live key, in order.
  const doc = JSON.parse(fs.readFileSync(outN, 'utf8'));
  // gen-bigdb deletes every 50th bulk key; /huge/value is the last key.
  const live = keys - Math.ceil((keys - 1) / 50);
  assert.equal(doc.count, live);
  assert.equal(doc.kvs.length, live);
  assert.equal(doc.more, undefined);
  for (let i = 1; i < doc.kvs.length; i++) {
    if (Buffer.compare(Buffer.from(doc.kvs[i - 1].key, 'base64'), Buffer.from(doc.kvs[i].key, 'base64')) >= 0) {
      assert.fail(`keys out of order at ${i}`);
    }
  }

  const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
  console.log(`# keys over ${keys} keys: ${mb(size)} of output; peak RSS native ${mb(n.rss)} (one key: ${mb(nBase.rss)}), ` +
    `npm ${mb(j.rss)} (one key: ${mb(jBase.rss)})`);
  assert.ok(size > 60e6, `output ${size} bytes: the db should give over 60 MB`);
  // Printing every key costs no more than printing one (output and answer are not held)...
  assert.ok(n.rss - nBase.rss < 16e6, `native: ${mb(n.rss)} for every key vs ${mb(nBase.rss)} for one`);
  assert.ok(j.rss - jBase.rss < 16e6, `npm: ${mb(j.rss)} for every key vs ${mb(jBase.rss)} for one`);
  // ...and the scan holds no index of the keyspace (the window is 16 MiB at most).
  assert.ok(n.rss < 56e6, `native peak RSS ${mb(n.rss)} for ${mb(size)} of output`);
  assert.ok(j.rss < 144e6, `npm peak RSS ${mb(j.rss)} for ${mb(size)} of output`);
});
