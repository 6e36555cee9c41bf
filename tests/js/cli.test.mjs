// The npm CLI (pkg/cli.cjs, wasm) against the native `etcd-snap` binary: same arguments over
// the real etcd fixtures -> same stdout (JSON or table), same exit status, same last stderr
// line, same folder afterwards. Each CLI works on its own copy of every folder.
// The native binary: $ETCD_SNAP_BIN, else target/debug/etcd-snap (make test-js builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pkgDir, fixtures, root, tmpDir, copyDir, run, requirePkg } from './helpers.mjs';

requirePkg();
const nativeBin = process.env.ETCD_SNAP_BIN || path.join(root, 'target/debug/etcd-snap');
const nodeCli = path.join(pkgDir, 'cli.cjs');

function lastLine(s) {
  const lines = s.trimEnd().split('\n');
  return lines[lines.length - 1];
}
function listing(dir) {
  return fs.readdirSync(dir).sort().map((n) => `${n} ${fs.statSync(path.join(dir, n)).size}`);
}

/** Runs `args` (with `{A}` replaced by each CLI's workspace) on both CLIs and compares. */
function same(t, setup, args, { stdin, expectStatus } = {}) {
  const results = [];
  for (const [label, cmd, pre] of [['native', nativeBin, []], ['node', process.execPath, [nodeCli]]]) {
    const { dir, cleanup } = tmpDir(`etcd-snap-cli-${label}-`);
    t.after(cleanup);
    setup(dir);
    const a = args.map((x) => x.replaceAll('{A}', dir));
    const r = run(cmd, [...pre, ...a], { cwd: dir, input: stdin });
    results.push({
      label,
      status: r.status,
      stdout: r.stdout.replaceAll(dir, '{A}'),
      err: r.status === 0 ? '' : lastLine(r.stderr).replaceAll(dir, '{A}'),
      stderr: r.stderr.replaceAll(dir, '{A}'),
      after: listing(dir),
    });
  }
  const [n, j] = results;
  const what = args.join(' ');
  assert.equal(j.status, n.status, `${what}: exit status (node stderr: ${j.err}; native: ${n.err})`);
  if (n.status <= 1) {
    assert.equal(j.stdout, n.stdout, `${what}: stdout`);
    assert.equal(j.err, n.err, `${what}: last stderr line`);
  } else {
    // One command layer (src/cli/): a usage error is clap's text on both, byte for byte.
    assert.equal(j.stderr, n.stderr, `${what}: usage text`);
    assert.equal(j.stdout, n.stdout, `${what}: stdout`);
  }
  assert.deepEqual(j.after, n.after, `${what}: folder afterwards`);
  if (expectStatus !== undefined) assert.equal(n.status, expectStatus, `${what}: native status ${n.err}`);
  return n;
}

const single = (d) => copyDir(path.join(fixtures, 'single/member-snap'), path.join(d, 'snap'));
const corrupt = (d) => copyDir(path.join(fixtures, 'golden/corrupt'), path.join(d, 'snap'));
const saved = (d) => copyDir(path.join(fixtures, 'golden/saved'), path.join(d, 'snap'));
const follower = (d) => copyDir(path.join(fixtures, 'cluster/follower-snap'), path.join(d, 'snap'));
const empty = (d) => fs.mkdirSync(path.join(d, 'snap'));

test('native binary present', () => {
  assert.ok(fs.existsSync(nativeBin), `${nativeBin} missing: cargo build --bin etcd-snap`);
});

test('read: every fixture .snap, good and corrupt', (t) => {
  for (const [setup, src] of [[single, 'single/member-snap'], [corrupt, 'golden/corrupt'], [saved, 'golden/saved'], [follower, 'cluster/follower-snap']]) {
    for (const name of fs.readdirSync(path.join(fixtures, src)).filter((n) => n.endsWith('.snap'))) {
      const n = same(t, setup, ['read', `{A}/snap/${name}`]);
      if (src === 'golden/corrupt') {
        const want = fs.readFileSync(path.join(fixtures, `expected/golden/corrupt/${name}.err.txt`), 'utf8').trim().replace(/^ERROR: /, '');
        assert.equal(n.err, want, name);
      } else {
        const want = fs.readFileSync(path.join(fixtures, `expected/${src}/${name}.json`), 'utf8').trim();
        assert.equal(n.stdout.trim(), want, name);
      }
    }
  }
  same(t, empty, ['read', '{A}/snap/missing.snap'], { expectStatus: 1 });
  // A bare name (the current folder): messages show the path as given, on both.
  const here = (d) => fs.copyFileSync(path.join(fixtures, 'single/member-snap/0000000000000002-0000000000000101.snap'), path.join(d, 'x.snap'));
  same(t, here, ['read', 'x.snap'], { expectStatus: 0 });
  const n = same(t, here, ['read', 'missing.snap'], { expectStatus: 1 });
  assert.equal(n.err, 'open missing.snap: no such file or directory');
});

test('load, load --wal-snaps, and load of an all-broken folder', (t) => {
  same(t, single, ['load', '{A}/snap'], { expectStatus: 0 });
  same(t, single, ['load', '{A}/snap', '--wal-snaps', '2:51,2:154'], { expectStatus: 0 });
  same(t, single, ['load', '{A}/snap', '--wal-snaps', ''], { expectStatus: 1 });
  const n = same(t, corrupt, ['load', '{A}/snap'], { expectStatus: 1 });
  assert.equal(n.err, 'snap: no available snapshot');
  same(t, empty, ['load', '{A}/nope'], { expectStatus: 1 });
});

test('ls as JSON and as a table', (t) => {
  for (const setup of [single, corrupt, saved, follower]) {
    same(t, setup, ['ls', '{A}/snap', '-w', 'json'], { expectStatus: 0 });
    same(t, setup, ['ls', '{A}/snap'], { expectStatus: 0 });
  }
  same(t, (d) => { single(d); fs.mkdirSync(path.join(d, 'snap/sub.snap')); fs.writeFileSync(path.join(d, 'snap/tmp123'), 'x'); fs.writeFileSync(path.join(d, 'snap/db'), ''); },
    ['ls', '{A}/snap', '-w', 'json'], { expectStatus: 0 });
  // .snap.db verdicts (bbolt meta pages): real, garbage, empty, truncated.
  const dbs = (d) => {
    follower(d);
    fs.writeFileSync(path.join(d, 'snap/0000000000000009.snap.db'), Buffer.alloc(10000, 7));
    fs.writeFileSync(path.join(d, 'snap/000000000000000a.snap.db'), '');
    fs.writeFileSync(path.join(d, 'snap/000000000000000b.snap.db'), fs.readFileSync(path.join(fixtures, 'cluster/follower-snap/00000000000015c5.snap.db')).subarray(0, 5000));
  };
  same(t, dbs, ['ls', '{A}/snap', '-w', 'json'], { expectStatus: 0 });
  same(t, dbs, ['ls', '{A}/snap'], { expectStatus: 0 });
});

test('save, savedb (file and stdin), release', (t) => {
  const data = (d) => { empty(d); fs.writeFileSync(path.join(d, 'data.bin'), 'hello'); fs.writeFileSync(path.join(d, 'empty.bin'), ''); };
  same(t, data, ['save', '{A}/snap', '2', '100', '{A}/data.bin', '--voters', '1,2,3'], { expectStatus: 0 });
  same(t, data, ['save', '{A}/snap', '18446744073709551615', '18446744073709551614', '-', '--voters', '18446744073709551615,9223372036854775808', '--learners', '4'], { expectStatus: 0 });
  same(t, data, ['save', '{A}/snap', '1', '2', '{A}/empty.bin'], { expectStatus: 0 });
  same(t, data, ['save', '{A}/snap', '1', '0', '{A}/data.bin'], { expectStatus: 0 });
  same(t, data, ['save', '{A}/snap', '1', '1', '{A}/missing.bin'], { expectStatus: 1 });
  // The saved bytes equal etcd's golden files.
  const { dir, cleanup } = tmpDir();
  t.after(cleanup);
  fs.mkdirSync(path.join(dir, 'snap'));
  fs.writeFileSync(path.join(dir, 'hello'), 'hello');
  assert.equal(run(process.execPath, [nodeCli, 'save', path.join(dir, 'snap'), '2', '100', path.join(dir, 'hello'), '--voters', '1,2,3']).status, 0);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'snap/0000000000000002-0000000000000064.snap')),
    fs.readFileSync(path.join(fixtures, 'golden/saved/0000000000000002-0000000000000064.snap')));

  const db = (d) => { empty(d); fs.copyFileSync(path.join(fixtures, 'cluster/follower-snap/00000000000015c5.snap.db'), path.join(d, 'db.bin')); };
  same(t, db, ['savedb', '{A}/snap', '5573', '{A}/db.bin'], { expectStatus: 0 });
  same(t, db, ['savedb', '{A}/snap', '7', '-'], { stdin: 'streamed from stdin', expectStatus: 0 });
  same(t, db, ['savedb', '{A}/snap', '7', '{A}/missing'], { expectStatus: 1 });
  const dbs = (d) => { empty(d); for (const i of [0x64, 0xc8, 0x12c, 0x190]) fs.writeFileSync(path.join(d, `snap/${i.toString(16).padStart(16, '0')}.snap.db`), 'x'); fs.writeFileSync(path.join(d, 'snap/1.snap.db'), ''); fs.writeFileSync(path.join(d, 'snap/zz.snap.db'), ''); };
  same(t, dbs, ['release', '{A}/snap', '300'], { expectStatus: 0 });
});

test('usage errors exit 2 on both', (t) => {
  same(t, empty, ['frobnicate'], { expectStatus: 2 });
  same(t, empty, [], { expectStatus: 2 });
  same(t, empty, ['keys', '{A}/db', '--limit', '-1'], { expectStatus: 2 });
  same(t, empty, ['send', 'http://127.0.0.1:1', '1', '2', 'db'], { expectStatus: 2 });
  same(t, empty, ['save', '{A}/snap', 'x', '1', '-'], { expectStatus: 2 });
  same(t, empty, ['ls'], { expectStatus: 2 });
});

test('--help, help SUBCOMMAND and --version print the same bytes on both', (t) => {
  for (const args of [['--help'], ['help', 'serve-snapshots'], ['keys', '--help'], ['--version']]) {
    same(t, empty, args, { expectStatus: 0 });
  }
});

test('savedb draws a progress bar only when stderr is a terminal', (t) => {
  const { dir, cleanup } = tmpDir();
  t.after(cleanup);
  fs.mkdirSync(path.join(dir, 'snap'));
  const big = path.join(dir, 'big.bin');
  fs.writeFileSync(big, Buffer.alloc(65 * 1024 * 1024, 3));
  // Not a terminal: nothing on stderr.
  const plain = run(process.execPath, [nodeCli, 'savedb', path.join(dir, 'snap'), '1', big]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stderr, '');
  // A terminal (util-linux `script` gives the child a pty): a bar that reaches 100%.
  const cmd = [process.execPath, nodeCli, 'savedb', path.join(dir, 'snap'), '2', big].map((a) => `'${a}'`).join(' ');
  const tty = run('script', ['-qec', cmd, '/dev/null']);
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\x1b\[2K\[#+\] 100% 65\.0 MiB\/65\.0 MiB/);
  assert.match(tty.stdout, /\{"bytes":68157440,"path":"[^"]+0000000000000002\.snap\.db"\}/);
  assert.equal(fs.statSync(path.join(dir, 'snap/0000000000000002.snap.db')).size, 68157440);
});
