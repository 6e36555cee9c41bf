//! The bbolt writer and the defrag over the storage trait, on their own (bbolt's verdict on
//! the files is in tests/interop/inspect/write.rs): a copy reads back with every bucket, key
//! and value and the `snapshot status` hash of its source; the per-bucket edits a restore
//! uses; a damaged db is refused with a typed error and writes nothing; a write that fails
//! or crashes at any storage step leaves no file or the whole one.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use etcd_snap::Error;
use etcd_snap::defrag;
use etcd_snap::inspect::bbolt::write::{self, BucketEdit, CopyFeed, Options};
use etcd_snap::inspect::{Bolt, Db, OpenOptions, PageSource};
use etcd_snap::storage::MemoryStorage;
use etcd_snap::storage::fault::FaultPlan;
use futures_executor::block_on;
use proptest::prelude::*;

fn follower() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db"
    ))
    .unwrap()
}

/// One entry: its bucket path, key and value (`None`: a bucket).
type Entry = (Vec<Vec<u8>>, Vec<u8>, Option<Vec<u8>>);

/// Every entry of a file, in order.
fn content<S: PageSource>(b: &Bolt<S>) -> Vec<Entry> {
    fn walk<S: PageSource>(
        b: &Bolt<S>,
        bucket: &etcd_snap::inspect::bbolt::Bucket,
        path: &[Vec<u8>],
        out: &mut Vec<Entry>,
    ) {
        let mut children = Vec::new();
        b.walk(bucket, None, &mut |e| {
            if e.is_bucket {
                out.push((path.to_vec(), e.key.to_vec(), None));
                children.push((e.key.to_vec(), bucket.child(&e)?));
            } else {
                out.push((path.to_vec(), e.key.to_vec(), Some(e.value.to_vec())));
            }
            Ok(ControlFlow::Continue(()))
        })
        .unwrap();
        for (name, child) in children {
            let mut p = path.to_vec();
            p.push(name);
            walk(b, &child, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(b, &b.root(), &[], &mut out);
    out
}

fn copy(
    bytes: &[u8],
    feed: impl FnOnce(&Bolt<etcd_snap::inspect::Prefix<&[u8]>>) -> Vec<u8>,
) -> Vec<u8> {
    let db = Db::open(bytes).unwrap();
    feed(db.bolt())
}

#[test]
fn a_copy_reads_back_whole_with_the_same_status_hash() {
    let src = follower();
    let out = copy(&src, |b| {
        let mut out = Vec::new();
        write::write_to(Options::default(), &mut CopyFeed::new(b), &mut out).unwrap();
        out
    });
    let (a, b) = (Db::open(&src[..]).unwrap(), Db::open(&out[..]).unwrap());
    assert!(b.check().is_empty(), "{:?}", b.check());
    assert_eq!(content(a.bolt()), content(b.bolt()));
    let (sa, sb) = (a.status().unwrap(), b.status().unwrap());
    assert_eq!(
        (sa.hash, sa.revision, sa.total_key),
        (sb.hash, sb.revision, sb.total_key)
    );
    assert_eq!(sb.total_size, out.len() as u64);
    assert!(out.len() < src.len());
    assert_eq!(b.bolt().meta().freelist, write::FREELIST_PAGE);
    // Both meta pages hold the same tree: the older one alone opens the same db.
    let mut meta1_only = out.clone();
    meta1_only[16..80].fill(0);
    let c = Db::open(&meta1_only[..]).unwrap();
    assert_eq!(c.bolt().meta_choice().used, 1);
    assert_eq!(content(c.bolt()), content(b.bolt()));
}

#[test]
fn bucket_edits_replace_drop_and_add_top_level_buckets() {
    let src = follower();
    let members = BTreeMap::from([(b"0000000000000001".to_vec(), b"{\"id\":1}".to_vec())]);
    let out = copy(&src, |b| {
        let feed = CopyFeed::new(b)
            .edit(b"members", BucketEdit::Replace(members.clone()))
            .edit(b"members_removed", BucketEdit::Replace(BTreeMap::new()))
            .edit(b"alarm", BucketEdit::Drop)
            .edit(b"absent-dropped", BucketEdit::Drop)
            .edit(
                b"aaa-new",
                BucketEdit::Replace(BTreeMap::from([(b"k".to_vec(), b"v".to_vec())])),
            )
            .edit(b"zzz-new", BucketEdit::Replace(BTreeMap::new()));
        let mut feed = feed;
        let mut out = Vec::new();
        write::write_to(Options::default(), &mut feed, &mut out).unwrap();
        out
    });
    let (a, b) = (Db::open(&src[..]).unwrap(), Db::open(&out[..]).unwrap());
    assert!(b.check().is_empty());
    let names = |d: &Db<&[u8]>| -> Vec<Vec<u8>> {
        d.buckets().unwrap().into_iter().map(|b| b.name).collect()
    };
    let mut want = names(&a);
    want.retain(|n| n != b"alarm");
    want.extend([b"aaa-new".to_vec(), b"zzz-new".to_vec()]);
    want.sort();
    assert_eq!(names(&b), want);
    let only = |d: &Db<&[u8]>, name: &[u8]| -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        content(d.bolt())
            .into_iter()
            .filter(|(p, _, _)| p.first().map(Vec::as_slice) == Some(name))
            .map(|(_, k, v)| (k, v))
            .collect()
    };
    assert_eq!(
        only(&b, b"members"),
        vec![(b"0000000000000001".to_vec(), Some(b"{\"id\":1}".to_vec()))]
    );
    assert_eq!(only(&b, b"members_removed"), vec![]);
    assert_eq!(
        only(&b, b"aaa-new"),
        vec![(b"k".to_vec(), Some(b"v".to_vec()))]
    );
    // Everything not edited is copied as is.
    for name in [&b"key"[..], b"meta", b"lease", b"cluster"] {
        assert_eq!(
            only(&a, name),
            only(&b, name),
            "{}",
            String::from_utf8_lossy(name)
        );
    }
}

fn assert_typed(e: &Error) {
    assert!(
        matches!(e.code(), "ERR_BAD_DB" | "ERR_DB_HASH_MISMATCH"),
        "unexpected error {}: {e}",
        e.code()
    );
}

/// `defrag` of `bytes` into an empty memory storage: the report, or the error with the
/// storage checked to hold nothing.
fn defrag_into_memory(bytes: Vec<u8>) -> Result<(MemoryStorage, defrag::DefragReport), Error> {
    let db = Db::open_with(
        bytes,
        OpenOptions {
            verify_trailer: true,
        },
    )?;
    let storage = MemoryStorage::new();
    match block_on(defrag::defrag(&db, &storage, "db.defrag")) {
        Ok(r) => Ok((storage, r)),
        Err(e) => {
            assert_eq!(storage.names(), Vec::<String>::new(), "{e}");
            Err(e)
        }
    }
}

#[test]
fn a_db_that_fails_bbolts_check_is_refused_and_nothing_is_written() {
    let mut db = follower();
    // The root bucket's page claims to be a meta page: bbolt's check says "invalid type".
    let root = Db::open(&db[..]).unwrap().bolt().meta().root as usize;
    db[root * 4096 + 8] = 0x04;
    let e = defrag_into_memory(db).unwrap_err();
    assert_typed(&e);
    assert!(
        e.to_string().contains("not defragmenting a damaged db"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Flipped bytes or a cut anywhere: a sound copy with the source's hash, or a typed
    /// error and no file.
    #[test]
    fn damaged_dbs_give_a_sound_copy_or_a_typed_error(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut db = follower();
        for (at, x) in flips {
            let i = at.index(db.len());
            db[i] ^= x;
        }
        if let Some(c) = cut {
            db.truncate(c.index(db.len()));
        }
        let status = Db::open(&db[..]).and_then(|d| d.status());
        match defrag_into_memory(db) {
            Err(e) => assert_typed(&e),
            Ok((storage, report)) => {
                let out = storage.get("db.defrag").unwrap();
                prop_assert_eq!(out.len() as u64, report.after.file_bytes);
                let copy = Db::open(out).unwrap();
                prop_assert!(copy.check().is_empty());
                if let Ok(s) = status {
                    prop_assert_eq!(copy.status().unwrap().hash, s.hash);
                }
            }
        }
    }
}

/// Fails (then crashes) the defrag at each storage step in turn: the final name holds
/// nothing or the whole copy, before and after a power loss.
#[test]
fn a_defrag_failing_or_crashing_at_any_step_leaves_no_file_or_the_whole_one() {
    let src = follower();
    let db = Db::open(&src[..]).unwrap();
    let whole = {
        let s = MemoryStorage::new();
        block_on(defrag::defrag(&db, &s, "db.defrag")).unwrap();
        s.get("db.defrag").unwrap()
    };
    for crash in [false, true] {
        for k in 0.. {
            let s = MemoryStorage::new();
            s.set_fault(if crash {
                FaultPlan::CrashAt(k)
            } else {
                FaultPlan::FailAt(k)
            });
            let r = block_on(defrag::defrag(&db, &s, "db.defrag"));
            let after = if crash { s.crash_image() } else { s.clone() };
            match after.get("db.defrag") {
                None => assert!(r.is_err() || crash, "step {k}: Ok but no file"),
                Some(b) => assert_eq!(b, whole, "step {k}: a partial file"),
            }
            if r.is_ok() && s.steps() <= k {
                break;
            }
            if let Err(e) = &r {
                assert!(etcd_snap::storage::fault::is_injected(e), "step {k}: {e}");
            }
            assert!(k < 1000, "no end to the steps");
        }
    }
}
