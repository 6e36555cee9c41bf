//! The doctor on real members (tests/fixtures/doctor/, one per etcd version), as is and with
//! faults made in memory; every expectation is what that etcd did when started on the same
//! files (tests/fixtures/doctor/README.md).

use std::path::{Path, PathBuf};

use etcd_snap::doctor::{
    Diagnosis, Level, Revision, StepId, Verdict, WarningKind, choose_member, diagnose,
};
use etcd_snap::storage::MemoryStorage;
use etcd_snap::{EtcdVersion, Snapshot, SnapshotMetadata};
use futures_executor::block_on;

fn dir(v: EtcdVersion) -> PathBuf {
    let name = match v {
        EtcdVersion::V3_4 => "etcd-3.4.23",
        EtcdVersion::V3_5 => "etcd-3.5.16",
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/doctor")
        .join(name)
        .join("member")
}

fn load(path: &Path) -> MemoryStorage {
    let m = MemoryStorage::new();
    for e in std::fs::read_dir(path).unwrap() {
        let e = e.unwrap();
        m.insert(
            e.file_name().to_str().unwrap(),
            std::fs::read(e.path()).unwrap(),
        );
    }
    m
}

/// The member of version `v`: (member/snap, member/wal), in memory.
fn member(v: EtcdVersion) -> (MemoryStorage, MemoryStorage) {
    (load(&dir(v).join("snap")), load(&dir(v).join("wal")))
}

fn run(snap: &MemoryStorage, wal: &MemoryStorage, v: EtcdVersion) -> Diagnosis {
    block_on(diagnose(snap.clone(), wal.clone(), v)).unwrap()
}

/// The HardState commit each version's WAL holds.
fn commit(v: EtcdVersion) -> u64 {
    match v {
        EtcdVersion::V3_4 => 36,
        EtcdVersion::V3_5 => 37,
    }
}

fn starts(d: &Diagnosis) -> &etcd_snap::doctor::Start {
    match &d.verdict {
        Verdict::Starts(s) => s,
        other => panic!("expected a start, got {other:?}\n{}", d.summary()),
    }
}

/// (snapshot index, commit, revision) of a start.
fn start_of(d: &Diagnosis) -> (u64, u64, Revision) {
    let s = starts(d);
    (
        s.snapshot.map_or(0, |w| w.index),
        s.commit,
        s.revision.clone(),
    )
}

fn warned(d: &Diagnosis, kind: WarningKind) -> Vec<String> {
    d.warnings
        .iter()
        .filter(|w| w.kind == kind)
        .flat_map(|w| w.names.clone())
        .collect()
}

fn newest_snap(m: &MemoryStorage) -> String {
    let mut n: Vec<String> = m
        .names()
        .into_iter()
        .filter(|n| n.ends_with(".snap"))
        .collect();
    n.sort();
    n.pop().unwrap()
}

fn wal_segment(m: &MemoryStorage) -> String {
    m.names().into_iter().find(|n| n.ends_with(".wal")).unwrap()
}

#[test]
fn a_member_killed_under_load_starts_where_etcd_starts() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let d = run(&snap, &wal, v);
        // The db is behind the commit: replay applies the txn, the delete and the revoke.
        assert_eq!(start_of(&d), (33, commit(v), Revision::Known(30)), "{v}");
        let s = starts(&d);
        assert_eq!(
            s.snapshot_file.as_deref(),
            Some("0000000000000002-0000000000000021.snap")
        );
        assert!(
            s.consistent_index > 33 && s.consistent_index < s.commit,
            "{v}: {s:?}"
        );
        assert_eq!(s.entries_to_replay, s.commit - 33);
        assert!(d.warnings.is_empty(), "{v}: {:?}", d.warnings);
        let ids: Vec<StepId> = d.steps.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                StepId::TmpCleanup,
                StepId::OpenBackend,
                StepId::WalExists,
                StepId::ValidSnapshotEntries,
                StepId::LoadNewestAvailable,
                StepId::V2StoreRecovery,
                StepId::RecoverBackend,
                StepId::ReadWal,
                StepId::RaftRestart,
                StepId::Replay
            ]
        );
        assert!(d.steps.iter().all(|s| s.cite.starts_with("etcd ")));
        assert_eq!(
            d.summary(),
            format!(
                "etcd {v} starts from snapshot 2/33 (db consistent index {}), replaying {} entries to commit {}, at revision 30.",
                s.consistent_index,
                s.entries_to_replay,
                commit(v)
            )
        );
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["verdict"]["verdict"], "starts");
        assert_eq!(json["etcd"], v.as_str());
        assert_eq!(
            json["verdict"]["revision"],
            serde_json::json!({"kind": "known", "value": 30})
        );
    }
}

#[test]
fn nothing_is_written() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        // Faults that make etcd rename, remove and truncate.
        let newest = newest_snap(&snap);
        let mut b = snap.get(&newest).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 1;
        snap.insert(&newest, b);
        snap.insert("tmp1", b"x".to_vec());
        snap.insert("db.tmp.2", b"y".to_vec());
        let seg = wal_segment(&wal);
        let w = wal.get(&seg).unwrap();
        wal.insert(&seg, w[..w.len() - 5].to_vec());
        let before = (snap.names(), wal.names());
        let contents: Vec<Vec<u8>> = before.0.iter().map(|n| snap.get(n).unwrap()).collect();
        run(&snap, &wal, v);
        assert_eq!((snap.names(), wal.names()), before);
        let after: Vec<Vec<u8>> = before.0.iter().map(|n| snap.get(n).unwrap()).collect();
        assert_eq!(after, contents);
        assert_eq!(wal.get(&seg).unwrap().len(), w.len() - 5);
    }
}

/// etcd etcdserver/api/snap/snapshotter.go:118: the newest readable `.snap` the WAL records.
#[test]
fn the_newest_snap_deleted_or_broken_falls_back_to_the_one_before() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let newest = newest_snap(&snap);
        block_on(etcd_snap::Storage::remove(&snap, &newest)).unwrap();
        let d = run(&snap, &wal, v);
        assert_eq!(start_of(&d), (22, commit(v), Revision::Known(30)), "{v}");
        // The WAL still records index 33, whose file is gone.
        assert_eq!(
            warned(&d, WarningKind::SnapshotFileMissing),
            [newest.as_str()]
        );

        let (snap, wal) = member(v);
        let mut b = snap.get(&newest).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 1;
        snap.insert(&newest, b);
        let d = run(&snap, &wal, v);
        assert_eq!(start_of(&d), (22, commit(v), Revision::Known(30)), "{v}");
        assert_eq!(warned(&d, WarningKind::RenamesBroken), [newest.as_str()]);
        let fact = d.facts.snaps.iter().find(|s| s.name == newest).unwrap();
        assert_eq!(fact.error.as_deref(), Some("snap: crc mismatch"));
    }
}

/// A readable `.snap` the WAL never recorded (a crash between SaveSnap and the WAL write) is
/// skipped (etcd etcdserver/server.go:447; the harness's `fault-orphan-snap-*` cases).
#[test]
fn a_snap_with_no_wal_record_is_skipped() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let data =
            etcd_snap::codec::decode_snap_file(snap.get(&newest_snap(&snap)).unwrap().into())
                .unwrap()
                .data;
        let orphan = Snapshot {
            data,
            metadata: SnapshotMetadata {
                term: 2,
                index: 100,
                ..Default::default()
            },
        };
        let name = etcd_snap::names::snap_name(2, 100);
        snap.insert(&name, etcd_snap::codec::encode_snap_file(&orphan));
        let d = run(&snap, &wal, v);
        assert_eq!(start_of(&d).0, 33, "{v}");
        assert_eq!(warned(&d, WarningKind::SnapshotNotInWal), [name]);
    }
}

/// etcd etcdserver/backend.go:57: a db behind the snapshot needs `%016x.snap.db`.
#[test]
fn a_zero_length_db_needs_the_snap_db() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let db = snap.get("db").unwrap();
        snap.insert("db", Vec::new());
        let d = run(&snap, &wal, v);
        let Verdict::Fails(f) = &d.verdict else {
            panic!("{v}: {}", d.summary())
        };
        let err = "failed to find database snapshot file (snap: snapshot file doesn't exist)";
        assert_eq!((f.step, f.level), (StepId::RecoverBackend, Level::Panic));
        assert_eq!(f.msg, "failed to recover v3 backend from snapshot");
        assert_eq!(f.error.as_deref(), Some(err));
        match v {
            EtcdVersion::V3_4 => assert_eq!(
                f.capnslog.as_deref(),
                Some(format!("etcdserver: recovering backend from snapshot error: {err}").as_str())
            ),
            EtcdVersion::V3_5 => assert_eq!(f.capnslog, None),
        }

        // With the .snap.db there (here: the member's own db), etcd renames it over the db.
        snap.insert(&etcd_snap::names::db_name(33), db);
        let d = run(&snap, &wal, v);
        assert_eq!(start_of(&d), (33, commit(v), Revision::Known(30)), "{v}");
        assert_eq!(
            starts(&d).db_replaced_by.as_deref(),
            Some("0000000000000021.snap.db")
        );
        assert_eq!(
            warned(&d, WarningKind::ReplacesDb),
            ["0000000000000021.snap.db", "db"]
        );
    }
}

/// No db and no `.snap`: etcd creates an empty db and replays the whole WAL into it.
#[test]
fn no_db_and_no_snap_replays_the_whole_wal() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        for n in snap.names() {
            block_on(etcd_snap::Storage::remove(&snap, &n)).unwrap();
        }
        let d = run(&snap, &wal, v);
        assert_eq!(start_of(&d), (0, commit(v), Revision::Known(30)), "{v}");
        assert_eq!(starts(&d).entries_to_replay, commit(v));
        assert_eq!(d.facts.db, None);
    }
}

/// etcd etcdserver/storage.go:113: a torn last record is truncated by `wal.Repair`.
#[test]
fn a_torn_wal_tail_is_repaired() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let seg = wal_segment(&wal);
        let w = wal.get(&seg).unwrap();
        wal.insert(&seg, w[..w.len() - 5].to_vec());
        let d = run(&snap, &wal, v);
        // The cut record was the last HardState: the commit goes back by one.
        assert_eq!(
            start_of(&d),
            (33, commit(v) - 1, Revision::Known(30)),
            "{v}"
        );
        assert_eq!(
            warned(&d, WarningKind::TruncatesWal),
            [seg.clone(), format!("{seg}.broken")]
        );
        assert!(d.steps.iter().any(|s| s.id == StepId::RepairWal));
    }
}

/// etcd etcdserver/server.go:441: `ValidSnapshotEntries` fails on a damaged record.
#[test]
fn a_flipped_byte_mid_wal_fails_valid_snapshot_entries() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let seg = wal_segment(&wal);
        let mut w = wal.get(&seg).unwrap();
        let mid = w.len() / 2;
        w[mid] ^= 0x10;
        wal.insert(&seg, w);
        let d = run(&snap, &wal, v);
        let Verdict::Fails(f) = &d.verdict else {
            panic!("{v}: {}", d.summary())
        };
        assert_eq!(
            (f.step, f.level),
            (StepId::ValidSnapshotEntries, Level::Fatal)
        );
        assert_eq!(
            (f.msg.as_str(), f.error.as_deref()),
            ("discovery failed", Some("walpb: crc mismatch"))
        );
        if v == EtcdVersion::V3_4 {
            assert_eq!(f.capnslog.as_deref(), Some("etcdmain: walpb: crc mismatch"));
        }
        assert_eq!(
            d.summary(),
            format!("etcd {v} fails at valid_snapshot_entries: {}.", f.line())
        );
    }
}

/// etcd etcdserver/server.go:327 and snapshotter.go:280.
#[test]
fn tmp_and_db_tmp_files_are_reported_as_removed() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        snap.insert("tmp123", b"x".to_vec());
        snap.insert("db.tmp.456", b"y".to_vec());
        let d = run(&snap, &wal, v);
        assert_eq!(start_of(&d), (33, commit(v), Revision::Known(30)), "{v}");
        assert_eq!(warned(&d, WarningKind::RemovesTmp), ["tmp123"]);
        assert_eq!(warned(&d, WarningKind::RemovesDbTmp), ["db.tmp.456"]);
    }
}

/// etcd etcdserver/server.go:313: no WAL, no restart.
#[test]
fn no_wal_is_a_new_member() {
    let (snap, _) = member(EtcdVersion::V3_5);
    let d = run(&snap, &MemoryStorage::new(), EtcdVersion::V3_5);
    assert_eq!(d.verdict, Verdict::NewMember);
    assert_eq!(d.warnings[0].kind, WarningKind::NoWal);
}

#[test]
fn choose_member_takes_the_most_committed_member_of_the_majority_cluster() {
    let v = EtcdVersion::V3_4;
    let (snap, wal) = member(v);
    let whole = run(&snap, &wal, v);
    let seg = wal_segment(&wal);
    let w = wal.get(&seg).unwrap();
    wal.insert(&seg, w[..w.len() - 5].to_vec());
    let torn = run(&snap, &wal, v);
    let (snap35, wal35) = member(EtcdVersion::V3_5);
    let other = run(&snap35, &wal35, EtcdVersion::V3_5);
    let r = choose_member(&[
        ("torn".into(), torn),
        ("other-cluster".into(), other),
        ("whole".into(), whole),
    ]);
    assert_eq!(r.member.as_deref(), Some("whole"));
    assert_eq!(
        r.ranking
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["whole", "torn"]
    );
    assert_eq!(r.excluded.len(), 1);
    assert_eq!(r.excluded[0].0, "other-cluster");
    assert!(
        r.reasons[0].contains("highest committed index 36"),
        "{:?}",
        r.reasons
    );
}

/// etcd etcdserver/server.go:499: a v3 cluster (the snapshot's v2 store holds 3.x) whose db
/// did not exist fails after the WAL is read, and etcd first deletes the db it just renamed
/// from the `.snap.db`: that file is gone afterwards (seen on both servers).
#[test]
fn a_missing_db_fails_even_with_the_snap_db_and_loses_it() {
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        let db = snap.get("db").unwrap();
        block_on(etcd_snap::Storage::remove(&snap, "db")).unwrap();
        snap.insert(&etcd_snap::names::db_name(33), db);
        let d = run(&snap, &wal, v);
        let Verdict::Fails(f) = &d.verdict else {
            panic!("{v}: {}", d.summary())
        };
        assert_eq!(
            (f.step, f.level, f.msg.as_str()),
            (StepId::ClusterRecover, Level::Fatal, "discovery failed")
        );
        assert_eq!(
            f.error.as_deref(),
            Some("database file (db) of the backend is missing")
        );
        assert_eq!(
            warned(&d, WarningKind::ReplacesDb),
            ["0000000000000021.snap.db", "db"]
        );
        assert_eq!(warned(&d, WarningKind::RemovesDb), ["db"]);
        if v == EtcdVersion::V3_4 {
            assert_eq!(
                f.capnslog.as_deref(),
                Some("etcdmain: database file (db) of the backend is missing")
            );
        }
    }
}

/// Missing folders are what etcd makes of them: no `member/snap` is created empty
/// (etcd etcdserver/server.go:315 `TouchDirAll`), no `member/wal` is no WAL.
#[test]
fn missing_folders_are_empty_not_errors() {
    use etcd_snap::storage::NativeStorage;
    let v = EtcdVersion::V3_5;
    let tmp = tempfile::tempdir().unwrap();
    let wal = crate::support::copy_dir(&dir(v).join("wal"), &tmp.path().join("wal"));
    let d = block_on(diagnose(
        NativeStorage::new(tmp.path().join("snap")),
        NativeStorage::new(&wal),
        v,
    ))
    .unwrap();
    assert_eq!(start_of(&d), (0, commit(v), Revision::Known(30)));
    let d = block_on(diagnose(
        NativeStorage::new(dir(v).join("snap")),
        NativeStorage::new(tmp.path().join("no-wal")),
        v,
    ))
    .unwrap();
    assert_eq!(d.verdict, Verdict::NewMember);
}

/// etcd etcdserver/server.go:586: a `.snap.db` (here a db of another 3.4.23 member, consistent
/// index 8) behind the snapshot replaces the db and then fails the index check (seen on both
/// servers: `database file (…/member/snap/db index 8) does not match with snapshot (index 33)`).
#[test]
fn a_snap_db_behind_the_snapshot_fails_the_index_check() {
    let older = std::fs::read(dir(EtcdVersion::V3_4).join("../../db-index-8")).unwrap();
    for v in EtcdVersion::ALL {
        let (snap, wal) = member(v);
        snap.insert("db", older.clone());
        snap.insert(&etcd_snap::names::db_name(33), older.clone());
        let d = run(&snap, &wal, v);
        let Verdict::Fails(f) = &d.verdict else {
            panic!("{v}: {}", d.summary())
        };
        assert_eq!(
            (f.step, f.msg.as_str()),
            (StepId::ConsistentIndex, "discovery failed")
        );
        assert_eq!(
            f.error.as_deref(),
            Some("database file (db index 8) does not match with snapshot (index 33)")
        );
    }
}
