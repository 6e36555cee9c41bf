//! The bbolt writer (src/inspect/bbolt/write.rs) and `etcd-snap defrag`, held to bbolt itself
//! (tests/oracle/bbolt_oracle.go over Debian's bbolt 1.3.6 and etcd 3.4.23's backend):
//! every file we write passes bbolt's `tx.Check()`, bbolt finds every key again with
//! `Cursor.Seek` and `Get`, holds exactly the source's buckets, sequences, keys and values,
//! and has the tree bbolt builds for the same copy: `Bucket.Stats()` (pages of each kind,
//! depth, bytes in use and allocated, inline buckets) equal to etcd's own defrag of the same
//! db, and to bbolt's copy committed at any interval, on any page size.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use etcd_snap::inspect::Db;
use etcd_snap::inspect::bbolt::write::{self, CopyFeed, Layout, Op, OpsFeed, Options};
use serde_json::Value;

use crate::support::etcd::Version;
use crate::support::etcd_snap;

/// Runs the oracle; its one JSON line.
fn oracle<I, S>(args: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let bin = crate::support::go::oracle("bbolt_oracle");
    let out = Command::new(bin).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bbolt_oracle failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// bbolt's verdict on `file`, compared with `reference`'s content.
fn verify(file: &Path, reference: &Path) -> Value {
    oracle([
        OsStr::new("verify"),
        file.as_os_str(),
        reference.as_os_str(),
    ])
}

/// bbolt checks `file`, finds every key and sees `reference`'s content in it.
#[track_caller]
fn assert_sound(r: &Value, what: &str) {
    for list in ["check", "seek", "diff"] {
        assert_eq!(r[list], Value::Array(vec![]), "{what}: {list}: {r}");
    }
}

/// Stats of the top-level buckets, without those in `skip`.
fn stats(r: &Value, skip: &[&str]) -> serde_json::Map<String, Value> {
    let mut m = r["stats"].as_object().unwrap().clone();
    for s in skip {
        m.remove(&hex(s.as_bytes()));
    }
    m
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn work(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bbolt-write")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Our copy of `src` with `opts` (the library, through a file sink).
fn our_copy(src: &Path, dst: &Path, opts: Options) -> Layout {
    let db = Db::open(etcd_snap::inspect::FileSource::open(src).unwrap()).unwrap();
    let mut feed = CopyFeed::new(db.bolt());
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst).unwrap());
    let layout = write::write_to(opts, &mut feed, &mut out).unwrap();
    std::io::Write::flush(&mut out).unwrap();
    layout
}

/// `etcd-snap defrag SRC --out DST`: its JSON report.
fn defrag(src: &Path, dst: &Path) -> Value {
    let run = etcd_snap([
        OsStr::new("defrag"),
        src.as_os_str(),
        OsStr::new("--out"),
        dst.as_os_str(),
    ]);
    run.json()
}

/// etcd 3.4.23's own `backend.Defrag` on a copy of `src`.
fn etcd_defrag(src: &Path, dst: &Path) -> Value {
    std::fs::copy(src, dst).unwrap();
    oracle([OsStr::new("etcd-defrag"), dst.as_os_str()])
}

/// bbolt's copy of `src` (fill percent, a commit every `batch` keys, 0 = one transaction).
fn bbolt_copy(src: &Path, dst: &Path, fill: f64, batch: u64) {
    oracle([
        OsStr::new("copy"),
        src.as_os_str(),
        dst.as_os_str(),
        OsStr::new(&fill.to_string()),
        OsStr::new(&batch.to_string()),
    ]);
}

/// A fragmented db made by bbolt (see the oracle's `gen`).
fn generated(dir: &Path, seed: u64, keys: u64, page_size: u32, nested: bool) -> PathBuf {
    let db = dir.join(format!("gen-{seed}.db"));
    oracle([
        OsStr::new("gen"),
        db.as_os_str(),
        OsStr::new(&seed.to_string()),
        OsStr::new(&keys.to_string()),
        OsStr::new(&page_size.to_string()),
        OsStr::new(if nested { "1" } else { "0" }),
    ]);
    db
}

fn snapshot_status_hash(file: &Path) -> Value {
    let out = Version::V3_4
        .snapshot_status(file)
        .args(["-w", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["hash"].clone()
}

/// Real etcd dbs of the repository (the last one an `etcdctl snapshot save` file, whose sha256
/// trailer is not copied; bbolt reads it as a db).
const FIXTURE_DBS: &[&str] = &[
    "tests/fixtures/etcd-3.4.23/cluster/follower-snap/00000000000015c5.snap.db",
    "tests/fixtures/member-3.4.23/data/member/snap/db",
    "tests/fixtures/doctor/etcd-3.4.23/member/snap/db",
    "tests/fixtures/doctor/etcd-3.5.16/member/snap/db",
    "tests/fixtures/etcd-3.6/fields-3.5.db",
    "tests/fixtures/etcd-3.6/storage-3.6.db",
    "www/sample/member-snap/db",
    "tests/js/viewer/fixtures/snapshot-save.db",
];

#[test]
fn fixture_dbs_defragged_pass_bbolts_check_and_have_etcds_defrag_tree() {
    let dir = work("fixtures");
    for (i, rel) in FIXTURE_DBS.iter().enumerate() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        let ours = dir.join(format!("{i}.ours"));
        let report = defrag(&src, &ours);
        let mine = verify(&ours, &src);
        assert_sound(&mine, rel);
        assert_eq!(report["after"]["totalSize"], mine["size"], "{rel}");
        let etcds = dir.join(format!("{i}.etcd"));
        etcd_defrag(&src, &etcds);
        let theirs = verify(&etcds, &src);
        assert_sound(&theirs, rel);
        assert_eq!(
            stats(&mine, &[]),
            stats(&theirs, &[]),
            "{rel}: the tree of etcd's defrag"
        );
        // etcd's copy keeps bbolt's init pages 2 and 3 and the pages its last commit freed.
        let (a, b) = (
            mine["size"].as_u64().unwrap(),
            theirs["size"].as_u64().unwrap(),
        );
        assert!(a <= b && b - a <= 4 * 4096, "{rel}: ours {a}, etcd's {b}");
        // What `etcdctl snapshot status` hashes (bucket names, keys, values) is unchanged.
        assert_eq!(
            snapshot_status_hash(&ours),
            snapshot_status_hash(&src),
            "{rel}"
        );
    }
}

#[test]
fn a_generated_db_of_100k_keys_defragged_is_bbolts_and_etcds_copy() {
    let dir = work("big");
    // 130,000 keys put over 65 transactions, 52,000 more puts and deletes over 40 (about
    // 108,000 keys stay): values of 0 B to 40 KiB (overflow pages), nested buckets (etcd has
    // none), a synced freelist.
    let src = generated(&dir, 1, 130_000, 4096, true);
    let ours = dir.join("ours.db");
    let report = defrag(&src, &ours);
    assert!(report["keys"].as_u64().unwrap() > 100_000, "{report}");
    let mine = verify(&ours, &src);
    assert_sound(&mine, "ours");
    assert!(
        mine["size"].as_u64() < report["before"]["totalSize"].as_u64(),
        "{report}"
    );
    // bbolt's copy as etcd's defrag makes it (fill 0.9, a commit every 10,000 keys).
    let copy = dir.join("bbolt.db");
    bbolt_copy(&src, &copy, 0.9, 10_000);
    let bbolt = verify(&copy, &src);
    assert_sound(&bbolt, "bbolt's copy");
    assert_eq!(stats(&mine, &[]), stats(&bbolt, &[]));
    let (a, b) = (
        mine["size"].as_u64().unwrap(),
        bbolt["size"].as_u64().unwrap(),
    );
    assert!(a <= b && b - a <= 8 * 4096, "ours {a}, bbolt's {b}");
    // etcd's defrag itself: the same tree, but it drops nested buckets (its ForEach copies a
    // nested bucket as a key with an empty value, backend.go:519).
    let etcds = dir.join("etcd.db");
    etcd_defrag(&src, &etcds);
    let etcd = oracle([OsStr::new("verify"), etcds.as_os_str()]);
    assert_eq!(stats(&mine, &["nest"]), stats(&etcd, &["nest"]));
    assert_eq!(snapshot_status_hash(&ours), snapshot_status_hash(&src));
}

#[test]
fn every_commit_interval_fill_and_page_size_gives_bbolts_tree() {
    let dir = work("intervals");
    for (seed, keys, page_size) in [(2, 12_000, 16384), (3, 4_000, 1024)] {
        let src = generated(&dir, seed, keys, page_size, true);
        for (fill, batch) in [
            (0.9, 0),
            (0.9, 1),
            (0.9, 7),
            (0.9, 333),
            (0.9, 10_000),
            (0.5, 100),
            (1.0, 0),
            (0.05, 50),
        ] {
            let what = format!("seed {seed}, {page_size}-byte pages, fill {fill}, batch {batch}");
            let opts = Options {
                page_size,
                fill_percent: fill,
                commit_every: (batch > 0).then_some(batch),
            };
            let ours = dir.join(format!("{seed}-{fill}-{batch}.ours"));
            our_copy(&src, &ours, opts);
            let mine = verify(&ours, &src);
            assert_sound(&mine, &what);
            assert_eq!(mine["pageSize"], page_size, "{what}");
            let copy = dir.join(format!("{seed}-{fill}-{batch}.bbolt"));
            bbolt_copy(&src, &copy, fill, batch);
            assert_eq!(
                stats(&mine, &[]),
                stats(&verify(&copy, &src), &[]),
                "{what}"
            );
        }
    }
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Sizes around every boundary the writer decides on: empty values, one-byte and
/// `MAX_KEY_SIZE` keys, values about a quarter page (inline or not), the threshold, a page,
/// several pages.
fn size(rng: &mut Rng, page: u64) -> usize {
    let near = |rng: &mut Rng, x: u64| (x + rng.below(40)).saturating_sub(20) as usize;
    match rng.below(40) {
        0 | 1 => 0,
        2 | 3 => near(rng, page / 4),
        4 | 5 => near(rng, page * 9 / 10),
        6 => near(rng, page),
        7 => rng.below(4 * page) as usize,
        _ => rng.below(100) as usize,
    }
}

/// Ops of random buckets (some nested two deep, some empty) with keys in order.
fn random_ops(seed: u64, page: u64) -> Vec<Op> {
    let mut rng = Rng(seed);
    let mut ops = Vec::new();
    fn keys(rng: &mut Rng, n: u64, page: u64) -> Vec<Vec<u8>> {
        let mut ks: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let len = match rng.below(200) {
                    0 => write::MAX_KEY_SIZE,
                    1 => 1,
                    _ => 1 + size(rng, page).min(300),
                };
                rng.bytes(len.max(1))
            })
            .collect();
        ks.sort();
        ks.dedup();
        ks
    }
    fn fill(rng: &mut Rng, ops: &mut Vec<Op>, depth: u32, page: u64) {
        let n = match rng.below(4) {
            0 => 0,
            1 => rng.below(5),
            2 => rng.below(200),
            _ => rng.below(1500),
        };
        for key in keys(rng, n, page) {
            if depth < 2 && rng.below(100) == 0 {
                ops.push(Op::Bucket {
                    name: key,
                    sequence: rng.below(3),
                });
                fill(rng, ops, depth + 1, page);
                ops.push(Op::End);
            } else {
                let len = size(rng, page);
                ops.push(Op::Put {
                    key,
                    value: rng.bytes(len),
                });
            }
        }
    }
    for name in keys(&mut rng, 8, page) {
        ops.push(Op::Bucket { name, sequence: 0 });
        fill(&mut rng, &mut ops, 0, page);
        ops.push(Op::End);
    }
    ops
}

#[test]
fn the_writer_api_builds_bbolts_tree_for_keys_and_values_of_any_size() {
    let dir = work("api");
    for (seed, page_size) in [(11, 4096), (12, 4096), (13, 2048), (14, 8192)] {
        let ops = random_ops(seed, u64::from(page_size));
        let opts = Options {
            commit_every: Some(500),
            ..Options::with_page_size(page_size)
        };
        let file = dir.join(format!("{seed}.db"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut feed = OpsFeed::new(|| ops.clone().into_iter().map(Ok));
        let layout = write::write_to(opts, &mut feed, &mut out).unwrap();
        drop(out);
        assert_eq!(std::fs::metadata(&file).unwrap().len(), layout.size());
        // bbolt's copy of our file, committed as we emulated it: the same tree.
        let copy = dir.join(format!("{seed}.bbolt"));
        bbolt_copy(&file, &copy, 0.9, 500);
        let mine = verify(&file, &copy);
        assert_sound(&mine, &format!("seed {seed}"));
        assert_eq!(mine["keys"].as_u64(), Some(layout.keys), "seed {seed}");
        assert_eq!(
            stats(&mine, &[]),
            stats(&verify(&copy, &file), &[]),
            "seed {seed}"
        );
    }
}
