//! The doctor's acceptance (issue 10): real etcd data dirs (clean, SIGKILLed under load,
//! faults injected; tests/support/doctor_cases.rs) and what etcd 3.4.23 / 3.5.16 does when
//! started on a copy of each.
//!
//! `cargo test --test interop doctor:: -- --nocapture` prints the tally and the case table;
//! `DOCTOR_SEED=<n>` replays a run, `DOCTOR_JOBS=<n>` sets the etcd processes per version.

use std::path::Path;

use etcd_snap::EtcdVersion;
use etcd_snap::doctor::{Revision, Verdict, WarningKind, diagnose};
use etcd_snap::storage::NativeStorage;

use crate::support::doctor_cases::{self, CaseSet, FAULTS, Family, KILLS, Outcome};
use crate::support::etcd::{Version, per_version};

/// Every case was generated and observed, and each did what it was made for.
fn cases_exercise_what_they_should(v: Version) {
    let set = doctor_cases::case_set(v);
    println!("{}", set.tally());
    println!("{}", set.table());
    for o in &set.observed {
        println!(
            "  {} ({:.1?}): {}",
            o.case.name,
            o.took,
            o.case.facts.join("; ")
        );
    }

    let count = |f: Family| set.observed.iter().filter(|o| o.case.family == f).count();
    assert!(count(Family::Killed) >= 20 && count(Family::Killed) == KILLS);
    assert_eq!(count(Family::Fault), FAULTS.len());
    for name in FAULTS {
        set.get(name);
    }
    assert!(
        set.observed
            .iter()
            .all(|o| !matches!(o.outcome, Outcome::Undecided { .. })),
        "every start ends (serves or exits) within the timeout:\n{}",
        set.table()
    );

    // Only a db ahead of the WAL (a fault, never a crash: etcd syncs the WAL before it
    // applies) leaves proposals unanswered.
    for o in &set.observed {
        assert!(
            o.proposals_complete || o.case.family == Family::Fault,
            "{}: a proposal timed out\n{}",
            o.case.name,
            o.log_tail(10)
        );
    }

    // Clean members restart where they stopped: startup writes no mvcc revision.
    for o in set
        .observed
        .iter()
        .filter(|o| o.case.family == Family::Clean)
    {
        match o.outcome {
            Outcome::Starts { revision, .. } => assert_eq!(
                revision, o.case.revision_before,
                "{}: revision after restart",
                o.case.name
            ),
            ref other => panic!("{} does not start: {other}\n{}", o.case.name, o.log),
        }
    }
    let snaps = |name: &str| doctor_cases::snap_files(&set.get(name).case.data_dir);
    // clean-nosnap loads no snapshot; clean-snaps its newest.
    assert!(matches!(
        set.get("clean-nosnap").outcome,
        Outcome::Starts {
            snapshot_index: 0,
            ..
        }
    ));
    let newest = snaps("clean-snaps").last().unwrap().1;
    assert!(matches!(
        set.get("clean-snaps").outcome,
        Outcome::Starts { snapshot_index, .. } if snapshot_index == newest
    ));
    assert!(doctor_cases::wal_segments(&set.get("clean-3seg").case.data_dir).len() >= 3);

    // The kill cases are not all alike: some crashed with snapshots on disk, all under load.
    let killed: Vec<_> = set
        .observed
        .iter()
        .filter(|o| o.case.family == Family::Killed)
        .collect();
    assert!(
        killed
            .iter()
            .filter(|o| !doctor_cases::snap_files(&o.case.data_dir).is_empty())
            .count()
            >= KILLS / 2,
        "most killed members have .snap files"
    );
    for o in &killed {
        if let Outcome::Starts { revision, .. } = o.outcome {
            assert!(
                revision > Some(1),
                "{}: killed with no write applied",
                o.case.name
            );
        }
    }

    // The faults whose effect etcd's rules make certain.
    let starts_from = |name: &str| match set.get(name).outcome {
        Outcome::Starts { snapshot_index, .. } => Some(snapshot_index),
        _ => None,
    };
    let older = snaps("clean-snaps")[snaps("clean-snaps").len() - 2].1;
    // LoadNewestAvailable (etcd etcdserver/server.go:447) falls back past a deleted or
    // broken newest .snap and ignores .snap files no WAL snapshot record names.
    assert_eq!(starts_from("fault-newest-snap-deleted"), Some(older));
    assert_eq!(starts_from("fault-newest-snap-corrupt"), Some(older));
    assert_eq!(starts_from("fault-orphan-snap-within-commit"), Some(newest));
    assert_eq!(starts_from("fault-orphan-snap-beyond-commit"), Some(newest));
    // A db at or past the snapshot is used as is; one behind needs the .snap.db.
    assert_eq!(starts_from("fault-db-behind-commit"), Some(newest));
    assert_eq!(
        starts_from("fault-db-behind-snapshot-with-snapdb"),
        Some(newest)
    );
    for name in [
        "fault-db-behind-snapshot-no-snapdb",
        "fault-snapdb-for-older-snapshot",
        "fault-wal-middle-record-flipped",
        "fault-wal-middle-segment-deleted",
        "fault-wal-oldest-segment-and-snaps-deleted",
        "fault-db-meta-pages-garbage",
        "fault-db-zero-length",
        "fault-db-missing",
    ] {
        assert!(
            matches!(set.get(name).outcome, Outcome::Fails { .. }),
            "{name}: {}",
            set.get(name).outcome
        );
    }
    // A torn or truncated tail is repaired (wal.Repair), not fatal.
    for name in [
        "fault-wal-tail-truncated",
        "fault-wal-tail-truncated-in-entry",
        "fault-wal-truncated-mid-log",
        "fault-wal-tail-torn",
    ] {
        let o = set.get(name);
        assert!(
            o.log.contains("repaired WAL") || o.log.contains("repairing"),
            "{name}: etcd did not repair the tail ({})\n{}",
            o.outcome,
            o.log_tail(10)
        );
        let clean = match set.get("clean-snaps").outcome {
            Outcome::Starts { commit_index, .. } => commit_index,
            _ => unreachable!("checked above"),
        };
        assert!(
            matches!(o.outcome, Outcome::Starts { commit_index, .. } if commit_index < clean),
            "{name}: the repaired WAL ends before the clean member's commit {clean}: {}",
            o.outcome
        );
    }
    // Without a .snap etcd rebuilds the keyspace from the WAL: a lost db costs nothing.
    let nosnap = &set.get("clean-nosnap").outcome;
    for name in ["fault-nosnap-db-zero-length", "fault-nosnap-db-missing"] {
        assert_eq!(&set.get(name).outcome, nosnap, "{name}");
    }
}

/// What the doctor (`etcd_snap::doctor::diagnose` over two [`NativeStorage`]s) predicts for a
/// data dir, as an [`Outcome`]: a failure as zap's `msg: error` (the words both versions log
/// with `--logger zap`, which the observations use), no WAL as a failure that matches nothing.
fn doctor_predict(data_dir: &Path, v: Version) -> Outcome {
    let member = data_dir.join("member");
    let etcd = match v {
        Version::V3_4 => EtcdVersion::V3_4,
        Version::V3_5 => EtcdVersion::V3_5,
    };
    let d = futures_executor::block_on(diagnose(
        NativeStorage::new(member.join("snap")),
        NativeStorage::new(member.join("wal")),
        etcd,
    ));
    match d {
        Ok(d) => match d.verdict {
            Verdict::Starts(s) => Outcome::Starts {
                snapshot_index: s.snapshot.map_or(0, |r| r.index),
                commit_index: s.commit,
                revision: match s.revision {
                    Revision::Known(r) => Some(r),
                    Revision::Unknown(_) => None,
                },
                proposals_stall: d
                    .warnings
                    .iter()
                    .any(|w| w.kind == WarningKind::DbAheadOfWal),
            },
            Verdict::Fails(f) => Outcome::Fails {
                message: match f.error {
                    Some(e) => format!("{}: {e}", f.msg),
                    None => f.msg,
                },
            },
            Verdict::NewMember => Outcome::Fails {
                message: "(doctor: no WAL, a new member)".into(),
            },
        },
        Err(e) => Outcome::Fails {
            message: format!("(doctor could not read the data dir: {e})"),
        },
    }
}

/// The tally line and every disagreement; fails unless every case agrees.
fn compare_with(set: &CaseSet, predict: impl Fn(&Path, Version) -> Outcome + Sync) -> String {
    let c = doctor_cases::compare(set, predict);
    println!("{c}");
    assert_eq!(c.agree, c.total, "{c}");
    c.to_string()
}

/// The doctor's verdict equals what etcd does, on every case.
fn doctor_agrees_with_etcd(v: Version) {
    compare_with(doctor_cases::case_set(v), doctor_predict);
}

per_version!(cases_exercise_what_they_should, doctor_agrees_with_etcd);
