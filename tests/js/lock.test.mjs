// The Node lock: two processes on one folder. The second opener gets ERR_LOCKED at once
// ("fail") or waits until the first releases ("wait"); a holder killed with SIGKILL leaves a
// stale lock that the next opener takes over; nothing either process saved is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pkgDir, tmpDir, requirePkg, lockExists, within, startEvents } from './helpers.mjs';

requirePkg();
const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lock_child.cjs');
const env = { ...process.env, ETCD_SNAP_PKG: path.join(pkgDir, 'node.cjs') };

/** Spawns lock_child.cjs; `next()` resolves with its next JSON event line. Killed on cleanup. */
const start = (t, args, extraEnv = {}) => startEvents(t, process.execPath, [child, ...args], { ...env, ...extraEnv });


test('second process: ERR_LOCKED at once, or waits; nothing lost', async (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-lock-');
  t.after(cleanup);
  const snapDir = path.join(dir, 'snap');
  fs.mkdirSync(snapDir);
  t.after(() => fs.rmSync(`${snapDir}.etcd-snap.lock`, { force: true }));

  const a = start(t, [snapDir, 'fail', '1']);
  assert.equal((await within(60_000, a.next(), 'A locks')).event, 'locked');
  assert.equal((await a.next()).event, 'saved');
  assert.ok(lockExists(`${snapDir}.etcd-snap.lock`), 'lock file beside the folder');

  const b = start(t, [snapDir, 'fail', '2'], { HOLD: '0' });
  const ev = await within(60_000, b.next(), 'B fails');
  assert.deepEqual([ev.event, ev.code], ['error', 'ERR_LOCKED'], JSON.stringify(ev));
  assert.match(ev.message, /held by pid \d+/);
  assert.equal(await b.exited, 3);

  const c = start(t, [snapDir, 'wait', '3'], { HOLD: '0' });
  // C must still be waiting while A holds the folder.
  const cFirst = c.next();
  const early = await Promise.race([cFirst, new Promise((r) => setTimeout(() => r(null), 1500))]);
  assert.equal(early, null, 'C acquired the lock while A held it');
  a.p.stdin.end(); // A releases
  assert.equal((await within(60_000, a.next(), 'A releases')).event, 'released');
  const got = await within(60_000, cFirst, 'C locks after release');
  assert.equal(got.event, 'locked');
  assert.equal((await c.next()).event, 'saved');
  assert.equal(await c.exited, 0);

  assert.deepEqual(fs.readdirSync(snapDir).sort(),
    ['0000000000000001-0000000000000001.snap', '0000000000000001-0000000000000003.snap']);
  assert.ok(!lockExists(`${snapDir}.etcd-snap.lock`), 'lock file removed on release');
});

test('a holder killed with SIGKILL leaves a stale lock the next opener takes over', async (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-lock-');
  t.after(cleanup);
  const snapDir = path.join(dir, 'snap');
  fs.mkdirSync(snapDir);
  t.after(() => fs.rmSync(`${snapDir}.etcd-snap.lock`, { force: true }));
  const a = start(t, [snapDir, 'fail', '5']);
  assert.equal((await within(60_000, a.next(), 'A locks')).event, 'locked');
  assert.equal((await a.next()).event, 'saved');
  a.p.kill('SIGKILL');
  await a.exited;
  assert.ok(lockExists(`${snapDir}.etcd-snap.lock`), 'crash leaves the lock file');
  const b = start(t, [snapDir, 'fail', '6'], { HOLD: '0' });
  assert.equal((await within(60_000, b.next(), 'B takes over')).event, 'locked');
  assert.equal(await b.exited, 0);
  assert.deepEqual(fs.readdirSync(snapDir).sort(),
    ['0000000000000001-0000000000000005.snap', '0000000000000001-0000000000000006.snap']);
});
