// Mutation fuzz (issue 9, last paragraph): real etcd files (.snap, .snap.db, an `etcdctl
// snapshot save` db, a rafthttp snapshot body), mutated with a seeded PRNG, through the native
// CLI, the npm CLI (pkg/cli.cjs) and the JS API (pkg/node.cjs, in this process). Per input:
// - both CLIs exit 0 or 1 (no panic = 101, no signal, no usage error), within a per-run timeout;
// - both print byte-identical stdout and stderr and leave the same folder behind;
// - a failure is one line (etcd's text), after `caused by:` lines only; no panic/trap text;
// - every `ls -w json` verdict that is an error carries a stable `ERR_*` code;
// - the JS API throws only `Error`s with a stable `ERR_*` code (no wasm trap), with the
//   message the CLIs print, and returns what the CLIs print;
// - memory stays bounded: the native CLI runs under an address-space limit (prlimit), the npm
//   CLI reports its peak RSS (a preload writes it to fd 3), this process's RSS is checked, so a
//   small input that makes any of them allocate without bound fails the run.
// FUZZ_SECONDS (default 60) bounds the run; FUZZ_SEED picks the sequence (printed first, and
// in every failure); FUZZ_CASE=N runs only case N of that seed. A failing input is also
// written to target/fuzz-failures/. Reproduce: FUZZ_SEED=<s> FUZZ_CASE=<n> make test-fuzz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pkgDir, fixtures, root, requirePkg } from './helpers.mjs';

requirePkg();
const snap = createRequire(import.meta.url)(path.join(pkgDir, 'node.cjs'));
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = process.env.FUZZ_SEED ?? String(crypto.randomInt(1, 2 ** 47));
const ONLY = process.env.FUZZ_CASE === undefined ? null : Number(process.env.FUZZ_CASE);
// First thing, and unbuffered (the test runner reports diagnostics only when a test ends).
process.stderr.write(`fuzz: FUZZ_SEED=${SEED} FUZZ_SECONDS=${SECONDS}${ONLY === null ? '' : ` FUZZ_CASE=${ONLY}`}\n`);
/** Per CLI run; generous for a loaded 2-core CI machine, small next to "forever". */
const RUN_TIMEOUT_MS = Number(process.env.FUZZ_RUN_TIMEOUT_MS ?? 20_000);
/** Address space of the native CLI (prlimit --as): a debug build needs well under 100 MiB. */
const NATIVE_AS_BYTES = 1 << 30;
/** This process (the JS API runs here): wasm memory never shrinks, so growth shows. */
const API_RSS_LIMIT = 1536 << 20;
/** Peak RSS of an npm CLI run (its wasm memory is outside any V8 heap limit). */
const NPM_RSS_LIMIT = 512 << 20;
const failDir = path.join(root, 'target', 'fuzz-failures');
/** Preloaded into the npm CLI: reports its peak RSS (KiB) on fd 3 as it exits. */
const rssProbe = path.join(os.tmpdir(), `etcd-snap-fuzz-rss-${process.pid}.cjs`);
fs.writeFileSync(rssProbe, "process.on('exit', () => { try { require('node:fs').writeSync(3, String(process.resourceUsage().maxRSS)); } catch {} });\n");
process.on('exit', () => fs.rmSync(rssProbe, { force: true }));

// --- seeded PRNG (splitmix64 seeding xoshiro128**, 32-bit outputs) --------------------------
function splitmix(seed) {
  let s = BigInt.asUintN(64, BigInt(seed));
  return () => {
    s = BigInt.asUintN(64, s + 0x9e3779b97f4a7c15n);
    let z = s;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
}
function rng(seed, stream) {
  const sm = splitmix(BigInt(seed) * 1000003n + BigInt(stream));
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) s[i] = Number(sm() & 0xffffffffn) | (i === 0 ? 1 : 0);
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  };
  const r = {
    u32: next,
    /** Uniform in [0, n). */
    int: (n) => (n <= 0 ? 0 : Math.floor((next() / 2 ** 32) * n)),
    pick: (a) => a[r.int(a.length)],
    chance: (p) => next() / 2 ** 32 < p,
    bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
  return r;
}

// --- corpus: real etcd files ------------------------------------------------------------------
const single = path.join(fixtures, 'single/member-snap');
const corpus = { snap: [], db: [], wire: [] };
for (const d of ['single/member-snap', 'golden/saved', 'cluster/follower-snap']) {
  for (const n of fs.readdirSync(path.join(fixtures, d)).sort()) {
    const b = fs.readFileSync(path.join(fixtures, d, n));
    if (n.endsWith('.snap')) corpus.snap.push({ name: `${d}/${n}`, bytes: b });
    if (n.endsWith('.snap.db')) corpus.db.push({ name: `${d}/${n}`, bytes: b });
  }
}
corpus.db.push({ name: 'viewer/fixtures/snapshot-save.db', bytes: fs.readFileSync(path.join(root, 'tests/js/viewer/fixtures/snapshot-save.db')) });
const sampleDb = path.join(root, 'www/sample/member-snap/db');
if (fs.existsSync(sampleDb)) corpus.db.push({ name: 'www/sample/member-snap/db', bytes: fs.readFileSync(sampleDb) });
corpus.wire.push({ name: 'wire/golden-msgsnap-tiny.bin', bytes: fs.readFileSync(path.join(fixtures, 'wire/golden-msgsnap-tiny.bin')) });

/** A second wire body: the follower's real db behind a MsgSnap (framed by the native CLI). */
function framedFollowerBody() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-fuzz-frame-'));
  try {
    const out = path.join(d, 'body.bin');
    const r = spawnSync(nativeBin, ['frame', out, '2', '5573', path.join(fixtures, 'cluster/follower-snap/00000000000015c5.snap.db'),
      '--from', '1', '--to', '2', '--voters', '1,2,3'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `frame: ${r.stderr}`);
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

// --- mutations --------------------------------------------------------------------------------
const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x0a, 0x12, 0x08];
/** Varints that decode to 2^64-1, 2^63, 2^32, 2^31 and a 10-byte run that overflows. */
const HUGE_VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x10],
  [0x80, 0x80, 0x80, 0x80, 0x08],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
];

function mutate(r, input, kind) {
  let b = Uint8Array.from(input);
  const ops = [];
  const count = 1 + r.int(r.chance(0.3) ? 8 : 3);
  const at = () => r.int(b.length + 1);
  const span = () => 1 + r.int(r.chance(0.8) ? 16 : 4096);
  const splice = (pos, del, ins) => {
    const out = new Uint8Array(b.length - del + ins.length);
    out.set(b.subarray(0, pos));
    out.set(ins, pos);
    out.set(b.subarray(pos + del), pos + ins.length);
    b = out;
  };
  for (let k = 0; k < count; k++) {
    const op = r.int(9);
    if (b.length === 0 && op < 5) { splice(0, 0, r.bytes(1 + r.int(8))); ops.push('grow'); continue; }
    switch (op) {
      case 0: { // bit flips
        const n = 1 + r.int(4);
        for (let i = 0; i < n; i++) { const p = r.int(b.length); b[p] ^= 1 << r.int(8); }
        ops.push(`flip${n}`);
        break;
      }
      case 1: { // byte sets
        const n = 1 + r.int(4);
        for (let i = 0; i < n; i++) b[r.int(b.length)] = r.chance(0.5) ? r.pick(INTERESTING) : r.u32() & 0xff;
        ops.push(`set${n}`);
        break;
      }
      case 2: { // truncation (often near the start or the end)
        const len = r.chance(0.5) ? r.int(Math.min(b.length, 64)) : b.length - 1 - r.int(Math.min(b.length, 64));
        b = b.slice(0, Math.max(0, len));
        ops.push(`trunc${b.length}`);
        break;
      }
      case 3: { // insert a range (random or a copy of a piece of itself)
        const p = at();
        const n = span();
        const ins = r.chance(0.5) ? r.bytes(n) : b.slice(r.int(b.length), r.int(b.length) + n);
        splice(p, 0, ins);
        ops.push(`ins${p}+${ins.length}`);
        break;
      }
      case 4: { // delete a range
        const p = r.int(b.length);
        const n = Math.min(span(), b.length - p);
        splice(p, n, new Uint8Array(0));
        ops.push(`del${p}-${n}`);
        break;
      }
      case 5: { // splice with another corpus file (any kind)
        const other = r.pick([...corpus.snap, ...corpus.db, ...corpus.wire]).bytes;
        const p = at();
        const q = r.int(other.length);
        const n = Math.min(span() * (r.chance(0.2) ? 64 : 1), other.length - q);
        splice(p, r.chance(0.5) ? b.length - p : 0, other.subarray(q, q + n));
        ops.push(`splice${p}:${q}+${n}`);
        break;
      }
      case 6: { // length-prefix blowup: a huge varint after a length-delimited protobuf tag
        const tags = [];
        for (let i = 0; i < b.length && tags.length < 4096; i++) if ((b[i] & 7) === 2 && b[i] >= 0x0a && b[i] < 0x80) tags.push(i);
        const p = tags.length ? r.pick(tags) + 1 : at();
        const v = r.pick(HUGE_VARINTS);
        let old = 0; // the varint being replaced
        while (p + old < b.length && old < 10 && b[p + old] & 0x80) old++;
        splice(Math.min(p, b.length), Math.min(old + 1, b.length - Math.min(p, b.length)), Uint8Array.from(v));
        ops.push(`varint@${p}`);
        break;
      }
      case 7: { // big-endian u64 length (the wire envelope) or a db page header field blown up
        const p = kind === 'wire' ? r.pick([0, 0, r.int(b.length)]) : kind === 'db' ? 4096 * r.int(Math.ceil(b.length / 4096)) + r.pick([8, 10, 12, 16, 24, 32]) : r.int(b.length);
        const width = r.pick([2, 4, 8]);
        for (let i = 0; i < width && p + i < b.length; i++) b[p + i] = r.chance(0.7) ? 0xff : r.u32() & 0xff;
        ops.push(`max${width}@${p}`);
        break;
      }
      default: { // duplicate a block (db pages, repeated protobuf fields)
        const p = r.int(b.length);
        const n = Math.min(kind === 'db' ? 4096 : span(), b.length - p);
        splice(p, 0, b.slice(p, p + n));
        ops.push(`dup${p}+${n}`);
      }
    }
  }
  return { bytes: b, ops };
}

// --- one case ---------------------------------------------------------------------------------
const SNAP_NAME = '0000000000000003-0000000000000200.snap';
const DB_NAME = '0000000000000200.snap.db';
const OLDER_GOOD = '0000000000000002-0000000000000134.snap';

/** What a case runs: its input, the folder each CLI gets, the arguments (cwd-relative). */
function makeCase(seed, n) {
  const r = rng(seed, n);
  const kind = r.pick(['snap', 'snap', 'snap', 'db', 'db', 'wire']);
  const base = r.pick(corpus[kind]);
  const { bytes, ops } = mutate(r, base.bytes, kind);
  // Now and then an input goes to another kind's commands (a db to `read`, a .snap to `unframe`).
  const cmdKind = r.chance(0.1) ? r.pick(['snap', 'db', 'wire']) : kind;
  const files = {}; // workspace-relative path -> bytes
  let args;
  if (cmdKind === 'snap') {
    files[`snap/${SNAP_NAME}`] = bytes;
    if (r.chance(0.5)) files[`snap/${OLDER_GOOD}`] = fs.readFileSync(path.join(single, OLDER_GOOD));
    args = r.pick([['read', `snap/${SNAP_NAME}`], ['ls', 'snap', '-w', 'json'], ['ls', 'snap'], ['load', 'snap'],
      ['load', 'snap', '--wal-snaps', '2:308,3:512']]);
  } else if (cmdKind === 'db') {
    files['in.db'] = bytes;
    files[`snap/${DB_NAME}`] = bytes;
    const keys = ['keys', 'in.db'];
    if (r.chance(0.4)) keys.push('--limit', String(r.pick([1, 3, 50])));
    if (r.chance(0.3)) keys.push('--prefix', r.pick(['/', 'k', '\u00e9', 'foo']));
    if (r.chance(0.3)) keys.push('--rev', String(r.pick([0, 1, 2, 100, 5565, 99999])));
    if (r.chance(0.2)) keys.push('-w', 'table');
    if (r.chance(0.2)) keys.push('--skip-hash-check');
    args = r.pick([['status', 'in.db'], ['status', 'in.db', '-w', 'table'], ['status', 'in.db', '--skip-hash-check'], keys, keys, ['ls', 'snap', '-w', 'json']]);
  } else {
    files['body.bin'] = bytes;
    args = r.pick([['unframe', 'body.bin', 'out'], ['unframe', 'body.bin', 'out'], ['unframe', 'body.bin', 'out', '--limit', String(r.pick([16, 4096, 1 << 20]))], ['unframe', '-', 'out']]);
  }
  return { n, kind: cmdKind === kind ? kind : `${kind} (as ${cmdKind})`, base: base.name, ops, bytes, files, args, stdin: args[1] === '-' ? bytes : null };
}

function listing(dir, rel = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(`${p}/`, ...listing(dir, p));
    else out.push(`${p} ${fs.statSync(path.join(dir, p)).size}`);
  }
  return out;
}

/** Runs one CLI in a fresh workspace; resolves to what a user sees and what is left. */
function runCli(label, cmd, pre, c) {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `etcd-snap-fuzz-${label}-`));
  for (const [rel, b] of Object.entries(c.files)) {
    fs.mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    fs.writeFileSync(path.join(ws, rel), b);
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, [...pre, ...c.args], { cwd: ws, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const out = []; const err = []; let outLen = 0; const rss = [];
    child.stdio[3].on('data', (d) => rss.push(d));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, RUN_TIMEOUT_MS);
    // Bounded capture: more than 16 MiB of output from a <1 MiB input is itself a failure.
    child.stdout.on('data', (d) => { outLen += d.length; if (outLen < 16 << 20) out.push(d); else child.kill('SIGKILL'); });
    child.stderr.on('data', (d) => err.push(d));
    child.stdin.on('error', () => {});
    child.stdin.end(c.stdin ?? undefined);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const norm = (s) => s.replaceAll(ws, '{W}');
      const maxRssKiB = rss.length ? Number(Buffer.concat(rss).toString()) : null;
      const res = { label, status, signal, timedOut, maxRssKiB, stdout: norm(Buffer.concat(out).toString('latin1')), stderr: norm(Buffer.concat(err).toString('latin1')), after: listing(ws), ws };
      resolve(res);
    });
  });
}

const ERR_CODE = /^ERR_[A-Z0-9_]+$/;
/** stderr of a failed run without the `caused by:` lines before etcd's message. */
function errorText(stderr) {
  const lines = stderr.replace(/\n$/, '').split('\n');
  let i = 0;
  while (i < lines.length - 1 && lines[i].startsWith('caused by: ')) i++;
  return lines.slice(i).join('\n');
}

/** Problems a user of one CLI would see, whatever the other one does. */
function cliProblems(x) {
  const p = [];
  if (x.timedOut) p.push(`${x.label}: no answer within ${RUN_TIMEOUT_MS} ms (hang)`);
  else if (x.signal) p.push(`${x.label}: killed by ${x.signal}`);
  else if (x.status !== 0 && x.status !== 1) p.push(`${x.label}: exit status ${x.status}`);
  if (/panicked|RuntimeError|unreachable|wasm-function|\n\s+at /.test(x.stderr)) p.push(`${x.label}: panic/trap text on stderr`);
  if (x.status === 1) {
    const text = errorText(x.stderr);
    if (!text) p.push(`${x.label}: exit 1 with an empty error line`);
    // One line, except etcdctl's own multi-line integrity report (clientv3/snapshot/v3_snapshot.go:185).
    else if (text.includes('\n') && !/^snapshot file integrity check failed\. \d+ errors found\.\n/.test(text)) p.push(`${x.label}: error is not one line after "caused by:" lines`);
  }
  if (x.maxRssKiB !== null && x.maxRssKiB * 1024 > NPM_RSS_LIMIT) p.push(`${x.label}: peak RSS ${x.maxRssKiB >> 10} MiB`);
  // A success may only warn: damage bbolt reads deterministically is read as etcdctl reads it,
  // with `warning: ...` lines (docs/inspect.md; issue 9, item 10).
  if (x.status === 0 && x.stderr.split('\n').some((l) => l !== '' && !l.startsWith('warning: '))) p.push(`${x.label}: exit 0 with stderr output other than warning lines`);
  return p;
}

/** The `ls -w json` contract: every error verdict comes with a stable code. */
function lsProblems(x) {
  if (x.status !== 0) return [];
  let rows;
  try { rows = JSON.parse(x.stdout); } catch { return [`${x.label}: ls -w json printed no JSON`]; }
  return rows.filter((e) => e.verdict != null && e.verdict !== 'ok' && !ERR_CODE.test(e.code ?? '')).map((e) => `${x.label}: ls verdict ${JSON.stringify(e.verdict)} without a code`);
}

/** The JS API on the same input, in this process; compared with the native CLI's result. */
async function apiProblems(c, native) {
  const p = [];
  const expectErr = native.status === 1 ? errorText(native.stderr) : null;
  // The CLIs' output is compared as bytes (read as latin1); the API's strings are UTF-16, so
  // they are compared through their UTF-8 bytes the same way.
  const bytes = (s) => Buffer.from(s, 'utf8').toString('latin1');
  const check = (what, got, wantOut) => {
    if (got.error !== undefined) {
      const e = got.error;
      if (!(e instanceof Error) || e instanceof WebAssembly.RuntimeError) p.push(`api ${what}: threw a non-Error or a wasm trap: ${e}`);
      else if (!ERR_CODE.test(e.code ?? '')) p.push(`api ${what}: error without a stable code: ${e.message}`);
      else if (expectErr !== null && bytes(e.message) !== expectErr) p.push(`api ${what}: message ${JSON.stringify(e.message)}, CLI ${JSON.stringify(expectErr)}`);
      else if (expectErr === null) p.push(`api ${what}: threw ${e.code} ${e.message}; the CLI succeeded`);
    } else if (expectErr !== null) {
      p.push(`api ${what}: succeeded; the CLI failed with ${JSON.stringify(expectErr)}`);
    } else if (wantOut !== undefined && bytes(got.value) !== wantOut) {
      p.push(`api ${what}: result differs from the CLI's stdout`);
    }
  };
  const attempt = async (f) => { try { return { value: await f() }; } catch (error) { return { error }; } };
  const [cmd] = c.args;
  if (cmd === 'read') {
    check('decodeSnap', await attempt(() => snap.snapshotSummaryJson(snap.decodeSnap(c.bytes)) + '\n'), native.stdout);
  } else if (cmd === 'status' || cmd === 'keys') {
    const opts = { writeOut: c.args.includes('table') ? 'table' : 'json', verifyTrailer: !c.args.includes('--skip-hash-check') };
    const val = (k) => (c.args.includes(k) ? c.args[c.args.indexOf(k) + 1] : undefined);
    const withNl = (s) => (s.endsWith('\n') ? s : `${s}\n`);
    if (cmd === 'status') check('etcdctlStatus', await attempt(() => withNl(snap.etcdctlStatus(c.bytes, opts))), native.stdout);
    else {
      Object.assign(opts, { prefix: val('--prefix') ?? '', rev: BigInt(val('--rev') ?? 0), limit: BigInt(val('--limit') ?? 0) });
      check('etcdctlKeys', await attempt(() => withNl(snap.etcdctlKeys(c.bytes, opts))), native.stdout);
    }
    // The viewer's object API on the same bytes: typed errors only, never a trap.
    const db = await attempt(() => snap.InspectDb.open(c.bytes, { verifyTrailer: opts.verifyTrailer }));
    if (db.error !== undefined) check('InspectDb.open', db, undefined);
    else {
      for (const m of ['layout', 'check', 'buckets', 'clusterInfo', 'status', 'index']) {
        const got = await attempt(() => db.value[m]());
        if (got.error !== undefined && (!(got.error instanceof Error) || got.error instanceof WebAssembly.RuntimeError || !ERR_CODE.test(got.error.code ?? ''))) {
          p.push(`api InspectDb.${m}: untyped error or trap: ${got.error}`);
        }
      }
      db.value.free();
    }
  } else if (cmd === 'load' || cmd === 'ls') {
    // The Snapshotter on a copy of the same folder: load as the CLI's (same summary or message,
    // same folder afterwards); list's verdicts all coded.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-fuzz-api-'));
    try {
      const folder = path.join(dir, 'snap');
      fs.mkdirSync(folder);
      for (const [rel, b] of Object.entries(c.files)) if (rel.startsWith('snap/')) fs.writeFileSync(path.join(dir, rel), b);
      if (cmd === 'load') {
        const wal = c.args.includes('--wal-snaps') ? [{ term: 2n, index: 308n }, { term: 3n, index: 512n }] : null;
        const got = await attempt(async () => {
          const s = await snap.Snapshotter.open({ node: folder });
          try { return snap.snapshotSummaryJson(wal ? await s.loadNewestAvailable(wal) : await s.load()) + '\n'; } finally { s.close(); }
        });
        check(wal ? 'loadNewestAvailable' : 'load', got, native.stdout);
        const after = listing(dir).filter((l) => l.startsWith('snap'));
        const want = native.after.filter((l) => l.startsWith('snap'));
        if (JSON.stringify(after) !== JSON.stringify(want)) p.push(`api load: folder afterwards ${after}, CLI ${want}`);
      } else {
        const got = await attempt(async () => {
          const s = await snap.Snapshotter.open({ node: folder }, { lock: 'none', cleanTmpOnOpen: false, maxBroken: null });
          try { return await s.list(); } finally { s.close(); }
        });
        if (got.error !== undefined) check('list', got, undefined);
        else for (const f of got.value) if (f.verdict !== null && f.verdict !== 'ok' && !ERR_CODE.test(f.code ?? '')) p.push(`api list: ${f.name} verdict ${f.verdict} without a code`);
      }
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  } else if (cmd === 'unframe') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-snap-fuzz-api-'));
    try {
      fs.mkdirSync(path.join(dir, 'out')); // the CLI creates its folder; the API wants one
      const s = await snap.Snapshotter.open({ node: path.join(dir, 'out') });
      try {
        const limit = c.args.includes('--limit') ? BigInt(c.args[c.args.indexOf('--limit') + 1]) : undefined;
        async function* body() { yield c.bytes; }
        const got = await attempt(async () => (await snap.unframeSnapshot(s, body(), { limit })).replaceAll(dir, '{W}') + '\n');
        // The CLI names its folder `out` relative to its workspace; the API gets an absolute one.
        check('unframeSnapshot', got, native.status === 0 ? native.stdout.replaceAll('"out/', '"{W}/out/') : undefined);
      } finally { s.close(); }
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  }
  return p;
}

async function runCase(c) {
  const [native, npm] = await Promise.all([
    runCli('native', 'prlimit', [`--as=${NATIVE_AS_BYTES}`, '--', nativeBin], c),
    runCli('npm', process.execPath, ['--require', rssProbe, nodeCli], c),
  ]);
  try {
    const problems = [...cliProblems(native), ...cliProblems(npm)];
    if (!problems.length) {
      for (const k of ['status', 'stdout', 'stderr']) if (native[k] !== npm[k]) problems.push(`native and npm differ in ${k}: ${JSON.stringify(native[k]).slice(0, 300)} vs ${JSON.stringify(npm[k]).slice(0, 300)}`);
      if (JSON.stringify(native.after) !== JSON.stringify(npm.after)) problems.push(`folders differ afterwards: ${native.after} vs ${npm.after}`);
    }
    if (c.args[0] === 'ls' && c.args.includes('json')) problems.push(...lsProblems(native), ...lsProblems(npm));
    if (!problems.length) problems.push(...await apiProblems(c, native));
    const rss = process.memoryUsage().rss;
    if (rss > API_RSS_LIMIT) problems.push(`this process (JS API) grew to ${rss >> 20} MiB`);
    return { problems, native };
  } finally {
    fs.rmSync(native.ws, { recursive: true, force: true });
    fs.rmSync(npm.ws, { recursive: true, force: true });
  }
}

test(`mutation fuzz: .snap, db and wire inputs through both CLIs and the JS API (FUZZ_SEED=${SEED})`, async (t) => {
  for (const x of ['native', 'npm']) assert.ok(fs.existsSync(x === 'native' ? nativeBin : nodeCli), `${x} CLI missing (make test-fuzz builds both)`);
  corpus.wire.push({ name: 'framed follower db', bytes: framedFollowerBody() });
  const deadline = Date.now() + SECONDS * 1000;
  const stats = { cases: 0, ok: 0, failed: 0, byCmd: {} };
  const failures = [];
  for (let n = ONLY ?? 0; ONLY === null ? Date.now() < deadline : n === ONLY; n++) {
    const c = makeCase(SEED, n);
    const { problems, native } = await runCase(c);
    stats.cases++;
    stats[native.status === 0 ? 'ok' : 'failed']++;
    stats.byCmd[c.args[0]] = (stats.byCmd[c.args[0]] ?? 0) + 1;
    if (problems.length) {
      fs.mkdirSync(failDir, { recursive: true });
      const saved = path.join(failDir, `${SEED}-${n}.bin`);
      fs.writeFileSync(saved, c.bytes);
      failures.push(`FUZZ_SEED=${SEED} FUZZ_CASE=${n}: etcd-snap ${c.args.join(' ')} on ${c.kind} from ${c.base} [${c.ops.join(' ')}] (input: ${saved})\n  ${problems.join('\n  ')}`);
      if (failures.length >= 5) break;
    }
  }
  t.diagnostic(`fuzz: FUZZ_SEED=${SEED}: ${stats.cases} inputs (${stats.ok} accepted, ${stats.failed} refused) ${JSON.stringify(stats.byCmd)}`);
  assert.ok(stats.cases > 0, 'no case ran');
  assert.equal(failures.length, 0, `fuzz failures (reproduce one with FUZZ_SEED=${SEED} FUZZ_CASE=<n> make test-fuzz):\n${failures.join('\n')}`);
});
