#!/usr/bin/env node
'use strict';
// etcd-snap (npm): the native CLI's `snap` subcommands over the wasm build, with the same
// arguments and the same JSON, so either can be checked against the other:
//   read FILE | load DIR [--wal-snaps T:I,...] | save DIR TERM INDEX DATAFILE [--voters ..] [--learners ..]
//   savedb DIR INDEX SRC|- | release DIR INDEX | ls DIR [-w table|json]
// plus the wire commands (cli_wire.cjs) and status / keys (cli_inspect.cjs).
// Results: one JSON document on stdout. Failure: exit 1, etcd's message as the last stderr
// line (causes before it). Usage error: exit 2. `savedb` shows a progress bar on stderr when
// it is a terminal and the copy is long (stdin, or a file of 64 MiB or more).
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const snap = require('./node.cjs');
const wire = require('./cli_wire.cjs');
const inspect = require('./cli_inspect.cjs');

const USAGE = `etcd-snap: etcd's Raft snapshot storage (the snap package), byte-compatible with etcd 3.4-3.6

Usage: etcd-snap <COMMAND>

Commands:
  read FILE                                 decode one .snap file (etcd snap.Read), print its summary
  load DIR [--wal-snaps T:I,...]            load the newest readable snapshot (Load / LoadNewestAvailable)
  save DIR TERM INDEX DATAFILE [--voters IDS] [--learners IDS]
                                            write a snapshot (SaveSnap); DATAFILE "-" leaves Data nil
  savedb DIR INDEX SRC                      stream a db into %016x.snap.db (SaveDBFrom); SRC "-" is stdin
  release DIR INDEX                         remove .snap.db files below INDEX (ReleaseSnapDBs)
  ls DIR [-w table|json]                    list every entry with kind, term, index, size, verdict
  (load, save, savedb, release: --break-lock takes over a lock whose holder cannot be checked from this host)
${wire.USAGE}${inspect.USAGE}`;

class UsageError extends Error {}

const U64_MAX = (1n << 64n) - 1n;
function u64(s, what) {
  if (typeof s !== 'string' || !/^\+?[0-9]+$/.test(s)) throw new UsageError(`invalid value '${s}' for '${what}': invalid digit found in string`);
  const v = BigInt(s.replace(/^\+/, ''));
  if (v > U64_MAX) throw new UsageError(`invalid value '${s}' for '${what}': number too large to fit in target type`);
  return v;
}
function u64List(s, what) {
  if (s === undefined) return [];
  return String(s).split(',').map((x) => u64(x, what));
}

// JSON with bigints as plain numbers (JSON.stringify cannot print them).
function toJson(v) {
  const marks = [];
  const text = JSON.stringify(v, (_k, x) => {
    if (typeof x === 'bigint') { marks.push(x.toString()); return `\u0000big${marks.length - 1}\u0000`; }
    return x;
  });
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i) => marks[Number(i)]);
}
function printJson(v) { process.stdout.write(toJson(v) + '\n'); }

const READ_ONLY = { lock: 'none', cleanTmpOnOpen: false, maxBroken: null };

async function withSnapshotter(dir, options, fn) {
  const s = await snap.Snapshotter.open({ node: dir }, options);
  try { return await fn(s); } finally { s.close(); }
}

const GO_TEXT = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory', EPERM: 'operation not permitted' };
function fsError(op, p, e) {
  const err = new Error(`${op} ${p}: ${GO_TEXT[e.code] || e.message}`);
  err.code = e.code === 'ENOENT' ? 'ERR_NOT_FOUND' : 'ERR_IO';
  return err;
}

function byteCmp(a, b) { return Buffer.compare(Buffer.from(a), Buffer.from(b)); }

async function cmdRead(file) {
  const name = path.basename(file);
  if (!name || name === '.' || name === '..') throw new Error(`not a file name: ${file}`);
  const dir = path.dirname(file);
  await withSnapshotter(dir, READ_ONLY, async (s) => {
    process.stdout.write(snap.snapshotSummaryJson(await s.read(name)) + '\n');
  });
}

async function cmdLoad(dir, walSnaps, lockOpts) {
  let wal;
  if (walSnaps !== undefined) {
    wal = [];
    for (const item of walSnaps.split(',').map((x) => x.trim()).filter(Boolean)) {
      const i = item.indexOf(':');
      if (i < 0) throw new UsageError(`invalid value '${walSnaps}' for '--wal-snaps <TERM:INDEX,...>': \`${item}\` is not TERM:INDEX`);
      wal.push({ term: u64(item.slice(0, i), '--wal-snaps'), index: u64(item.slice(i + 1), '--wal-snaps') });
    }
  }
  await withSnapshotter(dir, lockOpts, async (s) => {
    const got = wal === undefined ? await s.load() : await s.loadNewestAvailable(wal);
    process.stdout.write(snap.snapshotSummaryJson(got) + '\n');
  });
}

async function cmdSave(dir, term, index, datafile, voters, learners, lockOpts) {
  let data = null;
  if (datafile !== '-') {
    try { data = fs.readFileSync(datafile); } catch (e) { throw fsError('open', datafile, e); }
  }
  const snapshot = { term, index, confState: { voters, learners }, data: data && new Uint8Array(data.buffer, data.byteOffset, data.length) };
  await withSnapshotter(dir, lockOpts, async (s) => {
    await s.saveSnap(snapshot);
    if (index === 0n) return printJson({ path: null, bytes: 0 });
    const p = s.pathOf(snap.snapName(term, index));
    printJson({ path: p, bytes: fs.statSync(p).size });
  });
}

function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0; let x = n;
  while (x >= 1024 && i < u.length - 1) { x /= 1024; i++; }
  return `${x.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** Wraps a byte source, drawing a progress bar on stderr (a TTY) at most 10 times a second. */
async function* withProgress(source, total) {
  const start = Date.now(); let done = 0; let last = 0;
  const draw = (final) => {
    const secs = Math.max((Date.now() - start) / 1000, 0.001);
    const rate = `${fmtBytes(done / secs)}/s`;
    let line;
    if (total) {
      const frac = Math.min(done / total, 1); const width = 30; const full = Math.round(frac * width);
      line = `[${'#'.repeat(full)}${' '.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${fmtBytes(done)}/${fmtBytes(total)} ${rate}`;
    } else {
      line = `${fmtBytes(done)} ${rate}`;
    }
    process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
  };
  try {
    for await (const chunk of source) {
      done += chunk.length;
      const now = Date.now();
      if (now - last >= 100) { last = now; draw(false); }
      yield chunk;
    }
  } finally { draw(true); }
}

async function cmdSavedb(dir, index, src, lockOpts) {
  let source; let total = 0;
  if (src === '-') {
    source = process.stdin;
  } else {
    let fd;
    try { fd = fs.openSync(src, 'r'); } catch (e) { throw fsError('open', src, e); }
    total = fs.fstatSync(fd).size;
    source = fs.createReadStream(null, { fd, highWaterMark: 1 << 20 });
  }
  const long = src === '-' || total >= 64 * 1024 * 1024;
  if (process.stderr.isTTY && long) source = withProgress(source, total);
  await withSnapshotter(dir, lockOpts, async (s) => {
    const bytes = await s.saveDbFrom(source, index);
    const p = await s.dbFilePath(index);
    printJson({ bytes, path: p });
  });
}

async function cmdRelease(dir, index, lockOpts) {
  await withSnapshotter(dir, lockOpts, async (s) => {
    const dbs = async () => (await s.list()).filter((f) => f.kind === 'db').map((f) => f.name);
    const before = await dbs();
    await s.releaseSnapDbs({ index });
    const after = new Set(await dbs());
    printJson({ removed: before.filter((n) => !after.has(n)).sort(byteCmp) });
  });
}

// `ls` rows as the native CLI prints them (src/bin/etcd-snap/snap_cmds.rs `row`/`line`).
const HEADER = ['NAME', 'KIND', 'TERM', 'INDEX', 'SIZE', 'VERDICT'];
const strLen = (s) => [...s].length;
function row(e) {
  const opt = (v) => (v === null ? '-' : String(v));
  return [e.name, e.dir ? `${e.kind} (dir)` : e.kind, opt(e.term), opt(e.index), String(e.size), e.verdict ?? '-'];
}
/** Widths of the padded columns (all but the verdict, which is last and unpadded). */
function widths(rows) {
  const w = [0, 0, 0, 0, 0];
  for (const r of [HEADER, ...rows]) for (let i = 0; i < 5; i++) w[i] = Math.max(w[i], strLen(r[i]));
  return w;
}
function line(r, w) {
  return (r.slice(0, 5).map((c, i) => c + ' '.repeat(w[i] - strLen(c)) + '  ').join('') + r[5]).trimEnd() + '\n';
}

/** As the native CLI: can bbolt's meta pages be opened (a few pages, never the whole file)? */
function dbVerdict(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const source = {
      size,
      read(offset, length) {
        const b = Buffer.alloc(length);
        const n = fs.readSync(fd, b, 0, length, offset);
        return new Uint8Array(b.buffer, b.byteOffset, n);
      },
    };
    snap.InspectDb.open(source, { verifyTrailer: false }).free();
    return { verdict: 'ok', code: null };
  } catch (e) {
    return { verdict: e.message, code: e.code ?? null };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// Each row is printed as soon as its entry is judged (process.stdout is synchronous on
// Linux for files, pipes and terminals); every .snap is verified in bounded memory.
async function cmdLs(dir, format) {
  await withSnapshotter(dir, READ_ONLY, async (s) => {
    const rawName = new Map(); // printed entry -> the name storage calls take (lossless)
    const entries = (await s.listEntries()).map((f) => {
      const e = { name: f.displayName, kind: f.kind, term: f.term, index: f.index, size: f.size, dir: f.isDir, verdict: f.verdict, code: f.code };
      rawName.set(e, f.name);
      return e;
    });
    entries.sort((a, b) => byteCmp(a.name, b.name));
    const w = format === 'json' ? null : widths(entries.map(row));
    process.stdout.write(w ? line(HEADER, w) : '[');
    let first = true;
    for (const e of entries) {
      if (e.kind === 'snap') {
        try { await s.verify(rawName.get(e)); Object.assign(e, { verdict: 'ok', code: null }); } catch (err) {
          if (typeof err?.code !== 'string' || !err.code.startsWith('ERR_')) throw err;
          Object.assign(e, { verdict: err.message, code: err.code });
        }
      } else if (e.kind === 'db' && !e.dir) {
        Object.assign(e, dbVerdict(path.join(dir, e.name)));
      }
      process.stdout.write(w ? line(row(e), w) : `${first ? '' : ','}${toJson(e)}`);
      first = false;
    }
    if (!w) process.stdout.write(']\n');
  });
}

function parse(argv) {
  const [cmd, ...rest] = argv;
  const options = {
    'wal-snaps': { type: 'string' }, voters: { type: 'string' }, learners: { type: 'string' },
    'write-out': { type: 'string', short: 'w' }, 'break-lock': { type: 'boolean' },
    ...wire.OPTIONS,
    ...inspect.OPTIONS,
  };
  const { values, positionals, tokens } = parseArgs({ args: rest, options, allowPositionals: true, strict: true, tokens: true });
  const need = (n, names) => {
    if (positionals.length !== n) throw new UsageError(`${cmd}: expected ${names}`);
  };
  const allow = (ok) => {
    for (const k of Object.keys(values)) if (!ok.includes(k)) throw new UsageError(`unexpected argument '--${k}' found`);
  };
  // The writing subcommands' --break-lock (the native LockArgs).
  const lockOpts = values['break-lock'] ? { breakLock: true } : {};
  switch (cmd) {
    case 'read': allow([]); need(1, 'FILE'); return () => cmdRead(positionals[0]);
    case 'load': allow(['wal-snaps', 'break-lock']); need(1, 'DIR'); return () => cmdLoad(positionals[0], values['wal-snaps'], lockOpts);
    case 'save': {
      allow(['voters', 'learners', 'break-lock']); need(4, 'DIR TERM INDEX DATAFILE');
      const [dir, t, i, datafile] = positionals;
      const term = u64(t, '<TERM>'); const index = u64(i, '<INDEX>');
      const voters = u64List(values.voters, '--voters'); const learners = u64List(values.learners, '--learners');
      return () => cmdSave(dir, term, index, datafile, voters, learners, lockOpts);
    }
    case 'savedb': {
      allow(['break-lock']); need(3, 'DIR INDEX SRC');
      const index = u64(positionals[1], '<INDEX>');
      return () => cmdSavedb(positionals[0], index, positionals[2], lockOpts);
    }
    case 'release': {
      allow(['break-lock']); need(2, 'DIR INDEX');
      const index = u64(positionals[1], '<INDEX>');
      return () => cmdRelease(positionals[0], index, lockOpts);
    }
    case 'ls': {
      allow(['write-out']); need(1, 'DIR');
      const w = values['write-out'] ?? 'table';
      if (w !== 'table' && w !== 'json') throw new UsageError(`invalid value '${w}' for '--write-out <WRITE_OUT>'`);
      return () => cmdLs(positionals[0], w);
    }
    default: {
      const helpers = { u64, u64List, UsageError, fsError, printJson, withSnapshotter, snap, tokens };
      const job = wire.parse(cmd, values, positionals, helpers) ?? inspect.parse(cmd, values, positionals, helpers);
      if (job) return job;
      throw new UsageError(cmd === undefined ? 'missing subcommand' : `unrecognized subcommand '${cmd}'`);
    }
  }
}

function report(e) {
  const causes = [];
  for (let c = e && e.cause; c; c = c.cause) causes.push(c.message ?? String(c));
  for (const c of causes.reverse()) process.stderr.write(`caused by: ${c}\n`);
  process.stderr.write(`${e && e.message !== undefined ? e.message : String(e)}\n`);
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') { process.stdout.write(USAGE); return 0; }
  if (argv[0] === '--version' || argv[0] === '-V') { process.stdout.write(`etcd-snap ${snap.version()}\n`); return 0; }
  let job;
  try { job = parse(argv); } catch (e) {
    process.stderr.write(`error: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  try { await job(); return 0; } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    report(e);
    return 1;
  }
}

main().then((code) => { process.exitCode = code; });
