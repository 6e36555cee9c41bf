//! The Snapshotter behaviour suite, written once and run on every backend and target:
//! natively (`testsuite`'s `snapshotter::ported`: memory, std::fs), in Node (`wasm_node`:
//! Node fs, JS object, memory), on the browser main thread (`wasm_browser`: OPFS
//! `createWritable()`, JS object) and in a dedicated worker (`wasm_worker`: OPFS sync access
//! handles).
//!
//! Each entry is `async fn name<F: Folder>(f: &F)` over a fresh, empty [`Folder`]. It needs no
//! executor, temp dir or host file system: arranging and inspecting go through the folder's
//! back doors, which by default use the backend's own [`Storage`] calls (the atomic writer,
//! `list`, `read`), so they work on every backend. [`ENTRIES`] lists every entry; each runner
//! expands [`snapshotter_suite_native!`] / [`snapshotter_suite_wasm!`] with the names it runs
//! and the names it excludes *with a reason*, and the expanded guard test fails unless the two
//! lists together are exactly [`ENTRIES`].
//!
//! Included with `#[path]` as `mod suite` at each test binary's root. Target-neutral; the JS-object test double is wasm-only.

#![allow(dead_code, async_fn_in_trait)]

#[cfg(target_arch = "wasm32")]
pub mod js_object;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use etcd_snap::names;
use etcd_snap::pb::{self, SnapFile};
use etcd_snap::{
    AtomicWrite, ConfState, Error, IoErrorKind, LockMode, Options, Snapshot, SnapshotMetadata,
    Snapshotter, Storage, WalSnapshot, codec,
};
use futures_util::future::{FutureExt as _, join};
use futures_util::io::{AsyncRead, AsyncReadExt as _, Cursor};

/// A snap folder under test, plus back doors that bypass the Snapshotter to arrange and
/// inspect it. Defaults go through the backend's own `Storage` (so they work everywhere);
/// a backend with a host view (std::fs) overrides them to check the real files.
pub trait Folder {
    /// The backend.
    type S: Storage;
    /// A new handle on the same folder.
    fn storage(&self) -> Self::S;
    /// Creates an empty directory entry (every runner's backend can; renaming one is what
    /// OPFS cannot do).
    async fn mkdir(&self, name: &str);
    /// Writes a file (replacing it) with the backend's atomic writer.
    async fn put(&self, name: &str, bytes: &[u8]) {
        let s = self.storage();
        let mut w = s.create_atomic(name).await.expect("put: create");
        w.write(bytes).await.expect("put: write");
        w.commit().await.expect("put: commit");
    }
    /// Every entry name, sorted byte-wise.
    async fn names(&self) -> Vec<String> {
        let mut v = self.storage().list().await.expect("list");
        v.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        v
    }
    /// A file's contents (`None` if absent or a directory).
    async fn get(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.storage();
        match s.read(name).await {
            Ok(b) => Some(b),
            Err(e)
                if matches!(
                    e.io_kind(),
                    Some(IoErrorKind::NotFound | IoErrorKind::IsADirectory)
                ) =>
            {
                None
            }
            Err(e) => panic!("get {name}: {e}"),
        }
    }
    /// Called once the entry has passed (removes what a drop cannot, e.g. an OPFS folder).
    async fn finish(self)
    where
        Self: Sized,
    {
    }
}

/// Every entry of the suite. A runner's guard compares its run + excluded lists to this.
pub const ENTRIES: &[&str] = &[
    "save_and_load",
    "bad_crc",
    "failback",
    "snap_names",
    "load_newest_snap",
    "no_snapshot",
    "empty_snapshot",
    "all_snapshot_broken",
    "release_snap_dbs",
    "save_snap_index_zero_is_noop",
    "save_snap_overwrites",
    "mixed_directory_as_etcd",
    "mixed_directory_default_open",
    "save_db_from_cases",
    "save_db_from_keeps_typed_reader_errors",
    "save_db_from_streams_large",
    "db_file_path",
    "release_snap_dbs_parse_rules",
    "lock_fail_gives_err_locked",
    "lock_wait_until_released",
    "no_cleanup_without_lock",
    "load_bounds_broken_files",
    "prune_keeps_valid_broken_files",
    "list_reports_kinds_and_verdicts",
    "real_etcd_fixtures",
    "read_missing_is_not_found",
];

/// The guard: [`ENTRIES`] names every body of this file; `run` and `excluded` are disjoint,
/// together exactly [`ENTRIES`], and every exclusion says why.
pub fn assert_covered(runner: &str, run: &[&str], excluded: &[(&str, &str)]) {
    let mut all: Vec<&str> = run.to_vec();
    for (name, why) in excluded {
        assert!(
            !why.trim().is_empty(),
            "{runner}: exclusion of {name} gives no reason"
        );
        assert!(
            !run.contains(name),
            "{runner}: {name} both run and excluded"
        );
        all.push(name);
    }
    // ENTRIES itself is every `pub async fn name<F: Folder>(f: &F) {` of this file.
    let mut bodies: Vec<&str> = include_str!("mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub async fn "))
        .filter_map(|l| l.strip_suffix("<F: Folder>(f: &F) {"))
        .collect();
    let mut want: Vec<&str> = ENTRIES.to_vec();
    bodies.sort_unstable();
    want.sort_unstable();
    assert_eq!(bodies, want, "ENTRIES must list every suite body");
    all.sort_unstable();
    want.sort_unstable();
    assert_eq!(
        all, want,
        "{runner}: run + excluded must be exactly the suite's entries"
    );
}

/// Native runner: one `#[test]` per entry (driven by `futures_executor::block_on`) on the
/// folder `$make` evaluates to, plus the guard test. Expand inside a module of its own.
#[macro_export]
macro_rules! snapshotter_suite_native {
    (
        runner: $runner:literal,
        folder: $make:expr,
        run: [$($name:ident),* $(,)?],
        excluded: [$($ex:ident: $why:literal),* $(,)?] $(,)?
    ) => {
        $(
            #[test]
            fn $name() {
                futures_executor::block_on(async {
                    let f = $make;
                    $crate::suite::$name(&f).await;
                    $crate::suite::Folder::finish(f).await;
                });
            }
        )*
        #[test]
        fn suite_entries_all_run_or_excluded() {
            $crate::suite::assert_covered(
                $runner,
                &[$(stringify!($name)),*],
                &[$((stringify!($ex), $why)),*],
            );
        }
    };
}

/// wasm runner: one `#[wasm_bindgen_test]` per entry on the folder the future `$make`
/// resolves to, plus the guard test. Expand inside a module of its own.
#[macro_export]
macro_rules! snapshotter_suite_wasm {
    (
        runner: $runner:literal,
        folder: $make:expr,
        run: [$($name:ident),* $(,)?],
        excluded: [$($ex:ident: $why:literal),* $(,)?] $(,)?
    ) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $name() {
                let f = $make.await;
                $crate::suite::$name(&f).await;
                $crate::suite::Folder::finish(f).await;
            }
        )*
        #[wasm_bindgen_test::wasm_bindgen_test]
        fn suite_entries_all_run_or_excluded() {
            $crate::suite::assert_covered(
                $runner,
                &[$(stringify!($name)),*],
                &[$((stringify!($ex), $why)),*],
            );
        }
    };
}

/// Every entry, none excluded, through `$runner_macro` ([`snapshotter_suite_native!`] or
/// [`snapshotter_suite_wasm!`]): what a backend that supports everything runs. Backends that
/// must exclude entries list them explicitly instead.
#[macro_export]
macro_rules! snapshotter_suite_all {
    ($runner_macro:ident, $runner:literal, $make:expr) => {
        $crate::$runner_macro!(
            runner: $runner,
            folder: $make,
            run: [
                save_and_load,
                bad_crc,
                failback,
                snap_names,
                load_newest_snap,
                no_snapshot,
                empty_snapshot,
                all_snapshot_broken,
                release_snap_dbs,
                save_snap_index_zero_is_noop,
                save_snap_overwrites,
                mixed_directory_as_etcd,
                mixed_directory_default_open,
                save_db_from_cases,
                save_db_from_keeps_typed_reader_errors,
                save_db_from_streams_large,
                db_file_path,
                release_snap_dbs_parse_rules,
                lock_fail_gives_err_locked,
                lock_wait_until_released,
                no_cleanup_without_lock,
                load_bounds_broken_files,
                prune_keeps_valid_broken_files,
                list_reports_kinds_and_verdicts,
                real_etcd_fixtures,
                read_missing_is_not_found,
            ],
            excluded: [],
        );
    };
}

// ---- helpers ---------------------------------------------------------------------------------

/// etcd's `testSnap`.
pub fn test_snap() -> Snapshot {
    snap(1, 1, Some(b"some snapshot"), &[1, 2, 3])
}

pub fn snap(term: u64, index: u64, data: Option<&[u8]>, voters: &[u64]) -> Snapshot {
    Snapshot {
        data: data.map(Bytes::copy_from_slice),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: voters.to_vec(),
                ..Default::default()
            },
            index,
            term,
        },
    }
}

fn wal(term: u64, index: u64) -> WalSnapshot {
    WalSnapshot { index, term }
}

const G1_NAME: &str = "0000000000000001-0000000000000001.snap";

/// Opens with the default options (lock, tmp cleanup, max_broken 5).
async fn open<F: Folder>(f: &F) -> Snapshotter<F::S> {
    Snapshotter::open(f.storage(), Options::default())
        .await
        .expect("open")
}

/// Names starting with `tmp`.
pub fn tmp_names(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| n.starts_with("tmp"))
        .cloned()
        .collect()
}

/// Byte `i` of a generated stream: cheap, position-dependent, catches reordering.
pub fn byte_at(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 7) as u8
}

/// An [`AsyncRead`] of `len` generated bytes, never held whole in memory.
pub struct Generated {
    pos: u64,
    len: u64,
}

impl Generated {
    pub fn new(len: u64) -> Self {
        Generated { pos: 0, len }
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = (self.len - self.pos).min(buf.len() as u64) as usize;
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = byte_at(self.pos + k as u64);
        }
        self.pos += n as u64;
        Poll::Ready(Ok(n))
    }
}

/// Streams `name` back and checks it equals `Generated::new(len)`.
pub async fn assert_generated(s: &impl Storage, name: &str, len: u64) {
    let mut r = s.open_read(name).await.unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut pos = 0u64;
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        for (k, b) in buf[..n].iter().enumerate() {
            assert_eq!(
                *b,
                byte_at(pos + k as u64),
                "{name}: byte {}",
                pos + k as u64
            );
        }
        pos += n as u64;
    }
    assert_eq!(pos, len, "{name}: length");
}

/// A reader that yields `data` and then fails with "boom".
struct FailAfter {
    data: Cursor<Vec<u8>>,
}

impl AsyncRead for FailAfter {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.data).poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(io::Error::other("boom"))),
            other => other,
        }
    }
}

// ---- etcd's snapshotter_test.go (etcdserver/api/snap/) ---------------------------------------

pub async fn save_and_load<F: Folder>(f: &F) {
    let ss = open(f).await;
    ss.save_snap(&test_snap()).await.unwrap();
    assert_eq!(ss.load().await.unwrap(), test_snap());
    // Byte-exact with etcd (G1, tests/pb_golden.rs), and no temp file left by the atomic write.
    let bytes = f.get(G1_NAME).await.unwrap();
    assert_eq!(bytes.len(), 39);
    assert_eq!(&bytes[..7], &[0x08, 0xad, 0xe0, 0xaa, 0xc9, 0x0a, 0x12]);
    assert_eq!(bytes, codec::encode_snap_file(&test_snap()));
    assert_eq!(f.names().await, [G1_NAME]);
}

/// etcd switches the CRC table; flipping the stored CRC is the same test without globals.
pub async fn bad_crc<F: Folder>(f: &F) {
    let ss = open(f).await;
    ss.save_snap(&test_snap()).await.unwrap();
    let file: SnapFile = pb::decode(Bytes::from(f.get(G1_NAME).await.unwrap())).unwrap();
    let flipped = SnapFile {
        crc: file.crc ^ 1,
        data: file.data,
    };
    f.put(G1_NAME, &pb::encode(&flipped)).await;
    let err = ss.read(G1_NAME).await.unwrap_err();
    assert!(matches!(err, Error::CrcMismatch), "{err:?}");
    assert_eq!(err.to_string(), "snap: crc mismatch");
}

pub async fn failback<F: Folder>(f: &F) {
    let junk = "000000000000ffff-000000000000ffff-000000000000ffff.snap";
    f.put(junk, b"bad data").await;
    let ss = open(f).await;
    ss.save_snap(&test_snap()).await.unwrap();
    assert_eq!(ss.load().await.unwrap(), test_snap());
    assert_eq!(
        f.names().await,
        [G1_NAME.to_string(), format!("{junk}.broken")],
        "the junk file is quarantined, nothing else touched"
    );
}

/// `snapNames` order (byte-wise descending) seen through Load: `5.snap` wins, and
/// LoadNewestAvailable walks down past valid-but-unmatched names without touching them.
pub async fn snap_names<F: Folder>(f: &F) {
    for i in 1..=5u64 {
        let file = codec::encode_snap_file(&snap(1, i, None, &[1]));
        f.put(&format!("{i}.snap"), &file).await;
    }
    let ss = open(f).await;
    assert_eq!(ss.load().await.unwrap().metadata.index, 5);
    let got = ss.load_newest_available(&[wal(1, 2)]).await.unwrap();
    assert_eq!(got.metadata.index, 2);
    assert_eq!(
        f.names().await,
        ["1.snap", "2.snap", "3.snap", "4.snap", "5.snap"]
    );
    assert_eq!(
        names::snap_names_newest_first(["1.snap", "3.snap", "2.snap", "5.snap", "4.snap"]),
        ["5.snap", "4.snap", "3.snap", "2.snap", "1.snap"]
    );
}

pub async fn load_newest_snap<F: Folder>(f: &F) {
    let ss = open(f).await;
    ss.save_snap(&test_snap()).await.unwrap();
    let mut newest = test_snap();
    newest.metadata.index = 5;
    ss.save_snap(&newest).await.unwrap();

    // load-newest
    assert_eq!(ss.load().await.unwrap(), newest);
    // loadnewestavailable-newest
    let walsnaps = [wal(0, 0), wal(1, 1), wal(1, 5)];
    assert_eq!(ss.load_newest_available(&walsnaps).await.unwrap(), newest);
    // loadnewestavailable-newest-unsorted
    let unsorted = [wal(1, 5), wal(1, 1), wal(0, 0)];
    assert_eq!(ss.load_newest_available(&unsorted).await.unwrap(), newest);
    // loadnewestavailable-previous
    let previous = [wal(0, 0), wal(1, 1)];
    assert_eq!(
        ss.load_newest_available(&previous).await.unwrap(),
        test_snap()
    );
    // Nothing matches: ErrNoSnapshot, and the unmatched valid files stay untouched.
    let err = ss.load_newest_available(&[wal(9, 9)]).await.unwrap_err();
    assert!(matches!(err, Error::NoSnapshot), "{err:?}");
    assert_eq!(f.names().await.len(), 2);
}

pub async fn no_snapshot<F: Folder>(f: &F) {
    let ss = open(f).await;
    let err = ss.load().await.unwrap_err();
    assert!(matches!(err, Error::NoSnapshot), "{err:?}");
    assert_eq!(err.to_string(), "snap: no available snapshot");
    assert_eq!(err.code(), "ERR_NO_SNAPSHOT");
}

pub async fn empty_snapshot<F: Folder>(f: &F) {
    f.put("1.snap", b"").await;
    let ss = open(f).await;
    let err = ss.read("1.snap").await.unwrap_err();
    assert!(matches!(err, Error::EmptySnapshot), "{err:?}");
    assert_eq!(err.to_string(), "snap: empty snapshot");
    assert_eq!(err.code(), "ERR_EMPTY_SNAPSHOT");
}

pub async fn all_snapshot_broken<F: Folder>(f: &F) {
    f.put("1.snap", b"bad").await;
    let ss = open(f).await;
    let err = ss.load().await.unwrap_err();
    assert!(matches!(err, Error::NoSnapshot), "{err:?}");
    assert_eq!(f.names().await, ["1.snap.broken"]);
    assert_eq!(f.get("1.snap.broken").await.unwrap(), b"bad");
}

pub async fn release_snap_dbs<F: Folder>(f: &F) {
    for i in [100u64, 200, 300, 400] {
        f.put(&names::db_name(i), b"db").await;
    }
    let ss = open(f).await;
    ss.release_snap_dbs(&snap(1, 300, None, &[])).await.unwrap();
    assert_eq!(
        f.names().await,
        [names::db_name(300), names::db_name(400)],
        "100 and 200 released, 300 and 400 kept"
    );
}

// ---- more cases, answers from runs of etcd's own code ----------------------------------------

pub async fn save_snap_index_zero_is_noop<F: Folder>(f: &F) {
    let ss = open(f).await;
    ss.save_snap(&snap(5, 0, Some(b"data anyway"), &[1]))
        .await
        .unwrap();
    assert!(f.names().await.is_empty());
}

/// Saving the same name again replaces the file whole.
pub async fn save_snap_overwrites<F: Folder>(f: &F) {
    let ss = open(f).await;
    ss.save_snap(&test_snap()).await.unwrap();
    let other = snap(1, 1, Some(b"other data"), &[7]);
    ss.save_snap(&other).await.unwrap();
    assert_eq!(ss.load().await.unwrap(), other);
    assert_eq!(f.names().await, [G1_NAME]);
}

async fn mixed_dir<F: Folder>(f: &F) {
    let good = codec::encode_snap_file(&snap(2, 3, Some(b"x"), &[1]));
    f.put("db.tmp.123", b"defrag").await;
    f.put("tmp12345", b"partial").await;
    f.put("db", b"live").await;
    f.put("0000000000000003-0000000000000001.snap", b"junk")
        .await;
    f.mkdir("sub.snap").await;
    f.put("0000000000000002-0000000000000003.snap", &good).await;
}

/// etcd's Load on the mixed directory: `db.tmp.123` deleted, `tmp12345` and `db` kept, junk
/// and the directory `sub.snap` renamed `.broken`, term 2 / index 3. Opening without the tmp
/// cleanup gives exactly etcd's result.
pub async fn mixed_directory_as_etcd<F: Folder>(f: &F) {
    mixed_dir(f).await;
    let opts = Options {
        clean_tmp_on_open: false,
        ..Options::default()
    };
    let ss = Snapshotter::open(f.storage(), opts).await.unwrap();
    let got = ss.load().await.unwrap();
    assert_eq!((got.metadata.term, got.metadata.index), (2, 3));
    assert_eq!(
        f.names().await,
        [
            "0000000000000002-0000000000000003.snap",
            "0000000000000003-0000000000000001.snap.broken",
            "db",
            "sub.snap.broken",
            "tmp12345",
        ]
    );
}

/// **Differs from etcd:** the default open also removes `tmp12345` (an interrupted write),
/// as etcd 3.4.20+ does at server start.
pub async fn mixed_directory_default_open<F: Folder>(f: &F) {
    mixed_dir(f).await;
    let ss = open(f).await;
    let names = f.names().await;
    assert!(tmp_names(&names).is_empty(), "open removes tmp*");
    assert!(
        names.contains(&"db.tmp.123".to_string()),
        "db.tmp* is left to Load, as in etcd"
    );
    let got = ss.load().await.unwrap();
    assert_eq!((got.metadata.term, got.metadata.index), (2, 3));
    assert_eq!(
        f.names().await,
        [
            "0000000000000002-0000000000000003.snap",
            "0000000000000003-0000000000000001.snap.broken",
            "db",
            "sub.snap.broken",
        ]
    );
}

pub async fn save_db_from_cases<F: Folder>(f: &F) {
    let ss = open(f).await;
    // New: streamed, returns the byte count (as etcd's receiver stores G9 + `hello`, index 10).
    let n = ss
        .save_db_from(Cursor::new(b"hello".to_vec()), 10)
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(f.get("000000000000000a.snap.db").await.unwrap(), b"hello");
    // Already exists: Ok(n) and the old content stays.
    let n = ss
        .save_db_from(Cursor::new(b"different".to_vec()), 10)
        .await
        .unwrap();
    assert_eq!(n, 9);
    assert_eq!(f.get("000000000000000a.snap.db").await.unwrap(), b"hello");
    // Empty db.
    let n = ss.save_db_from(Cursor::new(Vec::new()), 11).await.unwrap();
    assert_eq!(n, 0);
    assert_eq!(f.get("000000000000000b.snap.db").await.unwrap(), b"");
    // Reader error after 3 bytes: the error, and no file (no temp either).
    let err = ss
        .save_db_from(
            FailAfter {
                data: Cursor::new(b"abc".to_vec()),
            },
            12,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
    assert_eq!(
        f.names().await,
        ["000000000000000a.snap.db", "000000000000000b.snap.db"]
    );
}

/// A typed reader error (e.g. the ExactReader's short read) comes back typed.
pub async fn save_db_from_keeps_typed_reader_errors<F: Folder>(f: &F) {
    let ss = open(f).await;
    let body = etcd_snap::ExactReader::new(Cursor::new(b"hello".to_vec()), 10000);
    let err = ss.save_db_from(body, 1).await.unwrap_err();
    assert!(matches!(err, Error::ShortRead { .. }), "{err:?}");
    let body = etcd_snap::ExactReader::new(Cursor::new(b"hello".to_vec()), 1);
    let err = ss.save_db_from(body, 1).await.unwrap_err();
    assert!(matches!(err, Error::ExpectEof), "{err:?}");
    let left = f.names().await;
    assert!(left.is_empty(), "{left:?}");
}

/// A db body of several MiB goes through the writer in pieces and streams back intact; a
/// stream failing after MiBs leaves nothing behind.
pub async fn save_db_from_streams_large<F: Folder>(f: &F) {
    let ss = open(f).await;
    let len = (5 << 20) + 7;
    assert_eq!(ss.save_db_from(Generated::new(len), 9).await.unwrap(), len);
    assert_generated(&f.storage(), "0000000000000009.snap.db", len).await;
    let failing = FailAfter {
        data: Cursor::new(vec![7u8; 3 << 20]),
    };
    let e = ss.save_db_from(failing, 10).await.unwrap_err();
    assert!(e.to_string().contains("boom"), "{e}");
    assert_eq!(f.names().await, ["0000000000000009.snap.db"]);
}

pub async fn db_file_path<F: Folder>(f: &F) {
    let ss = open(f).await;
    ss.save_db_from(Cursor::new(b"hello".to_vec()), 10)
        .await
        .unwrap();
    let path = ss.db_file_path(10).await.unwrap();
    assert!(path.ends_with("000000000000000a.snap.db"), "{path}");
    assert_eq!(path, f.storage().path_of("000000000000000a.snap.db"));
    let err = ss.db_file_path(11).await.unwrap_err();
    assert!(matches!(err, Error::NoDbSnapshot), "{err:?}");
    assert_eq!(err.to_string(), "snap: snapshot file doesn't exist");
    assert_eq!(err.code(), "ERR_NO_DB_SNAPSHOT");
}

/// Verified with etcd, Index 100: 1, 0x63 and `1.snap.db` deleted; 0x64, 0xfff…f and
/// `zz.snap.db` kept.
pub async fn release_snap_dbs_parse_rules<F: Folder>(f: &F) {
    for name in [
        "0000000000000001.snap.db",
        "0000000000000063.snap.db",
        "1.snap.db",
        "0000000000000064.snap.db",
        "ffffffffffffffff.snap.db",
        "zz.snap.db",
        "0000000000000002-0000000000000001.snap",
    ] {
        f.put(name, b"x").await;
    }
    let ss = open(f).await;
    ss.release_snap_dbs(&snap(1, 100, None, &[])).await.unwrap();
    assert_eq!(
        f.names().await,
        [
            "0000000000000002-0000000000000001.snap",
            "0000000000000064.snap.db",
            "ffffffffffffffff.snap.db",
            "zz.snap.db",
        ]
    );
}

/// A second locking open is refused while the first lives, and succeeds at once after the
/// first is dropped (no delayed release).
pub async fn lock_fail_gives_err_locked<F: Folder>(f: &F) {
    let first = open(f).await;
    let err = Snapshotter::open(f.storage(), Options::default())
        .await
        .err()
        .expect("second open must fail while the first holds the lock");
    assert_eq!(err.code(), "ERR_LOCKED");
    drop(first);
    open(f).await;
}

/// LockMode::Wait: the second open waits while the first Snapshotter lives, and completes
/// once it is dropped, seeing what the first saved.
pub async fn lock_wait_until_released<F: Folder>(f: &F) {
    let first = open(f).await;
    let opts = Options {
        lock: Some(LockMode::Wait),
        ..Options::default()
    };
    let mut second = Box::pin(Snapshotter::open(f.storage(), opts));
    assert!((&mut second).now_or_never().is_none(), "must wait");
    let (second, ()) = join(second, async move {
        first.save_snap(&test_snap()).await.unwrap();
        drop(first);
    })
    .await;
    assert_eq!(second.unwrap().load().await.unwrap(), test_snap());
}

/// Without the lock, open removes nothing (cleanup could race a live writer).
pub async fn no_cleanup_without_lock<F: Folder>(f: &F) {
    f.put("tmp1", b"t").await;
    for i in 0..7 {
        f.put(&format!("{i}.snap.broken"), b"b").await;
    }
    let opts = Options {
        lock: None,
        ..Options::default()
    };
    let ss = Snapshotter::open(f.storage(), opts).await.unwrap();
    assert_eq!(f.names().await.len(), 8);
    drop(ss);
    // With the lock: tmp1 removed, the 5 newest broken names kept.
    let _ss = open(f).await;
    assert_eq!(
        f.names().await,
        [
            "2.snap.broken",
            "3.snap.broken",
            "4.snap.broken",
            "5.snap.broken",
            "6.snap.broken",
        ]
    );
}

/// **Differs from etcd:** quarantined files are bounded to `max_broken` (#20732).
pub async fn load_bounds_broken_files<F: Folder>(f: &F) {
    let good = codec::encode_snap_file(&snap(1, 1, None, &[1]));
    f.put("0000000000000001-0000000000000001.snap", &good).await;
    for i in 2..=4u64 {
        f.put(&names::snap_name(1, i), b"junk").await;
    }
    let opts = Options {
        max_broken: Some(2),
        ..Options::default()
    };
    let ss = Snapshotter::open(f.storage(), opts).await.unwrap();
    assert_eq!(ss.load().await.unwrap().metadata.index, 1);
    assert_eq!(
        f.names().await,
        [
            "0000000000000001-0000000000000001.snap".to_string(),
            format!("{}.broken", names::snap_name(1, 3)),
            format!("{}.broken", names::snap_name(1, 4)),
        ]
    );
}

/// Pruning never removes a `.broken` file that reads as a valid snapshot (a good snapshot
/// quarantined by a passing read error), however old its name.
pub async fn prune_keeps_valid_broken_files<F: Folder>(f: &F) {
    let valid = codec::encode_snap_file(&snap(1, 1, None, &[1]));
    f.put("0000000000000001-0000000000000001.snap.broken", &valid)
        .await;
    for i in 2..=6u64 {
        f.put(&format!("{}.broken", names::snap_name(1, i)), b"junk")
            .await;
    }
    let opts = Options {
        max_broken: Some(2),
        ..Options::default()
    };
    let _ss = Snapshotter::open(f.storage(), opts).await.unwrap();
    assert_eq!(
        f.names().await,
        [
            "0000000000000001-0000000000000001.snap.broken".to_string(),
            format!("{}.broken", names::snap_name(1, 5)),
            format!("{}.broken", names::snap_name(1, 6)),
        ]
    );
}

pub async fn list_reports_kinds_and_verdicts<F: Folder>(f: &F) {
    mixed_dir(f).await;
    f.put("000000000000000a.snap.db", b"hello").await;
    f.put("x.snap.broken", b"b").await;
    let ss = Snapshotter::open(
        f.storage(),
        Options {
            lock: None,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let before = f.names().await;
    let list = ss.list().await.unwrap();
    assert_eq!(f.names().await, before, "list renames and removes nothing");
    let names: Vec<&str> = list.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, before);
    let by = |n: &str| list.iter().find(|f| f.name == n).unwrap().clone();
    let good = by("0000000000000002-0000000000000003.snap");
    assert_eq!((good.term, good.index), (Some(2), Some(3)));
    assert_eq!(good.kind, names::NameKind::Snap);
    assert_eq!(good.verdict, Some(Ok(())));
    let junk = by("0000000000000003-0000000000000001.snap");
    let failure = junk.verdict.unwrap().unwrap_err();
    assert_eq!(failure.message, "unexpected EOF");
    assert_eq!(failure.code, "ERR_DECODE");
    let sub = by("sub.snap");
    assert!(sub.is_dir);
    assert_eq!((sub.term, sub.index), (None, None));
    assert!(sub.verdict.unwrap().is_err());
    let db = by("000000000000000a.snap.db");
    assert_eq!(
        (db.kind, db.index, db.size, db.verdict.clone()),
        (names::NameKind::Db(10), Some(10), 5, None)
    );
    assert_eq!(by("db").kind, names::NameKind::LiveDb);
    assert_eq!(by("db.tmp.123").kind, names::NameKind::DbTmp);
    assert_eq!(by("tmp12345").kind, names::NameKind::Tmp);
    assert_eq!(by("x.snap.broken").kind, names::NameKind::Broken);
}

// ---- real etcd files and errors (from the wasm runners' former subsets) ----------------------

/// etcd 3.4.23's own files (vendored fixtures, compiled in): read byte-exact, a corrupt one
/// refused with etcd's words, Load and LoadNewestAvailable pick etcd's choices.
pub async fn real_etcd_fixtures<F: Folder>(f: &F) {
    let single: [(&str, &[u8]); 2] = [
        (
            "0000000000000002-0000000000000033.snap",
            include_bytes!(
                "../../fixtures/etcd-3.4.23/single/member-snap/0000000000000002-0000000000000033.snap"
            ),
        ),
        (
            "0000000000000002-0000000000000134.snap",
            include_bytes!(
                "../../fixtures/etcd-3.4.23/single/member-snap/0000000000000002-0000000000000134.snap"
            ),
        ),
    ];
    let ss = open(f).await;
    for (name, bytes) in single {
        f.put(name, bytes).await;
        // Byte-exact round trip of etcd's own file.
        let snap = ss.read(name).await.unwrap();
        assert_eq!(codec::encode_snap_file(&snap), bytes, "{name}");
    }
    f.put(
        "0000000000000002-0000000000000065.snap",
        include_bytes!(
            "../../fixtures/etcd-3.4.23/golden/corrupt/0000000000000002-0000000000000065.snap"
        ),
    )
    .await;
    let e = ss
        .read("0000000000000002-0000000000000065.snap")
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "snap: crc mismatch");
    let snap = ss.load().await.unwrap();
    assert_eq!((snap.metadata.term, snap.metadata.index), (2, 308));
    let snap = ss.load_newest_available(&[wal(2, 0x33)]).await.unwrap();
    assert_eq!(snap.metadata.index, 0x33);
}

/// A missing file: `ERR_NOT_FOUND`, worded like Go's `open <path>: no such file or directory`.
pub async fn read_missing_is_not_found<F: Folder>(f: &F) {
    let ss = open(f).await;
    let e = ss.read("missing.snap").await.unwrap_err();
    assert_eq!(e.code(), "ERR_NOT_FOUND", "{e}");
    assert_eq!(e.io_kind(), Some(IoErrorKind::NotFound), "{e}");
    assert!(
        e.to_string()
            .ends_with("missing.snap: no such file or directory"),
        "{e}"
    );
    assert!(
        e.to_string().contains(&f.storage().path_of("missing.snap")),
        "{e}"
    );
}
