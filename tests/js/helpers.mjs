// Shared by the Node tests of the npm package (run with `make test-js`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

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
