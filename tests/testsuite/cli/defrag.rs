//! `etcd-snap defrag` over real etcd dbs (tests/fixtures): a smaller copy next to the db,
//! with the same `status` hash and keys; the input never touched; an existing file never
//! replaced; a damaged db refused with nothing written.

use std::path::{Path, PathBuf};

use crate::support::{etcd_snap, names_in};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// `file` copied as `db` into a new temp folder.
fn copy(file: &Path) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let db = t.path().join("db");
    std::fs::write(&db, std::fs::read(file).unwrap()).unwrap();
    (t, db)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn defrag_writes_a_smaller_db_next_to_it_with_the_same_status_and_keys() {
    for rel in [
        "member-3.4.23/data/member/snap/db",
        "etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db",
        "doctor/etcd-3.5.16/member/snap/db",
        "etcd-3.6/storage-3.6.db",
    ] {
        let (t, db) = copy(&fixture(rel));
        let before = std::fs::read(&db).unwrap();
        let r = etcd_snap(["defrag", s(&db)]).json();
        let out = t.path().join("db.defrag");
        assert_eq!(r["path"], s(&out), "{rel}");
        assert_eq!(r["before"]["fileBytes"], before.len() as u64, "{rel}");
        let after = std::fs::metadata(&out).unwrap().len();
        assert_eq!(r["after"]["fileBytes"], after, "{rel}");
        assert!(
            after < r["before"]["totalSize"].as_u64().unwrap(),
            "{rel}: {r}"
        );
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "{rel}: the input is untouched"
        );
        assert_eq!(
            names_in(t.path()),
            ["db", "db.defrag"],
            "{rel}: no temp file left"
        );
        let status = |p: &Path| etcd_snap(["status", s(p)]).json();
        let (a, b) = (status(&db), status(&out));
        for f in ["hash", "revision", "totalKey", "version"] {
            assert_eq!(a[f], b[f], "{rel}: {f}");
        }
        assert_eq!(b["totalSize"], after, "{rel}");
        let keys = |p: &Path| etcd_snap(["keys", s(p), "-w", "json"]).json();
        let (ka, kb) = (keys(&db), keys(&out));
        assert_eq!(ka["kvs"], kb["kvs"], "{rel}");
        assert_eq!(ka["count"], kb["count"], "{rel}");
    }
}

#[test]
fn a_snapshot_file_is_verified_and_copied_without_its_trailer() {
    use sha2::Digest as _;
    let (t, db) = copy(&fixture("member-3.4.23/data/member/snap/db"));
    let mut saved = std::fs::read(&db).unwrap();
    let sum = sha2::Sha256::digest(&saved);
    saved.extend_from_slice(&sum);
    let snap = t.path().join("snapshot.db");
    std::fs::write(&snap, &saved).unwrap();
    let out = t.path().join("copy.db");
    etcd_snap(["defrag", s(&snap), "--out", s(&out)]).json();
    let want = etcd_snap(["status", s(&db)]).json()["hash"].clone();
    assert_eq!(etcd_snap(["status", s(&out)]).json()["hash"], want);
    assert_eq!(
        etcd_snap(["status", s(&out)]).json()["totalSize"],
        std::fs::metadata(&out).unwrap().len(),
        "no trailer"
    );

    // A trailer that does not match: etcd's error, nothing written (unless told to skip).
    let last = saved.len() - 1;
    saved[last] ^= 1;
    std::fs::write(&snap, &saved).unwrap();
    let bad = t.path().join("bad.db");
    let err = etcd_snap(["defrag", s(&snap), "--out", s(&bad)]);
    assert!(err.err().starts_with("expected sha256"), "{err:?}");
    assert!(!bad.exists());
    etcd_snap(["defrag", s(&snap), "--out", s(&bad), "--skip-hash-check"]).json();
    assert_eq!(etcd_snap(["status", s(&bad)]).json()["hash"], want);
}

#[test]
fn defrag_never_replaces_a_file() {
    let (t, db) = copy(&fixture("member-3.4.23/data/member/snap/db"));
    let out = t.path().join("db.defrag");
    std::fs::write(&out, b"mine").unwrap();
    let run = etcd_snap(["defrag", s(&db)]);
    assert!(run.err().contains("file exists"), "{run:?}");
    assert_eq!(std::fs::read(&out).unwrap(), b"mine");
    // Not even the input itself.
    let run = etcd_snap(["defrag", s(&db), "--out", s(&db)]);
    assert!(run.err().contains("file exists"), "{run:?}");
}

#[test]
fn a_damaged_db_is_refused_and_nothing_is_written() {
    let good = std::fs::read(fixture(
        "etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db",
    ))
    .unwrap();
    let root = u64::from_le_bytes(good[16 + 16..16 + 24].try_into().unwrap()) as usize;
    let mut invalid_page = good.clone();
    invalid_page[root * 4096 + 8] = 0x10; // the root bucket's page claims to be a freelist
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "invalid page",
            invalid_page,
            "not defragmenting a damaged db",
        ),
        ("truncated", truncated, "page "),
        ("garbage", vec![0x5a; 8192], "invalid database"),
        ("empty", Vec::new(), "invalid database"),
    ];
    for (what, bytes, want) in cases {
        let t = tempfile::tempdir().unwrap();
        let db = t.path().join("db");
        std::fs::write(&db, &bytes).unwrap();
        let run = etcd_snap(["defrag", s(&db)]);
        assert!(run.err().contains(want), "{what}: {run:?}");
        assert_eq!(names_in(t.path()), ["db"], "{what}: nothing written");
        assert_eq!(
            std::fs::read(&db).unwrap(),
            bytes,
            "{what}: input untouched"
        );
    }
}
