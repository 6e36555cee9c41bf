//! Crash and failure safety of every mutating Snapshotter operation, with the memory
//! backend's fault injection (a mock of power loss, I/O errors and full disks; see
//! `etcd_snap::storage::fault`).
//!
//! For each operation: run it once to count its storage steps; then for every step k,
//! - `CrashAt(k)`: the "process" dies at step k; the power-loss image (`crash_image`) is
//!   reopened with `Snapshotter::open`: the state is the old or the new one (never a torn or
//!   empty file), `Load` returns the old or the new snapshot, and no `tmp*` is left;
//! - `FailAt(k)`: step k fails; the operation returns an error or succeeds, the visible and
//!   the durable state are old-or-new, a success is durable, and no temp file remains.

use bytes::Bytes;
use etcd_snap::codec::{decode_snap_file, encode_snap_file};
use etcd_snap::names::{db_name, snap_name};
use etcd_snap::storage::MemoryStorage;
use etcd_snap::storage::fault::FaultPlan;
use etcd_snap::{ConfState, Error, Options, Result, Snapshot, SnapshotMetadata, Snapshotter};
use futures_executor::block_on;
use futures_util::future::LocalBoxFuture;
use futures_util::io::Cursor;

type Ss = Snapshotter<MemoryStorage>;
type Op = for<'a> fn(&'a Ss) -> LocalBoxFuture<'a, Result<()>>;

fn snap(term: u64, index: u64, data: &[u8]) -> Snapshot {
    Snapshot {
        data: Some(Bytes::copy_from_slice(data)),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..Default::default()
            },
            index,
            term,
        },
    }
}

fn old_snap() -> Snapshot {
    snap(1, 5, b"old snapshot")
}

fn new_snap() -> Snapshot {
    snap(1, 9, b"new snapshot")
}

/// Same name as `old_snap`, other content.
fn replacement_snap() -> Snapshot {
    snap(1, 5, b"replacement snapshot, longer than the old one")
}

/// Three writer chunks' worth, so crashes land between writes too.
fn big_db() -> Vec<u8> {
    (0..(2 * etcd_snap::snapshotter::DB_COPY_CHUNK + 12345))
        .map(|i| (i % 251) as u8)
        .collect()
}

fn with_old_snap() -> MemoryStorage {
    let s = MemoryStorage::new();
    s.insert(&snap_name(1, 5), encode_snap_file(&old_snap()));
    s
}

fn snap_file(s: &MemoryStorage, term: u64, index: u64) -> Option<Result<Snapshot>> {
    s.get(&snap_name(term, index))
        .map(|b| decode_snap_file(Bytes::from(b)))
}

/// One operation under test.
struct Scenario {
    name: &'static str,
    setup: fn() -> MemoryStorage,
    op: Op,
    /// Checks a storage state (live or power-loss image); `done` = the op returned Ok, so the
    /// new state must be there.
    state_ok: fn(&MemoryStorage, bool) -> std::result::Result<(), String>,
    /// What `Load` after reopening may return.
    load_ok: fn(&Result<Snapshot>) -> bool,
    /// What `Load` may return after a FailAt run (etcd quarantines a file whose read failed
    /// for any reason, so a failed read of a good file moves it aside).
    load_ok_after_fail: fn(&Result<Snapshot>) -> bool,
    /// FailAt runs whose failed step is the temp file's own cleanup may leave that temp file
    /// (removed by the next open); this bounds how many of the k do.
    max_fail_leftovers: usize,
    /// The op reports storage failures (SaveSnap, SaveDBFrom); Load and ReleaseSnapDBs
    /// ignore rename/remove failures as etcd does, so a crash there may still give Ok.
    reports_failures: bool,
}

async fn open(s: &MemoryStorage) -> Ss {
    Snapshotter::open(s.clone(), Options::default())
        .await
        .expect("open")
}

fn tmp_left(s: &MemoryStorage) -> Vec<String> {
    s.names()
        .into_iter()
        .filter(|n| n.starts_with("tmp"))
        .collect()
}

async fn run(sc: &Scenario) {
    // Count the steps of a clean run.
    let probe = (sc.setup)();
    let ss = open(&probe).await;
    probe.set_fault(FaultPlan::None);
    (sc.op)(&ss)
        .await
        .unwrap_or_else(|e| panic!("{}: clean run: {e}", sc.name));
    let steps = probe.steps();
    assert!(steps >= 2, "{}: only {steps} steps", sc.name);
    (sc.state_ok)(&probe, true).unwrap_or_else(|e| panic!("{}: clean run: {e}", sc.name));
    (sc.state_ok)(&probe.crash_image(), true)
        .unwrap_or_else(|e| panic!("{}: clean run not durable: {e}", sc.name));
    drop(ss);

    for k in 0..=steps {
        let ctx = |what: &str| format!("{} CrashAt({k}) of {steps}: {what}", sc.name);
        let s = (sc.setup)();
        let ss = open(&s).await;
        s.set_fault(FaultPlan::CrashAt(k));
        let r = (sc.op)(&ss).await;
        if sc.reports_failures {
            assert_eq!(r.is_ok(), k >= steps, "{}", ctx("result"));
        }
        let image = s.crash_image();
        drop(ss);
        (sc.state_ok)(&image, r.is_ok()).unwrap_or_else(|e| panic!("{}", ctx(&e)));
        let reopened = open(&image).await;
        assert_eq!(
            tmp_left(&image),
            Vec::<String>::new(),
            "{}",
            ctx("tmp after reopen")
        );
        let loaded = reopened.load().await;
        assert!(
            (sc.load_ok)(&loaded),
            "{}",
            ctx(&format!("load gave {loaded:?}"))
        );
        (sc.state_ok)(&image, r.is_ok()).unwrap_or_else(|e| panic!("{}", ctx(&e)));
    }

    let mut leftovers = 0;
    for k in 0..steps {
        let ctx = |what: &str| format!("{} FailAt({k}) of {steps}: {what}", sc.name);
        let s = (sc.setup)();
        let ss = open(&s).await;
        s.set_fault(FaultPlan::FailAt(k));
        let r = (sc.op)(&ss).await;
        (sc.state_ok)(&s, r.is_ok()).unwrap_or_else(|e| panic!("{}", ctx(&e)));
        (sc.state_ok)(&s.crash_image(), r.is_ok()).unwrap_or_else(|e| panic!("{}", ctx(&e)));
        let loaded = ss.load().await;
        assert!(
            (sc.load_ok_after_fail)(&loaded),
            "{}",
            ctx(&format!("load gave {loaded:?}"))
        );
        if !tmp_left(&s).is_empty() {
            leftovers += 1;
        }
        drop(ss);
        let _reopened = open(&s).await;
        assert_eq!(
            tmp_left(&s),
            Vec::<String>::new(),
            "{}",
            ctx("tmp after reopen")
        );
    }
    assert!(
        leftovers <= sc.max_fail_leftovers,
        "{}: {leftovers} FailAt runs left a temp file",
        sc.name
    );
}

// ---- scenarios ----

fn save_new(ss: &Ss) -> LocalBoxFuture<'_, Result<()>> {
    Box::pin(async move { ss.save_snap(&new_snap()).await })
}

fn save_new_state(s: &MemoryStorage, done: bool) -> std::result::Result<(), String> {
    match snap_file(s, 1, 5) {
        Some(Ok(x)) if x == old_snap() => {}
        other => return Err(format!("old snapshot damaged: {other:?}")),
    }
    match snap_file(s, 1, 9) {
        None if !done => Ok(()),
        Some(Ok(x)) if x == new_snap() => Ok(()),
        other => Err(format!("new snapshot file is {other:?} (done={done})")),
    }
}

fn old_or_new(r: &Result<Snapshot>) -> bool {
    matches!(r, Ok(x) if *x == old_snap() || *x == new_snap())
}

#[test]
fn save_snap_new_name() {
    block_on(run(&Scenario {
        name: "SaveSnap(new name)",
        setup: with_old_snap,
        op: save_new,
        state_ok: save_new_state,
        load_ok: old_or_new,
        load_ok_after_fail: old_or_new,
        reports_failures: true,
        max_fail_leftovers: 0,
    }));
}

fn save_replacement(ss: &Ss) -> LocalBoxFuture<'_, Result<()>> {
    Box::pin(async move { ss.save_snap(&replacement_snap()).await })
}

fn replace_state(s: &MemoryStorage, done: bool) -> std::result::Result<(), String> {
    match snap_file(s, 1, 5) {
        Some(Ok(x)) if x == replacement_snap() => Ok(()),
        Some(Ok(x)) if x == old_snap() && !done => Ok(()),
        other => Err(format!("snapshot file is {other:?} (done={done})")),
    }
}

fn old_or_replacement(r: &Result<Snapshot>) -> bool {
    matches!(r, Ok(x) if *x == old_snap() || *x == replacement_snap())
}

#[test]
fn save_snap_overwrite_same_name() {
    block_on(run(&Scenario {
        name: "SaveSnap(same name)",
        setup: with_old_snap,
        op: save_replacement,
        state_ok: replace_state,
        load_ok: old_or_replacement,
        load_ok_after_fail: old_or_replacement,
        reports_failures: true,
        max_fail_leftovers: 0,
    }));
}

fn save_db_new(ss: &Ss) -> LocalBoxFuture<'_, Result<()>> {
    Box::pin(async move {
        let n = ss.save_db_from(Cursor::new(big_db()), 9).await?;
        assert_eq!(n, big_db().len() as u64);
        Ok(())
    })
}

fn db_new_state(s: &MemoryStorage, done: bool) -> std::result::Result<(), String> {
    match s.get(&db_name(9)) {
        None if !done => Ok(()),
        Some(b) if b == big_db() => Ok(()),
        other => Err(format!(
            "db is {:?} bytes (done={done})",
            other.map(|b| b.len())
        )),
    }
}

fn is_old(r: &Result<Snapshot>) -> bool {
    matches!(r, Ok(x) if *x == old_snap())
}

#[test]
fn save_db_from_new() {
    block_on(run(&Scenario {
        name: "SaveDBFrom(new)",
        setup: with_old_snap,
        op: save_db_new,
        state_ok: db_new_state,
        load_ok: is_old,
        load_ok_after_fail: is_old,
        reports_failures: true,
        max_fail_leftovers: 0,
    }));
}

fn with_old_db() -> MemoryStorage {
    let s = with_old_snap();
    s.insert(&db_name(9), b"old db".to_vec());
    s
}

fn db_exists_state(s: &MemoryStorage, _done: bool) -> std::result::Result<(), String> {
    match s.get(&db_name(9)) {
        Some(b) if b == b"old db" => Ok(()),
        other => Err(format!("existing db changed: {:?}", other.map(|b| b.len()))),
    }
}

/// Already exists: the old content always stays. The one step that may leave a temp file is
/// the discarded temp file's own removal (etcd ignores that error too); the next open
/// removes it.
#[test]
fn save_db_from_already_exists() {
    block_on(run(&Scenario {
        name: "SaveDBFrom(already exists)",
        setup: with_old_db,
        op: save_db_new,
        state_ok: db_exists_state,
        load_ok: is_old,
        load_ok_after_fail: is_old,
        reports_failures: true,
        max_fail_leftovers: 1,
    }));
}

fn with_dbs() -> MemoryStorage {
    let s = with_old_snap();
    for i in [100u64, 200, 300, 400] {
        s.insert(&db_name(i), format!("db {i}").into_bytes());
    }
    s
}

fn release(ss: &Ss) -> LocalBoxFuture<'_, Result<()>> {
    Box::pin(async move { ss.release_snap_dbs(&snap(1, 300, b"")).await })
}

fn release_state(s: &MemoryStorage, done: bool) -> std::result::Result<(), String> {
    for i in [100u64, 200, 300, 400] {
        match s.get(&db_name(i)) {
            Some(b) if b == format!("db {i}").into_bytes() => {}
            None if i < 300 => {}
            other => return Err(format!("db {i}: {other:?}")),
        }
    }
    // ReleaseSnapDBs ignores removal errors (as etcd), so even a success may keep one; but
    // a clean success removes both.
    let _ = done;
    Ok(())
}

#[test]
fn release_snap_dbs() {
    block_on(run(&Scenario {
        name: "ReleaseSnapDBs",
        setup: with_dbs,
        op: release,
        state_ok: release_state,
        load_ok: is_old,
        load_ok_after_fail: is_old,
        reports_failures: false,
        max_fail_leftovers: 0,
    }));
}

const JUNK: [u64; 2] = [6, 7];

/// A good old snapshot, two newer junk ones, and 5 corrupt `.broken` files whose names sort
/// above all of them, so Load both quarantines and prunes: pruning must drop the junk but
/// never a good snapshot that a failed read moved aside.
fn with_junk() -> MemoryStorage {
    let s = with_old_snap();
    for i in JUNK {
        s.insert(&snap_name(1, i), format!("junk {i}").into_bytes());
    }
    for i in 0..5 {
        s.insert(&format!("{}.broken", snap_name(9, i)), b"x".to_vec());
    }
    s
}

fn load_op(ss: &Ss) -> LocalBoxFuture<'_, Result<()>> {
    Box::pin(async move {
        let got = ss.load().await?;
        assert_eq!(got, old_snap());
        Ok(())
    })
}

fn quarantine_state(s: &MemoryStorage, done: bool) -> std::result::Result<(), String> {
    quarantine_check(s, done, false)
}

/// `good_may_be_broken`: a failed read of the good file quarantines it (etcd), but whole.
fn quarantine_check(
    s: &MemoryStorage,
    done: bool,
    good_may_be_broken: bool,
) -> std::result::Result<(), String> {
    let good = snap_name(1, 5);
    let good_bytes = encode_snap_file(&old_snap());
    match (s.get(&good), s.get(&format!("{good}.broken"))) {
        (Some(b), None) if b == good_bytes => {}
        (None, Some(b)) if b == good_bytes && good_may_be_broken => {}
        other => return Err(format!("good snapshot damaged or lost: {other:?}")),
    }
    for i in JUNK {
        let name = snap_name(1, i);
        let want = format!("junk {i}").into_bytes();
        let plain = s.get(&name);
        let broken = s.get(&format!("{name}.broken"));
        match (plain, broken) {
            (Some(b), None) if b == want && !done => {}
            (None, Some(b)) if b == want => {}
            // Quarantined, then pruned: it is corrupt and 5 newer .broken files exist.
            (None, None) => {}
            // A rename's durability may lag; never both.
            other => return Err(format!("{name}: {other:?} (done={done})")),
        }
    }
    let broken = s.names().iter().filter(|n| n.ends_with(".broken")).count();
    if done && broken > 5 {
        return Err(format!("{broken} .broken files after a successful Load"));
    }
    Ok(())
}

fn old_or_quarantined(r: &Result<Snapshot>) -> bool {
    matches!(r, Ok(x) if *x == old_snap()) || matches!(r, Err(Error::NoSnapshot))
}

/// FailAt can make a rename or a prune fail (ignored, as etcd ignores rename failures);
/// Load still returns the good snapshot.
#[test]
fn load_with_quarantine() {
    block_on(run(&Scenario {
        name: "Load(quarantine)",
        setup: with_junk,
        op: load_op,
        state_ok: quarantine_state_lenient,
        load_ok: is_old,
        load_ok_after_fail: old_or_quarantined,
        reports_failures: false,
        max_fail_leftovers: 0,
    }));
}

/// Like [`quarantine_state`], but a successful Load under FailAt may have skipped a rename
/// or a prune; the strict variant is checked on clean runs below.
fn quarantine_state_lenient(s: &MemoryStorage, _done: bool) -> std::result::Result<(), String> {
    quarantine_check(s, false, true)
}

#[test]
fn load_with_quarantine_clean_run_is_strict() {
    block_on(async {
        let s = with_junk();
        let ss = open(&s).await;
        assert_eq!(ss.load().await.unwrap(), old_snap());
        quarantine_state(&s, true).unwrap();
        quarantine_state(&s.crash_image(), true).unwrap();
        assert_eq!(
            s.names().iter().filter(|n| n.ends_with(".broken")).count(),
            5
        );
    });
}

// ---- full disk ----

#[test]
fn save_db_from_no_space_leaves_no_file() {
    block_on(async {
        for budget in [
            0u64,
            1,
            4096,
            etcd_snap::snapshotter::DB_COPY_CHUNK as u64 + 7,
        ] {
            let s = with_old_snap();
            let ss = open(&s).await;
            s.set_fault(FaultPlan::NoSpaceAfter(budget));
            let err = ss.save_db_from(Cursor::new(big_db()), 9).await.unwrap_err();
            assert_eq!(err.code(), "ERR_NO_SPACE", "budget {budget}: {err}");
            assert!(matches!(err, Error::Io(_)));
            assert_eq!(
                s.names(),
                [snap_name(1, 5)],
                "budget {budget}: no db, no temp file"
            );
            assert_eq!(s.crash_image().names(), [snap_name(1, 5)]);
        }
    });
}

#[test]
fn save_snap_no_space_keeps_old_file() {
    block_on(async {
        let full = encode_snap_file(&replacement_snap()).len() as u64;
        for budget in [0u64, 1, full - 1] {
            let s = with_old_snap();
            let ss = open(&s).await;
            s.set_fault(FaultPlan::NoSpaceAfter(budget));
            let err = ss.save_snap(&replacement_snap()).await.unwrap_err();
            assert_eq!(err.code(), "ERR_NO_SPACE", "budget {budget}: {err}");
            assert_eq!(s.names(), [snap_name(1, 5)]);
            assert_eq!(ss.load().await.unwrap(), old_snap());
        }
    });
}

/// etcd's `cleanupSnapdir`: a `db.tmp*` that cannot be removed (other than not-found) aborts
/// the scan with etcd's (misleading) wording; nothing is renamed.
#[test]
fn db_tmp_removal_failure_is_remove_orphan() {
    block_on(async {
        let s = with_old_snap();
        s.insert("db.tmp.1", b"defrag".to_vec());
        s.insert(&snap_name(1, 6), b"junk".to_vec());
        let ss = open(&s).await;
        // Step 0 lists the directory, step 1 removes db.tmp.1.
        s.set_fault(FaultPlan::FailAt(1));
        let err = ss.load().await.unwrap_err();
        assert_eq!(err.code(), "ERR_REMOVE_ORPHAN");
        let msg = err.to_string();
        assert!(
            msg.starts_with("failed to remove orphaned .snap.db file db.tmp.1: remove db.tmp.1: "),
            "{msg}"
        );
        assert!(matches!(&err, Error::RemoveOrphan { name, .. } if name == "db.tmp.1"));
        assert_eq!(
            s.names(),
            [
                "0000000000000001-0000000000000005.snap",
                "0000000000000001-0000000000000006.snap",
                "db.tmp.1"
            ]
        );
        // The next scan succeeds and cleans up.
        assert_eq!(ss.load().await.unwrap(), old_snap());
        assert!(!s.names().contains(&"db.tmp.1".to_string()));
    });
}

/// Open's own cleanup (tmp* removal, `.broken` pruning, dir sync) crashing or failing at any
/// step: the next open finishes the job, and the good snapshot always loads.
#[test]
fn open_cleanup_interrupted() {
    fn setup() -> MemoryStorage {
        let s = with_old_snap();
        s.insert("tmp1", b"partial".to_vec());
        s.insert("tmp2", Vec::new());
        for i in 0..7 {
            s.insert(&format!("{}.broken", snap_name(9, i)), b"x".to_vec());
        }
        s
    }
    fn check(s: &MemoryStorage) {
        assert!(tmp_left(s).is_empty(), "{:?}", s.names());
        let broken: Vec<String> = s
            .names()
            .into_iter()
            .filter(|n| n.ends_with(".broken"))
            .collect();
        assert_eq!(broken.len(), 5, "{broken:?}");
        assert!(
            broken
                .iter()
                .all(|n| n >= &format!("{}.broken", snap_name(9, 2)))
        );
    }
    block_on(async {
        let probe = setup();
        probe.set_fault(FaultPlan::None);
        drop(open(&probe).await);
        let steps = probe.steps();
        check(&probe);
        check(&probe.crash_image());
        for k in 0..steps {
            for plan in [FaultPlan::CrashAt(k), FaultPlan::FailAt(k)] {
                let s = setup();
                s.set_fault(plan);
                let first = Snapshotter::open(s.clone(), Options::default()).await;
                let after = match plan {
                    FaultPlan::CrashAt(_) => s.crash_image(),
                    _ => s.clone(),
                };
                drop(first);
                let ss = open(&after).await;
                check(&after);
                assert_eq!(ss.load().await.unwrap(), old_snap(), "{plan:?}");
            }
        }
    });
}
