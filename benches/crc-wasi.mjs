// Runs a wasm32-wasip1 program under Node's built-in WASI:
//   node --single-threaded benches/crc-wasi.mjs prog.wasm
// (Node 20 segfaults at exit after a WASI program grew its memory past ~64 MiB unless V8 runs
// single-threaded; throughput is the same either way.)
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {} });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
