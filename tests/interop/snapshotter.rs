//! etcd-snap against etcd 3.4's own `snap` package (Go, built from Debian's
//! golang-etcd-server-dev by tests/oracle/snap_oracle.go; `.ci/setup` installs
//! both): etcd reads what we write, we read what etcd writes, and on generated directories
//! `Load` / `LoadNewestAvailable` / `ReleaseSnapDBs` give etcd's result and leave etcd's
//! directory behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bytes::Bytes;
use etcd_snap::names::{db_name, snap_name};
use etcd_snap::pb;
use etcd_snap::storage::NativeStorage;
use etcd_snap::summary::SnapSummary;
use etcd_snap::{ConfState, Error, Options, Snapshot, SnapshotMetadata, Snapshotter, WalSnapshot};
use futures_executor::block_on;
use futures_util::io::Cursor;

/// etcd 3.4's `snap` package as an oracle (tests/oracle/snap_oracle.go).
fn oracle() -> PathBuf {
    crate::support::go::oracle("snap_oracle")
}

/// Runs one oracle command; returns its one-line verdict.
fn etcd(args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut cmd = Command::new(oracle());
    cmd.args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = cmd.spawn().expect("spawn snap_oracle");
    if let Some(body) = stdin {
        use std::io::Write as _;
        let mut w = child.stdin.take().unwrap();
        w.write_all(body).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "snap_oracle {args:?} failed");
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

fn summary(s: &Snapshot) -> String {
    serde_json::to_string(&SnapSummary::of(s)).unwrap()
}

/// etcd's verdict format for a Rust result.
fn verdict(r: &Result<Snapshot, Error>) -> String {
    match r {
        Ok(s) => summary(s),
        Err(e) => format!("ERR {e}"),
    }
}

fn same_json(go: &str, rust: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(go),
        serde_json::from_str::<serde_json::Value>(rust),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => go == rust,
    }
}

fn snap(term: u64, index: u64, data: Option<&[u8]>, cs: ConfState) -> Snapshot {
    Snapshot {
        data: data.map(Bytes::copy_from_slice),
        metadata: SnapshotMetadata {
            conf_state: cs,
            index,
            term,
        },
    }
}

fn voters(v: &[u64]) -> ConfState {
    ConfState {
        voters: v.to_vec(),
        ..Default::default()
    }
}

/// G1, G2, G2b, G3 (tests/pb_golden.rs), the fixtures' extremes, and a 1 MiB payload.
fn samples() -> Vec<Snapshot> {
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 256) as u8).collect();
    vec![
        snap(1, 1, Some(b"some snapshot"), voters(&[1, 2, 3])),
        snap(2, 16, None, ConfState::default()),
        snap(2, 17, Some(b""), ConfState::default()),
        snap(
            u64::MAX,
            1 << 40,
            Some(&[0xde, 0xad]),
            ConfState {
                voters: vec![1, 300],
                learners: vec![4],
                voters_outgoing: vec![1, 2],
                learners_next: vec![5],
                auto_leave: true,
            },
        ),
        snap(
            u64::MAX,
            u64::MAX - 1,
            Some(b"hello"),
            voters(&[u64::MAX, 1 << 63]),
        ),
        snap(3, 1000, Some(&big), voters(&[1])),
    ]
}

fn dir_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn exact_etcd() -> Options {
    Options {
        clean_tmp_on_open: false,
        max_broken: None,
        ..Options::default()
    }
}

async fn open(dir: &Path, opts: Options) -> Snapshotter<NativeStorage> {
    Snapshotter::open(NativeStorage::new(dir), opts)
        .await
        .unwrap()
}

#[test]
fn etcd_reads_what_we_write() {
    block_on(async {
        let d = tempfile::tempdir().unwrap();
        let ss = open(d.path(), Options::default()).await;
        for s in samples() {
            ss.save_snap(&s).await.unwrap();
            let file = d.path().join(snap_name(s.metadata.term, s.metadata.index));
            let go = etcd(&["read", dir_str(&file)], None);
            assert!(same_json(&go, &summary(&s)), "etcd read {go}");
        }
        // etcd's Load picks the same newest file as ours.
        let go = etcd(&["load", dir_str(d.path())], None);
        assert!(same_json(&go, &verdict(&ss.load().await)), "{go}");
        let go = etcd(&["loadavail", dir_str(d.path()), "2:16,1:1"], None);
        let wal = [
            WalSnapshot { term: 2, index: 16 },
            WalSnapshot { term: 1, index: 1 },
        ];
        let ours = ss.load_newest_available(&wal).await;
        assert_eq!(ours.as_ref().unwrap().metadata.index, 16);
        assert!(same_json(&go, &verdict(&ours)), "{go}");
    });
}

#[test]
fn we_read_what_etcd_writes_byte_for_byte() {
    block_on(async {
        let go_dir = tempfile::tempdir().unwrap();
        let rs_dir = tempfile::tempdir().unwrap();
        let ss = open(rs_dir.path(), Options::default()).await;
        let go_ss = open(
            go_dir.path(),
            Options {
                lock: None,
                ..Options::default()
            },
        )
        .await;
        for s in samples() {
            let inner = pb::encode(&s);
            assert_eq!(etcd(&["save", dir_str(go_dir.path())], Some(&inner)), "OK");
            ss.save_snap(&s).await.unwrap();
            let name = snap_name(s.metadata.term, s.metadata.index);
            let theirs = std::fs::read(go_dir.path().join(&name)).unwrap();
            let ours = std::fs::read(rs_dir.path().join(&name)).unwrap();
            assert_eq!(theirs, ours, "{name}: SaveSnap bytes differ from etcd's");
            assert_eq!(go_ss.read(&name).await.unwrap(), s);
        }
        // Index 0: etcd writes nothing, neither do we.
        let empty = snap(9, 0, Some(b"ignored"), voters(&[1]));
        assert_eq!(
            etcd(&["save", dir_str(go_dir.path())], Some(&pb::encode(&empty))),
            "OK"
        );
        ss.save_snap(&empty).await.unwrap();
        assert_eq!(names(go_dir.path()), names(rs_dir.path()));
    });
}

#[test]
fn db_files_interoperate() {
    block_on(async {
        let d = tempfile::tempdir().unwrap();
        let ss = open(d.path(), Options::default()).await;
        let n = ss
            .save_db_from(Cursor::new(b"hello".to_vec()), 10)
            .await
            .unwrap();
        assert_eq!(n, 5);
        // etcd finds our db; its SaveDBFrom on the same index keeps our content, as ours does.
        let path = d.path().join(db_name(10));
        assert_eq!(
            etcd(&["dbpath", dir_str(d.path()), "10"], None),
            format!("PATH {}", path.display())
        );
        assert_eq!(
            etcd(&["savedb", dir_str(d.path()), "10"], Some(b"other!")),
            "N 6"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        // We find etcd's db.
        assert_eq!(
            etcd(&["savedb", dir_str(d.path()), "11"], Some(b"from etcd")),
            "N 9"
        );
        let p = ss.db_file_path(11).await.unwrap();
        assert_eq!(std::fs::read(p).unwrap(), b"from etcd");
        assert_eq!(
            etcd(&["dbpath", dir_str(d.path()), "12"], None),
            format!("ERR {}", ss.db_file_path(12).await.unwrap_err())
        );
    });
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Names, kinds and contents: what a directory looks like after an operation.
fn contents(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let c = if p.is_dir() {
                None
            } else {
                Some(std::fs::read(p).unwrap())
            };
            (n, c)
        })
        .collect()
}

/// xorshift64*: deterministic, dependency-free case generation.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Fills `dir` with a random mix of what snap directories contain in the wild.
fn generate(rng: &mut Rng, dir: &Path) -> Vec<(u64, u64)> {
    let mut valid = Vec::new();
    let entries = rng.below(7);
    for _ in 0..entries {
        let (t, i) = (1 + rng.below(3), 1 + rng.below(6));
        let good = etcd_snap::codec::encode_snap_file(&snap(t, i, Some(b"d"), voters(&[1])));
        let name = snap_name(t, i);
        let (name, bytes): (String, Option<Vec<u8>>) = match rng.below(12) {
            0..=3 => {
                valid.push((t, i));
                (name, Some(good))
            }
            4 => (name, Some(Vec::new())),
            5 => (
                name,
                Some(good[..good.len() - 1 - rng.below(3) as usize].to_vec()),
            ),
            6 => {
                let mut b = good.clone();
                let last = b.len() - 1;
                b[last] ^= 0x40;
                (name, Some(b))
            }
            7 => (format!("{}.snap", rng.below(20)), Some(b"junk".to_vec())),
            8 => (format!("d{}.snap", rng.below(3)), None),
            9 => (format!("db.tmp.{}", rng.below(100)), Some(b"x".to_vec())),
            10 => (
                ["db", "tmp123", "0000000000000005.snap.db", "a.snap.broken"]
                    [rng.below(4) as usize]
                    .to_string(),
                Some(b"y".to_vec()),
            ),
            _ => {
                // A valid snapshot under another name: etcd never checks names.
                valid.push((t, i));
                (format!("{}.snap", rng.below(20)), Some(good))
            }
        };
        let p = dir.join(&name);
        if p.exists() {
            continue;
        }
        match bytes {
            Some(b) => std::fs::write(p, b).unwrap(),
            None => std::fs::create_dir(p).unwrap(),
        }
    }
    valid
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir(target).unwrap();
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// 150 generated directories: etcd's Load / LoadNewestAvailable and ours (in exact-etcd mode:
/// no tmp cleanup, no `.broken` bound) give the same verdict and leave the same directory.
#[test]
fn load_matches_etcd_on_generated_directories() {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let (mut found, mut none) = (0, 0);
    block_on(async {
        for case in 0..150 {
            let src = tempfile::tempdir().unwrap();
            let valid = generate(&mut rng, src.path());
            let go_dir = tempfile::tempdir().unwrap();
            let rs_dir = tempfile::tempdir().unwrap();
            copy_dir(src.path(), go_dir.path());
            copy_dir(src.path(), rs_dir.path());
            let before = contents(src.path());

            let use_wal = case % 2 == 1;
            let mut wal: Vec<(u64, u64)> = (0..rng.below(3))
                .map(|_| (1 + rng.below(3), 1 + rng.below(6)))
                .collect();
            if use_wal && !valid.is_empty() && rng.below(2) == 0 {
                wal.push(valid[rng.below(valid.len() as u64) as usize]);
            }
            let go = if use_wal {
                let arg = if wal.is_empty() {
                    "0:0".to_string()
                } else {
                    wal.iter()
                        .map(|(t, i)| format!("{t}:{i}"))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                etcd(&["loadavail", dir_str(go_dir.path()), &arg], None)
            } else {
                etcd(&["load", dir_str(go_dir.path())], None)
            };
            let ss = open(rs_dir.path(), exact_etcd()).await;
            let ours = if use_wal {
                let mut w: Vec<WalSnapshot> = wal
                    .iter()
                    .map(|&(term, index)| WalSnapshot { term, index })
                    .collect();
                if w.is_empty() {
                    w.push(WalSnapshot { term: 0, index: 0 });
                }
                ss.load_newest_available(&w).await
            } else {
                ss.load().await
            };
            if ours.is_ok() {
                found += 1;
            } else {
                none += 1;
            }
            let ours = verdict(&ours);
            assert!(
                same_json(&go, &ours),
                "case {case}: {before:?}\n etcd: {go}\n ours: {ours}"
            );
            assert_eq!(
                contents(go_dir.path()),
                contents(rs_dir.path()),
                "case {case}: directories differ after load; before: {before:?}"
            );
        }
    });
    assert!(
        found >= 20 && none >= 20,
        "{found} found, {none} not: generator too narrow"
    );
}

/// ReleaseSnapDBs on generated `.snap.db` names (any case, any length, junk): same survivors.
#[test]
fn release_matches_etcd_on_generated_names() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    block_on(async {
        for case in 0..40 {
            let go_dir = tempfile::tempdir().unwrap();
            let rs_dir = tempfile::tempdir().unwrap();
            for _ in 0..rng.below(8) {
                let v = rng.below(300);
                let name = match rng.below(6) {
                    0 => db_name(v),
                    1 => format!("{v:x}.snap.db"),
                    2 => format!("{v:X}.snap.db"),
                    3 => format!("{v:020x}.snap.db"),
                    4 => [
                        "zz.snap.db",
                        ".snap.db",
                        "10000000000000000.snap.db",
                        "+1.snap.db",
                    ][rng.below(4) as usize]
                        .to_string(),
                    _ => snap_name(1, v),
                };
                std::fs::write(go_dir.path().join(&name), b"x").unwrap();
                std::fs::write(rs_dir.path().join(&name), b"x").unwrap();
            }
            let before = names(go_dir.path());
            let index = rng.below(300);
            assert_eq!(
                etcd(
                    &["release", dir_str(go_dir.path()), &index.to_string()],
                    None
                ),
                "OK"
            );
            let ss = open(rs_dir.path(), exact_etcd()).await;
            ss.release_snap_dbs(&snap(1, index, None, ConfState::default()))
                .await
                .unwrap();
            assert_eq!(
                names(go_dir.path()),
                names(rs_dir.path()),
                "case {case}: index {index}, before {before:?}"
            );
        }
    });
}
