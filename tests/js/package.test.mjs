// Packaging: `npm pack` of pkg/ -> install into an empty temp project -> ESM `import` and CJS
// `require` each load a real etcd fixture; the exports map routes `browser` to the browser
// entry; `tsc` type-checks a usage file against the installed types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pkgDir, fixtures, root, tmpDir, copyDir, run, requirePkg } from './helpers.mjs';

requirePkg();

const expectedLoad = fs.readFileSync(path.join(fixtures, 'expected/single/member-snap.load.json'), 'utf8').trim();
const expectedG = fs.readFileSync(path.join(fixtures, 'expected/golden/saved/0000000000000002-0000000000000064.snap.json'), 'utf8').trim();

test('npm pack -> install -> import and require load real etcd files', async (t) => {
  const { dir, cleanup } = tmpDir('etcd-snap-pack-');
  t.after(cleanup);
  const packed = run('npm', ['pack', pkgDir, '--pack-destination', dir, '--json'], { cwd: dir });
  assert.equal(packed.status, 0, packed.stderr);
  const tarball = path.join(dir, JSON.parse(packed.stdout)[0].filename);
  const files = JSON.parse(packed.stdout)[0].files.map((f) => f.path).sort();
  assert.deepEqual(files.filter((f) => f.endsWith('.wasm')), ['etcd_snap_bg.wasm'], 'exactly one .wasm');
  for (const f of ['node.cjs', 'node.mjs', 'browser.js', 'index.d.ts', 'cli.cjs', 'README.md', 'package.json']) {
    assert.ok(files.includes(f), `${f} packed`);
  }

  const proj = path.join(dir, 'proj');
  fs.mkdirSync(proj);
  fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'proj', private: true }));
  const inst = run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: proj });
  assert.equal(inst.status, 0, inst.stderr);

  copyDir(path.join(fixtures, 'single/member-snap'), path.join(proj, 'snap-esm'));
  copyDir(path.join(fixtures, 'single/member-snap'), path.join(proj, 'snap-cjs'));
  const golden = path.join(fixtures, 'golden/saved/0000000000000002-0000000000000064.snap');
  const body = (lib) => `
    const s = await ${lib}.Snapshotter.open('DIR');
    const snap = await s.load();
    s.close();
    const bytes = fs.readFileSync(${JSON.stringify(golden)});
    const g = ${lib}.decodeSnap(new Uint8Array(bytes));
    const again = ${lib}.encodeSnap(g);
    let crc;
    try { ${lib}.decodeSnap(new Uint8Array([...bytes.subarray(0, bytes.length - 1), bytes[bytes.length - 1] ^ 1])); } catch (e) { crc = e.code + ' ' + e.message; }
    console.log(JSON.stringify({
      load: ${lib}.snapshotSummaryJson(snap),
      golden: ${lib}.snapshotSummaryJson(g),
      roundTrip: Buffer.from(again).equals(bytes),
      crc,
      bigint: typeof snap.term,
    }));`;
  fs.writeFileSync(path.join(proj, 'esm.mjs'),
    `import fs from 'node:fs';\nimport * as lib from 'etcd-snap';\nimport init from 'etcd-snap';\nawait init(); await init();\n${body('lib').replace('DIR', 'snap-esm')}\n`);
  fs.writeFileSync(path.join(proj, 'cjs.cjs'),
    `const fs = require('node:fs');\nconst lib = require('etcd-snap');\n(async () => {\n${body('lib').replace('DIR', 'snap-cjs')}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
  for (const f of ['esm.mjs', 'cjs.cjs']) {
    const r = run(process.execPath, [f], { cwd: proj });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    const got = JSON.parse(r.stdout);
    assert.equal(got.load, expectedLoad, `${f}: Load of the real etcd folder`);
    assert.equal(got.golden, expectedG, `${f}: decodeSnap of etcd's golden file`);
    assert.equal(got.roundTrip, true, `${f}: encodeSnap reproduces etcd's bytes`);
    assert.equal(got.crc, 'ERR_CRC_MISMATCH snap: crc mismatch', f);
    assert.equal(got.bigint, 'bigint', f);
  }

  // import and require in one process share one instance (the ESM entry wraps the CJS one).
  fs.writeFileSync(path.join(proj, 'both.mjs'),
    `import { createRequire } from 'node:module';\nimport { Snapshotter } from 'etcd-snap';\n` +
    `const req = createRequire(import.meta.url);\nconsole.log(req('etcd-snap').Snapshotter === Snapshotter);\n`);
  const both = run(process.execPath, ['both.mjs'], { cwd: proj });
  assert.equal(both.stdout.trim(), 'true', both.stderr);

  // The exports map: `browser` resolves to the browser entry, Node to node.mjs / node.cjs.
  const resolve = (cond) => run(process.execPath, [...cond, '--input-type=module', '-e',
    "console.log(import.meta.resolve('etcd-snap'))"], { cwd: proj }).stdout.trim();
  assert.match(resolve([]), /\/node\.mjs$/);
  assert.match(resolve(['--conditions=browser']), /\/browser\.js$/);
  const req = run(process.execPath, ['-e', "console.log(require.resolve('etcd-snap'))"], { cwd: proj });
  assert.match(req.stdout.trim(), /\/node\.cjs$/);

  // The package's bin runs.
  const bin = run(path.join(proj, 'node_modules/.bin/etcd-snap'), ['load', 'snap-esm'], { cwd: proj });
  assert.equal(bin.status, 0, bin.stderr);
  assert.equal(bin.stdout.trim(), expectedLoad);

  // Types: tsc --strict over a usage file, against the installed package: as a Node project
  // (@types/node, full check of the package's .d.ts) and as a browser project (no Node types;
  // skipLibCheck, as bundler setups use: the Node-only wire helpers name node:http types).
  fs.copyFileSync(path.join(root, 'tests/js/types/usage.ts'), path.join(proj, 'usage.ts'));
  const tsconfig = (types, skipLibCheck) => fs.writeFileSync(path.join(proj, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
      lib: ['esnext', 'dom'], types, typeRoots: [path.join(root, 'tests/js/node_modules/@types')], skipLibCheck,
    },
    files: ['usage.ts'],
  }));
  for (const [types, skip] of [[['node'], false], [[], true]]) {
    tsconfig(types, skip);
    const tsc = run(path.join(root, 'pkg-config/node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: proj });
    assert.equal(tsc.status, 0, `tsc (types ${JSON.stringify(types)}):\n${tsc.stdout}${tsc.stderr}`);
  }
  // ... and it does reject misuse (the check is not vacuous).
  fs.writeFileSync(path.join(proj, 'usage.ts'), "import { encodeSnap } from 'etcd-snap';\nconst n: number = encodeSnap({ term: 1n, index: 2n });\nexport {};\n");
  const bad = run(path.join(root, 'pkg-config/node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: proj });
  assert.notEqual(bad.status, 0, 'tsc accepts a Uint8Array assigned to number');
});
