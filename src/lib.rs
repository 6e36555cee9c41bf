//! # etcd-snap
//!
//! etcd's Raft snapshot storage (the Go `snap` package) in Rust: byte-compatible `.snap` and
//! `.snap.db` files, etcd's error strings, and a [`Snapshotter`] generic over a [`Storage`]
//! backend, so the same logic runs natively and in WebAssembly.
//!
//! Rings: the **core** ([`pb`], [`codec`], [`names`], [`message`]) is pure and does no I/O;
//! the [`Snapshotter`] holds all of etcd's directory rules over the [`Storage`] trait; the
//! **edges** are the storage backends (and, in wasm builds, the JavaScript bindings).

#![warn(missing_docs)]

pub mod codec;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod crc32c_braid;
pub mod error;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub mod http;
pub mod inspect;
pub mod message;
pub mod names;
#[allow(missing_docs)]
pub mod pb;
pub mod snapshotter;
pub mod storage;
#[allow(missing_docs)]
pub mod summary;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, IoError, IoErrorKind, Result};
pub use message::{CloseNotify, ExactReader, Message};
pub use pb::{ConfState, Snapshot, SnapshotMetadata, WalSnapshot};
pub use snapshotter::{FileInfo, Options, Snapshotter};
pub use storage::{AtomicWrite, LockMode, Metadata, Storage};
