//! # etcd-snap
//!
//! etcd's Raft snapshot storage (the Go `snap` package) in Rust: byte-compatible `.snap` and
//! `.snap.db` files, etcd's error strings, and a [`Snapshotter`] generic over a [`Storage`]
//! backend, so the same logic runs natively and in WebAssembly.
//!
//! Rings: the **core** ([`pb`], [`codec`], [`names`], [`message`], [`transport`],
//! [`inspect`]) is pure and does no I/O; the [`Snapshotter`] holds all of etcd's directory
//! rules over the [`Storage`] trait; the **edges** are the storage backends
//! ([`storage::MemoryStorage`], `storage::NativeStorage`, and in wasm builds Node fs, OPFS and
//! JS-object backends), the HTTP transport (feature `http`) and the JavaScript bindings
//! (`wasm`, which only convert and delegate). In wasm builds the JS interop layer (`js`:
//! calling into JS, JS streams, errors across the boundary) sits below both the JS-facing
//! backends and the bindings; [`error`] imports only two leaves (storage error kinds, Go's `%q`).
//!
//! ```
//! use etcd_snap::storage::MemoryStorage;
//! use etcd_snap::{ConfState, Options, Snapshot, SnapshotMetadata, Snapshotter};
//!
//! # futures_executor::block_on(async {
//! let snap = Snapshot {
//!     data: Some(bytes::Bytes::from_static(b"v2 store json")),
//!     metadata: SnapshotMetadata {
//!         conf_state: ConfState { voters: vec![1, 2, 3], ..Default::default() },
//!         index: 100,
//!         term: 2,
//!     },
//! };
//! // `NativeStorage::new("member/snap")` for a real folder; memory here.
//! let dir = MemoryStorage::new();
//! let snapshotter = Snapshotter::open(dir.clone(), Options::default()).await?;
//! snapshotter.save_snap(&snap).await?; // 0000000000000002-0000000000000064.snap, atomically
//! assert_eq!(snapshotter.load().await?, snap);
//!
//! // The file is exactly what etcd 3.4 writes; a damaged copy gives etcd's error.
//! let mut bytes = dir.get("0000000000000002-0000000000000064.snap").unwrap();
//! *bytes.last_mut().unwrap() ^= 1;
//! let err = etcd_snap::codec::decode_snap_file(bytes.into()).unwrap_err();
//! assert_eq!(err.to_string(), "snap: crc mismatch");
//! assert_eq!(err.code(), "ERR_CRC_MISMATCH");
//! # Ok::<(), etcd_snap::Error>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod codec;
mod crc;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod crc32c_braid;
pub mod datadir;
pub mod defrag;
pub mod doctor;
pub mod error;
pub mod etcd_version;
mod go_fmt;
#[cfg(all(feature = "http", not(target_arch = "wasm32")))]
pub mod http;
pub mod inspect;
mod io_error;
#[cfg(target_arch = "wasm32")]
pub mod js;
pub mod message;
pub mod names;
#[allow(missing_docs)]
pub mod pb;
pub mod snapshotter;
pub mod storage;
#[allow(missing_docs)]
pub mod summary;
pub mod transport;
pub mod wal;
pub mod waldump;
pub mod walpayload;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, IoError, IoErrorKind, Result};
pub use etcd_version::EtcdVersion;
pub use message::{CloseNotify, ExactReader, Message};
pub use pb::{ConfState, Snapshot, SnapshotMetadata, WalSnapshot};
pub use snapshotter::{FileInfo, Options, Snapshotter};
pub use storage::{AtomicWrite, LockMode, Metadata, Storage};
