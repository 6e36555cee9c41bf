//! The conformance suite every [`Storage`] backend runs (in the style of `object_store`'s
//! `integration.rs`).
//!
//! Each check is an `async fn` taking a **fresh, empty** storage and panicking (with the
//! check's name) on a violation. They use no threads, timers or temp dirs, so the same suite
//! runs natively under `cargo test` and in wasm under `wasm-bindgen-test` (Node, Chromium),
//! on any single-threaded executor. [`run_all`] runs every check, each on a new storage from
//! a factory; [`CHECKS`] lists their names.
//!
//! ```
//! # futures_executor::block_on(async {
//! use etcd_snap::storage::{MemoryStorage, conformance};
//! conformance::run_all(|| async { MemoryStorage::new() }).await;
//! # });
//! ```

use std::cell::Cell;
use std::future::Future;
use std::task::Poll;

use futures_util::AsyncReadExt;

use super::{AtomicWrite, LockMode, Storage};
use crate::error::{IoErrorKind, Result};

/// Runs every check, each on a fresh empty storage from `make`.
pub async fn run_all<S, F, Fut>(mut make: F)
where
    S: Storage,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    for name in CHECKS {
        run_one(name, make().await).await;
    }
}

/// Calls `$m!(empty_list, commit_makes_visible, ...)` with the name of every check, in the
/// order [`run_all`] runs them: the one list, from which [`CHECKS`], [`run_one`] and each
/// backend's one-test-per-check suite are made
/// (`etcd_snap::storage_conformance_checks!(my_tests)`).
#[macro_export]
macro_rules! storage_conformance_checks {
    ($m:ident) => {
        $m!(
            empty_list,
            commit_makes_visible,
            nothing_visible_before_commit,
            abort_leaves_nothing,
            drop_leaves_nothing,
            commit_overwrites,
            zero_length_file,
            streaming_read_large,
            page_source_reads_what_was_written,
            missing_names_are_not_found,
            rename_moves,
            rename_replaces,
            remove_removes,
            unusual_names_round_trip,
            concurrent_writers,
            sync_dir_succeeds,
            lock_fail_then_release,
            lock_wait_until_release,
        );
    };
}

macro_rules! checks {
    ($($check:ident),* $(,)?) => {
        /// Names of every check, in the order [`run_all`] runs them.
        pub const CHECKS: &[&str] = &[$(stringify!($check)),*];

        /// Runs the check called `name` (one of [`CHECKS`]) on `s`, which must be fresh and
        /// empty.
        ///
        /// # Panics
        /// On a violation, or if `name` is unknown.
        pub async fn run_one<S: Storage>(name: &str, s: S) {
            match name {
                $(stringify!($check) => $check(&s).await,)*
                other => panic!("unknown conformance check {other:?}"),
            }
        }
    };
}

storage_conformance_checks!(checks);

fn ok<T>(check: &str, what: &str, r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{check}: {what} failed: {e} ({})", e.code()))
}

/// Writes `bytes` under `name` in one write and commits.
async fn put(s: &impl Storage, check: &str, name: &str, bytes: &[u8]) {
    let mut w = ok(check, "create_atomic", s.create_atomic(name).await);
    ok(check, "write", w.write(bytes).await);
    ok(check, "commit", w.commit().await);
}

async fn sorted_list(s: &impl Storage, check: &str) -> Vec<String> {
    let mut names = ok(check, "list", s.list().await);
    names.sort();
    names
}

/// The listing without temp files (which a backend may show while a writer is open).
async fn visible(s: &impl Storage, check: &str) -> Vec<String> {
    let names = sorted_list(s, check).await;
    names
        .into_iter()
        .filter(|n| !n.starts_with("tmp"))
        .collect()
}

async fn read_all(s: &impl Storage, check: &str, name: &str) -> Vec<u8> {
    ok(check, "read", s.read(name).await)
}

/// A deterministic pattern that catches reordered or repeated chunks.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

/// One `Poll::Pending` (after waking itself), so other futures in a `join` get to run.
async fn yield_now() {
    let mut yielded = false;
    futures_util::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// A fresh storage lists nothing.
pub async fn empty_list(s: &impl Storage) {
    let c = "empty_list";
    assert_eq!(sorted_list(s, c).await, Vec::<String>::new(), "{c}");
    assert!(!ok(c, "exists", s.exists("a").await), "{c}");
}

/// Commit publishes exactly the bytes written, under the final name only.
pub async fn commit_makes_visible(s: &impl Storage) {
    let c = "commit_makes_visible";
    let mut w = ok(c, "create_atomic", s.create_atomic("a.snap").await);
    ok(c, "write", w.write(b"hello ").await);
    ok(c, "write", w.write(b"").await);
    ok(c, "write", w.write(b"world").await);
    ok(c, "commit", w.commit().await);
    assert_eq!(sorted_list(s, c).await, ["a.snap"], "{c}: list");
    assert_eq!(read_all(s, c, "a.snap").await, b"hello world", "{c}: read");
    let m = ok(c, "stat", s.stat("a.snap").await);
    assert_eq!(m.size, 11, "{c}: stat size");
    assert!(!m.is_dir, "{c}: stat is_dir");
    assert!(ok(c, "exists", s.exists("a.snap").await), "{c}: exists");
}

/// While a writer is open, the final name does not exist; temp entries start with `tmp`.
pub async fn nothing_visible_before_commit(s: &impl Storage) {
    let c = "nothing_visible_before_commit";
    let mut w = ok(c, "create_atomic", s.create_atomic("b.snap.db").await);
    ok(c, "write", w.write(&pattern(100_000)).await);
    assert!(!ok(c, "exists", s.exists("b.snap.db").await), "{c}: exists");
    assert!(
        s.read("b.snap.db").await.is_err_and(|e| e.is_not_found()),
        "{c}: read before commit"
    );
    for name in sorted_list(s, c).await {
        assert!(name.starts_with("tmp"), "{c}: unexpected entry {name:?}");
    }
    ok(c, "commit", w.commit().await);
    assert_eq!(sorted_list(s, c).await, ["b.snap.db"], "{c}: after commit");
}

/// Abort removes everything the writer made and leaves an existing file untouched.
pub async fn abort_leaves_nothing(s: &impl Storage) {
    let c = "abort_leaves_nothing";
    let mut w = ok(c, "create_atomic", s.create_atomic("a").await);
    ok(c, "write", w.write(b"doomed").await);
    ok(c, "abort", w.abort().await);
    assert_eq!(sorted_list(s, c).await, Vec::<String>::new(), "{c}: fresh");

    put(s, c, "a", b"keep").await;
    let mut w = ok(c, "create_atomic", s.create_atomic("a").await);
    ok(c, "write", w.write(b"doomed").await);
    ok(c, "abort", w.abort().await);
    assert_eq!(sorted_list(s, c).await, ["a"], "{c}: existing");
    assert_eq!(read_all(s, c, "a").await, b"keep", "{c}: existing bytes");
}

/// Dropping an unfinished writer is an abort.
pub async fn drop_leaves_nothing(s: &impl Storage) {
    let c = "drop_leaves_nothing";
    put(s, c, "a", b"keep").await;
    {
        let mut w = ok(c, "create_atomic", s.create_atomic("a").await);
        ok(c, "write", w.write(b"doomed").await);
        let mut w2 = ok(c, "create_atomic", s.create_atomic("b").await);
        ok(c, "write", w2.write(b"doomed").await);
    }
    assert_eq!(visible(s, c).await, ["a"], "{c}: visible");
    assert_eq!(read_all(s, c, "a").await, b"keep", "{c}: bytes");
    // Backends clean up synchronously where they can; whatever is left must look temporary.
    for name in sorted_list(s, c).await {
        assert!(
            name == "a" || name.starts_with("tmp"),
            "{c}: leftover {name:?}"
        );
    }
}

/// Commit replaces an existing file, longer or shorter.
pub async fn commit_overwrites(s: &impl Storage) {
    let c = "commit_overwrites";
    put(s, c, "a", b"a much longer first version").await;
    put(s, c, "a", b"short").await;
    assert_eq!(read_all(s, c, "a").await, b"short", "{c}");
    assert_eq!(ok(c, "stat", s.stat("a").await).size, 5, "{c}: size");
    put(s, c, "a", b"and a longer third version").await;
    assert_eq!(
        read_all(s, c, "a").await,
        b"and a longer third version",
        "{c}"
    );
    assert_eq!(sorted_list(s, c).await, ["a"], "{c}: list");
}

/// A commit with no writes makes an empty file.
pub async fn zero_length_file(s: &impl Storage) {
    let c = "zero_length_file";
    let w = ok(c, "create_atomic", s.create_atomic("empty.snap").await);
    ok(c, "commit", w.commit().await);
    assert_eq!(sorted_list(s, c).await, ["empty.snap"], "{c}: list");
    assert_eq!(read_all(s, c, "empty.snap").await, b"", "{c}: read");
    assert_eq!(
        ok(c, "stat", s.stat("empty.snap").await).size,
        0,
        "{c}: size"
    );
    let mut r = ok(c, "open_read", s.open_read("empty.snap").await);
    let mut buf = [0u8; 16];
    let n = r.read(&mut buf).await.expect("zero_length_file: read");
    assert_eq!(n, 0, "{c}: stream");
}

/// A multi-MiB file written in many small writes streams back in chunks identical to a whole
/// read.
pub async fn streaming_read_large(s: &impl Storage) {
    let c = "streaming_read_large";
    let data = pattern(3 * 1024 * 1024 + 12_345);
    let mut w = ok(c, "create_atomic", s.create_atomic("big.snap.db").await);
    for chunk in data.chunks(4093) {
        ok(c, "write", w.write(chunk).await);
    }
    ok(c, "commit", w.commit().await);
    assert_eq!(
        ok(c, "stat", s.stat("big.snap.db").await).size,
        data.len() as u64,
        "{c}: size"
    );
    let whole = read_all(s, c, "big.snap.db").await;
    assert!(whole == data, "{c}: whole read differs");

    for chunk_len in [1usize, 1000, 65_536, 1 << 20] {
        let mut r = ok(c, "open_read", s.open_read("big.snap.db").await);
        let mut got = Vec::with_capacity(data.len());
        let mut buf = vec![0u8; chunk_len];
        // 1-byte reads of the whole file would be slow: read a prefix only at that size.
        let limit = if chunk_len == 1 { 10_000 } else { data.len() };
        while got.len() < limit {
            let n = r.read(&mut buf).await.expect("streaming_read_large: read");
            if n == 0 {
                break;
            }
            assert!(n <= chunk_len, "{c}: overlong read");
            got.extend_from_slice(&buf[..n]);
        }
        if chunk_len > 1 {
            assert_eq!(r.read(&mut buf).await.expect("read at EOF"), 0, "{c}: EOF");
            assert!(
                got == data,
                "{c}: streamed ({chunk_len}-byte reads) differs"
            );
        } else {
            assert!(got == data[..got.len()], "{c}: 1-byte reads differ");
        }
    }
}

/// Positioned reads, where the backend has them, give the committed bytes at any offset, refuse
/// ranges past the end with an error, and a missing name is `NotFound` either way.
pub async fn page_source_reads_what_was_written(s: &impl Storage) {
    let c = "page_source_reads_what_was_written";
    let data = pattern(300_000);
    put(s, c, "db", &data).await;
    match s.page_source("absent").await {
        Err(e) => assert_eq!(e.io_kind(), Some(IoErrorKind::NotFound), "{c}: absent: {e}"),
        Ok(_) => panic!("{c}: page_source of a missing name succeeded"),
    }
    let Some(src) = ok(c, "page_source", s.page_source("db").await) else {
        return; // a streaming-only backend (documented on `Storage::page_source`)
    };
    assert_eq!(src.size(), data.len() as u64, "{c}: size");
    for (off, len) in [
        (0usize, 4096usize),
        (4096, 4096),
        (123_457, 70_000),
        (299_999, 1),
        (0, 300_000),
    ] {
        let got = ok(c, "read_at", src.read_at(off as u64, len));
        assert!(
            *got == data[off..off + len],
            "{c}: bytes at {off}+{len} differ"
        );
    }
    assert!(
        src.read_at(299_999, 2).is_err(),
        "{c}: a read past the end succeeded"
    );
    assert!(
        src.read_at(u64::MAX, 1).is_err(),
        "{c}: a read at u64::MAX succeeded"
    );
}

/// Every operation on a missing name fails with `NotFound`.
pub async fn missing_names_are_not_found(s: &impl Storage) {
    let c = "missing_names_are_not_found";
    put(s, c, "present", b"x").await;
    let nf = |what: &str, r: Result<()>| match r {
        Ok(()) => panic!("{c}: {what} of a missing name succeeded"),
        Err(e) => assert_eq!(e.io_kind(), Some(IoErrorKind::NotFound), "{c}: {what}: {e}"),
    };
    nf("read", s.read("missing").await.map(drop));
    nf("open_read", s.open_read("missing").await.map(drop));
    nf("stat", s.stat("missing").await.map(drop));
    nf("remove", s.remove("missing").await);
    nf("rename", s.rename("missing", "other").await);
    nf("rename", s.rename("missing", "present").await);
    assert!(!ok(c, "exists", s.exists("missing").await), "{c}: exists");
    assert_eq!(read_all(s, c, "present").await, b"x", "{c}: untouched");
    assert_eq!(sorted_list(s, c).await, ["present"], "{c}: list");
}

/// Rename moves a file to a new name.
pub async fn rename_moves(s: &impl Storage) {
    let c = "rename_moves";
    put(s, c, "a.snap", b"payload").await;
    ok(c, "rename", s.rename("a.snap", "a.snap.broken").await);
    ok(c, "sync_dir", s.sync_dir().await);
    assert_eq!(sorted_list(s, c).await, ["a.snap.broken"], "{c}: list");
    assert_eq!(read_all(s, c, "a.snap.broken").await, b"payload", "{c}");
    assert!(!ok(c, "exists", s.exists("a.snap").await), "{c}: old name");
}

/// Rename replaces an existing file.
pub async fn rename_replaces(s: &impl Storage) {
    let c = "rename_replaces";
    put(s, c, "a", b"from a").await;
    put(s, c, "b", b"old b, longer").await;
    ok(c, "rename", s.rename("a", "b").await);
    assert_eq!(sorted_list(s, c).await, ["b"], "{c}: list");
    assert_eq!(read_all(s, c, "b").await, b"from a", "{c}");
    assert_eq!(ok(c, "stat", s.stat("b").await).size, 6, "{c}: size");
}

/// Remove deletes one file and nothing else.
pub async fn remove_removes(s: &impl Storage) {
    let c = "remove_removes";
    put(s, c, "a", b"1").await;
    put(s, c, "b", b"2").await;
    ok(c, "remove", s.remove("a").await);
    ok(c, "sync_dir", s.sync_dir().await);
    assert_eq!(sorted_list(s, c).await, ["b"], "{c}: list");
    assert!(!ok(c, "exists", s.exists("a").await), "{c}: exists");
    assert!(
        s.remove("a").await.is_err_and(|e| e.is_not_found()),
        "{c}: second remove"
    );
}

/// Names with spaces and non-ASCII UTF-8 survive every operation.
pub async fn unusual_names_round_trip(s: &impl Storage) {
    let c = "unusual_names_round_trip";
    let names = [
        "with space.snap",
        "ünïcödé-日本語.snap.db",
        "emoji 🦀",
        " leading",
        "trailing ",
        "tab\there",
        "-dash",
        "a.b.c..d",
        "UPPER",
        "upper",
    ];
    for name in &names {
        put(s, c, name, name.as_bytes()).await;
        assert_eq!(read_all(s, c, name).await, name.as_bytes(), "{c}: {name:?}");
        assert_eq!(
            ok(c, "stat", s.stat(name).await).size,
            name.len() as u64,
            "{c}: {name:?}"
        );
    }
    let mut want: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(sorted_list(s, c).await, want, "{c}: list");
    let renamed = "renamed ✓";
    ok(c, "rename", s.rename(names[1], renamed).await);
    assert_eq!(read_all(s, c, renamed).await, names[1].as_bytes(), "{c}");
    for name in &names[2..] {
        ok(c, "remove", s.remove(name).await);
    }
    let mut want = vec![names[0].to_string(), renamed.to_string()];
    want.sort();
    assert_eq!(sorted_list(s, c).await, want, "{c}: after removes");
}

/// Two writers on one name: each commit publishes whole contents; the last commit wins.
pub async fn concurrent_writers(s: &impl Storage) {
    let c = "concurrent_writers";
    let mut w1 = ok(c, "create_atomic", s.create_atomic("x").await);
    let mut w2 = ok(c, "create_atomic", s.create_atomic("x").await);
    ok(c, "write", w1.write(b"first writer").await);
    ok(c, "write", w2.write(b"second").await);
    ok(c, "commit", w2.commit().await);
    assert_eq!(read_all(s, c, "x").await, b"second", "{c}");
    ok(c, "commit", w1.commit().await);
    assert_eq!(read_all(s, c, "x").await, b"first writer", "{c}");
    assert_eq!(sorted_list(s, c).await, ["x"], "{c}: list");
}

/// `sync_dir` works on an empty and a non-empty directory.
pub async fn sync_dir_succeeds(s: &impl Storage) {
    let c = "sync_dir_succeeds";
    ok(c, "sync_dir", s.sync_dir().await);
    put(s, c, "a", b"1").await;
    ok(c, "sync_dir", s.sync_dir().await);
    assert_eq!(sorted_list(s, c).await, ["a"], "{c}");
}

/// A second `Fail` lock is refused with `Locked` while the first is held, and granted after
/// the first is dropped.
pub async fn lock_fail_then_release(s: &impl Storage) {
    let c = "lock_fail_then_release";
    let g = ok(c, "lock", s.lock(LockMode::Fail).await);
    match s.lock(LockMode::Fail).await {
        Ok(_) => panic!("{c}: second lock succeeded while the first is held"),
        Err(e) => assert_eq!(e.io_kind(), Some(IoErrorKind::Locked), "{c}: {e}"),
    }
    // The lock does not stop this holder's own I/O.
    put(s, c, "a", b"1").await;
    drop(g);
    let g = ok(c, "lock after release", s.lock(LockMode::Fail).await);
    drop(g);
    drop(ok(c, "lock again", s.lock(LockMode::Wait).await));
}

/// A `Wait` lock completes only after the holder releases; works on one thread.
pub async fn lock_wait_until_release(s: &impl Storage) {
    let c = "lock_wait_until_release";
    let g = ok(c, "lock", s.lock(LockMode::Fail).await);
    let acquired = Cell::new(false);
    let released = Cell::new(false);
    let waiter = async {
        let l = ok(c, "wait lock", s.lock(LockMode::Wait).await);
        assert!(released.get(), "{c}: acquired before release");
        acquired.set(true);
        l
    };
    let holder = async {
        for _ in 0..20 {
            yield_now().await;
            assert!(!acquired.get(), "{c}: acquired while held");
        }
        released.set(true);
        drop(g);
    };
    let (l, ()) = futures_util::future::join(waiter, holder).await;
    assert!(acquired.get(), "{c}");
    match s.lock(LockMode::Fail).await {
        Ok(_) => panic!("{c}: lock granted while the waiter holds it"),
        Err(e) => assert_eq!(e.io_kind(), Some(IoErrorKind::Locked), "{c}: {e}"),
    }
    drop(l);
    drop(ok(
        c,
        "lock after waiter released",
        s.lock(LockMode::Fail).await,
    ));
}
