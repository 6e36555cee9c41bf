# Entry points. `make viewer` and `make test` are the README's two set-up commands; both
# install what they need first (.ci/setup is idempotent).
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER := wasm-bindgen-test-runner
export CHROMEDRIVER ?= /usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT ?= 600

.PHONY: setup build test test-native lint bench

setup:
	bash .ci/setup

build: setup
	cargo build --release

## Every test: lint, native (incl. real etcd), wasm (Node, Chromium, worker), npm package, browser e2e.
test: setup lint test-native

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings

## Native (tests/README.md): unit tests, tests/testsuite, tests/interop (real etcd 3.4 and its
## Go code as oracles), tests/alone (measurements that need the process to themselves).
test-native:
	cargo test --tests

## Benchmarks print tables (docs/benchmarks.md); each bench program is one line.
bench:
	cargo bench --bench snap
	cargo bench --bench storage

## OPFS in headless Chromium (wasm-bindgen-test, chromedriver; see webdriver.json): the
## createWritable backend on the main thread, the sync-access-handle backend in a worker.
.PHONY: test-wasm-browser
test-wasm-browser:
	cargo test --target wasm32-unknown-unknown --test wasm_browser --test wasm_worker
test: test-wasm-browser

## Doc examples (the crate manual's example, the fault-injection and conformance examples).
.PHONY: test-doc
test-doc:
	cargo test --doc
test: test-doc

## CRC-32C crate comparison (benches/crc.rs): natively, then as wasm32-wasip1 under Node's WASI.
.PHONY: bench-crc bench-crc-wasm
bench-crc: bench-crc-wasm
	cargo bench --bench crc
bench-crc-wasm:
	rustup target list --installed | grep -x wasm32-wasip1 >/dev/null || rustup target add wasm32-wasip1
	cd benches/crc-wasi && CARGO_TARGET_DIR=../../target/crc-wasi cargo build --release --target wasm32-wasip1
	node --single-threaded --no-warnings benches/crc-wasi.mjs target/crc-wasi/wasm32-wasip1/release/crc-bench.wasm

## Snapshot-transfer throughput (benches/wire.rs): plain copy vs frame / unframe / TCP / HTTP,
## with peak RSS per row. WIRE_BENCH_MB (default 1024), WIRE_BENCH_DIR (e.g. /dev/shm).
.PHONY: bench-wire
bench-wire:
	cargo bench --bench wire

## inspect on a real ~90 MB etcd db (benches/inspect.rs): etcd-snap status vs etcdctl snapshot status.
.PHONY: bench-inspect
bench-inspect:
	cargo bench --bench inspect

## The npm package: pkg-config/ -> pkg/ (wasm-bindgen --target web, wasm-opt from npm
## binaryen, Node/browser entries, types, CLI). `cd pkg && npm pack` publishes it.
.PHONY: package
package:
	node pkg-config/build.mjs

## wasm in Node (wasm-bindgen-test): conformance + Snapshotter over Node fs, JS object, memory.
.PHONY: test-wasm-node
test-wasm-node:
	cargo test --target wasm32-unknown-unknown --test wasm_node
test: test-wasm-node

## The npm package in Node: pack/install/import/require, tsc, CLI vs native CLI, lock, streaming.
.PHONY: test-js
test-js: package
	cargo build --bin etcd-snap
	cd tests/js && node --test --test-concurrency=1 api.test.mjs package.test.mjs cli.test.mjs lock.test.mjs lock_native.test.mjs lock_edges.test.mjs stream.test.mjs inspect_cli.test.mjs snap_files.test.mjs inspect_memory.test.mjs unknown_fields.test.mjs member.test.mjs defrag.test.mjs
test: test-js

## JS-side benchmarks (prints a table): CRC-32C wasm vs crc-32 / @node-rs/crc32, 64 MiB .snap
## read wasm vs native, saveDbFrom 1 GiB vs stream.pipeline + fsync.
.PHONY: bench-js
bench-js: package
	cargo build --release --bin etcd-snap
	node benches/js/bench.mjs

## The npm package's browser entry in headless Chromium (Playwright over /usr/bin/chromium,
## tests/js/browser/): OPFS save/load across a reload, two tabs on one folder, a worker, quota.
.PHONY: test-e2e
test-e2e: package
	cd tests/js && node --test --test-concurrency=1 browser/
test: test-e2e

## OPFS write benchmark (prints a table): saveDbFrom 256 MiB and 1 GiB vs raw JS loops, main
## thread (createWritable) and dedicated worker (sync access handles). BENCH_MIB=256 for less.
.PHONY: bench-browser
bench-browser: package
	cd tests/js && node browser/bench-opfs.mjs

## The viewer (README's first set-up command): installs what it needs, builds pkg/, then serves
## www/ (with the sample folder www/sample/) and pkg/ on 127.0.0.1:$(VIEWER_PORT) until Ctrl-C.
VIEWER_PORT ?= 8080
.PHONY: viewer test-viewer
viewer: setup
	$(MAKE) --no-print-directory package
	node www/serve.mjs --port $(VIEWER_PORT)

## The inspect bindings in Node, then the viewer end to end in headless Chromium
## (tests/js/viewer/): etcd's numbers on screen, hostile keys as text, OPFS across reloads, a
## generated 64 MiB+ db, corrupt dbs, no foreign requests; viewer/use.test.mjs: a live etcd 3.4.23
## (NOSPACE, 1,200 revisions, leases, backups, two members), keyboard walks, axe-core, reflow.
## viewer/member.test.mjs: a real etcd data dir (the doctor's verdict, etcd's real pick, the WAL).
## Screenshots in artifacts/viewer/.
test-viewer: package
	cargo build --bin etcd-snap
	cd tests/js && node --test --test-concurrency=1 viewer/inspect-api.test.mjs viewer/viewer.test.mjs viewer/use.test.mjs viewer/member.test.mjs
test: test-viewer

## The wasm snapshot receiver (snapshotHandler) under node:http, and the npm CLI's frame /
## unframe / send / serve-snapshots against the native CLI's (tests/js/wire.test.mjs).
.PHONY: test-js-wire
test-js-wire: package
	cargo build --bin etcd-snap
	cd tests/js && node --test --test-concurrency=1 wire.test.mjs
test: test-js-wire

## The same wasm tests the wasm-pack way (docs/js.md, "Tests"), offline: --mode
## no-install uses the installed wasm-bindgen-test-runner, --chromedriver the system driver.
.PHONY: test-wasm-pack
test-wasm-pack:
	wasm-pack test --node --mode no-install -- --test wasm_node
	wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver --mode no-install -- --test wasm_browser --test wasm_worker
test: test-wasm-pack

## Mutation fuzz (tests/js/fuzz.test.mjs): real etcd .snap / db / wire files, mutated with a
## seeded PRNG, through the native CLI, the npm CLI and the JS API: no panic, trap, hang or
## untyped error, the two CLIs byte-identical. FUZZ_SECONDS (default 60) bounds it; the seed
## is printed first and in every failure: FUZZ_SEED=<s> FUZZ_CASE=<n> make test-fuzz reruns one.
.PHONY: test-fuzz
test-fuzz: package
	cargo build --bin etcd-snap
	cd tests/js && node --test fuzz.test.mjs
test: test-fuzz

## SIGKILL at every relevant syscall (tests/js/crash_kill.test.mjs, strace -e inject): the
## native and npm CLIs' save / savedb / release / load leave the old or the new state, both
## CLIs then ls and load it alike, and the next writer runs.
.PHONY: test-crash
test-crash: package
	cargo build --bin etcd-snap
	cd tests/js && node --test --test-concurrency=1 crash_kill.test.mjs
test: test-crash
