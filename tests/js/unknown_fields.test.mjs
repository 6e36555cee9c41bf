// etcd 3.4 keeps the protobuf fields it does not know (gogo's XXX_unrecognized, at every
// level) and counts them in Size(); `pb_size` / `msg_size` must say what etcd's Size() says
// (issue 9, item 10). `.snap` files and wire bodies carrying unknown fields (top level, nested,
// in a repeated sub-message, and large enough to grow a length prefix) go through both CLIs
// (`read`, `load`, `unframe`, `serve-snapshots`) and the JS API (decodeSnap / read / load +
// snapshotSummaryJson, unframeSnapshot, snapshotHandler's reply); every printed size must
// equal the one etcd's own Go code computes (tests/oracle/gogo_oracle.go, `size:` mode).
// Needs `go` and etcd's Go source (golang-etcd-server-dev, installed by .ci/setup).
// Package: pkg/ (make package). Native binary: $ETCD_SNAP_BIN, else target/debug/etcd-snap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pkgDir, root, tmpDir, requirePkg, run } from './helpers.mjs';

requirePkg();
const require = createRequire(import.meta.url);
const api = require(path.join(pkgDir, 'node.cjs'));
const { Snapshotter, snapshotHandler, decodeSnap, snapshotSummaryJson, unframeSnapshot, crc32c, snapName } = api;
const nodeCli = path.join(pkgDir, 'cli.cjs');
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const GOOD = { 'X-Server-Version': '3.4.23', 'X-Min-Cluster-Version': '3.0.0', 'X-Etcd-Cluster-ID': '1000' };
const DB = Buffer.from('hello');

// ---- protobuf by hand, so unknown fields can go anywhere -----------------------------------
const varint = (n) => {
  n = BigInt(n);
  const out = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
};
const key = (f, wt) => varint((BigInt(f) << 3n) | BigInt(wt));
const vf = (f, v) => Buffer.concat([key(f, 0), varint(v)]);
const lf = (f, b) => Buffer.concat([key(f, 2), varint(b.length), b]);
const cat = (...b) => Buffer.concat(b);
/** Unknown fields of three wire types, `n` bytes of payload in the length-delimited one. */
const unknown = (f, n) => cat(vf(f, 300), lf(f + 1, Buffer.alloc(n, 0xab)), key(f + 2, 5), Buffer.from([1, 2, 3, 4]));

const confState = (extra = Buffer.alloc(0)) => cat(vf(1, 1), vf(1, 2), vf(2, 9), extra);
const metadata = (index, cs, extra = Buffer.alloc(0)) => cat(lf(1, cs), vf(2, index), vf(3, 2), extra);
const snapshot = (md, extra = Buffer.alloc(0)) => cat(lf(1, Buffer.from('v2 store')), ...[md].flat().map((m) => lf(2, m)), extra);

/** `raftpb.Snapshot` bytes by case: unknown fields where the name says. */
const SNAPSHOTS = {
  none: snapshot(metadata(5, confState())),
  top: snapshot(metadata(5, confState()), unknown(20, 3)),
  nested: snapshot(metadata(5, confState(unknown(30, 2)), unknown(40, 1))),
  // 200 unknown bytes in ConfState: the metadata's and conf_state's length prefixes grow.
  grown: snapshot(metadata(5, confState(unknown(30, 200)), unknown(40, 1)), unknown(20, 1)),
  // Two metadata fields: gogo merges them, unknown fields of both included.
  merged: snapshot([metadata(5, confState(unknown(30, 2))), metadata(5, confState(), unknown(40, 7))]),
};

/** A `.snap` file around `inner` (snappb.snapshot{crc, data}), with a CRC etcd accepts. */
const snapFile = (inner) => cat(vf(1, crc32c(inner)), lf(2, inner));

/** A MsgSnap carrying `snap`, with unknown fields of its own and in an entry. */
const message = (snap, extra = Buffer.alloc(0), entry = Buffer.alloc(0)) =>
  cat(vf(1, 7), vf(2, 2), vf(3, 1), vf(4, 3), entry, lf(9, snap), extra);
const MESSAGES = {
  none: message(SNAPSHOTS.none),
  top: message(SNAPSHOTS.none, unknown(60, 4)),
  nested: message(SNAPSHOTS.nested, Buffer.alloc(0), lf(7, cat(vf(2, 1), vf(3, 4), unknown(70, 2)))),
  grown: message(SNAPSHOTS.grown, unknown(60, 1)),
  merged: message(SNAPSHOTS.merged),
};
const body = (m) => {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64BE(BigInt(m.length));
  return cat(prefix, m, DB);
};

// ---- etcd's answer --------------------------------------------------------------------------
function buildOracle(dir) {
  const bin = path.join(dir, 'gogo_oracle');
  const r = run('go', ['build', '-o', bin, path.join(root, 'tests/oracle/gogo_oracle.go')], {
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: process.env.GOCACHE || path.join(root, 'target/tmp/go-build') },
  });
  assert.equal(r.status, 0, `go build failed (needs golang-go golang-etcd-server-dev; run .ci/setup):\n${r.stderr}`);
  return bin;
}

/** etcd's Size() of each `[type, bytes]`: a number, or [msg, snapshot] for a Message. */
function etcdSizes(bin, cases) {
  const input = cases.map(([t, b]) => `size:${t} ${b.toString('hex')}\n`).join('');
  const r = run(bin, [], { input });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split('\n').map((l) => {
    assert.match(l, /^SIZE /, l);
    const n = l.slice(5).split(' ').map(Number);
    return n.length === 1 ? n[0] : n;
  });
}

const cli = (which, args) => (which === 'native' ? run(nativeBin, args) : run(process.execPath, [nodeCli, ...args]));

/** `serve-snapshots` (native or npm): posts `b`, resolves to its reply line. */
async function served(t, which, dir, b) {
  const [cmd, pre] = which === 'native' ? [nativeBin, []] : [process.execPath, [nodeCli]];
  const child = spawn(cmd, [...pre, 'serve-snapshots', dir, '--listen', '127.0.0.1:0', '--cluster-id', '1000']);
  t.after(() => child.kill('SIGKILL'));
  const lines = [];
  let buf = '';
  let waiting = null;
  child.stdout.on('data', (c) => {
    buf += c;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); waiting?.(); }
  });
  const line = (n) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${which} serve-snapshots: ${lines.length} lines`)), 60_000);
    waiting = () => { if (lines.length > n) { clearTimeout(timer); resolve(lines[n]); } };
    waiting();
  });
  const url = `http://${JSON.parse(await line(0)).listening}/raft/snapshot`;
  const status = await post(url, b);
  assert.equal(status, 204, which);
  const reply = await line(1);
  child.kill('SIGKILL');
  return reply;
}

function post(url, b) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: GOOD }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(b);
  });
}

const pbSize = (json) => JSON.parse(json).pb_size;
const sizes = (json) => { const m = JSON.parse(json).message; return [m.msg_size, m.snapshot.pb_size]; };

test("pb_size counts a .snap's unknown fields as etcd's Size() does: both CLIs and the JS API", async (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-unknown-');
  t.after(cleanup);
  const names = Object.keys(SNAPSHOTS);
  const want = etcdSizes(buildOracle(dir), names.map((n) => ['raftpb.Snapshot', SNAPSHOTS[n]]));
  for (const [i, name] of names.entries()) {
    const file = snapFile(SNAPSHOTS[name]);
    const sdir = path.join(dir, name);
    fs.mkdirSync(sdir);
    const fname = snapName(2n, 5n);
    fs.writeFileSync(path.join(sdir, fname), file);

    // The JS API: decodeSnap, Snapshotter read / load / loadNewestAvailable.
    const decoded = decodeSnap(file);
    assert.equal(pbSize(snapshotSummaryJson(decoded)), want[i], `${name}: decodeSnap`);
    // A plain copy has the known fields only: what etcd-snap printed before (the test bites).
    const known = pbSize(snapshotSummaryJson({ ...decoded }));
    if (name === 'none') assert.equal(known, want[i]);
    else assert.ok(known < want[i], `${name}: etcd counts unknown fields (${known} vs ${want[i]})`);
    const s = await Snapshotter.open(sdir);
    try {
      assert.equal(pbSize(snapshotSummaryJson(await s.read(fname))), want[i], `${name}: read`);
      assert.equal(pbSize(snapshotSummaryJson(await s.load())), want[i], `${name}: load`);
      const nl = await s.loadNewestAvailable([{ term: 2n, index: 5n }]);
      assert.equal(pbSize(snapshotSummaryJson(nl)), want[i], `${name}: loadNewestAvailable`);
    } finally {
      s.close();
    }

    // Both CLIs, byte-identical.
    const out = {};
    for (const which of ['native', 'node']) {
      const r = cli(which, ['read', path.join(sdir, fname)]);
      assert.equal(r.status, 0, r.stderr);
      const l = cli(which, ['load', sdir]);
      assert.equal(l.status, 0, l.stderr);
      const w = cli(which, ['load', sdir, '--wal-snaps', '2:5']);
      assert.equal(w.status, 0, w.stderr);
      out[which] = [r.stdout, l.stdout, w.stdout];
      for (const o of out[which]) assert.equal(pbSize(o), want[i], `${which} ${name}: ${o}`);
    }
    assert.deepEqual(out.node, out.native, name);
  }
});

test("msg_size and pb_size count a wire body's unknown fields as etcd's Size() does: both CLIs and the JS API", async (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-unknown-wire-');
  t.after(cleanup);
  const names = Object.keys(MESSAGES);
  const want = etcdSizes(buildOracle(dir), names.map((n) => ['raftpb.Message', MESSAGES[n]]));
  for (const [i, name] of names.entries()) {
    const m = MESSAGES[name];
    const b = body(m);
    const inFile = path.join(dir, `${name}.bin`);
    fs.writeFileSync(inFile, b);
    const out = {};
    for (const which of ['native', 'node']) {
      const u = cli(which, ['unframe', inFile, path.join(dir, `${which}-${name}`)]);
      assert.equal(u.status, 0, u.stderr);
      assert.deepEqual(sizes(u.stdout), want[i], `${which} unframe ${name}`);
      assert.equal(JSON.parse(u.stdout).length_prefix, m.length);
      const line = await served(t, which, path.join(dir, `${which}-serve-${name}`), b);
      assert.deepEqual(sizes(line), want[i], `${which} serve-snapshots ${name}`);
      out[which] = [u.stdout.replaceAll(which, 'X'), line.replaceAll(which, 'X')];
    }
    assert.deepEqual(out.node, out.native, name);

    // The JS API: unframeSnapshot, and snapshotHandler's reply (its line and its message).
    const jdir = path.join(dir, `js-${name}`);
    fs.mkdirSync(jdir);
    const s = await Snapshotter.open(jdir);
    try {
      const u = await unframeSnapshot(s, (async function* () { yield b; })(), {});
      assert.deepEqual(sizes(u), want[i], `unframeSnapshot ${name}`);
      let reply;
      const server = http.createServer(snapshotHandler(s, { clusterId: 0x1000n, onReply: (r) => { reply = r; } }));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      try {
        assert.equal(await post(`http://127.0.0.1:${server.address().port}/raft/snapshot`, b), 204);
      } finally {
        await new Promise((r) => server.close(r));
      }
      assert.deepEqual(sizes(reply.line), want[i], `snapshotHandler line ${name}`);
      assert.equal(pbSize(snapshotSummaryJson(reply.message.snapshot)), want[i][1], `reply.message.snapshot ${name}`);
    } finally {
      s.close();
    }
  }
});
