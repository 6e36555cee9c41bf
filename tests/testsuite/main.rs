//! The native integration tests, one module per area (cargo's own `tests/testsuite` is the
//! model): everything that needs no etcd, no Go and no browser, only the library, the built
//! `etcd-snap` binary and the real etcd files in tests/fixtures. See tests/README.md.
//!
//! `cargo test --test testsuite` runs them all, `cargo test --test testsuite storage::` one
//! area, `cargo test --test testsuite -- --exact cli::snap::ls_missing_folder_fails` one test.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../support/snapshotter_suite/mod.rs"]
mod suite;
#[path = "../support/mod.rs"]
mod support;

mod cli;
mod codec;
mod crash;
mod doctor;
mod inspect;
mod message;
mod pb;
mod snapshotter;
mod storage;
mod wal;
mod walpayload;
mod wire;
