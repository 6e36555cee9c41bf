//! The WebAssembly / JavaScript surface (wasm32 only): thin `#[wasm_bindgen]` wrappers over
//! the library, JS <-> Rust conversions, and the single place where errors become JS `Error`s
//! (`impl From<Error> for JsValue` in [`crate::js::error`]). Nothing here holds snapshot logic.
//!
//! Panics: caller input is validated before use (no `unwrap` on JS values), and a panic hook
//! prints any panic to `console.error` before the instance traps.

#[cfg(feature = "cli")]
pub mod cli;
pub mod codec;
pub mod convert;
pub mod defrag;
pub mod dyn_storage;
pub mod inspect;
pub mod inspect_cli;
pub mod member;
pub mod opfs_hook;
pub mod snapshotter;
pub mod transport;
pub mod viewer;

use wasm_bindgen::prelude::*;

pub use dyn_storage::DynStorage;

/// Runs when the module is instantiated: routes panic messages to `console.error`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A Raft snapshot (etcd `raftpb.Snapshot`). u64 values are bigints. */
export interface Snapshot {
  term: bigint;
  index: bigint;
  confState: ConfState;
  /** `null` when absent (etcd's nil); an empty Uint8Array is present-but-empty. */
  data: Uint8Array | null;
  /** Present (non-enumerable) on a decoded snapshot whose bytes held fields etcd 3.4 does
   *  not know: etcd keeps them and counts them in `Size()`, so `snapshotSummaryJson` does. */
  readonly unknownFields?: UnknownFields;
}
/** Bytes of unknown protobuf fields at each level of a decoded snapshot (gogo's
 *  `XXX_unrecognized`); etcd-snap does not write them back. */
export interface UnknownFields { snapshot: number; metadata: number; confState: number; }
/** etcd `raftpb.ConfState`. */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}
/** Input form of a snapshot: `confState` and `data` may be omitted. */
export interface SnapshotInput {
  term: bigint;
  index: bigint;
  confState?: Partial<ConfState>;
  data?: Uint8Array | null;
  /** Counted by `snapshotSummaryJson` in `pb_size`; ignored when saving. */
  unknownFields?: Partial<UnknownFields>;
}
/** A WAL snapshot record (`walpb.Snapshot`). */
export interface WalSnapshot { term: bigint; index: bigint; }
/** How a folder is opened. */
export interface OpenOptions {
  /** `"fail"` (default): ERR_LOCKED at once if another opener holds the folder;
   *  `"wait"`: wait for it; `"none"`: take no lock (read-only tools only). */
  lock?: "fail" | "wait" | "none";
  /** With `lock: "fail"`: take over a Node fs lock file whose holder cannot be checked from
   *  this host (another host, an unreadable or old-format entry), writing a warning to
   *  stderr (the CLIs' `--break-lock`). A holder seen running on this host is never broken. */
  breakLock?: boolean;
  /** Remove stale `tmp*` files on open (default true; needs the lock). */
  cleanTmpOnOpen?: boolean;
  /** Keep at most this many `*.broken` files (default 5); `null` keeps all, as etcd. */
  maxBroken?: number | null;
}
/** Where the snap folder lives. A string is a Node fs directory. */
export type StorageSpec =
  | string
  | { node: string }
  | { memory: string }
  | {
      /** OPFS folder path, or a `FileSystemDirectoryHandle` (then `path` names it). */
      opfs: string | object;
      path?: string;
      /** `"auto"` (default): sync access handles in a dedicated worker, else createWritable. */
      opfsMode?: "auto" | "writable" | "sync";
    }
  | { backend: StorageBackend };
/** One entry of `Snapshotter.list()` (same fields as `etcd-snap ls -w json`, camelCased). */
export interface FileInfo {
  /** The entry name, as the storage methods take it back. A name whose bytes are not UTF-8
   *  has each undecodable byte `b` as U+F700+b (lossless; docs/js.md). */
  name: string;
  /** `name` as people see it (U+FFFD for undecodable bytes): what `etcd-snap ls` prints. */
  displayName: string;
  kind: "snap" | "db" | "broken" | "db.tmp" | "tmp" | "live-db" | "other";
  term: bigint | null;
  index: bigint | null;
  size: bigint;
  isDir: boolean;
  /** `"ok"`, etcd's Read error for an unreadable `.snap`, or null if not a `.snap`. */
  verdict: string | null;
  /** The error code when `verdict` is an error. */
  code: string | null;
}
/** An `Error` thrown by etcd-snap: etcd's message plus a stable `code` (the Rust
 *  `Error::ALL_CODES`; a test keeps the two equal). */
export interface EtcdSnapError extends Error {
  code:
    | "ERR_NO_SNAPSHOT" | "ERR_EMPTY_SNAPSHOT" | "ERR_CRC_MISMATCH" | "ERR_NO_DB_SNAPSHOT"
    | "ERR_DECODE" | "ERR_SHORT_READ" | "ERR_EXPECT_EOF" | "ERR_LIMIT_EXCEEDED"
    | "ERR_REMOVE_ORPHAN" | "ERR_INVALID_ARGUMENT" | "ERR_BAD_DB" | "ERR_DB_HASH_MISMATCH"
    | "ERR_COMPACTED" | "ERR_FUTURE_REV" | "ERR_EOF" | "ERR_MEMBER_REMOVED"
    | "ERR_INCOMPATIBLE_VERSION" | "ERR_CLUSTER_ID_MISMATCH" | "ERR_PRECONDITION_FAILED"
    | "ERR_HTTP_STATUS" | "ERR_TRANSPORT" | "ERR_BUSY"
    | "ERR_WAL_CRC_MISMATCH" | "ERR_WALPB_CRC_MISMATCH" | "ERR_WAL_FILE_NOT_FOUND"
    | "ERR_WAL_SLICE_OUT_OF_RANGE" | "ERR_WAL_SNAPSHOT_NOT_FOUND" | "ERR_WAL_SNAPSHOT_MISMATCH"
    | "ERR_WAL_METADATA_CONFLICT" | "ERR_WAL_UNEXPECTED_EOF" | "ERR_WAL_MAX_ENTRY_SIZE"
    | "ERR_WAL_MAX_ENTRY_SIZE_EOF" | "ERR_WAL_UNEXPECTED_BLOCK_TYPE" | "ERR_WAL_UNMARSHAL_PANIC"
    | "ERR_NOT_FOUND" | "ERR_ALREADY_EXISTS"
    | "ERR_IS_A_DIRECTORY" | "ERR_LOCKED" | "ERR_NO_SPACE" | "ERR_PERMISSION_DENIED"
    | "ERR_SHORT_WRITE" | "ERR_UNSUPPORTED" | "ERR_IO" | "ERR_NOT_REGULAR_FILE"
    | "ERR_TOO_LARGE";
}
type MaybePromise<T> = T | Promise<T>;
/**
 * A storage backend you implement (IndexedDB, S3, a test double): a flat folder of named
 * files. Every method may return a promise. Throw errors with a `code` (`ENOENT` /
 * `ERR_NOT_FOUND` for a missing name, `ERR_LOCKED`, `ERR_NO_SPACE`, ...).
 */
export interface StorageBackend {
  /** Every entry name (files and directories). */
  list(): MaybePromise<string[]>;
  /** Size and kind; throws a not-found error if absent. */
  stat(name: string): MaybePromise<{ size: number | bigint; isDir: boolean }>;
  /** The whole file. */
  read(name: string): MaybePromise<Uint8Array>;
  /** A streaming reader over the file. */
  openRead(name: string): MaybePromise<ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>>;
  /** Starts an atomic write: nothing appears under `name` until `commit()`. */
  createAtomic(name: string): MaybePromise<AtomicWriter>;
  /** Renames, replacing `to`; throws not-found if `from` is absent. */
  rename(from: string, to: string): MaybePromise<void>;
  /** Removes a file; throws not-found if absent. */
  remove(name: string): MaybePromise<void>;
  /** Makes completed renames, creations and removals durable. */
  syncDir(): MaybePromise<void>;
  /** Exclusive folder lock: `"fail"` throws ERR_LOCKED if held, `"wait"` waits. */
  lock(mode: "fail" | "wait"): MaybePromise<LockHandle>;
  /** How a name appears in messages and `dbFilePath` (default: the name). */
  pathOf?(name: string): string;
}
/** Returned by `StorageBackend.createAtomic`. Chunks passed to `write` are yours to keep. */
export interface AtomicWriter {
  write(chunk: Uint8Array): MaybePromise<void>;
  /** Durably publish under the final name (replacing any file). */
  commit(): MaybePromise<void>;
  /** Discard; the final name is untouched. Also called if the writer is dropped. */
  abort(): MaybePromise<void>;
}
/** Returned by `StorageBackend.lock`. `release()` must take effect synchronously. */
export interface LockHandle { release(): void; }
"#;
