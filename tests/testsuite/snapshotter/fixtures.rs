//! The Snapshotter on real etcd 3.4.23 folders (tests/fixtures/etcd-3.4.23, copied into a
//! fresh folder per test): etcd's own verdicts must come out, on both backends.

use std::path::Path;

use crate::support::snapshotter::{Env, fixtures, open};
use etcd_snap::summary::SnapSummary;
use etcd_snap::{Error, Options, Snapshotter};

fn read_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn listing(p: &Path) -> Vec<String> {
    read_text(p).lines().map(str::to_owned).collect()
}

fn summary_json(s: &etcd_snap::Snapshot) -> serde_json::Value {
    serde_json::to_value(SnapSummary::of(s)).unwrap()
}

fn expected_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&read_text(p)).unwrap()
}

/// single/member-snap: Load gives term 2 / index 308 as etcd did, renames nothing.
async fn member_snap_load<E: Env>(env: E) {
    env.put_dir(&fixtures().join("single/member-snap"));
    let ss = open(&env).await;
    let got = ss.load().await.unwrap();
    assert_eq!((got.metadata.term, got.metadata.index), (2, 308));
    assert_eq!(
        summary_json(&got),
        expected_json(&fixtures().join("expected/single/member-snap.load.json"))
    );
    assert_eq!(
        env.names(),
        listing(&fixtures().join("expected/single/member-snap.after-load.ls"))
    );
}

/// Every good fixture `.snap`: Read gives etcd's verdict JSON, and SaveSnap(Read(x)) writes
/// a byte-identical file under the same name.
async fn every_good_snap_reads_and_round_trips<E: Env>(env: E) {
    let dirs = [
        "single/member-snap",
        "cluster/follower-snap",
        "golden/saved",
    ];
    let mut count = 0;
    for dir in dirs {
        for e in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            if !name.ends_with(".snap") {
                continue;
            }
            let original = std::fs::read(&path).unwrap();
            let src = E::new();
            src.put(&name, &original);
            let snap = open(&src).await.read(&name).await.unwrap();
            let verdict = fixtures().join(format!("expected/{dir}/{name}.json"));
            assert_eq!(summary_json(&snap), expected_json(&verdict), "{dir}/{name}");

            let ss = open(&env).await;
            ss.save_snap(&snap).await.unwrap();
            assert_eq!(
                env.get(&name).as_deref(),
                Some(&original[..]),
                "SaveSnap(Read({dir}/{name})) must be byte-identical"
            );
            count += 1;
        }
    }
    assert_eq!(count, 6 + 1 + 4, "every good fixture was checked");
}

/// golden/corrupt: each Read fails with etcd's message; Load says `snap: no available
/// snapshot` and renames all five (default max_broken 5 keeps them all).
async fn corrupt_load<E: Env>(env: E) {
    let dir = fixtures().join("golden/corrupt");
    env.put_dir(&dir);
    let ss = open(&env).await;
    for name in env.names() {
        let want = read_text(&fixtures().join(format!("expected/golden/corrupt/{name}.err.txt")));
        let err = ss.read(&name).await.unwrap_err();
        assert_eq!(format!("ERROR: {err}"), want.trim_end(), "{name}");
    }
    let err = ss.load().await.unwrap_err();
    assert!(matches!(err, Error::NoSnapshot));
    let want = read_text(&fixtures().join("expected/golden/corrupt.load.err.txt"));
    assert_eq!(format!("ERROR: {err}"), want.trim_end());
    assert_eq!(ss.options().max_broken, Some(5));
    assert_eq!(
        env.names(),
        listing(&fixtures().join("expected/golden/corrupt.after-load.ls"))
    );
    // Contents are preserved under the new names.
    for name in env.names() {
        let orig = std::fs::read(dir.join(name.strip_suffix(".broken").unwrap())).unwrap();
        assert_eq!(env.get(&name).unwrap(), orig, "{name}");
    }
}

/// **Differs from etcd:** with max_broken = 2, only the newest two `.broken` names stay.
async fn corrupt_load_max_broken_2<E: Env>(env: E) {
    env.put_dir(&fixtures().join("golden/corrupt"));
    let opts = Options {
        max_broken: Some(2),
        ..Options::default()
    };
    let ss = Snapshotter::open(env.storage(), opts).await.unwrap();
    assert!(matches!(ss.load().await.unwrap_err(), Error::NoSnapshot));
    assert_eq!(
        env.names(),
        [
            "0000000000000002-0000000000000068.snap.broken",
            "0000000000000002-0000000000000069.snap.broken",
        ]
    );
}

/// The follower's folder: Load picks the `.snap`, leaves the `.snap.db`, and DBFilePath finds
/// the received db by the snapshot's index.
async fn follower_snap_and_db<E: Env>(env: E) {
    env.put_dir(&fixtures().join("cluster/follower-snap"));
    let before = env.names();
    let ss = open(&env).await;
    let got = ss.load().await.unwrap();
    assert_eq!(got.metadata.index, 0x15c5);
    let path = ss.db_file_path(got.metadata.index).await.unwrap();
    assert!(path.ends_with("00000000000015c5.snap.db"), "{path}");
    assert_eq!(env.names(), before);
    // Releasing at the snapshot's own index keeps it (strictly-less rule).
    ss.release_snap_dbs(&got).await.unwrap();
    assert_eq!(env.names(), before);
    let db = env.get("00000000000015c5.snap.db").unwrap();
    assert_eq!(db.len(), 57344);
}

crate::both_backends!(
    member_snap_load,
    every_good_snap_reads_and_round_trips,
    corrupt_load,
    corrupt_load_max_broken_2,
    follower_snap_and_db,
);
