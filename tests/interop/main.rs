//! Interop with real etcd 3.4: tests that start etcd / etcdctl 3.4.23 or build etcd's own Go
//! code (GOPATH=/usr/share/gocode, Debian's golang-etcd-server-dev) as an oracle. They fail,
//! not skip, when those are missing (`.ci/setup` installs them). See tests/README.md.
//!
//! `cargo test --test interop` runs them all; `cargo test --test interop wire::` one area.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod inspect;
mod pb;
mod snapshotter;
mod wire;
