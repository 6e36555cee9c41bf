//! Interop with real etcd: tests that start etcd / etcdctl (each live test once against 3.4.23
//! and once against 3.5.16, see `support::etcd::per_version`) or build etcd 3.4's own Go code
//! (GOPATH=/usr/share/gocode, Debian's golang-etcd-server-dev) as an oracle. They fail, not
//! skip, when those are missing (`.ci/setup` installs them). See tests/README.md.
//!
//! `cargo test --test interop` runs them all; `cargo test --test interop wire::` one area;
//! `cargo test --test interop etcd35` every live test against 3.5.16.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod doctor;
mod inspect;
mod pb;
mod snapshotter;
mod wal;
mod walpayload;
mod wire;
