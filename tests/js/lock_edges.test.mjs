// The folder lock where issue 9 broke it (items 1, 6, 8; src/storage/lock_file.rs), with real
// processes of both runtimes and real lock entries:
// - other spellings of the folder (`DIR/.`, a symlink) name the same lock, for Node + Node and
//   Node + native writers; nothing in flight is deleted;
// - `release` and `load` of both CLIs work on a full disk (a 1 MiB tmpfs, `unshare -rm`);
// - stale entries: PID 1 alive again in a new PID namespace (a restarted container), another
//   host (`unshare -u`), an empty file with a future mtime; `--break-lock` and its warning;
// - several Node and native processes taking over one stale lock at once: one winner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root, pkgDir, tmpDir, requirePkg, run, readLock, lockExists, within, until, snapFolder, startEvents } from './helpers.mjs';

requirePkg();
const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, 'lock_child.cjs');
const cli = path.join(root, 'target', 'debug', 'etcd-snap');
const npmCli = path.join(pkgDir, 'cli.cjs');
const env = { ...process.env, ETCD_SNAP_PKG: path.join(pkgDir, 'node.cjs') };
if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run \`cargo build --bin etcd-snap\``);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const startNode = (t, args, extraEnv = {}) => startEvents(t, process.execPath, [child, ...args], { ...env, ...extraEnv });

/** The native CLI's `savedb DIR INDEX -`: holds the lock (and a tmp file) while stdin is open. */
function startSavedb(t, dir, index) {
  const p = spawn(cli, ['savedb', dir, String(index), '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
  let out = ''; let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => p.on('exit', (code) => r(code)));
  return { p, exited, out: () => out, err: () => err };
}



/** Runs the same arguments through the native and the npm CLI; they must agree byte for byte. */
function both(args, opts = {}, before = () => {}) {
  before();
  const nat = run(cli, args, opts);
  before();
  const npm = run(process.execPath, [npmCli, ...args], opts);
  assert.deepEqual([npm.status, npm.stdout, npm.stderr], [nat.status, nat.stdout, nat.stderr], `npm vs native: ${args.join(' ')}`);
  return nat;
}

const lastLine = (s) => s.trimEnd().split('\n').pop();
const bootId8 = () => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').slice(0, 8);
const deadPid = () => spawnSync('true').pid;

for (const spelling of ['DIR/.', 'a symlink to DIR']) {
  test(`${spelling}: Node and native writers through another spelling are locked out; nothing in flight is deleted`, async (t) => {
    const { dir, snapDir, lockFile } = snapFolder(t, 'etcd-snap-lock9-');
    const link = path.join(dir, 'link');
    fs.symlinkSync(snapDir, link);
    const other = spelling === 'DIR/.' ? `${snapDir}/.` : link;

    // Node A holds the folder by its plain name; a write of A's is in flight (tmp file).
    const a = startNode(t, [snapDir, 'fail', '1']);
    assert.equal((await within(60_000, a.next(), 'A locks')).event, 'locked');
    assert.equal((await a.next()).event, 'saved');
    fs.writeFileSync(path.join(snapDir, 'tmp4242'), 'in flight');
    // Node B through the other spelling: ERR_LOCKED, and A's tmp file survives.
    const b = startNode(t, [other, 'fail', '2'], { HOLD: '0' });
    const ev = await within(60_000, b.next(), 'B fails');
    assert.deepEqual([ev.event, ev.code], ['error', 'ERR_LOCKED'], JSON.stringify(ev));
    assert.match(ev.message, new RegExp(`held by pid ${a.p.pid} .*; that process is running on this host$`));
    // Both CLIs through the other spelling: exit 1, the same lock error.
    const r = both(['save', other, '1', '3', '-']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(lastLine(r.stderr), `lock ${other}: held by pid ${a.p.pid} on ${os.hostname()} (lock file ${lockFile}); that process is running on this host`);
    assert.deepEqual(fs.readdirSync(snapDir).sort(), ['0000000000000001-0000000000000001.snap', 'tmp4242']);
    assert.equal(readLock(lockFile)?.pid, a.p.pid);
    assert.ok(!lockExists(path.join(snapDir, '.etcd-snap.lock')), 'no lock inside the folder');
    a.p.stdin.end();
    assert.equal((await within(60_000, a.next(), 'A releases')).event, 'released');

    // The native CLI holds the folder through the other spelling with its db write in flight;
    // Node by the plain name is locked out and the native tmp file survives.
    const nat = startSavedb(t, other, 9);
    nat.p.stdin.write('first half ');
    // (Its open removed A's leftover tmp4242: A had released.)
    const natTmp = await until(() => readLock(lockFile)?.pid === nat.p.pid && fs.readdirSync(snapDir).find((n) => n.startsWith('tmp') && n !== 'tmp4242'), 'native locks');
    const c = startNode(t, [snapDir, 'fail', '4'], { HOLD: '0' });
    assert.equal((await within(60_000, c.next(), 'C fails')).code, 'ERR_LOCKED');
    assert.ok(fs.existsSync(path.join(snapDir, natTmp)), 'the holder\'s tmp file is kept');
    nat.p.stdin.end('second half');
    assert.equal(await within(60_000, nat.exited, 'native exits'), 0, nat.err());
    assert.equal(fs.readFileSync(path.join(snapDir, '0000000000000009.snap.db'), 'utf8'), 'first half second half');
    assert.ok(!lockExists(lockFile));
  });
}

/** Runs `steps` (sh) as root of a user+mount namespace with a 1 MiB tmpfs at $M. */
function onTinyTmpfs(t, steps) {
  const { dir, cleanup } = tmpDir('etcd-snap-full-');
  t.after(cleanup);
  const m = path.join(dir, 'm');
  fs.mkdirSync(m);
  const script = `set -e; mount -t tmpfs -o size=1m none "$M"; mkdir "$M/snap"; ${steps}`;
  const r = run('unshare', ['-rm', 'sh', '-c', script], { env: { ...process.env, M: m, NAT: cli, NODE: process.execPath, NPM: npmCli } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

test('release and load work on a full disk, in both CLIs (byte-identical), and free space', (t) => {
  // Per CLI, the same steps on a fresh tmpfs: a snapshot and a 256 KiB db, fill the disk,
  // check it is full, then release (frees the db) and load, then check a write fits again.
  const steps = (runCli) => `
    "$NAT" save "$M/snap" 1 1 - >/dev/null
    head -c 262144 /dev/zero | "$NAT" savedb "$M/snap" 1 - >/dev/null
    dd if=/dev/zero of="$M/fill" bs=4096 2>/dev/null || true
    if echo x > "$M/probe" 2>/dev/null; then echo "not full"; exit 1; fi
    rm -f "$M/probe"
    ${runCli} release "$M/snap" 2; echo "rc=$?"
    ${runCli} load "$M/snap"; echo "rc=$?"
    head -c 65536 /dev/zero > "$M/after"; echo "written after release"`;
  const nat = onTinyTmpfs(t, steps('"$NAT"'));
  const npm = onTinyTmpfs(t, steps('"$NODE" "$NPM"'));
  assert.equal(npm, nat, 'npm vs native');
  const lines = nat.trimEnd().split('\n');
  assert.deepEqual([lines[0], lines[1], lines[3], lines[4]], ['{"removed":["0000000000000001.snap.db"]}', 'rc=0', 'rc=0', 'written after release'], nat);
  assert.match(lines[2], /^\{"term":1,"index":1,/);
});

/** Runs a lock_child.cjs as PID 1 of a new PID namespace (a container's first process). */
const asPid1 = (t, args, extraEnv = {}) => startEvents(t, 'unshare', ['-rpf', '--mount-proc', '--kill-child', process.execPath, child, ...args], { ...env, ...extraEnv });

/**
 * Waits until the clock ticks since boot (`/proc/uptime`, USER_HZ = 100 per second) are past a
 * recorded start time, so a PID 1 started next has another `/proc/1/stat` start time, as a
 * restarted container's PID 1 has. The lock tells a reused PID by its start time in ticks: two
 * PID 1s started within one tick are one process to it (and blocking is the safe answer).
 */
const pastStartTick = (start) => until(
  () => Math.floor(parseFloat(fs.readFileSync('/proc/uptime', 'utf8')) * 100) > Number(start) + 1,
  `a clock tick after ${start}`);

test('stale (a): PID 1 alive again after a restart (new PID namespace) is taken over by Node and native', async (t) => {
  const { snapDir, lockFile } = snapFolder(t, 'etcd-snap-lock9-');
  // A Node writer as PID 1 dies holding the lock (SIGKILL: no release).
  const a = asPid1(t, [snapDir, 'fail', '1']);
  assert.equal((await within(60_000, a.next(), 'A locks')).event, 'locked');
  assert.equal((await a.next()).event, 'saved');
  a.p.kill('SIGKILL');
  await a.exited;
  const held = readLock(lockFile);
  assert.equal(held?.pid, 1, 'the entry names PID 1');
  // The native CLI, again PID 1 of a new namespace, takes it over: same host and boot, PID 1
  // alive (itself) with another start time.
  await pastStartTick(held.start);
  const natHold = spawn('unshare', ['-rpf', '--mount-proc', '--kill-child', cli, 'savedb', snapDir, '5', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });
  t.after(() => { if (natHold.exitCode === null) natHold.kill('SIGKILL'); });
  await until(() => { const l = readLock(lockFile); return l && l.record !== held.record; }, 'native PID 1 takes over');
  assert.equal(readLock(lockFile).pid, 1);
  natHold.kill('SIGKILL'); // dies holding it too
  await new Promise((r) => natHold.on('exit', r));
  assert.ok(lockExists(lockFile));
  // The npm CLI as PID 1 takes the native one's entry over.
  const nat = readLock(lockFile);
  await pastStartTick(nat.start);
  const r = run('unshare', ['-rpf', '--mount-proc', process.execPath, npmCli, 'save', snapDir, '1', '2', '-']);
  assert.equal(r.status, 0, `${r.stderr}(entries: Node ${held.record}, native ${nat.record}; now ${fs.readFileSync('/proc/uptime', 'utf8').trim()})`);
  assert.equal(r.stderr, '');
  assert.ok(!lockExists(lockFile));
  assert.deepEqual(fs.readdirSync(snapDir).filter((n) => n.endsWith('.snap')).sort(),
    ['0000000000000001-0000000000000001.snap', '0000000000000001-0000000000000002.snap']);
});

test('stale (b): another host blocks with the way out named; --break-lock warns and proceeds (both CLIs)', async (t) => {
  const { snapDir, lockFile } = snapFolder(t, 'etcd-snap-lock9-');
  // A Node writer on host "other-pod" (its own UTS namespace) dies holding the lock.
  const a = startEvents(t, 'unshare', ['-ruf', '--kill-child', 'sh', '-c', 'hostname other-pod && exec "$0" "$@"', process.execPath, child, snapDir, 'fail', '1'], env);
  assert.equal((await within(60_000, a.next(), 'A locks')).event, 'locked');
  assert.equal((await a.next()).event, 'saved');
  a.p.kill('SIGKILL');
  await a.exited;
  const held = readLock(lockFile);
  assert.equal(held?.host, 'other-pod');
  const restore = () => { fs.rmSync(lockFile, { force: true }); fs.symlinkSync(held.record, lockFile); };

  const locked = both(['save', snapDir, '1', '2', '-']);
  assert.equal(locked.status, 1);
  assert.equal(lastLine(locked.stderr), `lock ${snapDir}: held by pid ${held.pid} on other-pod (lock file ${lockFile}); if that process is gone, rerun with --break-lock`);
  assert.equal(readLock(lockFile)?.record, held.record, 'entry untouched');

  const broke = both(['save', snapDir, '1', '2', '-', '--break-lock'], {}, restore);
  assert.equal(broke.status, 0, broke.stderr);
  assert.equal(broke.stderr, `warning: broke the lock of ${snapDir} (held by pid ${held.pid} on other-pod; lock file ${lockFile}): if that process still runs, the folder may now have two writers\n`);
  assert.equal(broke.stdout, `{"path":"${snapDir}/0000000000000001-0000000000000002.snap","bytes":18}\n`);
  assert.ok(!lockExists(lockFile));
  // unframe stores a db: a writing subcommand too.
  const db = path.join(path.dirname(snapDir), 'db'); const body = path.join(path.dirname(snapDir), 'body');
  fs.writeFileSync(db, 'db bytes');
  assert.equal(run(cli, ['frame', body, '1', '7', db]).status, 0);
  const unframed = both(['unframe', body, snapDir, '--break-lock'], {}, restore);
  assert.equal(unframed.status, 0, unframed.stderr);
  assert.match(unframed.stderr, /^warning: broke the lock of /);
  assert.ok(fs.existsSync(path.join(snapDir, '0000000000000007.snap.db')));
  // serve-snapshots holds the folder while it serves: refused, then taken over with the warning.
  for (const [cmd, pre] of [[cli, []], [process.execPath, [npmCli]]]) {
    restore();
    const serveArgs = [...pre, 'serve-snapshots', snapDir, '--listen', '127.0.0.1:0', '--cluster-id', '1'];
    const refused = spawnSync(cmd, serveArgs, { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(refused.status, 1, `${cmd}: ${refused.stderr}`);
    assert.match(lastLine(refused.stderr), /; if that process is gone, rerun with --break-lock$/);
    const p = spawn(cmd, [...serveArgs, '--break-lock'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
    let out = ''; let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    await until(() => out.includes('{"listening":'), `${cmd} serve-snapshots --break-lock listens`);
    assert.match(err, /^warning: broke the lock of .* the folder may now have two writers\n$/);
    assert.equal(readLock(lockFile)?.pid, p.pid, 'the server holds the lock now');
    p.kill('SIGKILL');
    await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.on('exit', r)));
  }

  // --break-lock never breaks a holder running on this host.
  const b = startNode(t, [snapDir, 'fail', '3']);
  assert.equal((await within(60_000, b.next(), 'B locks')).event, 'locked');
  const live = both(['release', snapDir, '9', '--break-lock']);
  assert.equal(live.status, 1);
  assert.match(lastLine(live.stderr), /; that process is running on this host$/);
  assert.equal(readLock(lockFile)?.pid, b.p.pid);
});

test('stale (c): an empty lock file with a future mtime is taken over; a fresh one blocks', (t) => {
  const { snapDir, lockFile } = snapFolder(t, 'etcd-snap-lock9-');
  const future = Date.now() / 1000 + 3600;
  const plant = (mtime) => { fs.rmSync(lockFile, { force: true }); fs.writeFileSync(lockFile, ''); fs.utimesSync(lockFile, mtime, mtime); };
  const r = both(['save', snapDir, '1', '1', '-'], {}, () => plant(future));
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!lockExists(lockFile));
  // Half-written just now (an earlier version between create and write): held, way out named.
  const young = both(['save', snapDir, '1', '1', '-'], {}, () => plant(Date.now() / 1000));
  assert.equal(young.status, 1);
  assert.equal(lastLine(young.stderr), `lock ${snapDir}: held by pid 0 on unknown host (lock file ${lockFile}); if that process is gone, rerun with --break-lock`);
  // An earlier version's JSON naming a dead PID of this host: stale.
  const old = both(['save', snapDir, '1', '1', '-'], {}, () => {
    fs.rmSync(lockFile, { force: true });
    fs.writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), host: os.hostname(), token: 'x' }) + '\n');
  });
  assert.equal(old.status, 0, old.stderr);
});

test('stale-lock race: Node and native processes taking over one stale lock at once, one winner', async (t) => {
  const { snapDir, lockFile } = snapFolder(t, 'etcd-snap-lock9-');
  for (let round = 0; round < 4; round++) {
    // A crashed holder's entry: this version's symlink, or an earlier version's JSON file.
    fs.rmSync(lockFile, { force: true });
    if (round % 2) fs.symlinkSync(`${deadPid()}:1:${bootId8()}:0000000${round}@${os.hostname()}`, lockFile);
    else fs.writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), host: os.hostname(), token: `t${round}` }) + '\n');
    const at = Date.now() + 2500;
    const nodes = [0, 1, 2, 3].map((i) => startNode(t, [snapDir, 'fail', String(10 * round + i + 1)], { START_AT: String(at) }));
    await sleep(at - Date.now());
    const natives = [0, 1].map((i) => startSavedb(t, snapDir, 10 * round + i + 1));
    const evs = await within(60_000, Promise.all(nodes.map((n) => n.next())), 'racers report');
    await sleep(500);
    const nodeWinners = nodes.filter((_, i) => evs[i].event === 'locked');
    const nativeWinners = natives.filter((n) => n.p.exitCode === null);
    for (const [i, e] of evs.entries()) if (e.event !== 'locked') assert.equal(e.code, 'ERR_LOCKED', `node ${i}: ${JSON.stringify(e)}`);
    for (const n of natives) if (n.p.exitCode !== null) assert.equal(n.p.exitCode, 1, n.err());
    assert.equal(nodeWinners.length + nativeWinners.length, 1, `round ${round}: ${JSON.stringify(evs)}, natives running: ${nativeWinners.length}`);
    const winner = nodeWinners[0] ?? nativeWinners[0];
    assert.equal(readLock(lockFile)?.pid, winner.p.pid, 'the entry names the winner');
    assert.deepEqual(fs.readdirSync(path.dirname(snapDir)).filter((n) => n.includes('.break.')), [], 'no guard left');
    if (nodeWinners.length) {
      assert.equal((await nodeWinners[0].next()).event, 'saved');
      winner.p.stdin.end();
      assert.equal((await within(60_000, winner.next(), 'release')).event, 'released');
    } else {
      winner.p.stdin.end('db');
      assert.equal(await within(60_000, winner.exited, 'native exits'), 0, winner.err());
    }
    await Promise.all([...nodes.map((n) => n.exited), ...natives.map((n) => n.exited)]);
    assert.ok(!lockExists(lockFile));
  }
});

test('breakLock option: checked like every option', async (t) => {
  const { snapDir } = snapFolder(t, 'etcd-snap-lock9-');
  const { createRequire } = await import('node:module');
  const snap = createRequire(import.meta.url)(path.join(pkgDir, 'node.cjs'));
  for (const [opts, msg] of [[{ breakLock: 1 }, 'options.breakLock: expected a boolean'], [{ lock: 'wait', breakLock: true }, 'options.breakLock: needs lock "fail"']]) {
    await assert.rejects(snap.Snapshotter.open({ node: snapDir }, opts), (e) => e.code === 'ERR_INVALID_ARGUMENT' && e.message.endsWith(msg));
  }
  const s = await snap.Snapshotter.open({ node: snapDir }, { breakLock: true });
  s.close();
});
