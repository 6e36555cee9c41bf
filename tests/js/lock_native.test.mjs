// The lock across runtimes: the native CLI (flock + the Node lock file beside the folder) and
// the npm library (the lock file only) exclude each other on one snap folder, and after the
// holder releases, the other side gets the lock (src/storage/native.rs, "Node lock protocol").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root, pkgDir, tmpDir, requirePkg, run, readLock, lockExists, within, until, snapFolder, startEvents } from './helpers.mjs';

requirePkg();
const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, 'lock_child.cjs');
const cli = path.join(root, 'target', 'debug', 'etcd-snap');
const env = { ...process.env, ETCD_SNAP_PKG: path.join(pkgDir, 'node.cjs') };
if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`cargo build --bin etcd-snap\``);


/** A Node process running lock_child.cjs; `next()` resolves with its next JSON event. */
const startNode = (t, args, extraEnv = {}) => startEvents(t, process.execPath, [child, ...args], { ...env, ...extraEnv });




test('native CLI holding the folder: the npm library gets ERR_LOCKED, or waits; then succeeds', async (t) => {
  const { snapDir, lockFile } = snapFolder(t, 'etcd-snap-xlock-');
  // `savedb DIR 5 -` holds the lock while it reads stdin, which we keep open.
  const nat = spawn(cli, ['savedb', snapDir, '5', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (nat.exitCode === null && nat.signalCode === null) nat.kill('SIGKILL'); });
  let natOut = ''; let natErr = '';
  nat.stdout.on('data', (d) => { natOut += d; });
  nat.stderr.on('data', (d) => { natErr += d; });
  const natExit = new Promise((r) => nat.on('exit', (code) => r(code)));
  const held = await until(() => readLock(lockFile), 'native CLI writes the lock file');
  assert.equal(held.pid, nat.pid, JSON.stringify(held));
  assert.equal(typeof held.host, 'string');
  assert.match(held.token, /^[0-9a-f]{8}$/);
  assert.deepEqual(fs.readdirSync(snapDir).filter((n) => !n.startsWith('tmp')), [], 'nothing in the folder yet');

  const b = startNode(t, [snapDir, 'fail', '2'], { HOLD: '0' });
  const ev = await within(60_000, b.next(), 'Node fails');
  assert.deepEqual([ev.event, ev.code], ['error', 'ERR_LOCKED'], JSON.stringify(ev));
  assert.match(ev.message, new RegExp(`held by pid ${nat.pid} `));
  assert.equal(await b.exited, 3);

  const c = startNode(t, [snapDir, 'wait', '3'], { HOLD: '0' });
  const cFirst = c.next();
  const early = await Promise.race([cFirst, new Promise((r) => setTimeout(() => r(null), 1500))]);
  assert.equal(early, null, 'Node acquired the lock while the native CLI held it');
  nat.stdin.end('db bytes');
  assert.equal(await within(60_000, natExit, 'native CLI exits'), 0, natErr);
  assert.match(natOut, /"bytes":8/);
  assert.equal((await within(60_000, cFirst, 'Node locks after release')).event, 'locked');
  assert.equal((await c.next()).event, 'saved');
  assert.equal(await c.exited, 0);

  assert.deepEqual(fs.readdirSync(snapDir).sort(),
    ['0000000000000001-0000000000000003.snap', '0000000000000005.snap.db']);
  assert.ok(!lockExists(lockFile), 'lock file removed');
});

test('npm library holding the folder: the native CLI exits 1 with the lock error; then succeeds', async (t) => {
  const { dir, snapDir, lockFile } = snapFolder(t, 'etcd-snap-xlock-');
  const a = startNode(t, [snapDir, 'fail', '1']);
  assert.equal((await within(60_000, a.next(), 'Node locks')).event, 'locked');
  assert.equal((await a.next()).event, 'saved');
  assert.equal(readLock(lockFile)?.pid, a.p.pid);

  const r = run(cli, ['savedb', snapDir, '7', '-'], { input: 'x' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`held by pid ${a.p.pid} .*\\(lock file ${lockFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
  assert.equal(readLock(lockFile)?.pid, a.p.pid, 'the Node lock file is untouched');
  assert.ok(!fs.existsSync(path.join(snapDir, '0000000000000007.snap.db')));

  a.p.stdin.end();
  assert.equal((await within(60_000, a.next(), 'Node releases')).event, 'released');
  assert.ok(!lockExists(lockFile));
  const ok = run(cli, ['savedb', snapDir, '7', '-'], { input: 'x' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.deepEqual(fs.readdirSync(snapDir).sort(),
    ['0000000000000001-0000000000000001.snap', '0000000000000007.snap.db']);
  assert.ok(!lockExists(lockFile), 'native CLI removed its lock file');
  assert.deepEqual(fs.readdirSync(dir), ['snap']);
});
