//! Hostile dbs: random byte flips and truncations of a real etcd db, and hand-built bbolt
//! files (a tiny test-only writer below) with cycles, overlapping elements and nested inline
//! bucket bombs. Every call must return (no panic, no hang) and failures must be typed.

use std::time::{Duration, Instant};

use etcd_snap::Error;
use etcd_snap::inspect::{Db, OpenOptions, RangeQuery};
use proptest::prelude::*;

fn fixture() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db"
    ))
    .unwrap()
}

/// Runs every read the viewer and CLI do; returns how many failed (all with typed codes).
fn exercise(bytes: Vec<u8>) -> usize {
    let db = match Db::open_with(
        bytes,
        OpenOptions {
            verify_trailer: true,
        },
    ) {
        Ok(db) => db,
        Err(e) => {
            assert_typed(&e);
            return 1;
        }
    };
    let mut failed = 0;
    let mut note = |r: Result<(), Error>| {
        if let Err(e) = r {
            assert_typed(&e);
            failed += 1;
        }
    };
    note(db.status().map(drop));
    let _ = db.check();
    note(db.buckets().map(drop));
    note(db.cluster_info().map(drop));
    note(db.mvcc().and_then(|m| {
        let r = m.range(&RangeQuery::prefix(b""))?;
        for kv in r.kvs.iter().take(20) {
            for ev in m.history(&kv.key) {
                m.value_at(ev.rev, ev.tombstone)?;
            }
        }
        let _ = m.space_by_prefix(b'/', 1);
        m.range(&RangeQuery {
            limit: 5,
            ..RangeQuery::prefix(b"a")
        })
        .map(drop)
    }));
    failed
}

fn assert_typed(e: &Error) {
    let code = e.code();
    assert!(
        matches!(
            code,
            "ERR_BAD_DB" | "ERR_DB_HASH_MISMATCH" | "ERR_COMPACTED" | "ERR_FUTURE_REV"
        ),
        "unexpected error {code}: {e}"
    );
    assert!(!e.to_string().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn random_flips_never_panic(flips in prop::collection::vec((0usize..57344, 1u8..=255), 1..8)) {
        let mut d = fixture();
        for (at, x) in flips {
            d[at] ^= x;
        }
        exercise(d);
    }

    #[test]
    fn random_truncations_never_panic(len in 0usize..57344) {
        let mut d = fixture();
        d.truncate(len);
        exercise(d);
    }

    #[test]
    fn random_bytes_never_panic(d in prop::collection::vec(any::<u8>(), 0..20000)) {
        exercise(d);
    }
}

// ---- a minimal bbolt writer, for building hostile files ----

const MAGIC: u32 = 0xED0C_DAED;

fn fnv64a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn meta_page(id: u64, ps: usize, root: u64, pgid: u64, txid: u64) -> Vec<u8> {
    let mut p = vec![0u8; ps];
    p[0..8].copy_from_slice(&id.to_le_bytes());
    p[8..10].copy_from_slice(&0x04u16.to_le_bytes());
    let m = &mut p[16..80];
    m[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    m[4..8].copy_from_slice(&2u32.to_le_bytes());
    m[8..12].copy_from_slice(&(ps as u32).to_le_bytes());
    m[16..24].copy_from_slice(&root.to_le_bytes());
    m[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // no freelist, as etcd
    m[40..48].copy_from_slice(&pgid.to_le_bytes());
    m[48..56].copy_from_slice(&txid.to_le_bytes());
    let sum = fnv64a(&m[..56]);
    m[56..64].copy_from_slice(&sum.to_le_bytes());
    p
}

/// Leaf page bytes (header + elements + data), not padded. Entries: (flags, key, value).
fn leaf(id: u64, entries: &[(u32, Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(&0x02u16.to_le_bytes());
    p.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    let mut data = Vec::new();
    let hdr_end = 16 + 16 * entries.len();
    for (i, (flags, k, v)) in entries.iter().enumerate() {
        let elem = 16 + 16 * i;
        let pos = (hdr_end + data.len() - elem) as u32;
        p.extend_from_slice(&flags.to_le_bytes());
        p.extend_from_slice(&pos.to_le_bytes());
        p.extend_from_slice(&(k.len() as u32).to_le_bytes());
        p.extend_from_slice(&(v.len() as u32).to_le_bytes());
        data.extend_from_slice(k);
        data.extend_from_slice(v);
    }
    p.extend_from_slice(&data);
    p
}

fn branch(id: u64, children: &[(Vec<u8>, u64)]) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(&0x01u16.to_le_bytes());
    p.extend_from_slice(&(children.len() as u16).to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes());
    let mut data = Vec::new();
    let hdr_end = 16 + 16 * children.len();
    for (i, (k, pgid)) in children.iter().enumerate() {
        let elem = 16 + 16 * i;
        p.extend_from_slice(&((hdr_end + data.len() - elem) as u32).to_le_bytes());
        p.extend_from_slice(&(k.len() as u32).to_le_bytes());
        p.extend_from_slice(&pgid.to_le_bytes());
        data.extend_from_slice(k);
    }
    p.extend_from_slice(&data);
    p
}

fn bucket_value(root: u64, inline: &[u8]) -> Vec<u8> {
    let mut v = root.to_le_bytes().to_vec();
    v.extend_from_slice(&0u64.to_le_bytes());
    v.extend_from_slice(inline);
    v
}

/// A file: meta 0/1, then `pages` from id 2 on (each padded to `ps`); root = page 2.
fn file(ps: usize, pages: &[Vec<u8>]) -> Vec<u8> {
    let pgid = 2 + pages.len() as u64;
    let mut f = meta_page(0, ps, 2, pgid, 2);
    f.extend(meta_page(1, ps, 2, pgid, 3));
    for p in pages {
        assert!(p.len() <= ps, "page too large: {}", p.len());
        let mut p = p.clone();
        p.resize(ps, 0);
        f.extend(p);
    }
    f
}

fn bad_db<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::BadDb { page, problem }) => Error::BadDb { page, problem }.to_string(),
        other => panic!("expected BadDb, got {other:?}"),
    }
}

#[test]
fn hand_built_db_reads_and_hashes() {
    // root: bucket "a" (inline, 2 keys) and bucket "b" (page 3: a leaf).
    let a_inline = leaf(
        0,
        &[
            (0, b"k1".to_vec(), b"v1".to_vec()),
            (0, b"k2".to_vec(), vec![]),
        ],
    );
    let root = leaf(
        2,
        &[
            (1, b"a".to_vec(), bucket_value(0, &a_inline)),
            (1, b"b".to_vec(), bucket_value(3, &[])),
        ],
    );
    let b = leaf(3, &[(0, b"x".to_vec(), b"y".to_vec())]);
    let db = Db::open(file(4096, &[root, b])).unwrap();
    assert!(db.check().is_empty(), "{:?}", db.check());
    let st = db.status().unwrap();
    let mut h = 0u32;
    for part in [&b"a"[..], b"k1", b"v1", b"k2", b"", b"b", b"x", b"y"] {
        h = crc32c::crc32c_append(h, part);
    }
    assert_eq!(
        (st.hash, st.total_key, st.total_size, st.revision),
        (h, 3, 4 * 4096, 0)
    );
    let bolt = db.bolt();
    let a = bolt.bucket(&bolt.root(), b"a").unwrap().unwrap();
    assert!(a.is_inline());
    assert_eq!(bolt.get(&a, b"k1").unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(bolt.get(&a, b"k3").unwrap(), None);
    // No key bucket: an empty keyspace, not an error.
    assert_eq!(
        db.mvcc()
            .unwrap()
            .range(&RangeQuery::prefix(b""))
            .unwrap()
            .count,
        0
    );
}

#[test]
fn seek_through_branches_finds_every_key() {
    // bucket "key"-less db with a 2-level tree in bucket "t": branch page 3 -> leaves 4, 5.
    let root = leaf(2, &[(1, b"t".to_vec(), bucket_value(3, &[]))]);
    let br = branch(3, &[(b"a".to_vec(), 4), (b"m".to_vec(), 5)]);
    let l1 = leaf(
        4,
        &[
            (0, b"a".to_vec(), b"1".to_vec()),
            (0, b"c".to_vec(), b"2".to_vec()),
        ],
    );
    let l2 = leaf(
        5,
        &[
            (0, b"m".to_vec(), b"3".to_vec()),
            (0, b"z".to_vec(), b"4".to_vec()),
        ],
    );
    let db = Db::open(file(4096, &[root, br, l1, l2])).unwrap();
    assert!(db.check().is_empty());
    let bolt = db.bolt();
    let t = bolt.bucket(&bolt.root(), b"t").unwrap().unwrap();
    for (k, v) in [("a", "1"), ("c", "2"), ("m", "3"), ("z", "4")] {
        assert_eq!(bolt.get(&t, k.as_bytes()).unwrap().unwrap(), v.as_bytes());
    }
    let mut from_d = Vec::new();
    bolt.walk(&t, Some(b"d"), &mut |e| {
        from_d.push(e.key.to_vec());
        Ok(std::ops::ControlFlow::Continue(()))
    })
    .unwrap();
    assert_eq!(from_d, [b"m".to_vec(), b"z".to_vec()]);
    let pages = db.buckets().unwrap()[0].pages;
    assert_eq!((pages.branch, pages.leaf, pages.depth), (1, 2, 2));
}

#[test]
fn cycles_are_errors_not_hangs() {
    // Branch page 3 lists itself and page 4 as children.
    let root = leaf(2, &[(1, b"t".to_vec(), bucket_value(3, &[]))]);
    let br = branch(3, &[(b"a".to_vec(), 3), (b"m".to_vec(), 4)]);
    let l = leaf(4, &[(0, b"m".to_vec(), b"1".to_vec())]);
    let db = Db::open(file(4096, &[root, br, l])).unwrap();
    let msg = bad_db(db.status());
    assert!(msg.contains("page 3: multiple references"), "{msg}");
    let msg = bad_db(db.buckets());
    assert!(msg.contains("page 3"), "{msg}");
    // Two buckets sharing one root page.
    let root = leaf(
        2,
        &[
            (1, b"a".to_vec(), bucket_value(3, &[])),
            (1, b"b".to_vec(), bucket_value(3, &[])),
        ],
    );
    let l = leaf(3, &[(0, b"k".to_vec(), b"v".to_vec())]);
    let db = Db::open(file(4096, &[root, l])).unwrap();
    assert!(bad_db(db.status()).contains("page 3: multiple references"));
}

#[test]
fn overlapping_inline_bucket_bomb_is_bounded() {
    // Each level: an inline page whose 100 elements all name the same nested inline bucket.
    // Without a bound, checking it would visit 100^depth entries.
    let ps = 65536;
    let fan = 100u16;
    let mut inner = leaf(0, &[(0, b"k".to_vec(), b"v".to_vec())]);
    let mut levels = 0;
    loop {
        let value = bucket_value(0, &inner);
        let mut p = Vec::new();
        p.extend_from_slice(&0u64.to_le_bytes());
        p.extend_from_slice(&0x02u16.to_le_bytes());
        p.extend_from_slice(&fan.to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        let data_at = 16 + 16 * usize::from(fan);
        for i in 0..usize::from(fan) {
            let elem = 16 + 16 * i;
            p.extend_from_slice(&1u32.to_le_bytes());
            p.extend_from_slice(&((data_at - elem) as u32).to_le_bytes());
            p.extend_from_slice(&1u32.to_le_bytes());
            p.extend_from_slice(&(value.len() as u32).to_le_bytes());
        }
        p.push(b'x');
        p.extend_from_slice(&value);
        if p.len() + 200 > ps {
            break;
        }
        inner = p;
        levels += 1;
    }
    assert!(levels > 20);
    let root = leaf(2, &[(1, b"bomb".to_vec(), bucket_value(0, &inner))]);
    let d = file(ps, &[root]);
    let start = Instant::now();
    let db = Db::open(d.clone()).unwrap();
    let problems = db.check();
    assert!(!problems.is_empty());
    assert!(bad_db(db.status()).contains("integrity check failed"));
    exercise(d);
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn lying_lengths_are_errors() {
    // An element whose value size runs past the page, an overflow past the high water mark,
    // a count larger than the page, a page whose header names another page.
    let mut root = leaf(2, &[(1, b"t".to_vec(), bucket_value(3, &[]))]);
    root[16 + 12..16 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    let db = Db::open(file(4096, &[root, leaf(3, &[])])).unwrap();
    assert!(bad_db(db.buckets()).starts_with("page 2: key/value of element 0"));

    let root = leaf(2, &[(1, b"t".to_vec(), bucket_value(3, &[]))]);
    let mut l = leaf(3, &[(0, b"k".to_vec(), b"v".to_vec())]);
    l[12..16].copy_from_slice(&1000u32.to_le_bytes());
    let db = Db::open(file(4096, &[root.clone(), l])).unwrap();
    assert!(bad_db(db.buckets()).contains("overflow pages run past the high water mark"));

    let mut l = leaf(3, &[(0, b"k".to_vec(), b"v".to_vec())]);
    l[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
    let db = Db::open(file(4096, &[root.clone(), l])).unwrap();
    assert!(bad_db(db.status()).contains("lies past the end of the page"));

    let l = leaf(7, &[(0, b"k".to_vec(), b"v".to_vec())]);
    let db = Db::open(file(4096, &[root, l])).unwrap();
    assert!(bad_db(db.buckets()).contains("page 3: page header says it is page 7"));

    // Root page id beyond the high water mark, in a meta with a valid checksum.
    let mut f = file(4096, &[leaf(2, &[])]);
    let m = meta_page(1, 4096, 99, 3, 9);
    f[4096..8192].copy_from_slice(&m);
    let msg = bad_db(Db::open(f));
    assert!(
        msg.contains("root bucket pgid (99) above high water mark (3)"),
        "{msg}"
    );
}

#[test]
fn a_huge_high_water_mark_is_a_warning_and_costs_nothing() {
    // A db read as bbolt reads it past its end (issue 9, item 10) must still be bounded: a
    // high water mark of 2^40 pages over a 4-page file, with and without a stored freelist.
    let inline = leaf(0, &[(0, b"k".to_vec(), b"v".to_vec())]);
    let root = leaf(2, &[(1, b"a".to_vec(), bucket_value(0, &inline))]);
    let mut f = file(4096, &[root, vec![]]);
    for n in 0..2 {
        let m = n * 4096 + 16;
        f[m + 40..m + 48].copy_from_slice(&(1u64 << 40).to_le_bytes());
        let sum = fnv64a(&f[m..m + 56]);
        f[m + 56..m + 64].copy_from_slice(&sum.to_le_bytes());
    }
    let t = std::time::Instant::now();
    let db = Db::open(f.clone()).unwrap();
    assert!(
        db.warnings()[0].contains("truncated"),
        "{:?}",
        db.warnings()
    );
    let st = db.status().unwrap();
    assert_eq!(st.total_size, (1u64 << 40) * 4096);
    // A stored freelist (page 3, empty): bbolt's check lists unreachable pages; at most 100.
    let mut g = f;
    for n in 0..2 {
        let m = n * 4096 + 16;
        g[m + 32..m + 40].copy_from_slice(&3u64.to_le_bytes());
        let sum = fnv64a(&g[m..m + 56]);
        g[m + 56..m + 64].copy_from_slice(&sum.to_le_bytes());
    }
    g[3 * 4096..3 * 4096 + 8].copy_from_slice(&3u64.to_le_bytes());
    g[3 * 4096 + 8..3 * 4096 + 10].copy_from_slice(&0x10u16.to_le_bytes());
    let db = Db::open(g).unwrap();
    let problems = db.check();
    assert_eq!(problems.len(), 100, "{problems:?}");
    assert!(problems[0].ends_with("unreachable unfreed"), "{problems:?}");
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
}
