// Shared by the Node tests of the npm package (run with `make test-js`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pkgDir = path.join(root, 'pkg');
export const fixtures = path.join(root, 'tests', 'fixtures', 'etcd-3.4.23');

/** A fresh temp dir, removed by the returned cleanup (call it in t.after). */
export function tmpDir(prefix = 'etcd-snap-js-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir: d, cleanup: () => fs.rmSync(d, { recursive: true, force: true }) };
}

/** Copies a flat fixture folder into `dest`. */
export function copyDir(src, dest) {
  fs.mkdirSync(dest, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.isFile()) fs.copyFileSync(path.join(src, e.name), path.join(dest, e.name));
  }
}

/** Runs a command to completion; generous timeout for a loaded 2-core machine. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

export function requirePkg() {
  if (!fs.existsSync(path.join(pkgDir, 'node.cjs'))) {
    throw new Error('pkg/ is missing: run `make package` first (make test-js does)');
  }
}

/** The lock entry beside a snap folder (src/storage/lock_file.rs): a symlink whose target is
 *  `pid:starttime:bootid8:token8@host`; `{ pid, start, boot, token, host, record }`, or null. */
export function readLock(p) {
  let rec;
  try { rec = fs.readlinkSync(p); } catch {
    // A regular file: the same record, or an earlier version's {"pid","host","token"}.
    try { rec = fs.readFileSync(p, 'utf8').trimEnd(); } catch { return null; }
    if (rec.startsWith('{')) { try { return { ...JSON.parse(rec), record: rec }; } catch { return null; } }
  }
  const at = rec.indexOf('@');
  const [pid, start, boot, token] = rec.slice(0, at).split(':');
  return { pid: Number(pid), start, boot, token, host: rec.slice(at + 1), record: rec };
}

/** Whether anything (even a dangling symlink) is at `p`. */
export function lockExists(p) {
  try { fs.lstatSync(p); return true; } catch { return false; }
}

/** Rejects with `timeout: what` unless `promise` settles within `ms`. */
export const within = (ms, promise, what) => Promise.race([promise, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms).unref())]);

/** Polls until `f()` is truthy (a loaded 2-core machine: generous limit); returns its value. */
export async function until(f, what, ms = 60_000) {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Spawns a process whose stdout is JSON event lines (lock_child.cjs); killed on cleanup.
 * `next()` resolves with its next event, `exited` with its exit code (or signal name).
 */
export function startEvents(t, cmd, args, env = process.env) {
  const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
  let buf = '';
  const queue = []; const waiters = [];
  p.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const ev = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
      if (waiters.length) waiters.shift()(ev); else queue.push(ev);
    }
  });
  const exited = new Promise((r) => p.on('exit', (code, sig) => r(code ?? sig)));
  const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
  return { p, next, exited };
}

/** A fresh `snap` folder in a temp dir (removed on cleanup) and where its lock entry goes. */
export function snapFolder(t, prefix = 'etcd-snap-lock-') {
  const { dir, cleanup } = tmpDir(prefix);
  t.after(cleanup);
  const snapDir = path.join(dir, 'snap');
  fs.mkdirSync(snapDir);
  return { dir, snapDir, lockFile: `${snapDir}.etcd-snap.lock` };
}
