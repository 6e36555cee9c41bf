//! `inspect` against the real etcd 3.4.23 files in the shared fixtures (etcd's verdicts
//! recorded there) and hand-corrupted copies of them.

use etcd_snap::Error;
use etcd_snap::inspect::{Db, OpenOptions, RangeQuery, Status, Trailer, v2store};

const FIXTURES: &str = "tests/fixtures/etcd-3.4.23";

fn fixture(rel: &str) -> Vec<u8> {
    let base = std::env::var("ETCD_SNAP_FIXTURES")
        .unwrap_or_else(|_| format!("{}/{FIXTURES}", env!("CARGO_MANIFEST_DIR")));
    std::fs::read(format!("{base}/{rel}")).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

fn follower_db() -> Vec<u8> {
    fixture("cluster/follower-snap/00000000000015c5.snap.db")
}

fn bad_db(r: Result<impl std::fmt::Debug, Error>) -> (Option<u64>, String) {
    match r {
        Err(Error::BadDb { page, problem }) => (page, problem),
        other => panic!("expected BadDb, got {other:?}"),
    }
}

#[test]
fn follower_snap_db_status_equals_etcdctl() {
    let db = Db::open(follower_db()).unwrap();
    assert_eq!(db.trailer(), Trailer::None);
    assert_eq!(
        db.status().unwrap(),
        Status {
            hash: 2513690080,
            revision: 5565,
            total_key: 269,
            total_size: 57344,
            version: None
        }
    );
    assert!(db.check().is_empty());
}

#[test]
fn follower_snap_db_keyspace_and_cluster() {
    let db = Db::open(follower_db()).unwrap();
    let info = db.cluster_info().unwrap();
    assert_eq!(info.members.len(), 3);
    assert_eq!(info.cluster_version.as_deref(), Some("3.4.0"));
    assert!(info.meta.consistent_index.unwrap() > 0);
    let mvcc = db.mvcc().unwrap();
    assert_eq!(mvcc.current_revision(), 5565);
    let all = mvcc.range(&RangeQuery::prefix(b"")).unwrap();
    assert_eq!(all.count as usize, all.kvs.len());
    assert!(all.kvs.windows(2).all(|w| w[0].key < w[1].key));
    let buckets = db.buckets().unwrap();
    let names: Vec<&[u8]> = buckets.iter().map(|b| b.name.as_slice()).collect();
    assert!(names.contains(&&b"key"[..]) && names.contains(&&b"meta"[..]));
    let total: u64 = buckets.iter().map(|b| b.keys).sum();
    assert_eq!(total, 269);
}

#[test]
fn v2_store_of_follower_snap() {
    let snap = fixture("cluster/follower-snap/0000000000000002-00000000000015c5.snap");
    let decoded = etcd_snap::codec::decode_snap_file(snap.into()).unwrap();
    let v2 = v2store::parse(decoded.data.as_deref().unwrap()).unwrap();
    let names: Vec<&str> = v2.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["m1", "m3", "m2"]);
    assert_eq!(v2.cluster_version.as_deref(), Some("3.4.0"));
    assert_eq!(v2.members[0].peer_urls, ["http://127.0.0.1:23801"]);
}

#[test]
fn truncated_file_reads_as_bbolt_reads_it_with_a_warning() {
    // The last page is free: bbolt (and etcdctl, tests/interop/inspect/damaged.rs) never reads
    // it, so the numbers stay; the shortfall is a warning (issue 9, item 10).
    let mut d = follower_db();
    let want = Db::open(d.clone()).unwrap().status().unwrap();
    d.truncate(d.len() - 4096);
    let db = Db::open(d.clone()).unwrap();
    assert_eq!(db.status().unwrap(), want);
    let w = db.warnings();
    assert!(w.len() == 1 && w[0].contains("truncated"), "{w:?}");
    // Cut into pages that are read: an error, where bbolt would fault.
    let (_, problem) = bad_db(Db::open(d[..4 * 4096].to_vec()).and_then(|db| db.status()));
    assert!(
        problem.contains("past the end of the 16384-byte file (truncated?)"),
        "{problem}"
    );
    d.truncate(100);
    bad_db(Db::open(d));
}

#[test]
fn one_bad_meta_falls_back_to_the_other() {
    let d = follower_db();
    let good = Db::open(d.clone()).unwrap().status().unwrap();
    for page in [0usize, 1] {
        let mut c = d.clone();
        c[page * 4096 + 16 + 20] ^= 0x40; // inside the meta, covered by its checksum
        let db = Db::open(c).unwrap();
        let choice = db.bolt().meta_choice();
        assert_eq!(usize::from(choice.used), 1 - page);
        assert!(
            if page == 0 {
                choice.meta0_error
            } else {
                choice.meta1_error
            }
            .is_some()
        );
        // Both metas of this file describe the same tree (txid 5 and 6).
        assert_eq!(db.status().unwrap(), good);
    }
    let mut c = d.clone();
    c[16 + 20] ^= 0x40;
    c[4096 + 16 + 20] ^= 0x40;
    let (_, problem) = bad_db(Db::open(c));
    assert!(problem.contains("checksum error"), "{problem}");
}

#[test]
fn flipped_bytes_in_pages_never_panic() {
    let d = follower_db();
    let pages = d.len() / 4096;
    let mut errors = 0;
    for page in 2..pages {
        for at in [8usize, 10, 12, 16, 20, 24, 28, 100, 2000, 4095] {
            let mut c = d.clone();
            c[page * 4096 + at] ^= 0xff;
            let Ok(db) = Db::open(c) else { continue };
            let st = db.status();
            let mv = db
                .mvcc()
                .and_then(|m| m.range(&RangeQuery::prefix(b"")).map(|r| r.count));
            let _ = db.cluster_info();
            let _ = db.buckets();
            if st.is_err() || mv.is_err() {
                errors += 1;
                if let Err(e) = st {
                    assert_eq!(e.code(), "ERR_BAD_DB");
                }
            }
        }
    }
    assert!(errors > 0);
}

#[test]
fn element_offsets_past_the_page_name_the_page() {
    let d = follower_db();
    let db = Db::open(d.clone()).unwrap();
    let root = db.bolt().meta().root as usize;
    let mut c = d.clone();
    // pos of the first element of the root page points far away.
    c[root * 4096 + 16 + 4..root * 4096 + 16 + 8].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let db = Db::open(c).unwrap();
    let (page, problem) = bad_db(db.status());
    assert_eq!(page, None);
    assert!(problem.contains(&format!("page {root}:")), "{problem}");
    let (page, _) = bad_db(db.buckets());
    assert_eq!(page, Some(root as u64));
}

#[test]
fn cyclic_branch_reference_is_detected() {
    let d = follower_db();
    let db = Db::open(d.clone()).unwrap();
    // Point the first child of a reachable branch page (a bucket root) at itself.
    let bolt = db.bolt();
    let branch = [&b"key"[..], b"meta", b"members", b"lease"]
        .iter()
        .find_map(|name| {
            let b = bolt.bucket(&bolt.root(), name).unwrap()?;
            let p = bolt.page(b.header.root).ok()?;
            p.is_branch().then_some(b.header.root as usize)
        });
    let Some(p) = branch else {
        // No branch page: make the root bucket's page a branch pointing at itself.
        let root = bolt.meta().root as usize;
        let mut c = d.clone();
        c[root * 4096 + 8] = 0x01;
        c[root * 4096 + 10] = 1;
        c[root * 4096 + 16 + 8..root * 4096 + 16 + 16]
            .copy_from_slice(&(root as u64).to_le_bytes());
        let db = Db::open(c).unwrap();
        bad_db(db.buckets());
        bad_db(db.status());
        return;
    };
    let mut c = d.clone();
    c[p * 4096 + 16 + 8..p * 4096 + 16 + 16].copy_from_slice(&(p as u64).to_le_bytes());
    let db = Db::open(c).unwrap();
    bad_db(db.status());
    assert!(db.mvcc().is_err() || db.buckets().is_err());
}

#[test]
fn sha256_trailer_is_verified() {
    use sha2::Digest as _;
    let mut d = follower_db();
    let sum = sha2::Sha256::digest(&d);
    d.extend_from_slice(&sum);
    let db = Db::open(d.clone()).unwrap();
    assert_eq!(db.trailer(), Trailer::Verified);
    assert_eq!(db.status().unwrap().hash, 2513690080);
    let n = d.len();
    d[n - 1] ^= 1;
    let e = Db::open(d.clone()).unwrap_err();
    assert_eq!(e.code(), "ERR_DB_HASH_MISMATCH");
    // Both digests in hex (64 digits each), the trailer's first.
    let want = format!(
        "expected sha256 {}, got {}",
        etcd_snap::error::hex_bytes(&d[n - 32..]),
        etcd_snap::error::hex_bytes(&sha2::Sha256::digest(&d[..n - 32]))
    );
    assert_eq!(e.to_string(), want);
    let db = Db::open_with(
        d,
        OpenOptions {
            verify_trailer: false,
        },
    )
    .unwrap();
    assert_eq!(db.trailer(), Trailer::Unverified);
}

#[test]
fn revision_queries_follow_etcd_rules() {
    let db = Db::open(follower_db()).unwrap();
    let mvcc = db.mvcc().unwrap();
    let e = mvcc
        .range(&RangeQuery {
            rev: 1_000_000,
            ..RangeQuery::prefix(b"")
        })
        .unwrap_err();
    assert_eq!(e.code(), "ERR_FUTURE_REV");
    let limited = mvcc
        .range(&RangeQuery {
            limit: 3,
            ..RangeQuery::prefix(b"")
        })
        .unwrap();
    assert_eq!(limited.kvs.len(), 3.min(limited.count as usize));
    assert_eq!(limited.more, limited.count > 3);
}

#[test]
fn cached_source_reads_the_same_bytes() {
    use etcd_snap::inspect::{Cached, PageSource};
    let d = follower_db();
    // Tiny cache: 4 KiB blocks, two of them, so almost every read evicts.
    for (block, max) in [(4096, 8192), (65536, 1 << 20), (5000, 1 << 30)] {
        let c = Cached::new(d.as_slice(), block, max);
        for (off, len) in [
            (0u64, 16usize),
            (4090, 20),
            (8000, 40000),
            (57000, 344),
            (1, 0),
        ] {
            assert_eq!(
                &*c.read_at(off, len).unwrap(),
                &d[off as usize..off as usize + len]
            );
        }
        assert!(c.read_at(57000, 345).is_err());
        assert!(c.read_at(u64::MAX, 2).is_err());
        let db = Db::open(Cached::new(d.as_slice(), block, max)).unwrap();
        assert_eq!(db.status().unwrap().hash, 2513690080);
    }

    /// A source that returns fewer bytes than asked (a misbehaving JS reader).
    struct Short(Vec<u8>);
    impl PageSource for Short {
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
        fn read_at(
            &self,
            offset: u64,
            len: usize,
        ) -> etcd_snap::Result<std::borrow::Cow<'_, [u8]>> {
            let o = offset as usize;
            Ok(self.0[o..o + len / 2].into())
        }
    }
    let c = Cached::new(Short(d.clone()), 4096, 1 << 20);
    assert!(c.read_at(0, 4096).is_err());
    assert!(Db::open(c).and_then(|db| db.status()).is_err());
}

#[test]
fn cli_pages_through_keys_with_from_and_limit() {
    let path = format!(
        "{}/{FIXTURES}/cluster/follower-snap/00000000000015c5.snap.db",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_etcd-snap"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let all = run(&["keys", &path]);
    let all_keys: Vec<String> = all["kvs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| kv["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all["count"].as_u64().unwrap() as usize, all_keys.len());
    let mut paged: Vec<String> = Vec::new();
    let mut from: Option<String> = None;
    loop {
        let mut args = vec!["keys", path.as_str(), "--limit", "50"];
        let from_plain;
        if let Some(f) = &from {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD.decode(f).unwrap();
            from_plain = String::from_utf8(raw).unwrap();
            args.extend(["--from", from_plain.as_str()]);
        }
        let page = run(&args);
        let mut keys: Vec<String> = page["kvs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| kv["key"].as_str().unwrap().to_owned())
            .collect();
        if from.is_some() {
            assert_eq!(
                keys.first(),
                from.as_ref(),
                "the --from key comes first again"
            );
            keys.remove(0);
        }
        paged.extend(keys.iter().cloned());
        if page.get("more").is_none() {
            break;
        }
        from = paged.last().cloned();
    }
    assert_eq!(paged, all_keys);
}

/// Collects a streamed range (issue 9, item 9) for comparison with the indexed one.
#[derive(Default)]
struct Collect {
    header: Option<i64>,
    kvs: Vec<etcd_snap::inspect::KeyValue>,
}

impl etcd_snap::inspect::stream::RangeSink for Collect {
    fn header(&mut self, revision: i64) -> etcd_snap::Result<()> {
        assert!(self.header.replace(revision).is_none(), "one header");
        assert!(self.kvs.is_empty(), "header first");
        Ok(())
    }
    fn kv(&mut self, kv: etcd_snap::inspect::KeyValue) -> etcd_snap::Result<()> {
        assert!(self.header.is_some(), "header first");
        self.kvs.push(kv);
        Ok(())
    }
}

#[test]
fn streamed_range_in_small_windows_equals_the_indexed_range() {
    let db = Db::open(follower_db()).unwrap();
    let mvcc = db.mvcc().unwrap();
    let cur = mvcc.current_revision();
    let mut queries = vec![];
    for rev in [0, cur, cur - 30, cur - 500, 1, cur + 1] {
        for limit in [0, 1, 7, 100_000] {
            queries.push(RangeQuery {
                rev,
                limit,
                ..RangeQuery::prefix(b"")
            });
            queries.push(RangeQuery {
                rev,
                limit,
                ..RangeQuery::prefix(b"after/")
            });
            queries.push(etcd_snap::inspect::etcdctl::keys_query(
                b"",
                Some(b"after/000100"),
                rev,
                limit,
            ));
        }
    }
    // A single key, an empty range, and a range ending before it starts.
    queries.push(RangeQuery {
        start: b"after/000100".to_vec(),
        ..Default::default()
    });
    queries.push(RangeQuery::prefix(b"nope"));
    queries.push(RangeQuery {
        start: b"b".to_vec(),
        end: Some(b"a".to_vec()),
        ..Default::default()
    });
    // Budgets from one key per window to everything in one window.
    for budget in [0, 300, 5_000, 1 << 20] {
        for q in &queries {
            let want = mvcc.range(q);
            let mut got = Collect::default();
            let tail = db.range_stream(q, budget, &mut got);
            match want {
                Ok(want) => {
                    let tail = tail.unwrap_or_else(|e| panic!("{q:?}: {e}"));
                    assert_eq!(got.header, Some(want.header_revision), "{q:?}");
                    assert_eq!(got.kvs, want.kvs, "{q:?} budget {budget}");
                    assert_eq!((tail.count, tail.more), (want.count, want.more), "{q:?}");
                }
                Err(e) => {
                    assert_eq!(tail.unwrap_err().code(), e.code(), "{q:?}");
                    assert_eq!(got.header, None, "no output before an error");
                }
            }
        }
    }
    assert!(mvcc.key_count() > 200);
}
