//! What a file is before bbolt reads it (a compressed backup, a backup cut short), the
//! listing's verdict on a db (`etcd-snap ls` and the viewer share it), and the keys etcd would
//! attach to each lease, on real etcd 3.4.23 files and cut or compressed copies of them.

use etcd_snap::inspect::{Db, OpenOptions, listing_verdict};
use sha2::Digest as _;

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn follower_db() -> Vec<u8> {
    read("tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db")
}

/// An `etcdctl snapshot save` file: the db and the sha256 of it.
fn saved(db: &[u8]) -> Vec<u8> {
    let mut d = db.to_vec();
    d.extend_from_slice(&sha2::Sha256::digest(db));
    d
}

/// A backup cut at a 512-byte boundary + 32 reads as db + trailer: the truncation is named
/// before the hash is checked (whose "mismatch" would be bbolt bytes read as a digest), by
/// `Db::open` and by the listing.
#[test]
fn a_truncated_backup_says_truncated_not_hash_mismatch() {
    let full = saved(&follower_db());
    let cut = full[..5 * 4096 + 32].to_vec();
    let e = Db::open(cut.clone()).unwrap_err();
    assert_eq!(e.code(), "ERR_BAD_DB");
    let says = follower_db().len();
    assert_eq!(
        e.to_string(),
        format!(
            "truncated: the meta page says {says} bytes, the file has {}",
            cut.len()
        )
    );
    assert_eq!(
        listing_verdict(Ok(cut.clone())).unwrap_err().to_string(),
        e.to_string()
    );
    // With the hash check off the structure still reads (the viewer's "open anyway").
    let db = Db::open_with(
        cut,
        OpenOptions {
            verify_trailer: false,
        },
    )
    .unwrap();
    assert!(!db.warnings().is_empty());
    // The whole backup is fine.
    Db::open(full.clone()).unwrap();
    listing_verdict(Ok(full)).unwrap();
}

/// gzip and zstd files are named as such, not "invalid database".
#[test]
fn compressed_backups_are_recognised_by_their_magic() {
    let db = follower_db();
    let mut gz = flate2_free_gzip_header();
    gz.extend_from_slice(&db[..1000]);
    let e = Db::open(gz.clone()).unwrap_err();
    assert_eq!(e.code(), "ERR_BAD_DB");
    assert!(
        e.to_string()
            .starts_with("a gzip-compressed file, not a bbolt db"),
        "{e}"
    );
    assert!(e.to_string().contains("gunzip"), "{e}");
    assert_eq!(
        listing_verdict(Ok(gz)).unwrap_err().to_string(),
        e.to_string()
    );
    let mut zst = vec![0x28, 0xb5, 0x2f, 0xfd];
    zst.extend_from_slice(&db[..100]);
    let e = Db::open(zst).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("a zstd-compressed file, not a bbolt db"),
        "{e}"
    );
}

/// The first bytes of every gzip member (RFC 1952: ID1 ID2 CM=deflate).
fn flate2_free_gzip_header() -> Vec<u8> {
    vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff]
}

/// The listing's verdict: ok for a good db; the problem for an empty file, a cut one, or a
/// bad meta page.
#[test]
fn listing_verdict_flags_empty_and_cut_dbs() {
    let db = follower_db();
    listing_verdict(Ok(db.clone())).unwrap();
    let e = listing_verdict(Ok(Vec::new())).unwrap_err();
    assert!(e.to_string().contains("file is 0 bytes"), "{e}");
    // Cut short (not on a trailer size): bbolt would read it; the listing says so.
    let e = listing_verdict(Ok(db[..db.len() - 4096].to_vec())).unwrap_err();
    assert!(e.to_string().contains("does not fit the"), "{e}");
    assert!(e.to_string().contains("(truncated?)"), "{e}");
    let e = listing_verdict(Ok(db[..3000].to_vec())).unwrap_err();
    assert_eq!(e.code(), "ERR_BAD_DB");
    let e = listing_verdict::<Vec<u8>>(Err(etcd_snap::Error::Eof)).unwrap_err();
    assert_eq!(e.code(), etcd_snap::Error::Eof.code());
}

/// The sample db (written by etcd 3.4.23 by tests/js/viewer/make-sample.sh) has one lease
/// with one key attached (`/app/session/abc123`).
#[test]
fn lease_keys_count_live_keys_per_lease() {
    let db = Db::open(read("www/sample/member-snap/db")).unwrap();
    let leases = db.cluster_info().unwrap().leases;
    assert_eq!(leases.len(), 1);
    let m = db.mvcc().unwrap();
    let per = m.lease_keys().unwrap();
    assert_eq!(per.len(), 1);
    assert_eq!(per.get(&leases[0].id), Some(&1));
    // The key is the one put with the lease.
    let with: Vec<_> = m
        .keys_from(b"")
        .filter(|(_, ev)| {
            ev.last().is_some_and(|e| {
                !e.tombstone && m.value_at(e.rev, false).unwrap().lease == leases[0].id
            })
        })
        .map(|(k, _)| k.to_vec())
        .collect();
    assert_eq!(with, vec![b"/app/session/abc123".to_vec()]);
}
