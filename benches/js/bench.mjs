#!/usr/bin/env node
// JS-side benchmarks of the npm package (`make bench-js`; needs pkg/ and the release native
// binary). Prints one table; each row compares two things measured side by side, best of N.
//   1. CRC-32C throughput: wasm crc32c() vs pure-JS crc-32 (crc-32/crc32c) and @node-rs/crc32
//   2. Read + summarise a 64 MiB .snap: wasm (Node fs backend) vs the native binary
//   3. saveDbFrom of 1 GiB via the Node fs backend vs stream.pipeline into
//      fs.createWriteStream + fsync (the raw Node baseline)
// BENCH_DIR picks the scratch folder (default: os.tmpdir()); BENCH_DB_MIB the db size (1024).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'tests/js/package.json'));
const snap = require(path.join(root, 'pkg/node.cjs'));
const CRC32C_JS = require('crc-32/crc32c');
const nodeRs = require('@node-rs/crc32');
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/release/etcd-snap');
const MiB = 1 << 20;
const scratch = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'etcd-snap-bench-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

const now = () => Number(process.hrtime.bigint()) / 1e9;
function best(n, f) {
  let t = Infinity; let out;
  for (let i = 0; i < n; i++) { const t0 = now(); out = f(); t = Math.min(t, now() - t0); }
  return { t, out };
}
async function bestAsync(n, f) {
  let t = Infinity;
  for (let i = 0; i < n; i++) { const t0 = now(); await f(i); t = Math.min(t, now() - t0); }
  return t;
}
const mbps = (bytes, secs) => bytes / MiB / secs;
const rows = [];
const row = (what, ours, peer, peerName, target) => rows.push([what, ours, peer, peerName, target]);

// 1. CRC-32C, 64 MiB buffer.
{
  const buf = Buffer.allocUnsafe(64 * MiB);
  for (let i = 0; i < buf.length; i += 4) buf.writeUInt32LE((Math.imul(i, 2654435761) >>> 0), i);
  const w = best(5, () => snap.crc32c(buf));
  const j = best(5, () => CRC32C_JS.buf(buf) >>> 0);
  const r = best(5, () => nodeRs.crc32c(buf));
  if (w.out !== j.out || w.out !== r.out) throw new Error(`CRC disagreement: ${w.out} ${j.out} ${r.out}`);
  row('CRC-32C 64 MiB (MiB/s)', mbps(buf.length, w.t), mbps(buf.length, j.t), 'crc-32 (pure JS)', '>= 2x');
  row('CRC-32C 64 MiB (MiB/s)', mbps(buf.length, w.t), mbps(buf.length, r.t), '@node-rs/crc32 (native)', '-');
}

// 2. A 64 MiB .snap: read + decode + CRC + summary (sha256) in wasm vs the native CLI.
{
  const dir = path.join(scratch, 'snap64');
  fs.mkdirSync(dir);
  const data = Buffer.allocUnsafe(64 * MiB);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((Math.imul(i, 2246822519) >>> 0), i);
  const name = snap.snapName(2n, 100n);
  fs.writeFileSync(path.join(dir, name), snap.encodeSnap({ term: 2n, index: 100n, confState: { voters: [1n] }, data }));
  const s = await snap.Snapshotter.open({ node: dir }, { lock: 'none', cleanTmpOnOpen: false });
  let json;
  const tw = await bestAsync(5, async () => { json = snap.snapshotSummaryJson(await s.read(name)); });
  const td = best(5, () => snap.decodeSnap(fs.readFileSync(path.join(dir, name)))).t;
  s.close();
  let nativeJson;
  const tn = best(5, () => {
    const r = spawnSync(nativeBin, ['read', path.join(dir, name)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`native read failed: ${r.stderr}`);
    nativeJson = r.stdout.trim();
  }).t;
  if (json !== nativeJson) throw new Error(`summaries differ:\n${json}\n${nativeJson}`);
  row('read+summarise 64 MiB .snap (MiB/s)', mbps(64 * MiB, tw), mbps(64 * MiB, tn), 'native etcd-snap read (incl. process start)', '-');
  row('decodeSnap 64 MiB (readFileSync + decode) (MiB/s)', mbps(64 * MiB, td), mbps(64 * MiB, tn), 'native etcd-snap read (incl. process start)', '-');
  // Cold, as a user runs it: a fresh `npx etcd-snap read` process per run, alternating with a
  // fresh native one (median of 5 each, seconds; the wasm is compiled anew every time).
  const cold = (cmd, args) => {
    const ts = [];
    for (let i = 0; i < 5; i++) {
      const t0 = now();
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      ts.push(now() - t0);
      if (r.status !== 0) throw new Error(`${cmd} read failed: ${r.stderr}`);
      if (r.stdout.trim() !== nativeJson) throw new Error(`cold summary differs: ${r.stdout}`);
    }
    return ts.sort((a, b) => a - b)[2];
  };
  const file = path.join(dir, name);
  const tcn = cold(process.execPath, [path.join(root, 'pkg/cli.cjs'), 'read', file]);
  const tcr = cold(nativeBin, ['read', file]);
  row('cold npm CLI read 64 MiB .snap (s, median)', tcn, tcr, 'native etcd-snap read, fresh process', '<= 0.5x Go snap.Read');
}

// 3. saveDbFrom 1 GiB vs stream.pipeline + fsync.
{
  const mib = Number(process.env.BENCH_DB_MIB || 1024);
  const gen = async function* () { for (let i = 0; i < mib; i++) { const b = Buffer.allocUnsafe(MiB); b.fill(i & 255); yield b; } };
  const dir = path.join(scratch, 'db');
  fs.mkdirSync(dir);
  const s = await snap.Snapshotter.open({ node: dir });
  const raw = path.join(scratch, 'raw.db');
  let tOurs = Infinity; let tRaw = Infinity;
  for (let round = 0; round < 5; round++) {
    // Interleave the two, so disk state and page cache pressure affect both alike.
    fs.rmSync(raw, { force: true });
    let t0 = now();
    const ws = fs.createWriteStream(raw, { highWaterMark: MiB });
    await pipeline(gen(), ws);
    const fd = fs.openSync(raw, 'r+'); fs.fsyncSync(fd); fs.closeSync(fd);
    tRaw = Math.min(tRaw, now() - t0);
    t0 = now();
    const n = await s.saveDbFrom(gen(), BigInt(round + 1));
    tOurs = Math.min(tOurs, now() - t0);
    if (n !== BigInt(mib * MiB)) throw new Error('short saveDbFrom');
    fs.rmSync(path.join(dir, snap.dbName(BigInt(round + 1))));
  }
  s.close();
  row(`saveDbFrom ${mib} MiB, Node fs (MiB/s)`, mbps(mib * MiB, tOurs), mbps(mib * MiB, tRaw), 'stream.pipeline -> createWriteStream + fsync', '>= 0.9x');
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
const header = ['benchmark', 'etcd-snap wasm', 'peer', 'peer is', 'ratio', 'target'];
const table = [header, ...rows.map(([w, o, p, pn, tg]) => [w, fmt(o), fmt(p), pn, `${(o / p).toFixed(2)}x`, tg])];
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
console.log(`etcd-snap ${snap.version()} on Node ${process.version}, ${os.cpus().length} CPU(s), scratch ${scratch}`);
for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
