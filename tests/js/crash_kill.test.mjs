// SIGKILL at every relevant system call, with real processes (issue 9, last paragraph). Each
// mutating command (`save` new and over an existing name, `savedb`, `release`, `load` that
// quarantines and cleans a stale tmp*) runs under `strace -e inject=S:signal=KILL:when=N` for
// every syscall S of the set and every N up to the count of S a plain strace run saw. After
// each kill the folder must hold, name by name, the old or the new bytes (never a torn or
// empty file; a quarantined file under exactly one of its two names; tmp* leftovers allowed);
// `ls` through both CLIs succeeds and agrees; `load` through both (one in place, where the
// killed process's lock leftovers are, the other on a copy) succeeds and agrees; and running
// the command again in place completes and reaches the new state (no stray lock blocks it).
// The native CLI is killed at openat/write/pwrite64/fsync/fdatasync/rename/renameat2/unlink/
// unlinkat/linkat/symlinkat; the npm CLI at the same set without openat (Node opens hundreds
// of module files before the command starts). tests/testsuite/crash/snapshotter.rs covers the same
// operations with in-memory fault injection; this is the real-kernel, real-process check.
// CRASH_SYSCALLS (comma list) narrows the set, CRASH_SCENARIO (a name part) the commands; strace is installed by .ci/setup. (No
// --seccomp-bpf: strace 6.1 then runs the program without injecting.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { pkgDir, fixtures, root, requirePkg } from './helpers.mjs';

requirePkg();
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');
const NATIVE = { label: 'native', cmd: [nativeBin] };
const NPM = { label: 'npm', cmd: [process.execPath, nodeCli] };

const ALL_SYSCALLS = ['openat', 'write', 'pwrite64', 'fsync', 'fdatasync', 'rename', 'renameat2', 'unlink', 'unlinkat', 'linkat', 'symlinkat'];
const only = process.env.CRASH_SYSCALLS ? process.env.CRASH_SYSCALLS.split(',') : null;
const syscallsFor = (cli) => ALL_SYSCALLS.filter((s) => (cli === NPM ? s !== 'openat' : true) && (!only || only.includes(s)));

const isTemp = (n) => n.startsWith('tmp') || n.startsWith('db.tmp');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

// strace counts `when=N` per syscall per thread; one libuv worker keeps the npm CLI's file
// I/O on one thread, so N walks through it in order (the native CLI is single-threaded).
const env = { ...process.env, UV_THREADPOOL_SIZE: '1' };

function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20, env, ...opts });
  if (r.error) throw r.error;
  return r;
}

/** name -> bytes of the regular files of a folder (symlinks, which only a lock could be,
 *  are not state; nothing else is expected). */
function snapshotOf(dir) {
  const m = new Map();
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isSymbolicLink()) continue;
    assert.ok(e.isFile(), `${dir}: unexpected non-file ${e.name}`);
    m.set(e.name, fs.readFileSync(path.join(dir, e.name)));
  }
  return m;
}
function writeFolder(dir, files) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [n, b] of files) fs.writeFileSync(path.join(dir, n), b);
}
const fixture = (rel) => fs.readFileSync(path.join(fixtures, rel));

// --- scenarios: the folder before, the command (cwd-relative) -----------------------------------
const goodSnaps = ['0000000000000002-0000000000000101.snap', '0000000000000002-0000000000000134.snap'];
const followerDb = fixture('cluster/follower-snap/00000000000015c5.snap.db');
const base = () => new Map(goodSnaps.map((n) => [n, fixture(`single/member-snap/${n}`)]));
const scenarios = [
  { name: 'save (new name)', before: base, args: ['save', 'snap', '3', '400', 'data.bin', '--voters', '1,2,3'] },
  { name: 'save (over an existing name)', before: base, args: ['save', 'snap', '2', '308', 'data.bin', '--voters', '1'] },
  { name: 'savedb', before: base, args: ['savedb', 'snap', '400', 'data.db'] },
  {
    name: 'release',
    before: () => new Map([...base(), ['0000000000000064.snap.db', followerDb.subarray(0, 8192)], ['00000000000000c8.snap.db', followerDb], ['000000000000012c.snap.db', followerDb.subarray(0, 16384)]]),
    args: ['release', 'snap', '250'],
  },
  {
    name: 'load (quarantine, stale tmp)',
    before: () => new Map([...base(),
      ['0000000000000003-0000000000000200.snap', fixture('golden/corrupt/0000000000000002-0000000000000065.snap')],
      ['0000000000000003-0000000000000201.snap', fixture('golden/corrupt/0000000000000002-0000000000000066.snap')],
      ['tmp123456', Buffer.from('half a snapshot')]]),
    args: ['load', 'snap'],
  },
];

/** A fresh workspace: ws/snap (the folder), ws/data.bin, ws/data.db (command inputs). */
function setup(ws, sc) {
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  writeFolder(path.join(ws, 'snap'), sc.before());
  fs.writeFileSync(path.join(ws, 'data.bin'), Buffer.from('{"new":"v2 store"}'));
  fs.writeFileSync(path.join(ws, 'data.db'), followerDb);
}

/** Name by name: old bytes, new bytes, or absent where before or after had none. */
function stateProblems(got, before, after) {
  const p = [];
  for (const [n, b] of got) {
    if (isTemp(n)) continue;
    const ok = (before.has(n) && before.get(n).equals(b)) || (after.has(n) && after.get(n).equals(b));
    if (!ok) p.push(`${n}: ${b.length} bytes (${sha(b)}) are neither the old nor the new content`);
  }
  for (const n of new Set([...before.keys(), ...after.keys()])) {
    if (isTemp(n) || got.has(n)) continue;
    if (before.has(n) && after.has(n)) p.push(`${n}: missing, present before and after`);
  }
  // A quarantine is one rename: the file is under exactly one of its two names.
  for (const n of before.keys()) {
    if (after.has(`${n}.broken`) && !before.has(`${n}.broken`) && got.has(n) === got.has(`${n}.broken`)) {
      p.push(`${n}: ${got.has(n) ? 'under both names' : 'under neither name'} (quarantine)`);
    }
  }
  return p;
}

function fingerprint(m) {
  return [...m].map(([n, b]) => (isTemp(n) ? 'tmp*' : `${n}:${sha(b)}`)).sort().join(' ');
}

/** Counts each syscall of the set per thread in a plain traced run; the largest count is
 *  how far `when=N` must go (strace counts per syscall per tracee). */
function countSyscalls(cli, sc, ws, set) {
  setup(ws, sc);
  const log = path.join(ws, '..', `strace-${path.basename(ws)}.txt`);
  const r = run(['strace', '-f', '-qq', '-o', log, `-e`, `trace=${set.join(',')}`, '--', ...cli.cmd, ...sc.args], { cwd: ws });
  assert.equal(r.status, 0, `${cli.label} ${sc.args.join(' ')} under strace: ${r.stderr}`);
  const per = new Map();
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    const m = /^(\d+)\s+([a-z0-9_]+)\(/.exec(line);
    if (!m) continue;
    const k = `${m[1]} ${m[2]}`;
    per.set(k, (per.get(k) ?? 0) + 1);
  }
  fs.rmSync(log);
  const max = new Map();
  for (const [k, c] of per) { const s = k.split(' ')[1]; max.set(s, Math.max(max.get(s) ?? 0, c)); }
  return max;
}

/** After a kill: `load` in place (past whatever the killed process left) and, the first time a
 *  state is seen, the other CLI on a copy; both succeed and agree. Then the command again, in
 *  place, completes and reaches the new state. Returns a problem, or null. */
function recover(ctx, what, wsDir, fp, got, first) {
  const { killed, sc, after, loadOf, copy } = ctx;
  const dir = path.join(wsDir, 'snap');
  const inPlace = first ? (killed === NATIVE ? NPM : NATIVE) : NATIVE;
  const here = run([...inPlace.cmd, 'load', 'snap'], { cwd: wsDir });
  if (here.status !== 0) return { msg: `${what}: ${inPlace.label} load in place: exit ${here.status}: ${here.stderr.trim()}` };
  if (first) {
    const other = inPlace === NATIVE ? NPM : NATIVE;
    fs.rmSync(copy, { recursive: true, force: true });
    writeFolder(path.join(copy, 'snap'), got);
    const there = run([...other.cmd, 'load', 'snap'], { cwd: copy });
    ctx.npmChecks++;
    const names = (d) => fs.readdirSync(d).filter((x) => !isTemp(x)).sort().join(' ');
    if (there.status !== 0 || there.stdout !== here.stdout || names(path.join(copy, 'snap')) !== names(dir)) {
      return { msg: `${what}: load: ${inPlace.label} ${here.stdout.trim()} / ${other.label} exit ${there.status} ${there.stdout.trim()} ${there.stderr.trim()}` };
    }
    loadOf.set(fp, here.stdout);
  } else if (here.stdout !== loadOf.get(fp)) {
    return { msg: `${what}: load in place printed ${here.stdout.trim()}, earlier ${loadOf.get(fp).trim()} for the same folder` };
  }
  const again = run([...killed.cmd, ...sc.args], { cwd: wsDir });
  const nonTemp = (m) => fingerprint(new Map([...m].filter(([k]) => !isTemp(k))));
  if (again.status !== 0) return { msg: `${what}: the command again: exit ${again.status}: ${again.stderr.trim()}` };
  const final = snapshotOf(dir);
  if (nonTemp(final) !== nonTemp(after)) return { msg: `${what}: the command again left ${nonTemp(final)}, want ${nonTemp(after)}` };
  return null;
}

function crashTest(killed) {
  return (t) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-snap-crash-${killed.label}-`));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const ws = path.join(tmp, 'ws');
    const failures = [];
    const states = new Set();
    let kills = 0; let runs = 0;
    const stats = { npmChecks: 0 };
    for (const sc of scenarios.filter((x) => !process.env.CRASH_SCENARIO || x.name.includes(process.env.CRASH_SCENARIO))) {
      // The new state: the command once, untraced.
      setup(ws, sc);
      const before = snapshotOf(path.join(ws, 'snap'));
      const clean = run([...killed.cmd, ...sc.args], { cwd: ws });
      assert.equal(clean.status, 0, `${sc.name}: ${clean.stderr}`);
      const after = snapshotOf(path.join(ws, 'snap'));
      assert.notEqual(fingerprint(after), fingerprint(before), `${sc.name}: the command changed nothing`);
      const ctx = { killed, sc, after, loadOf: new Map(), copy: path.join(tmp, 'copy'), get npmChecks() { return stats.npmChecks; }, set npmChecks(v) { stats.npmChecks = v; } };
      const counts = countSyscalls(killed, sc, ws, syscallsFor(killed));
      for (const s of syscallsFor(killed)) {
        for (let n = 1; n <= (counts.get(s) ?? 0); n++) {
          const what = `${killed.label} ${sc.args.join(' ')}: SIGKILL at ${s} #${n}`;
          setup(ws, sc);
          const r = run(['strace', '-f', '-qq', '-o', '/dev/null', '-e', `trace=${s}`, '-e', `inject=${s}:signal=KILL:when=${n}`, '--', ...killed.cmd, ...sc.args], { cwd: ws });
          runs++;
          if (r.signal === 'SIGKILL' || r.status === 137) kills++;
          else if (r.status !== 0) { failures.push(`${what}: not killed, exit ${r.status}: ${r.stderr.trim()}`); continue; }
          const got = snapshotOf(path.join(ws, 'snap'));
          const bad = stateProblems(got, before, after);
          if (bad.length) { failures.push(`${what}: ${bad.join('; ')}`); continue; }
          const fp = fingerprint(got);
          states.add(`${sc.name} ${fp}`);
          const first = !ctx.loadOf.has(fp);
          // ls (locks and changes nothing): both CLIs succeed and agree, once per state.
          if (first) {
            const lsN = run([...NATIVE.cmd, 'ls', 'snap', '-w', 'json'], { cwd: ws });
            const lsJ = run([...NPM.cmd, 'ls', 'snap', '-w', 'json'], { cwd: ws });
            stats.npmChecks++;
            if (lsN.status !== 0 || lsJ.status !== 0 || lsN.stdout !== lsJ.stdout) {
              failures.push(`${what}: ls: native ${lsN.status} ${lsN.stderr.trim()} / npm ${lsJ.status} ${lsJ.stderr.trim()}${lsN.stdout !== lsJ.stdout ? ' (outputs differ)' : ''}`);
              continue;
            }
          }
          const p = recover(ctx, what, ws, fp, got, first);
          // A killed writer's lock entry (a symlink naming a dead PID, src/storage/lock_file.rs)
          // is stale at once: a refused next writer is a failure, with no waiting period.
          if (p) failures.push(p.msg);
        }
      }
    }
    t.diagnostic(`crash (${killed.label}): ${runs} traced runs, ${kills} killed, ${states.size} distinct folder states, ${stats.npmChecks} cross-CLI checks`);
    assert.ok(kills > 0, 'no run was killed: is strace working?');
    assert.deepEqual(failures, [], failures.join('\n'));
  };
}

test('strace present (installed by .ci/setup)', () => {
  assert.equal(run(['strace', '-V']).status, 0);
  assert.ok(fs.existsSync(nativeBin), `${nativeBin} missing: cargo build --bin etcd-snap`);
});
test('native CLI killed at every relevant syscall: old or new state, both CLIs load it, next writer runs', crashTest(NATIVE));
test('npm CLI killed at every write/fsync/rename/unlink: old or new state, both CLIs load it, next writer runs', crashTest(NPM));
