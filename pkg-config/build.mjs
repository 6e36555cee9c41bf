#!/usr/bin/env node
// Builds the npm package into ../pkg (run by `make package`):
//   1. cargo build --release --lib --target wasm32-unknown-unknown
//   2. wasm-bindgen --target web (the ESM glue, used by the browser entry)
//   3. wasm-opt -O3 from npm `binaryen` on the one .wasm
//   4. a CommonJS copy of the same glue (etcd_snap.cjs) for the Node entry, which
//      instantiates synchronously (initSync + readFileSync), so `require()` and `import`
//      both work on Node 20 and share one instance (node.mjs re-exports node.cjs)
//   5. the entry shims, types, CLI, README and package.json from this folder
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(root, 'pkg');
const name = 'etcd_snap';
const run = (cmd, args, opts = {}) => {
  console.error(`build: ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
};

const skipCargo = process.argv.includes('--skip-cargo');
if (!skipCargo) {
  run('cargo', ['build', '--release', '--lib', '--target', 'wasm32-unknown-unknown']);
}
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const rawWasm = path.join(targetDir, 'wasm32-unknown-unknown', 'release', `${name}.wasm`);

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
run('wasm-bindgen', ['--target', 'web', '--out-dir', out, '--out-name', name, rawWasm]);
fs.rmSync(path.join(out, '.gitignore'), { force: true });

// wasm-opt from npm binaryen (never a system one).
const wasmOpt = path.join(here, 'node_modules', '.bin', 'wasm-opt');
if (!fs.existsSync(wasmOpt)) {
  throw new Error(`${wasmOpt} missing: run \`npm ci\` in pkg-config/ (make setup does)`);
}
const bg = path.join(out, `${name}_bg.wasm`);
const before = fs.statSync(bg).size;
run(wasmOpt, [
  '-O3', '--strip-debug', '--strip-producers',
  '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-reference-types', '--enable-multivalue', '--enable-mutable-globals',
  bg, '-o', bg,
]);
console.error(`build: wasm-opt ${before} -> ${fs.statSync(bg).size} bytes`);

// ESM glue -> CommonJS glue.
const esm = fs.readFileSync(path.join(out, `${name}.js`), 'utf8');
if (/^\s*import\s/m.test(esm)) {
  throw new Error('the wasm-bindgen glue imports JS snippets (inline_js / module = ...); ' +
    'the CommonJS Node entry cannot load them: bind JS without snippets in the library');
}
const names = [];
let cjs = esm
  .replace(/^export (class|function|async function) ([A-Za-z0-9_$]+)/gm, (_, kw, id) => {
    names.push(id);
    return `${kw} ${id}`;
  })
  .replace(/^export \{ initSync, __wbg_init as default \};\s*$/m, '')
  .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href");
if (/^export /m.test(cjs)) throw new Error('unexpected export form left in the glue');
names.push('initSync');
cjs = `'use strict';\n${cjs}\nmodule.exports = { ${names.join(', ')} };\n`;
fs.writeFileSync(path.join(out, `${name}.cjs`), cjs);

// The ESM Node entry re-exports the CommonJS one (one instance whichever way it is loaded).
const exported = [...names, 'init'];
fs.writeFileSync(path.join(out, 'node.mjs'),
  `// Node ESM entry: the same instance as node.cjs.\nimport m from './node.cjs';\n` +
  `export const { ${exported.join(', ')} } = m;\nexport default m.init;\n`);

for (const f of ['node.cjs', 'browser.js', 'index.d.ts', 'cli.cjs', 'README.md']) {
  fs.copyFileSync(path.join(here, f), path.join(out, f));
}
fs.chmodSync(path.join(out, 'cli.cjs'), 0o755);

// package.json: the template, with the crate's version.
const cargo = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
const version = /^version\s*=\s*"([^"]+)"/m.exec(cargo)[1];
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.template.json'), 'utf8'));
pkg.version = version;
fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
console.error(`build: pkg/ ready (etcd-snap ${version}); \`cd pkg && npm pack\` publishes it`);
