//! etcd's `snapshotter_test.go` ported (spec §9), plus the spec's "extra acceptance cases"
//! from runs of etcd's own code, against both backends.
#![cfg(not(target_arch = "wasm32"))]

#[path = "snapshotter_support/mod.rs"]
mod support;

use bytes::Bytes;
use etcd_snap::names;
use etcd_snap::pb::{self, SnapFile};
use etcd_snap::{
    ConfState, Error, LockMode, Options, Snapshot, SnapshotMetadata, Snapshotter, WalSnapshot,
};
use futures_util::io::{AsyncRead, Cursor};
use support::{Env, open, tmp_names};

/// etcd's `testSnap`.
fn test_snap() -> Snapshot {
    snap(1, 1, Some(b"some snapshot"), &[1, 2, 3])
}

fn snap(term: u64, index: u64, data: Option<&[u8]>, voters: &[u64]) -> Snapshot {
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

// ---- snapshotter_test.go ----

async fn save_and_load<E: Env>(env: E) {
    let ss = open(&env).await;
    ss.save_snap(&test_snap()).await.unwrap();
    assert_eq!(ss.load().await.unwrap(), test_snap());
    // Byte-exact with etcd (G1, spec §2.1), and no temp file left by the atomic write.
    let bytes = env.get(G1_NAME).unwrap();
    assert_eq!(bytes.len(), 39);
    assert_eq!(&bytes[..7], &[0x08, 0xad, 0xe0, 0xaa, 0xc9, 0x0a, 0x12]);
    assert_eq!(env.names(), [G1_NAME]);
}

/// etcd switches the CRC table; flipping the stored CRC is the same test without globals.
async fn bad_crc<E: Env>(env: E) {
    let ss = open(&env).await;
    ss.save_snap(&test_snap()).await.unwrap();
    let file: SnapFile = pb::decode(Bytes::from(env.get(G1_NAME).unwrap())).unwrap();
    let flipped = SnapFile {
        crc: file.crc ^ 1,
        data: file.data,
    };
    env.put(G1_NAME, &pb::encode(&flipped));
    let err = ss.read(G1_NAME).await.unwrap_err();
    assert!(matches!(err, Error::CrcMismatch), "{err:?}");
    assert_eq!(err.to_string(), "snap: crc mismatch");
}

async fn failback<E: Env>(env: E) {
    let junk = "000000000000ffff-000000000000ffff-000000000000ffff.snap";
    env.put(junk, b"bad data");
    let ss = open(&env).await;
    ss.save_snap(&test_snap()).await.unwrap();
    assert_eq!(ss.load().await.unwrap(), test_snap());
    assert_eq!(
        env.names(),
        [G1_NAME.to_string(), format!("{junk}.broken")],
        "the junk file is quarantined, nothing else touched"
    );
}

/// `snapNames` order (byte-wise descending) seen through Load: `5.snap` wins, and
/// LoadNewestAvailable walks down past valid-but-unmatched names without touching them.
async fn snap_names<E: Env>(env: E) {
    for i in 1..=5u64 {
        let file = etcd_snap::codec::encode_snap_file(&snap(1, i, None, &[1]));
        env.put(&format!("{i}.snap"), &file);
    }
    let ss = open(&env).await;
    assert_eq!(ss.load().await.unwrap().metadata.index, 5);
    let got = ss.load_newest_available(&[wal(1, 2)]).await.unwrap();
    assert_eq!(got.metadata.index, 2);
    assert_eq!(
        env.names(),
        ["1.snap", "2.snap", "3.snap", "4.snap", "5.snap"]
    );
    assert_eq!(
        names::snap_names_newest_first(["1.snap", "3.snap", "2.snap", "5.snap", "4.snap"]),
        ["5.snap", "4.snap", "3.snap", "2.snap", "1.snap"]
    );
}

async fn load_newest_snap<E: Env>(env: E) {
    let ss = open(&env).await;
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
    assert_eq!(env.names().len(), 2);
}

async fn no_snapshot<E: Env>(env: E) {
    let ss = open(&env).await;
    let err = ss.load().await.unwrap_err();
    assert!(matches!(err, Error::NoSnapshot), "{err:?}");
    assert_eq!(err.to_string(), "snap: no available snapshot");
    assert_eq!(err.code(), "ERR_NO_SNAPSHOT");
}

async fn empty_snapshot<E: Env>(env: E) {
    env.put("1.snap", b"");
    let ss = open(&env).await;
    let err = ss.read("1.snap").await.unwrap_err();
    assert!(matches!(err, Error::EmptySnapshot), "{err:?}");
    assert_eq!(err.to_string(), "snap: empty snapshot");
}

async fn all_snapshot_broken<E: Env>(env: E) {
    env.put("1.snap", b"bad");
    let ss = open(&env).await;
    let err = ss.load().await.unwrap_err();
    assert!(matches!(err, Error::NoSnapshot), "{err:?}");
    assert_eq!(env.names(), ["1.snap.broken"]);
    assert_eq!(env.get("1.snap.broken").unwrap(), b"bad");
}

async fn release_snap_dbs<E: Env>(env: E) {
    for i in [100u64, 200, 300, 400] {
        env.put(&names::db_name(i), b"db");
    }
    let ss = open(&env).await;
    ss.release_snap_dbs(&snap(1, 300, None, &[])).await.unwrap();
    assert_eq!(
        env.names(),
        [names::db_name(300), names::db_name(400)],
        "100 and 200 released, 300 and 400 kept"
    );
}

// ---- extra acceptance cases (spec §9) ----

async fn save_snap_index_zero_is_noop<E: Env>(env: E) {
    let ss = open(&env).await;
    ss.save_snap(&snap(5, 0, Some(b"data anyway"), &[1]))
        .await
        .unwrap();
    assert!(env.names().is_empty());
}

/// Saving the same name again replaces the file whole.
async fn save_snap_overwrites<E: Env>(env: E) {
    let ss = open(&env).await;
    ss.save_snap(&test_snap()).await.unwrap();
    let other = snap(1, 1, Some(b"other data"), &[7]);
    ss.save_snap(&other).await.unwrap();
    assert_eq!(ss.load().await.unwrap(), other);
    assert_eq!(env.names(), [G1_NAME]);
}

fn mixed_dir<E: Env>(env: &E) {
    let good = etcd_snap::codec::encode_snap_file(&snap(2, 3, Some(b"x"), &[1]));
    env.put("db.tmp.123", b"defrag");
    env.put("tmp12345", b"partial");
    env.put("db", b"live");
    env.put("0000000000000003-0000000000000001.snap", b"junk");
    env.mkdir("sub.snap");
    env.put("0000000000000002-0000000000000003.snap", &good);
}

/// etcd's Load on the mixed directory: `db.tmp.123` deleted, `tmp12345` and `db` kept, junk
/// and the directory `sub.snap` renamed `.broken`, term 2 / index 3. Opening without the tmp
/// cleanup gives exactly etcd's result.
async fn mixed_directory_as_etcd<E: Env>(env: E) {
    mixed_dir(&env);
    let opts = Options {
        clean_tmp_on_open: false,
        ..Options::default()
    };
    let ss = Snapshotter::open(env.storage(), opts).await.unwrap();
    let got = ss.load().await.unwrap();
    assert_eq!((got.metadata.term, got.metadata.index), (2, 3));
    assert_eq!(
        env.names(),
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
async fn mixed_directory_default_open<E: Env>(env: E) {
    mixed_dir(&env);
    let ss = open(&env).await;
    assert!(tmp_names(&env.names()).is_empty(), "open removes tmp*");
    assert!(
        env.names().contains(&"db.tmp.123".to_string()),
        "db.tmp* is left to Load, as in etcd"
    );
    let got = ss.load().await.unwrap();
    assert_eq!((got.metadata.term, got.metadata.index), (2, 3));
    assert_eq!(
        env.names(),
        [
            "0000000000000002-0000000000000003.snap",
            "0000000000000003-0000000000000001.snap.broken",
            "db",
            "sub.snap.broken",
        ]
    );
}

/// A reader that yields `data` and then fails with "boom".
struct FailAfter {
    data: Cursor<Vec<u8>>,
}

impl AsyncRead for FailAfter {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match std::pin::Pin::new(&mut self.data).poll_read(cx, buf) {
            std::task::Poll::Ready(Ok(0)) => {
                std::task::Poll::Ready(Err(std::io::Error::other("boom")))
            }
            other => other,
        }
    }
}

async fn save_db_from_cases<E: Env>(env: E) {
    let ss = open(&env).await;
    // New: streamed, returns the byte count (the receiver's "good, G9 + hello" row).
    let n = ss
        .save_db_from(Cursor::new(b"hello".to_vec()), 10)
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(env.get("000000000000000a.snap.db").unwrap(), b"hello");
    // Already exists: Ok(n) and the old content stays.
    let n = ss
        .save_db_from(Cursor::new(b"different".to_vec()), 10)
        .await
        .unwrap();
    assert_eq!(n, 9);
    assert_eq!(env.get("000000000000000a.snap.db").unwrap(), b"hello");
    // Empty db.
    let n = ss.save_db_from(Cursor::new(Vec::new()), 11).await.unwrap();
    assert_eq!(n, 0);
    assert_eq!(env.get("000000000000000b.snap.db").unwrap(), b"");
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
        env.names(),
        ["000000000000000a.snap.db", "000000000000000b.snap.db"]
    );
}

/// A typed reader error (e.g. the ExactReader's short read) comes back typed.
async fn save_db_from_keeps_typed_reader_errors<E: Env>(env: E) {
    let ss = open(&env).await;
    let body = etcd_snap::ExactReader::new(Cursor::new(b"hello".to_vec()), 10000);
    let err = ss.save_db_from(body, 1).await.unwrap_err();
    assert!(matches!(err, Error::ShortRead { .. }), "{err:?}");
    let body = etcd_snap::ExactReader::new(Cursor::new(b"hello".to_vec()), 1);
    let err = ss.save_db_from(body, 1).await.unwrap_err();
    assert!(matches!(err, Error::ExpectEof), "{err:?}");
    assert!(env.names().is_empty());
}

async fn db_file_path<E: Env>(env: E) {
    let ss = open(&env).await;
    ss.save_db_from(Cursor::new(b"hello".to_vec()), 10)
        .await
        .unwrap();
    let path = ss.db_file_path(10).await.unwrap();
    assert!(path.ends_with("000000000000000a.snap.db"), "{path}");
    let err = ss.db_file_path(11).await.unwrap_err();
    assert!(matches!(err, Error::NoDbSnapshot), "{err:?}");
    assert_eq!(err.to_string(), "snap: snapshot file doesn't exist");
}

/// Verified with etcd, Index 100: 1, 0x63 and `1.snap.db` deleted; 0x64, 0xfff…f and
/// `zz.snap.db` kept.
async fn release_snap_dbs_parse_rules<E: Env>(env: E) {
    for name in [
        "0000000000000001.snap.db",
        "0000000000000063.snap.db",
        "1.snap.db",
        "0000000000000064.snap.db",
        "ffffffffffffffff.snap.db",
        "zz.snap.db",
        "0000000000000002-0000000000000001.snap",
    ] {
        env.put(name, b"x");
    }
    let ss = open(&env).await;
    ss.release_snap_dbs(&snap(1, 100, None, &[])).await.unwrap();
    assert_eq!(
        env.names(),
        [
            "0000000000000002-0000000000000001.snap",
            "0000000000000064.snap.db",
            "ffffffffffffffff.snap.db",
            "zz.snap.db",
        ]
    );
}

async fn lock_fail_gives_err_locked<E: Env>(env: E) {
    let first = open(&env).await;
    let err = Snapshotter::open(env.storage(), Options::default())
        .await
        .err()
        .expect("second open must fail while the first holds the lock");
    assert_eq!(err.code(), "ERR_LOCKED");
    drop(first);
    open(&env).await;
}

/// Without the lock, open removes nothing (cleanup could race a live writer).
async fn no_cleanup_without_lock<E: Env>(env: E) {
    env.put("tmp1", b"t");
    for i in 0..7 {
        env.put(&format!("{i}.snap.broken"), b"b");
    }
    let opts = Options {
        lock: None,
        ..Options::default()
    };
    let ss = Snapshotter::open(env.storage(), opts).await.unwrap();
    assert_eq!(env.names().len(), 8);
    drop(ss);
    // With the lock: tmp1 removed, the 5 newest broken names kept.
    let _ss = open(&env).await;
    assert_eq!(
        env.names(),
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
async fn load_bounds_broken_files<E: Env>(env: E) {
    let good = etcd_snap::codec::encode_snap_file(&snap(1, 1, None, &[1]));
    env.put("0000000000000001-0000000000000001.snap", &good);
    for i in 2..=4u64 {
        env.put(&names::snap_name(1, i), b"junk");
    }
    let opts = Options {
        max_broken: Some(2),
        ..Options::default()
    };
    let ss = Snapshotter::open(env.storage(), opts).await.unwrap();
    assert_eq!(ss.load().await.unwrap().metadata.index, 1);
    assert_eq!(
        env.names(),
        [
            "0000000000000001-0000000000000001.snap".to_string(),
            format!("{}.broken", names::snap_name(1, 3)),
            format!("{}.broken", names::snap_name(1, 4)),
        ]
    );
}

/// Pruning never removes a `.broken` file that reads as a valid snapshot (a good snapshot
/// quarantined by a passing read error), however old its name.
async fn prune_keeps_valid_broken_files<E: Env>(env: E) {
    let valid = etcd_snap::codec::encode_snap_file(&snap(1, 1, None, &[1]));
    env.put("0000000000000001-0000000000000001.snap.broken", &valid);
    for i in 2..=6u64 {
        env.put(&format!("{}.broken", names::snap_name(1, i)), b"junk");
    }
    let opts = Options {
        max_broken: Some(2),
        ..Options::default()
    };
    let _ss = Snapshotter::open(env.storage(), opts).await.unwrap();
    assert_eq!(
        env.names(),
        [
            "0000000000000001-0000000000000001.snap.broken".to_string(),
            format!("{}.broken", names::snap_name(1, 5)),
            format!("{}.broken", names::snap_name(1, 6)),
        ]
    );
}

async fn list_reports_kinds_and_verdicts<E: Env>(env: E) {
    mixed_dir(&env);
    env.put("000000000000000a.snap.db", b"hello");
    env.put("x.snap.broken", b"b");
    let ss = Snapshotter::open(
        env.storage(),
        Options {
            lock: None,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let before = env.names();
    let list = ss.list().await.unwrap();
    assert_eq!(env.names(), before, "list renames and removes nothing");
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

both_backends!(
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
    db_file_path,
    release_snap_dbs_parse_rules,
    lock_fail_gives_err_locked,
    no_cleanup_without_lock,
    load_bounds_broken_files,
    prune_keeps_valid_broken_files,
    list_reports_kinds_and_verdicts,
);

/// LockMode::Wait: the second open completes once the first Snapshotter is dropped.
#[test]
fn lock_wait_memory() {
    use futures_util::future::{FutureExt as _, join};
    let env = support::MemEnv::new();
    futures_executor::block_on(async {
        let first = open(&env).await;
        let opts = Options {
            lock: Some(LockMode::Wait),
            ..Options::default()
        };
        let mut second = Box::pin(Snapshotter::open(env.storage(), opts));
        assert!((&mut second).now_or_never().is_none(), "must wait");
        let (second, ()) = join(second, async { drop(first) }).await;
        second.unwrap();
    });
}
