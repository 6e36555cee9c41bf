//! The member doctor: what etcd 3.4.23 / 3.5.16 does when it starts on an existing data dir
//! (issue 10), predicted offline from `member/snap` and `member/wal`, step by step as etcd's
//! `NewServer` bootstraps (etcd etcdserver/server.go:284; v3.5.16
//! server/etcdserver/server.go:332). What 3.6 does differently: docs/doctor.md.
//!
//! Nothing is written: both folders are read through [`ReadOnly`]; where etcd would rename,
//! delete or truncate, the doctor says so in a [`Warning`] and reasons on as if it had.
//!
//! The steps, in etcd's order:
//! 1. `tmp*` files of the snap folder are removed (etcd etcdserver/server.go:327);
//! 2. the backend is opened (`openBackend`, :341): an absent `db` is created empty, a
//!    zero-length one is initialized by bbolt, a damaged one panics;
//! 3. no WAL (`wal.Exist`, :313): a new member, not a restart;
//! 4. `wal.ValidSnapshotEntries` (:441): its error ends etcd;
//! 5. `LoadNewestAvailable` (:447): `db.tmp*` removed, unreadable `.snap`s renamed `.broken`,
//!    the newest readable `.snap` the WAL records (index ≤ commit) is the snapshot;
//! 6. the v2 store is recovered from it (:453);
//! 7. `recoverSnapshotBackend` (:471, etcd etcdserver/backend.go:104): if the snapshot is
//!    newer than the db's consistent index, the db is replaced by `%016x.snap.db`, which must
//!    exist;
//! 8. `restartNode` → `readWAL` (:491, etcd etcdserver/storage.go:85): `wal.Open` at the
//!    snapshot, `ReadAll`, one `Repair` of a torn tail; raft's HardState check;
//! 9. `cl.Recover`: a v3 cluster whose db did not exist fails (:499);
//! 10. the db's consistent index against the snapshot (:586);
//! 11. raft replays the committed entries; those above the consistent index write to mvcc.

mod check_v2store;
mod choose;
mod db;
mod messages;
mod replay;
mod request;
mod snapdir;
mod v2;
mod wal_view;

use serde::Serialize;

pub use check_v2store::{V2STORE_CLEAN, V2STORE_CUSTOM, V2StoreCheck, check_v2store};
pub use choose::{Recommendation, choose_member};
pub use db::DbFacts;
pub use messages::{Failure, Level};
pub use snapdir::SnapFact;
pub use wal_view::Repair;
use wal_view::WalOutcome;

use crate::pb::WalSnapshot;
use crate::storage::ReadOnly;
use crate::wal::{EntryInfo, ReadAll, Wal};
use crate::{EtcdVersion, Result, Storage};

/// A bootstrap step, in etcd's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    /// `RemoveMatchFile(snapdir, "tmp*")`.
    TmpCleanup,
    /// `openBackend` on `member/snap/db`.
    OpenBackend,
    /// `wal.Exist`.
    WalExists,
    /// `wal.ValidSnapshotEntries`.
    ValidSnapshotEntries,
    /// `Snapshotter.LoadNewestAvailable`.
    LoadNewestAvailable,
    /// `v2store.Recovery` of the snapshot's data.
    V2StoreRecovery,
    /// `recoverSnapshotBackend`.
    RecoverBackend,
    /// `wal.Open` at the snapshot.
    OpenWal,
    /// `WAL.ReadAll`.
    ReadWal,
    /// `wal.Repair`.
    RepairWal,
    /// `raft.RestartNode` (HardState against the log).
    RaftRestart,
    /// `RaftCluster.Recover` and the db-missing check.
    ClusterRecover,
    /// The db's consistent index against the snapshot.
    ConsistentIndex,
    /// Applying the committed entries.
    Replay,
}

/// One step as etcd would take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Which step.
    pub id: StepId,
    /// What happens, in a sentence.
    pub outcome: String,
    /// The etcd source line the rule follows.
    pub cite: &'static str,
}

/// What etcd would change on disk, or what looks wrong without stopping it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// `tmp*` files removed from the snap folder.
    RemovesTmp,
    /// `db.tmp*` defragmentation leftovers removed.
    RemovesDbTmp,
    /// Unreadable `.snap` files renamed `.broken`.
    RenamesBroken,
    /// `*.broken` files already there (etcd never removes them).
    BrokenPile,
    /// A readable `.snap` that etcd will not use: the WAL has no record of it, or not yet
    /// committed (a crash between `SaveSnap` and the WAL write, or a copied file).
    SnapshotNotInWal,
    /// A WAL snapshot record whose `.snap` is missing or unreadable.
    SnapshotFileMissing,
    /// The db is replaced by a `.snap.db`; what was in the db is lost.
    ReplacesDb,
    /// `.snap.db` files no snapshot needs (`ReleaseSnapDBs` removes older ones later).
    OrphanSnapDb,
    /// The torn tail of the last WAL segment is truncated (a `.broken` copy is kept).
    TruncatesWal,
    /// WAL segments wholly before the snapshot (kept until etcd purges them).
    WalSegmentsBeforeSnapshot,
    /// Write mode's `ZeroToEnd` zeroes a torn write after the last valid record.
    ZeroesWalTail,
    /// Leftover `.tmp` / `.broken` files in the WAL folder.
    WalLeftovers,
    /// The db holds no consistent index (etcd warns `consistent index was never saved`).
    ConsistentIndexNeverSaved,
    /// No WAL: etcd would bootstrap a new member (it needs `--initial-cluster`).
    NoWal,
    /// etcd would delete the db (`os.RemoveAll(bepath)`) before failing.
    RemovesDb,
    /// The db's consistent index is past the WAL's last entry (a db newer than the WAL: a
    /// restored or copied db, a truncated WAL): etcd serves reads, but every proposal waits
    /// until the log passes that index, since entries at or below it are applied without
    /// answering their proposer (etcd etcdserver/server.go:2203-2240).
    DbAheadOfWal,
    /// The snapshot's v2 store holds more than membership: etcd 3.5 warns, 3.6 refuses to
    /// start (`etcd-snap check v2store`).
    V2CustomContent,
    /// v2 requests among the entries to replay that etcd 3.6 refuses (it panics), so the
    /// upgrade to 3.6 must wait for a snapshot past them.
    V2WalEntries,
    /// A limit of this prediction (the revision, an unknown request).
    Uncertain,
}

/// A warning: what and which files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The kind.
    pub kind: WarningKind,
    /// A sentence.
    pub message: String,
    /// The files concerned.
    pub names: Vec<String>,
}

/// The mvcc revision after replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Revision {
    /// Known.
    Known(i64),
    /// Not knowable from the files; why.
    Unknown(String),
}

/// A snapshot's (term, index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct SnapRef {
    /// Raft term.
    pub term: u64,
    /// Raft index.
    pub index: u64,
}

impl From<WalSnapshot> for SnapRef {
    fn from(w: WalSnapshot) -> Self {
        SnapRef {
            term: w.term,
            index: w.index,
        }
    }
}

/// etcd starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Start {
    /// The snapshot raft starts from (`None`: from the WAL's beginning).
    pub snapshot: Option<SnapRef>,
    /// Its file.
    pub snapshot_file: Option<String>,
    /// The consistent index of the db etcd uses (after a replacement, the `.snap.db`'s).
    pub consistent_index: u64,
    /// The `.snap.db` that replaces the db, if any.
    pub db_replaced_by: Option<String>,
    /// Entries raft applies at start: those after the snapshot up to the commit.
    pub entries_to_replay: u64,
    /// Of those, the ones applied to mvcc (index above the consistent index).
    pub entries_applied_to_mvcc: u64,
    /// The HardState commit: the applied index once replay is done.
    pub commit: u64,
    /// The last index in the WAL (entries past the commit wait for the leader).
    pub last_index: u64,
    /// The HardState term.
    pub term: u64,
    /// The mvcc revision after replay.
    pub revision: Revision,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// etcd restarts the member.
    Starts(Start),
    /// etcd ends (fatal or panic).
    Fails(Failure),
    /// No WAL: etcd treats the folder as a new member and bootstraps (or joins) a cluster
    /// from its flags; the data in the snap folder is not replayed.
    NewMember,
}

/// What the doctor found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Facts {
    /// The `.snap` files `LoadNewestAvailable` would try, newest first, with `Read`'s verdict.
    pub snaps: Vec<SnapFact>,
    /// The WAL's valid snapshot records (index ≤ the last commit).
    pub wal_snapshots: Option<Vec<SnapRef>>,
    /// `member/snap/db` (`None`: absent).
    pub db: Option<DbFacts>,
    /// The `.snap.db` that the snapshot needs, if the db must be replaced.
    pub snap_db: Option<DbFacts>,
    /// Member ID from the WAL metadata.
    pub member_id: Option<u64>,
    /// Cluster ID from the WAL metadata.
    pub cluster_id: Option<u64>,
    /// HardState commit (after any repair).
    pub commit: Option<u64>,
    /// HardState term.
    pub term: Option<u64>,
    /// The last entry index read.
    pub last_index: Option<u64>,
    /// WAL segment names, sorted.
    pub wal_segments: Vec<String>,
    /// The minimal etcd version the WAL's entries after the snapshot need, as etcd 3.6
    /// computes it (`etcdutl migrate` refuses a downgrade below it).
    pub wal_minimal_version: Option<WalVersion>,
}

/// `MinimalEtcdVersion` of the entries `ReadAll` returns (v3.6.9
/// server/storage/wal/version.go:57; [`crate::walpayload::version`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalVersion {
    /// `3.5.0`; `None` with no entries, or where etcd 3.6 panics (`error`).
    pub version: Option<String>,
    /// The message, field or enum value that needs it.
    pub by: Option<String>,
    /// The first entry carrying it.
    pub index: Option<u64>,
    /// Where Go's walk panics (a normal entry gogo refuses, e.g. a v2 request of etcd 3.4):
    /// the entry and the reason. `etcdutl migrate` crashes on such a WAL.
    pub error: Option<String>,
}

/// The doctor's answer for one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The etcd release predicted.
    #[serde(serialize_with = "ser_version")]
    pub etcd: EtcdVersion,
    /// Starts, fails, or a new member.
    pub verdict: Verdict,
    /// The steps, as etcd takes them, up to the verdict.
    pub steps: Vec<Step>,
    /// What etcd changes on disk, and what looks wrong.
    pub warnings: Vec<Warning>,
    /// What was read.
    pub facts: Facts,
}

fn ser_version<S: serde::Serializer>(
    v: &EtcdVersion,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

impl Diagnosis {
    /// One sentence: the verdict.
    pub fn summary(&self) -> String {
        let v = self.etcd;
        match &self.verdict {
            Verdict::Starts(s) => {
                let from = match (&s.snapshot, &s.snapshot_file) {
                    (Some(w), _) => format!("from snapshot {}/{}", w.term, w.index),
                    (None, _) => "from the start of the WAL".to_owned(),
                };
                let rev = match &s.revision {
                    Revision::Known(r) => format!("revision {r}"),
                    Revision::Unknown(_) => "an unknown revision".to_owned(),
                };
                let replaced = match &s.db_replaced_by {
                    Some(n) => format!(" after replacing the db with {n}"),
                    None => String::new(),
                };
                format!(
                    "etcd {v} starts {from}{replaced} (db consistent index {}), replaying {} entries to commit {}, at {rev}.",
                    s.consistent_index, s.entries_to_replay, s.commit
                )
            }
            Verdict::Fails(f) => format!(
                "etcd {v} fails at {}: {}.",
                serde_json::to_value(f.step)
                    .ok()
                    .and_then(|x| x.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                f.line()
            ),
            Verdict::NewMember => format!(
                "etcd {v} finds no WAL and would start a new member (it needs --initial-cluster); nothing here is replayed."
            ),
        }
    }
}

/// Diagnoses a member from its `member/snap` and `member/wal` folders, for etcd `v`.
///
/// `Err` only when a folder cannot be read at all; what etcd fails on is
/// [`Verdict::Fails`]. Both folders are read through [`ReadOnly`].
pub async fn diagnose<S: Storage, W: Storage>(
    snap: S,
    wal: W,
    v: EtcdVersion,
) -> Result<Diagnosis> {
    // A missing folder is what etcd creates (`TouchDirAll`) or finds absent (`wal.Exist`).
    let wal = match Wal::open(ReadOnly::new(wal)).await {
        Ok(w) => Some(w),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let snap = snapdir::open_read_only(snap).await?;
    let mut d = Doctor {
        v,
        steps: Vec::new(),
        warnings: Vec::new(),
        facts: Facts::default(),
    };
    let verdict = d.run(&snap, wal.as_ref()).await?;
    Ok(Diagnosis {
        etcd: v,
        verdict,
        steps: d.steps,
        warnings: d.warnings,
        facts: d.facts,
    })
}

/// [`WalVersion`] over `entries`, read again one segment at a time.
async fn wal_version<W: Storage>(
    wal: &Wal<ReadOnly<W>>,
    entries: &[EntryInfo],
) -> Result<WalVersion> {
    let mut v = crate::walpayload::version::MinimalVersion::default();
    let mut best: Option<(crate::walpayload::version::Needed, u64)> = None;
    let mut error = None;
    wal.visit_entries(entries, &mut |e, data| {
        if error.is_some() {
            return Ok(());
        }
        match v.entry(e.entry_type, &data) {
            Err(why) => error = Some(format!("entry {}: {why}", e.index)),
            Ok(()) => {
                let now = v.current();
                if now.is_some() && best.as_ref().map(|b| &b.0) != now {
                    best = now.cloned().map(|n| (n, e.index));
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(match (error, best) {
        (Some(e), _) => WalVersion {
            version: None,
            by: None,
            index: None,
            error: Some(e),
        },
        (None, Some((n, index))) => WalVersion {
            version: Some(n.version_text()),
            by: Some(n.by),
            index: Some(index),
            error: None,
        },
        (None, None) => WalVersion {
            version: None,
            by: None,
            index: None,
            error: None,
        },
    })
}

struct Doctor {
    v: EtcdVersion,
    steps: Vec<Step>,
    warnings: Vec<Warning>,
    facts: Facts,
}

impl Doctor {
    fn step(&mut self, id: StepId, cite: &'static str, outcome: impl Into<String>) {
        self.steps.push(Step {
            id,
            outcome: outcome.into(),
            cite,
        });
    }

    fn warn(&mut self, kind: WarningKind, message: impl Into<String>, names: Vec<String>) {
        self.warnings.push(Warning {
            kind,
            message: message.into(),
            names,
        });
    }

    /// What etcd says of custom content (v2 keys, v2 auth) in the snapshot's v2 store: 3.5
    /// warns at start (v3.5.16 server/etcdserver/server.go:506, `assertNoV2StoreContent`);
    /// 3.4 does not look; 3.6, with its default `--v2-deprecation=write-only`, refuses to
    /// start (v3.6.9 server/storage/util.go:34), so either blocks the upgrade.
    fn v2_custom_content(&mut self, data: &[u8]) {
        use crate::inspect::{MetaOnlyRule, v2store::custom_content};
        let found = |rule| custom_content(data, rule).unwrap_or_default();
        let names = |c: Vec<crate::inspect::CustomNode>| {
            c.into_iter()
                .map(|n| format!("{} ({} children)", n.path, n.children))
                .collect::<Vec<_>>()
        };
        let (warned, blocks) = (
            found(MetaOnlyRule::Strict),
            found(MetaOnlyRule::AuthSkeleton),
        );
        let upgrade = "etcd 3.6 refuses to start on it (`detected disallowed custom content in v2store for stage --v2-deprecation=write-only`): remove the v2 content before upgrading (`etcd-snap check v2store`)";
        match (self.v, warned.is_empty(), blocks.is_empty()) {
            (EtcdVersion::V3_5, false, _) => self.warn(
                WarningKind::V2CustomContent,
                format!(
                    "etcd logs `detected custom v2store content. Etcd v3.5 is the last version allowing to access it using API v2. Please remove the content.`{}",
                    if blocks.is_empty() {
                        " (only the empty v2 auth skeleton: etcd 3.5.22+ and 3.6.4+ no longer count it)".to_owned()
                    } else {
                        format!("; {upgrade}")
                    }
                ),
                names(warned),
            ),
            (_, _, false) => self.warn(
                WarningKind::V2CustomContent,
                format!("the snapshot's v2 store holds v2 keys or v2 auth data; {upgrade}"),
                names(blocks),
            ),
            _ => {}
        }
    }

    /// The v2 requests among the entries etcd replays that etcd 3.6 refuses to apply (it
    /// panics: `detected disallowed v2 WAL for stage --v2-deprecation=write-only`, etcd
    /// issue #20870): an upgrade to 3.6 waits until a snapshot past them.
    async fn v2_wal_entries<W: Storage>(
        &mut self,
        wal: &Wal<ReadOnly<W>>,
        replay: &[EntryInfo],
    ) -> Result<()> {
        let normal: Vec<EntryInfo> = replay
            .iter()
            .filter(|e| e.entry_type == 0)
            .copied()
            .collect();
        let mut refused = Vec::new();
        wal.visit_entries(&normal, &mut |e, data| {
            let req = match crate::walpayload::decode_internal_raft_request(&data) {
                Ok(r) => r.v2,
                Err(_) => crate::walpayload::decode_v2_request(&data).ok(),
            };
            if let Some(r) = req.filter(|_| !data.is_empty()) {
                let (m, p, v) = (r.method(), r.path(), r.val());
                if let Some(why) = v2::refused_by_36(m, p, v) {
                    refused.push(format!("entry {}: {why}", e.index));
                }
            }
            Ok(())
        })
        .await?;
        if !refused.is_empty() {
            self.warn(
                WarningKind::V2WalEntries,
                format!(
                    "etcd 3.6 panics replaying {} v2 request(s) after the snapshot: the upgrade to 3.6 must wait until etcd 3.5 has taken a snapshot past them (after --snapshot-count more entries)",
                    refused.len()
                ),
                refused,
            );
        }
        Ok(())
    }

    async fn run<S: Storage, W: Storage>(
        &mut self,
        sn: &crate::Snapshotter<ReadOnly<S>>,
        wal: Option<&Wal<ReadOnly<W>>>,
    ) -> Result<Verdict> {
        let v = self.v;
        let snap = sn.storage();
        let mut names = snapdir::sorted_names(snap).await?;

        // 1. tmp cleanup.
        let tmp: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with(crate::names::TMP_PREFIX))
            .cloned()
            .collect();
        self.step(
            StepId::TmpCleanup,
            "etcd etcdserver/server.go:327",
            format!("removes {} tmp* file(s)", tmp.len()),
        );
        if !tmp.is_empty() {
            self.warn(
                WarningKind::RemovesTmp,
                "etcd removes these temp files (interrupted snapshot downloads) from member/snap",
                tmp.clone(),
            );
            names.retain(|n| !tmp.contains(n));
        }

        // 2. openBackend.
        let db_path = snap.path_of(crate::names::LIVE_DB);
        let db = db::read(snap.inner(), crate::names::LIVE_DB).await?;
        let be_exist = db.is_some();
        let (mut db_facts, db_src) = match db {
            Some((f, b)) => (f, b),
            None => (DbFacts::created(crate::names::LIVE_DB), None),
        };
        self.facts.db = be_exist.then(|| db_facts.clone());
        if let Some(e) = db_facts.open_error.clone() {
            self.step(
                StepId::OpenBackend,
                "etcd mvcc/backend/backend.go:159",
                format!("bolt.Open fails: {e}"),
            );
            return Ok(Verdict::Fails(Failure::open_backend(
                v,
                StepId::OpenBackend,
                &db_path,
                &e,
            )));
        }
        self.step(
            StepId::OpenBackend,
            "etcd etcdserver/server.go:341",
            match (be_exist, db_facts.size) {
                (false, _) => "no db: etcd creates an empty one".to_owned(),
                (true, 0) => "zero-length db: bbolt initializes it as a new, empty db".to_owned(),
                (true, n) => format!(
                    "opens the db ({n} bytes, consistent index {}, revision {})",
                    db_facts.consistent_index, db_facts.revision
                ),
            },
        );

        // 3. wal.Exist.
        let listing = wal.map(|w| w.listing());
        self.facts.wal_segments = listing
            .map(|l| l.segments.iter().map(|s| s.name.clone()).collect())
            .unwrap_or_default();
        let (Some(wal), Some(listing)) = (
            wal,
            listing.filter(|l| {
                !(l.segments.is_empty()
                    && l.spares.is_empty()
                    && l.leftovers.is_empty()
                    && l.other.is_empty())
            }),
        ) else {
            self.step(
                StepId::WalExists,
                "etcd etcdserver/server.go:313",
                "no WAL: a new member",
            );
            self.warn(
                WarningKind::NoWal,
                "member/wal is empty or missing: etcd would bootstrap a new member from --initial-cluster (or join with --initial-cluster-state existing), not restart this one",
                Vec::new(),
            );
            return Ok(Verdict::NewMember);
        };
        self.step(
            StepId::WalExists,
            "etcd etcdserver/server.go:313",
            format!("WAL found ({} segment(s))", self.facts.wal_segments.len()),
        );
        let leftovers: Vec<String> = listing
            .leftovers
            .iter()
            .chain(&listing.other)
            .cloned()
            .collect();
        if !leftovers.is_empty() {
            self.warn(
                WarningKind::WalLeftovers,
                "files in member/wal that are not segments (etcd ignores them)",
                leftovers,
            );
        }

        // 4. ValidSnapshotEntries.
        let wal_snaps = match wal_view::valid_snapshot_entries(wal, v).await? {
            Ok(s) => s,
            Err(e) => {
                self.step(
                    StepId::ValidSnapshotEntries,
                    "etcd wal/wal.go:558",
                    format!("fails: {e}"),
                );
                return Ok(Verdict::Fails(Failure::new_server(
                    v,
                    StepId::ValidSnapshotEntries,
                    &e,
                )));
            }
        };
        self.step(
            StepId::ValidSnapshotEntries,
            "etcd wal/wal.go:558",
            format!(
                "{} snapshot record(s) at or below the commit",
                wal_snaps.len()
            ),
        );
        self.facts.wal_snapshots = Some(wal_snaps.iter().map(|w| SnapRef::from(*w)).collect());

        // 5. LoadNewestAvailable.
        let db_tmp: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with(crate::names::DB_TMP_PREFIX))
            .cloned()
            .collect();
        if !db_tmp.is_empty() {
            self.warn(
                WarningKind::RemovesDbTmp,
                "etcd removes these defragmentation leftovers",
                db_tmp,
            );
        }
        let pick = snapdir::load_newest_available(sn, &names, &wal_snaps).await?;
        self.facts.snaps = pick.snaps.clone();
        if !pick.quarantined.is_empty() {
            self.warn(
                WarningKind::RenamesBroken,
                "etcd renames these unreadable snapshots to *.broken",
                pick.quarantined.clone(),
            );
        }
        let broken: Vec<String> = names
            .iter()
            .filter(|n| n.ends_with(crate::names::BROKEN_SUFFIX))
            .cloned()
            .collect();
        if !broken.is_empty() {
            self.warn(
                WarningKind::BrokenPile,
                format!(
                    "{} *.broken file(s) already here; etcd never removes them",
                    broken.len()
                ),
                broken,
            );
        }
        let unused: Vec<String> = pick
            .snaps
            .iter()
            .filter(|s| s.readable() && !s.in_wal)
            .filter(|s| {
                pick.chosen
                    .as_ref()
                    .is_none_or(|c| s.name.as_bytes() > c.name.as_bytes())
            })
            .map(|s| s.name.clone())
            .collect();
        if !unused.is_empty() {
            self.warn(
                WarningKind::SnapshotNotInWal,
                "readable snapshots newer than the one etcd loads, with no committed WAL snapshot record: etcd skips them",
                unused,
            );
        }
        let missing: Vec<String> = wal_snaps
            .iter()
            .filter(|w| w.index > 0)
            .filter(|w| {
                !pick
                    .snaps
                    .iter()
                    .any(|s| s.readable() && s.term == Some(w.term) && s.index == Some(w.index))
            })
            .map(|w| crate::names::snap_name(w.term, w.index))
            .collect();
        if !missing.is_empty() {
            self.warn(
                WarningKind::SnapshotFileMissing,
                "the WAL records these snapshots but their .snap files are missing or unreadable",
                missing,
            );
        }
        let snapshot = pick.chosen.clone();
        self.step(
            StepId::LoadNewestAvailable,
            "etcd etcdserver/api/snap/snapshotter.go:118",
            match &snapshot {
                Some(c) => format!("loads {}", c.name),
                None => "no snapshot found: recovering the WAL from scratch".to_owned(),
            },
        );

        // 6–7. v2 store and backend.
        let mut db_replaced_by = None;
        let mut live = (db_facts.clone(), db_src);
        if let Some(c) = &snapshot {
            if let Some(e) = v2::recovery_error(&c.data) {
                self.step(
                    StepId::V2StoreRecovery,
                    "etcd etcdserver/server.go:453",
                    format!("fails: {e}"),
                );
                return Ok(Verdict::Fails(Failure::v2_recovery(v, &e)));
            }
            self.step(
                StepId::V2StoreRecovery,
                "etcd etcdserver/server.go:453",
                "recovers the v2 store from the snapshot",
            );
            self.v2_custom_content(&c.data);
            // 3.4 reads the index through mvcc on whatever db is open (0 for a new one);
            // 3.5 reads it only if the db existed (v3.5.16 server/etcdserver/backend.go:101).
            let ci = if be_exist || v == EtcdVersion::V3_4 {
                db_facts.consistent_index
            } else {
                0
            };
            if c.index <= ci {
                self.step(
                    StepId::RecoverBackend,
                    "etcd etcdserver/backend.go:108",
                    format!(
                        "keeps the db: snapshot index {} ≤ consistent index {ci}",
                        c.index
                    ),
                );
            } else {
                let db_name = crate::names::db_name(c.index);
                match sn.db_file_path(c.index).await {
                    Err(e) => {
                        let e = format!("failed to find database snapshot file ({e})");
                        self.step(StepId::RecoverBackend, "etcd etcdserver/backend.go:57", format!("snapshot index {} > consistent index {ci} and {db_name} is missing", c.index));
                        return Ok(Verdict::Fails(Failure::recover_backend(v, &e)));
                    }
                    Ok(_) => {
                        let (f, b) = db::read(snap.inner(), &db_name)
                            .await?
                            .unwrap_or_else(|| (DbFacts::created(&db_name), None));
                        self.facts.snap_db = Some(f.clone());
                        self.warn(
                            WarningKind::ReplacesDb,
                            format!(
                                "etcd renames {db_name} over member/snap/db: the db's writes (consistent index {}, revision {}) are replaced by the snapshot's",
                                db_facts.consistent_index, db_facts.revision
                            ),
                            vec![db_name.clone(), crate::names::LIVE_DB.to_owned()],
                        );
                        if let Some(e) = f.open_error.clone() {
                            self.step(
                                StepId::RecoverBackend,
                                "etcd mvcc/backend/backend.go:159",
                                format!("{db_name} does not open: {e}"),
                            );
                            return Ok(Verdict::Fails(Failure::open_backend(
                                v,
                                StepId::RecoverBackend,
                                &db_path,
                                &e,
                            )));
                        }
                        self.step(
                            StepId::RecoverBackend,
                            "etcd etcdserver/backend.go:62",
                            format!("snapshot index {} > consistent index {ci}: replaces the db with {db_name} (consistent index {})", c.index, f.consistent_index),
                        );
                        db_replaced_by = Some(db_name);
                        live = (f, b);
                    }
                }
            }
        }
        db_facts = live.0.clone();
        let orphans: Vec<String> = names
            .iter()
            .filter(|n| crate::names::parse_db_name(n).is_some())
            .filter(|n| db_replaced_by.as_deref() != Some(n.as_str()))
            .cloned()
            .collect();
        if !orphans.is_empty() {
            self.warn(
                WarningKind::OrphanSnapDb,
                "database snapshots this start does not use (a download never applied, or left behind): etcd keeps them until ReleaseSnapDBs removes those older than a later snapshot",
                orphans,
            );
        }

        // 8. readWAL.
        let at = snapshot
            .as_ref()
            .map_or(WalSnapshot::default(), |c| WalSnapshot {
                index: c.index,
                term: c.term,
            });
        let read = match self.read_wal(wal, at).await? {
            Ok(r) => r,
            Err(f) => return Ok(Verdict::Fails(f)),
        };
        // etcd `pbutil.MustUnmarshal(&metadata, wmetadata)` (etcd etcdserver/storage.go:132).
        let meta = crate::walpayload::decode_metadata(&read.metadata).unwrap_or(
            crate::walpayload::Metadata {
                node_id: 0,
                cluster_id: 0,
            },
        );
        self.facts.member_id = Some(meta.node_id);
        self.facts.cluster_id = Some(meta.cluster_id);
        let hs = read.state;
        self.facts.commit = Some(hs.commit);
        self.facts.term = Some(hs.term);
        let last = read
            .entries
            .last()
            .map_or(at.index, |e| e.index)
            .max(at.index);
        self.facts.last_index = Some(last);
        self.facts.wal_minimal_version = Some(wal_version(wal, &read.entries).await?);
        let before: Vec<String> = self
            .facts
            .wal_segments
            .windows(2)
            .filter(|w| crate::wal::SegmentName::parse(&w[1]).is_some_and(|n| n.index <= at.index))
            .map(|w| w[0].clone())
            .collect();
        if !before.is_empty() {
            self.warn(
                WarningKind::WalSegmentsBeforeSnapshot,
                "WAL segments wholly before the snapshot: etcd skips them (and purges them later)",
                before,
            );
        }
        // raft's loadState: committed starts at the snapshot index.
        if hs != Default::default() && (hs.commit < at.index || hs.commit > last) {
            self.step(
                StepId::RaftRestart,
                "etcd raft/raft.go:1572",
                "the HardState commit is outside the log",
            );
            return Ok(Verdict::Fails(Failure::commit_out_of_range(
                v,
                meta.node_id,
                hs.commit,
                at.index,
                last,
            )));
        }
        self.step(
            StepId::RaftRestart,
            "etcd etcdserver/raft.go:578",
            format!(
                "restarts member {:x} in cluster {:x} at commit index {}",
                meta.node_id, meta.cluster_id, hs.commit
            ),
        );

        // 9. cl.Recover and the missing db.
        if let Some(c) = &snapshot {
            let v3 = v2::cluster_major(&c.data).is_some_and(|m| m >= 3);
            if v3 && !be_exist {
                let e = format!("database file ({db_path}) of the backend is missing");
                self.step(
                    StepId::ClusterRecover,
                    "etcd etcdserver/server.go:499",
                    "cluster version ≥ 3.0 and the db did not exist",
                );
                if db_replaced_by.is_some() {
                    self.warn(WarningKind::RemovesDb, "etcd deletes the db it just renamed from the .snap.db (os.RemoveAll) before failing: the .snap.db is lost", vec![crate::names::LIVE_DB.to_owned()]);
                }
                return Ok(Verdict::Fails(Failure::new_server(
                    v,
                    StepId::ClusterRecover,
                    &e,
                )));
            }
        }

        // 10. consistent index against the snapshot.
        if let (true, Some(c)) = (be_exist, &snapshot) {
            let kv = db_facts.consistent_index;
            if kv < c.index {
                if kv != 0 {
                    let e = format!(
                        "database file ({db_path} index {kv}) does not match with snapshot (index {})",
                        c.index
                    );
                    self.step(
                        StepId::ConsistentIndex,
                        "etcd etcdserver/server.go:586",
                        "the db is older than the snapshot",
                    );
                    return Ok(Verdict::Fails(Failure::new_server(
                        v,
                        StepId::ConsistentIndex,
                        &e,
                    )));
                }
                self.warn(
                    WarningKind::ConsistentIndexNeverSaved,
                    format!(
                        "consistent index was never saved (snapshot index {})",
                        c.index
                    ),
                    Vec::new(),
                );
            }
        }

        // 11. Replay.
        let ci = db_facts.consistent_index;
        let replay: Vec<EntryInfo> = read
            .entries
            .iter()
            .filter(|e| e.index > at.index && e.index <= hs.commit)
            .copied()
            .collect();
        let to_mvcc: Vec<EntryInfo> = replay
            .iter()
            .filter(|e| e.index > ci && e.entry_type == 0)
            .copied()
            .collect();
        self.v2_wal_entries(wal, &replay).await?;
        let mut reqs = Vec::new();
        let mut unknown = Vec::new();
        wal.visit_entries(&to_mvcc, &mut |e, data| {
            match request::decode_normal(&data) {
                request::Decoded::NoMvcc => {}
                request::Decoded::V3(r) => reqs.push(*r),
                request::Decoded::Unknown(err) => unknown.push(format!("entry {}: {err}", e.index)),
            }
            Ok(())
        })
        .await?;
        let revision = if unknown.is_empty() {
            self.revision(live.1.as_deref(), &db_facts, &reqs)?
        } else {
            self.warn(
                WarningKind::Uncertain,
                "entries whose request does not decode: what they write to mvcc is unknown",
                unknown.clone(),
            );
            Revision::Unknown(format!(
                "{} replayed entries do not decode ({})",
                unknown.len(),
                unknown[0]
            ))
        };
        // After a restart a single member first appends the new leader's empty entry
        // (last + 1) and proposes its member publish (last + 2); a client's first proposal
        // comes after them, so it goes unanswered only when it too is at or below `ci`.
        if ci > last + 2 {
            self.warn(
                WarningKind::DbAheadOfWal,
                format!(
                    "the db's consistent index {ci} is past the WAL's last entry {last}: etcd serves reads, but writes and every other request that goes through raft time out until the log passes index {ci} (entries at or below it are applied without replying to their proposer)"
                ),
                vec![crate::names::LIVE_DB.to_owned()],
            );
        }
        self.step(
            StepId::Replay,
            "etcd etcdserver/server.go:2203",
            format!(
                "applies {} entries ({} to mvcc, above consistent index {ci})",
                replay.len(),
                to_mvcc.len()
            ),
        );
        Ok(Verdict::Starts(Start {
            snapshot: snapshot.as_ref().map(|c| SnapRef {
                index: c.index,
                term: c.term,
            }),
            snapshot_file: snapshot.as_ref().map(|c| c.name.clone()),
            consistent_index: ci,
            db_replaced_by,
            entries_to_replay: replay.len() as u64,
            entries_applied_to_mvcc: to_mvcc.len() as u64,
            commit: hs.commit,
            last_index: last,
            term: hs.term,
            revision,
        }))
    }

    /// `readWAL` (etcd etcdserver/storage.go:85): open, read, one repair.
    async fn read_wal<W: Storage>(
        &mut self,
        wal: &Wal<W>,
        at: WalSnapshot,
    ) -> Result<std::result::Result<ReadAll, Failure>> {
        let v = self.v;
        let mut outcome = wal_view::read_wal(wal, at, v).await?;
        let mut repaired = false;
        loop {
            match outcome {
                WalOutcome::OpenFailed(e) => {
                    self.step(
                        StepId::OpenWal,
                        "etcd etcdserver/storage.go:93",
                        format!("wal.Open at {}/{} fails: {e}", at.term, at.index),
                    );
                    return Ok(Err(Failure::open_wal(v, &e)));
                }
                WalOutcome::ReadFailed(e) => {
                    self.step(
                        StepId::ReadWal,
                        "etcd etcdserver/storage.go:106",
                        format!("ReadAll fails: {e}"),
                    );
                    return Ok(Err(Failure::read_wal(v, &e)));
                }
                WalOutcome::Read(r) => {
                    self.step(
                        StepId::ReadWal,
                        "etcd wal/wal.go:436",
                        format!("reads {} entries after the snapshot", r.entries.len()),
                    );
                    if let Some(z) = &r.zeroed_tail {
                        self.warn(
                            WarningKind::ZeroesWalTail,
                            format!("etcd zeroes {} bytes of {} from offset {} (a torn write after the last valid record; first non-zero byte at {})", z.len, z.segment, z.offset, z.first_nonzero),
                            vec![z.segment.clone()],
                        );
                    }
                    return Ok(Ok(*r));
                }
                WalOutcome::Torn { repair, after } => {
                    const EOF: &str = "unexpected EOF";
                    if repaired {
                        self.step(
                            StepId::ReadWal,
                            "etcd etcdserver/storage.go:106",
                            "ReadAll hits a torn record again after the repair",
                        );
                        return Ok(Err(Failure::read_wal(v, EOF)));
                    }
                    match (repair, after) {
                        (Repair::Fails, _) => {
                            self.step(
                                StepId::RepairWal,
                                "etcd etcdserver/storage.go:113",
                                "the last segment has another error: Repair fails",
                            );
                            return Ok(Err(Failure::repair_wal(v, EOF)));
                        }
                        (
                            Repair::Truncates {
                                segment,
                                offset,
                                lost_bytes,
                                lost_entries,
                            },
                            Some(after),
                        ) => {
                            self.step(
                                StepId::RepairWal,
                                "etcd wal/repair.go:30",
                                format!("truncates {segment} at offset {offset}"),
                            );
                            self.warn(
                                WarningKind::TruncatesWal,
                                format!("etcd copies {segment} to {segment}.broken and truncates it at offset {offset}: {lost_bytes} bytes and {lost_entries} entries are lost"),
                                vec![segment.clone(), format!("{segment}.broken")],
                            );
                            repaired = true;
                            outcome = *after;
                        }
                        (Repair::Truncates { .. } | Repair::Nothing, _) => {
                            // Repair says yes without changing anything; the second ReadAll
                            // tears at the same place.
                            self.step(StepId::RepairWal, "etcd wal/repair.go:30", "the torn record is not in the last segment: Repair changes nothing");
                            return Ok(Err(Failure::read_wal(v, EOF)));
                        }
                    }
                }
            }
        }
    }

    /// The db's revision plus the mvcc writes of `entries` (see `replay`).
    fn revision(
        &mut self,
        src: Option<&dyn crate::inspect::PageSource>,
        f: &DbFacts,
        reqs: &[request::InternalRaftRequest],
    ) -> Result<Revision> {
        let writes = |r: &request::InternalRaftRequest| {
            r.put.is_some()
                || r.delete_range.is_some()
                || r.txn.is_some()
                || r.lease_revoke.is_some()
        };
        if !reqs.iter().any(writes) {
            return Ok(Revision::Known(f.revision));
        }
        let db = match src {
            Some(s) => Some(db::open(s)?),
            None => None,
        };
        let mvcc = match &db {
            Some(db) => {
                let finished = db
                    .cluster_info()?
                    .meta
                    .finished_compact_revision
                    .unwrap_or(0);
                Some(crate::inspect::Mvcc::build(db.bolt(), finished)?)
            }
            None => None,
        };
        let mut ks = replay::Keyspace::new(mvcc.as_ref(), f.revision, f.leases.iter().copied());
        for r in reqs {
            ks.apply(r)?;
        }
        Ok(Revision::Known(ks.rev))
    }
}
