//! The doctor's ground truth (issue 10): real etcd member data dirs and what real etcd does
//! when it starts on a copy of each.
//!
//! For one [`Version`], [`case_set`] generates (once per test process, shared by the tests that
//! ask) every [`Case`] under `$CARGO_TARGET_TMPDIR/doctor-cases/<release>/` (wiped first; the
//! cases and etcd's logs are kept afterwards for inspection) and [`observe`]s each: the case's data dir is copied, that etcd
//! version started on the copy, and its [`Outcome`] read from its log and by querying it.
//!
//! - Clean members, stopped with SIGTERM: without `.snap` files (`clean-nosnap`), with them
//!   (`clean-snaps`), and one with 3 WAL segments (`clean-3seg`; 64 MB segments are cut only
//!   when a write crosses `wal.SegmentSizeBytes`, etcd wal/wal.go:950-957 `Save`, so it is fed
//!   1 MB values).
//! - [`KILLS`] members SIGKILLed at a seeded random moment under a write load (puts, deletes,
//!   txns, lease grant / revoke / attached puts, compactions) sent over one keep-alive
//!   connection to the v3 JSON gateway, with a seeded low `--snapshot-count`.
//! - Faults injected on copies of the clean members (see [`FAULTS`]).
//!
//! Every generator asserts that its fault had the intended effect (a truncation falls inside
//! a record, the swapped-in db is behind the snapshot, …) and records it in [`Case::facts`].
//! The seed is printed; `DOCTOR_SEED=<n>` replays it; `DOCTOR_JOBS=<n>` sets the parallelism
//! (default 3 etcd processes per version).
//!
//! The outcome of a start is read from etcd's zap JSON log (both versions run with
//! `--logger zap`): the snapshot index from `"recovered v2 store from snapshot"`
//! `snapshot-index` (0 when no snapshot was loaded), the commit index from
//! `"restarting local member"` `commit-index` (the HardState etcd read from the WAL, after any
//! repair), the revision from `etcdctl endpoint status` once it serves. A failure is the first
//! `fatal`/`panic` line's `msg`, with `": " + error` when the line has one, the copy's data
//! dir path replaced by `<data-dir>` (see [`failure_message`]).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::etcd::{Etcd, EtcdOptions, NotStarted, Version};

/// How many members are killed under load, per version.
pub const KILLS: usize = 22;

/// The fault cases, by name, each on a copy of a clean member.
pub const FAULTS: &[&str] = &[
    "fault-newest-snap-deleted",
    "fault-all-snaps-deleted",
    "fault-newest-snap-corrupt",
    "fault-orphan-snap-within-commit",
    "fault-orphan-snap-beyond-commit",
    "fault-db-behind-commit",
    "fault-db-behind-snapshot-no-snapdb",
    "fault-db-behind-snapshot-with-snapdb",
    "fault-snapdb-for-older-snapshot",
    "fault-db-zero-length",
    "fault-db-missing",
    "fault-db-meta-pages-garbage",
    "fault-nosnap-db-zero-length",
    "fault-nosnap-db-missing",
    "fault-wal-tail-truncated",
    "fault-wal-tail-truncated-in-entry",
    "fault-wal-truncated-mid-log",
    "fault-wal-tail-torn",
    "fault-wal-middle-record-flipped",
    "fault-wal-middle-segment-deleted",
    "fault-wal-oldest-segment-deleted",
    "fault-wal-oldest-segment-and-snaps-deleted",
];

/// How long an observation waits for etcd to serve or exit.
pub const OBSERVE_TIMEOUT: Duration = Duration::from_secs(30);

/// What etcd did when started on a data dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It served: from the snapshot at `snapshot_index` (0: none loaded), with the WAL's
    /// HardState commit `commit_index`, at mvcc `revision` once serving.
    Starts {
        /// `snapshot-index` of "recovered v2 store from snapshot", 0 if absent.
        snapshot_index: u64,
        /// `commit-index` of "restarting local member".
        commit_index: u64,
        /// `header.revision` of `etcdctl endpoint status`: always `Some` when observed; a
        /// prediction that cannot know it says `None` (and so disagrees).
        revision: Option<i64>,
        /// Proposals time out while it serves (a 3 s `alarm list` through raft fails): the
        /// db's consistent index is ahead of the WAL, so replies wait until the log passes it.
        proposals_stall: bool,
    },
    /// It exited: the normalized fatal / panic message ([`failure_message`]).
    Fails {
        /// `msg` or `msg: error`.
        message: String,
    },
    /// Neither served nor exited within [`OBSERVE_TIMEOUT`] (then killed).
    Undecided {
        /// The last line it logged.
        last_line: String,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Starts {
                snapshot_index,
                commit_index,
                revision,
                proposals_stall,
            } => {
                match revision {
                    Some(r) => write!(
                        f,
                        "starts: snapshot {snapshot_index}, commit {commit_index}, revision {r}"
                    )?,
                    None => write!(
                        f,
                        "starts: snapshot {snapshot_index}, commit {commit_index}, revision unknown"
                    )?,
                }
                if *proposals_stall {
                    f.write_str(", proposals time out")?;
                }
                Ok(())
            }
            Outcome::Fails { message } => write!(f, "fails: {message}"),
            Outcome::Undecided { last_line } => write!(
                f,
                "undecided after {OBSERVE_TIMEOUT:?} (last line: {last_line})"
            ),
        }
    }
}

/// Which family a case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// Stopped gracefully, untouched.
    Clean,
    /// SIGKILLed under write load, untouched.
    Killed,
    /// A copy of a clean member with one fault injected.
    Fault,
}

/// One generated data dir.
#[derive(Debug, Clone)]
pub struct Case {
    /// `clean-snaps`, `kill-07`, `fault-wal-tail-torn`, …
    pub name: String,
    /// The etcd that made it (and is started on it).
    pub version: Version,
    /// The seed of its random choices.
    pub seed: u64,
    /// Its data dir (`<data_dir>/member/{snap,wal}`); never started by [`observe`], which
    /// works on a copy.
    pub data_dir: PathBuf,
    /// Clean, killed or fault.
    pub family: Family,
    /// What was done and verified, one sentence each.
    pub facts: Vec<String>,
    /// For a clean member: the revision it served before it was stopped (a restart must
    /// report it unchanged: startup writes no mvcc revision).
    pub revision_before: Option<i64>,
}

/// A case and what etcd did on it.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The case.
    pub case: Case,
    /// What etcd did.
    pub outcome: Outcome,
    /// For a start: whether a raft proposal that writes nothing (`etcdctl alarm list`)
    /// completes within 3 s. It does not when the db is ahead of the WAL's last index: etcd
    /// skips entries at or below the db's consistent index without answering their waiters
    /// (etcd etcdserver/server.go:2203-2240 `applyEntryNormal`), so proposals time out until
    /// the log passes it. `true` for a failure.
    pub proposals_complete: bool,
    /// What etcd logged on the copy.
    pub log: String,
    /// How long the observation took.
    pub took: Duration,
}

impl Observed {
    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// Every case of one version, observed.
#[derive(Debug)]
pub struct CaseSet {
    /// The etcd version.
    pub version: Version,
    /// The base seed.
    pub seed: u64,
    /// The cases, in generation order.
    pub observed: Vec<Observed>,
    /// Time spent generating.
    pub generate_time: Duration,
    /// Time spent observing.
    pub observe_time: Duration,
}

impl CaseSet {
    /// The observed case named `name`.
    #[track_caller]
    pub fn get(&self, name: &str) -> &Observed {
        self.observed
            .iter()
            .find(|o| o.case.name == name)
            .unwrap_or_else(|| panic!("no case {name}"))
    }

    /// `starts N / fails M` and each distinct failure message with its cases.
    pub fn tally(&self) -> String {
        let mut starts = 0;
        let mut fails: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for o in &self.observed {
            match &o.outcome {
                Outcome::Starts { .. } => starts += 1,
                other => fails
                    .entry(other.to_string())
                    .or_default()
                    .push(&o.case.name),
            }
        }
        let n_fail: usize = fails.values().map(Vec::len).sum();
        let mut s = format!(
            "etcd {}: {} cases, {starts} start, {n_fail} do not (seed {}, generated in {:.1?}, observed in {:.1?})\n",
            self.version.release(),
            self.observed.len(),
            self.seed,
            self.generate_time,
            self.observe_time
        );
        for (m, cases) in fails {
            s.push_str(&format!("  {m}\n    <- {}\n", cases.join(", ")));
        }
        s
    }

    /// One line per case: name, outcome.
    pub fn table(&self) -> String {
        self.observed
            .iter()
            .map(|o| {
                let stall = if o.proposals_complete {
                    ""
                } else {
                    " (proposals time out)"
                };
                format!("  {:<44} {}{stall}\n", o.case.name, o.outcome)
            })
            .collect()
    }
}

/// The cases of `v`, generated and observed once per process.
pub fn case_set(v: Version) -> &'static CaseSet {
    static SETS: [OnceLock<CaseSet>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = match v {
        Version::V3_4 => &SETS[0],
        Version::V3_5 => &SETS[1],
    };
    slot.get_or_init(|| build(v))
}

/// The base seed: `DOCTOR_SEED` or the clock.
pub fn base_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("DOCTOR_SEED") {
        Ok(s) => s.trim().parse().expect("DOCTOR_SEED is a u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    })
}

fn jobs() -> usize {
    std::env::var("DOCTOR_JOBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// One generator: a member and the cases made from it.
type GenTask = Box<dyn Fn(&Gen) -> Vec<Case> + Send + Sync>;

fn build(v: Version) -> CaseSet {
    let seed = base_seed();
    println!(
        "doctor cases for etcd {}: seed {seed} (DOCTOR_SEED={seed} replays it)",
        v.release()
    );
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("doctor-cases")
        .join(v.release());
    if root.exists() {
        fs::remove_dir_all(&root).expect("wipe the previous doctor cases");
    }
    fs::create_dir_all(&root).unwrap();
    let g = Gen { v, root, seed };

    let t = Instant::now();
    let mut tasks: Vec<GenTask> = vec![
        Box::new(Gen::snaps_and_faults),
        Box::new(Gen::three_segments_and_faults),
        Box::new(Gen::nosnap_and_faults),
    ];
    for i in 0..KILLS {
        tasks.push(Box::new(move |g: &Gen| vec![g.killed(i)]));
    }
    let cases: Vec<Case> = par_map(tasks, jobs(), |task| task(&g))
        .into_iter()
        .flatten()
        .collect();
    let generate_time = t.elapsed();

    let t = Instant::now();
    let observe_root = g.root.join("observe");
    let observed = par_map(cases, jobs(), |case| observe(&case, &observe_root));
    CaseSet {
        version: v,
        seed,
        observed,
        generate_time,
        observe_time: t.elapsed(),
    }
}

/// Starts `case.version` on a copy of `case.data_dir` under `work/<name>/data` and records
/// what it does. The etcd process is killed (Drop) and the copy removed before this returns;
/// etcd's log stays at `work/<name>/data.etcd.log`.
pub fn observe(case: &Case, work: &Path) -> Observed {
    let t = Instant::now();
    let dir = work.join(&case.name);
    let data = dir.join("data");
    copy_tree_sparse(&case.data_dir, &data);
    let opts = EtcdOptions {
        version: case.version,
        start_timeout: Some(OBSERVE_TIMEOUT),
        extra_args: fast_election(),
        ..EtcdOptions::default()
    };
    let data_str = data.to_string_lossy().into_owned();
    let mut proposals_complete = true;
    let (outcome, log) = match Etcd::try_start_outcome(&data, &opts) {
        Ok(etcd) => {
            let out = etcd.ctl(&["endpoint", "status", "-w", "json"]);
            let status: Value = serde_json::from_str(&out).expect("endpoint status JSON");
            let revision = status[0]["Status"]["header"]["revision"]
                .as_i64()
                .expect("header.revision");
            proposals_complete = etcd
                .ctl_command()
                .args(["--command-timeout", "3s", "alarm", "list"])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
                .status
                .success();
            let mut etcd = etcd;
            let log = etcd.this_log();
            let outcome = match etcd.exit_status() {
                // Served, then died (a panic in the apply loop): a failure.
                Some(_) => Outcome::Fails {
                    message: failure_message(&log, &data_str),
                },
                None => Outcome::Starts {
                    snapshot_index: log_field(
                        &log,
                        "recovered v2 store from snapshot",
                        "snapshot-index",
                    )
                    .unwrap_or(0),
                    commit_index: log_field(&log, "restarting local member", "commit-index")
                        .unwrap_or_else(|| {
                            panic!("{}: no \"restarting local member\" line:\n{log}", case.name)
                        }),
                    revision: Some(revision),
                    proposals_stall: !proposals_complete,
                },
            };
            drop(etcd);
            (outcome, log)
        }
        Err(NotStarted::Exited { log, .. }) => (
            Outcome::Fails {
                message: failure_message(&log, &data_str),
            },
            log,
        ),
        Err(NotStarted::TimedOut { log, .. }) => (
            Outcome::Undecided {
                last_line: log.lines().last().unwrap_or_default().to_owned(),
            },
            log,
        ),
    };
    // The copy etcd ran on goes (a new 64 MB `0.tmp` and a `.broken` copy per repair add up
    // to gigabytes); its log stays beside it, the case's own data dir stays for replays.
    fs::remove_dir_all(&data).expect("remove the observed copy");
    Observed {
        case: case.clone(),
        outcome,
        proposals_complete,
        log,
        took: t.elapsed(),
    }
}

/// The first zap JSON line whose `msg` is `msg`, field `field` as a number.
pub fn log_field(log: &str, msg: &str, field: &str) -> Option<u64> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|j| j["msg"] == msg)
        .and_then(|j| j[field].as_u64())
}

/// The normalized failure of an etcd log: the first zap line of level `fatal`, `panic` or
/// `dpanic` as `msg` (`msg: error` when it has an `error` field); else the Go runtime's
/// `panic: …` line; the data dir path `data_dir` is replaced by `<data-dir>`.
pub fn failure_message(log: &str, data_dir: &str) -> String {
    let zap = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|j| matches!(j["level"].as_str(), Some("fatal" | "panic" | "dpanic")));
    let m = match zap {
        Some(j) => {
            let msg = j["msg"].as_str().unwrap_or_default().to_owned();
            match j["error"].as_str() {
                Some(e) => format!("{msg}: {e}"),
                None => msg,
            }
        }
        None => match log.lines().find_map(|l| l.strip_prefix("panic: ")) {
            Some(p) => p.trim().to_owned(),
            None => format!(
                "(no fatal line; last line: {})",
                log.lines().last().unwrap_or_default()
            ),
        },
    };
    m.replace(data_dir, "<data-dir>")
}

/// Short raft timings: a single member elects itself within a few hundred ms (the default
/// 1 s election timeout dominates a start otherwise). Nothing on disk depends on them.
fn fast_election() -> Vec<String> {
    ["--heartbeat-interval", "50", "--election-timeout", "300"]
        .map(String::from)
        .to_vec()
}

// ---------------------------------------------------------------------------------------
// Generation

struct Gen {
    v: Version,
    root: PathBuf,
    seed: u64,
}

impl Gen {
    /// `<root>/cases/<name>/data` (its parent made, for etcd's log beside it).
    fn case_dir(&self, name: &str) -> PathBuf {
        let parent = self.root.join("cases").join(name);
        fs::create_dir_all(&parent).unwrap();
        parent.join("data")
    }

    fn opts(&self, snapshot_count: u64) -> EtcdOptions {
        EtcdOptions {
            version: self.v,
            snapshot_count: Some(snapshot_count),
            extra_args: fast_election(),
            ..EtcdOptions::default()
        }
    }

    fn case(&self, name: &str, seed: u64, family: Family, data_dir: PathBuf) -> Case {
        Case {
            name: name.to_owned(),
            version: self.v,
            seed,
            data_dir,
            family,
            facts: Vec::new(),
            revision_before: None,
        }
    }

    /// A fault case: a sparse copy of `from` that `inject` then damages (and describes).
    fn fault(&self, name: &str, from: &Case, inject: impl FnOnce(&Path, &mut Vec<String>)) -> Case {
        assert!(FAULTS.contains(&name), "{name} is not listed in FAULTS");
        let dir = self.case_dir(name);
        copy_tree_sparse(&from.data_dir, &dir);
        let mut c = self.case(name, from.seed, Family::Fault, dir.clone());
        c.facts.push(format!("a copy of {}", from.name));
        inject(&dir, &mut c.facts);
        c
    }

    /// `clean-snaps` (snapshot-count 20, three runs), its older dbs, and the faults on it.
    fn snaps_and_faults(&self) -> Vec<Case> {
        let seed = self.seed ^ 0x5a5a;
        let mut rng = Rng::new(seed);
        let dir = self.case_dir("clean-snaps");
        let aux = self.root.join("aux/clean-snaps");
        fs::create_dir_all(&aux).unwrap();
        let db = |d: &Path| d.join("member/snap/db");

        // Run 1: 30 ops, stop; keep its db (behind every later snapshot).
        let etcd = Etcd::start(&dir, &self.opts(20));
        write_ops(&etcd.client_url, &mut rng, 30);
        etcd.stop();
        fs::copy(db(&dir), aux.join("db.run1")).unwrap();
        // Run 2: 70 ops (several snapshots), stop; keep its db (at or past the newest).
        let etcd = Etcd::start(&dir, &self.opts(20));
        write_ops(&etcd.client_url, &mut rng, 70);
        etcd.stop();
        fs::copy(db(&dir), aux.join("db.run2")).unwrap();
        // Run 3: a few ops, no snapshot (count 10000): run 2's db is behind the commit only.
        let etcd = Etcd::start(&dir, &self.opts(10_000));
        write_ops(&etcd.client_url, &mut rng, 5);
        let revision = current_revision(&etcd);
        etcd.stop();
        sparsify_tree(&dir);

        let snaps = snap_files(&dir);
        assert!(snaps.len() >= 2, "clean-snaps has {snaps:?}");
        let newest = *snaps.last().unwrap();
        let ci = |p: &Path| consistent_index(p).expect("consistent_index");
        let (ci1, ci2, ci_final) = (
            ci(&aux.join("db.run1")),
            ci(&aux.join("db.run2")),
            ci(&db(&dir)),
        );
        let mut base = self.case("clean-snaps", seed, Family::Clean, dir.clone());
        base.revision_before = Some(revision);
        base.facts.push(format!(
            "snapshots {:?}, db consistent index {ci_final}, revision {revision}",
            snaps.iter().map(|s| s.1).collect::<Vec<_>>()
        ));

        let mut out = Vec::new();
        out.push(self.fault("fault-newest-snap-deleted", &base, |d, f| {
            fs::remove_file(snap_path(d, newest)).unwrap();
            f.push(format!("removed {}", snap_name(newest)));
        }));
        out.push(self.fault("fault-all-snaps-deleted", &base, |d, f| {
            for s in &snaps {
                fs::remove_file(snap_path(d, *s)).unwrap();
            }
            f.push(format!("removed all {} .snap files", snaps.len()));
        }));
        out.push(self.fault("fault-newest-snap-corrupt", &base, |d, f| {
            let p = snap_path(d, newest);
            let at = flip_middle_byte(&p);
            f.push(format!("flipped byte {at} of {}", snap_name(newest)));
        }));
        out.push(self.fault("fault-orphan-snap-within-commit", &base, |d, f| {
            let index = newest.1 + 1;
            assert!(index <= ci_final, "no room between the newest snapshot and the commit");
            let name = resave_snap(d, newest, index);
            f.push(format!(
                "re-saved {} as {name} (index {index} <= commit {ci_final}; no WAL snapshot record has it)",
                snap_name(newest)
            ));
        }));
        out.push(
            self.fault("fault-orphan-snap-beyond-commit", &base, |d, f| {
                let index = ci_final + 100;
                let name = resave_snap(d, newest, index);
                f.push(format!(
                    "re-saved {} as {name} (index {index} > commit {ci_final})",
                    snap_name(newest)
                ));
            }),
        );
        assert!(
            ci2 >= newest.1 && ci2 < ci_final,
            "run 2's db ({ci2}) must be at or past the newest snapshot {} and behind {ci_final}",
            newest.1
        );
        out.push(self.fault("fault-db-behind-commit", &base, |d, f| {
            fs::copy(aux.join("db.run2"), db(d)).unwrap();
            f.push(format!(
                "db swapped for run 2's: consistent index {ci2} >= snapshot {}, < {ci_final}",
                newest.1
            ));
        }));
        assert!(
            ci1 < newest.1,
            "run 1's db ({ci1}) must be behind the newest snapshot {}",
            newest.1
        );
        out.push(
            self.fault("fault-db-behind-snapshot-no-snapdb", &base, |d, f| {
                fs::copy(aux.join("db.run1"), db(d)).unwrap();
                f.push(format!(
                "db swapped for run 1's: consistent index {ci1} < snapshot {}; no {:016x}.snap.db",
                newest.1, newest.1
            ));
            }),
        );
        out.push(self.fault("fault-db-behind-snapshot-with-snapdb", &base, |d, f| {
            let snapdb = d.join(format!("member/snap/{:016x}.snap.db", newest.1));
            fs::rename(db(d), &snapdb).unwrap();
            fs::copy(aux.join("db.run1"), db(d)).unwrap();
            f.push(format!(
                "db swapped for run 1's (consistent index {ci1} < snapshot {}), the member's own db as {:016x}.snap.db: \
                 what a follower that crashed between receiving a snapshot and renaming its db holds \
                 (etcd etcdserver/api/snap/db.go:36 SaveDBFrom, etcdserver/backend.go:57 openSnapshotBackend)",
                newest.1, newest.1
            ));
        }));
        out.push(
            self.fault("fault-snapdb-for-older-snapshot", &base, |d, f| {
                let older = snaps[snaps.len() - 2];
                let snapdb = d.join(format!("member/snap/{:016x}.snap.db", older.1));
                fs::rename(db(d), &snapdb).unwrap();
                fs::copy(aux.join("db.run1"), db(d)).unwrap();
                f.push(format!(
                "db swapped for run 1's ({ci1}), a .snap.db named for the older snapshot {} only",
                older.1
            ));
            }),
        );
        out.push(self.fault("fault-db-zero-length", &base, |d, f| {
            File::create(db(d)).unwrap();
            f.push("db truncated to 0 bytes".into());
        }));
        out.push(self.fault("fault-db-missing", &base, |d, f| {
            fs::remove_file(db(d)).unwrap();
            f.push("db removed".into());
        }));
        out.push(self.fault("fault-db-meta-pages-garbage", &base, |d, f| {
            // Both bbolt meta pages (pages 0 and 1 of 4 KiB): bbolt falls back to the other
            // meta page when only one is bad.
            let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
            write_at(&db(d), 0, &garbage);
            f.push("db bytes 0..8192 (both bbolt meta pages) overwritten with a pattern".into());
        }));
        out.extend(self.wal_record_faults(&base));
        out.insert(0, base);
        out
    }

    /// The faults inside the one WAL segment of `base`.
    fn wal_record_faults(&self, base: &Case) -> Vec<Case> {
        let segs = wal_segments(&base.data_dir);
        let last = segs.last().unwrap().clone();
        let last_name = file_name(&last);
        let bytes = fs::read(&last).unwrap();
        let frames = wal_frames(&bytes);
        assert!(
            frames.len() >= 10,
            "{last_name}: only {} records",
            frames.len()
        );
        let tail = frames.last().unwrap().clone();
        let mid = frames[frames.len() / 2].clone();
        let mut out = Vec::new();

        out.push(self.fault("fault-wal-tail-truncated", base, |d, f| {
            let p = d.join("member/wal").join(&last_name);
            let cut = tail.body.start + tail.body.len() / 2;
            assert!(tail.body.start < cut && cut < tail.body.end);
            File::options().write(true).open(&p).unwrap().set_len(cut as u64).unwrap();
            f.push(format!(
                "{last_name} cut at byte {cut}, inside its last record (frame at {}, body {:?}): a mid-record end of file",
                tail.at, tail.body
            ));
        }));
        // The last entry record (walpb.Record type 2: bytes 08 02), not the HardState after it.
        let entry = frames
            .iter()
            .rev()
            .find(|fr| bytes[fr.body.start..].starts_with(&[0x08, 0x02]))
            .expect("an entry record")
            .clone();
        out.push(self.fault("fault-wal-tail-truncated-in-entry", base, |d, f| {
            let p = d.join("member/wal").join(&last_name);
            let cut = entry.body.start + entry.body.len() / 2;
            assert!(entry.body.start < cut && cut < entry.body.end);
            File::options().write(true).open(&p).unwrap().set_len(cut as u64).unwrap();
            let after = frames.iter().filter(|fr| fr.at > entry.at).count();
            f.push(format!(
                "{last_name} cut at byte {cut}, inside its last entry record (frame at {}, body {:?}); \
                 {after} records after it lost",
                entry.at, entry.body
            ));
        }));
        // An entry record three quarters into the log: the cut loses the last quarter, whose
        // entries (and HardStates) the db has already applied.
        let quarter = frames[frames.len() * 3 / 4..]
            .iter()
            .find(|fr| bytes[fr.body.start..].starts_with(&[0x08, 0x02]))
            .expect("an entry record in the last quarter")
            .clone();
        out.push(self.fault("fault-wal-truncated-mid-log", base, |d, f| {
            let p = d.join("member/wal").join(&last_name);
            let cut = quarter.body.start + quarter.body.len() / 2;
            File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_len(cut as u64)
                .unwrap();
            let after = frames.iter().filter(|fr| fr.at > quarter.at).count();
            f.push(format!(
                "{last_name} cut at byte {cut}, inside the entry record at {} (body {:?}); \
                 it and the {after} records after it lost, the db keeps what they applied",
                quarter.at, quarter.body
            ));
        }));
        out.push(self.fault("fault-wal-tail-torn", base, |d, f| {
            let p = d.join("member/wal").join(&last_name);
            // Zero from a 512-byte sector boundary inside the last record (or its start) to
            // its end: the chunk after that boundary is all zeros, what etcd's decoder calls a
            // torn write (etcd wal/decoder.go:135 `isTornEntry`).
            let mid = tail.body.start + tail.body.len() / 2;
            let from = (mid / 512 * 512).max(tail.body.start);
            write_at(&p, from as u64, &vec![0; tail.end - from]);
            f.push(format!(
                "{last_name}: bytes {from}..{} of its last record (frame at {}, body {:?}) zeroed, the length word kept: a torn last write",
                tail.end, tail.at, tail.body
            ));
        }));
        out.push(self.fault("fault-wal-middle-record-flipped", base, |d, f| {
            let p = d.join("member/wal").join(&last_name);
            let at = mid.body.start + mid.body.len() / 2;
            write_at(&p, at as u64, &[bytes[at] ^ 0xff]);
            f.push(format!(
                "{last_name}: byte {at} flipped, inside record {} of {} (frame at {}, body {:?})",
                frames.len() / 2,
                frames.len(),
                mid.at,
                mid.body
            ));
        }));
        out
    }

    /// `clean-3seg`: 1 MB values until the WAL has 3 segments; the segment faults on it.
    fn three_segments_and_faults(&self) -> Vec<Case> {
        let seed = self.seed ^ 0x3535;
        let dir = self.case_dir("clean-3seg");
        let etcd = Etcd::start(&dir, &self.opts(20));
        let mut gw = Gateway::new(&etcd.client_url);
        let mut rng = Rng::new(seed);
        let mut puts = 0;
        while wal_segments(&dir).len() < 3 {
            assert!(
                puts < 400,
                "{puts} puts of 1 MB and still {:?}",
                wal_segments(&dir)
            );
            let value: Vec<u8> = (0..1_000_000)
                .map(|i| (i as u8) ^ (rng.next() as u8))
                .collect();
            gw.post_ok(
                "/v3/kv/put",
                &json!({"key": b64(format!("big/{}", puts % 4)), "value": b64(value)}),
            );
            puts += 1;
            if puts % 10 == 0 {
                // Keep the db small: only the WAL needs the bulk.
                let rev = current_revision(&etcd);
                gw.post_ok("/v3/kv/compaction", &json!({"revision": rev}));
            }
        }
        // A few small ops after the cut, so the newest segment holds more than its header.
        write_ops(&etcd.client_url, &mut rng, 10);
        let revision = current_revision(&etcd);
        etcd.stop();
        sparsify_tree(&dir);
        let segs = wal_segments(&dir);
        let mut base = self.case("clean-3seg", seed, Family::Clean, dir);
        base.revision_before = Some(revision);
        base.facts.push(format!(
            "{puts} puts of 1 MB: WAL segments {:?}, snapshots {:?}",
            segs.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
            snap_files(&base.data_dir)
                .iter()
                .map(|s| s.1)
                .collect::<Vec<_>>()
        ));
        assert!(segs.len() >= 3);
        let middle = file_name(&segs[1]);
        let oldest = file_name(&segs[0]);
        let mut out = vec![
            self.fault("fault-wal-middle-segment-deleted", &base, |d, f| {
                fs::remove_file(d.join("member/wal").join(&middle)).unwrap();
                f.push(format!("removed {middle} (of {})", segs.len()));
            }),
            self.fault("fault-wal-oldest-segment-deleted", &base, |d, f| {
                fs::remove_file(d.join("member/wal").join(&oldest)).unwrap();
                f.push(format!("removed {oldest} (of {})", segs.len()));
            }),
            self.fault("fault-wal-oldest-segment-and-snaps-deleted", &base, |d, f| {
                fs::remove_file(d.join("member/wal").join(&oldest)).unwrap();
                let snaps = snap_files(d);
                for s in &snaps {
                    fs::remove_file(snap_path(d, *s)).unwrap();
                }
                f.push(format!(
                    "removed {oldest} (of {}) and all {} .snap files: the WAL no longer starts at index 0",
                    segs.len(),
                    snaps.len()
                ));
            }),
        ];
        out.insert(0, base);
        out
    }

    /// `clean-nosnap` (default snapshot count: no `.snap`) and its db faults.
    fn nosnap_and_faults(&self) -> Vec<Case> {
        let seed = self.seed ^ 0x0505;
        let mut rng = Rng::new(seed);
        let dir = self.case_dir("clean-nosnap");
        let etcd = Etcd::start(&dir, &self.opts(100_000));
        write_ops(&etcd.client_url, &mut rng, 40);
        let revision = current_revision(&etcd);
        etcd.stop();
        sparsify_tree(&dir);
        assert!(snap_files(&dir).is_empty());
        let mut base = self.case("clean-nosnap", seed, Family::Clean, dir);
        base.revision_before = Some(revision);
        base.facts
            .push(format!("no .snap file, revision {revision}"));
        let db = |d: &Path| d.join("member/snap/db");
        vec![
            self.fault("fault-nosnap-db-zero-length", &base, |d, f| {
                File::create(db(d)).unwrap();
                f.push("db truncated to 0 bytes".into());
            }),
            self.fault("fault-nosnap-db-missing", &base, |d, f| {
                fs::remove_file(db(d)).unwrap();
                f.push("db removed".into());
            }),
            base,
        ]
    }

    /// `kill-NN`: a fresh member with a seeded snapshot count, SIGKILLed at a seeded moment
    /// of a write load.
    fn killed(&self, i: usize) -> Case {
        let seed = mix(self.seed.wrapping_add(1 + i as u64));
        let mut rng = Rng::new(seed);
        let snapshot_count = [10, 20, 50, 100][rng.below(4) as usize];
        let kill_after = Duration::from_millis(300 + rng.below(2200));
        let name = format!("kill-{i:02}");
        let dir = self.case_dir(&name);
        let etcd = Etcd::start(&dir, &self.opts(snapshot_count));
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let url = etcd.client_url.clone();
        let writer = {
            let (stop, acked) = (stop.clone(), acked.clone());
            let seed = rng.next();
            std::thread::spawn(move || load(&url, seed, &stop, &acked))
        };
        std::thread::sleep(kill_after);
        // On a loaded machine the first answers may be late: the crash comes under load, after
        // at least a few acknowledged writes.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.load(Ordering::Relaxed) < 5 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        etcd.sigkill();
        stop.store(true, Ordering::Relaxed);
        let ops = writer.join().unwrap();
        sparsify_tree(&dir);
        let mut c = self.case(&name, seed, Family::Killed, dir);
        c.facts.push(format!(
            "snapshot-count {snapshot_count}, SIGKILL {kill_after:?} into the load after {ops} acknowledged ops; \
             snapshots {:?}, WAL segments {}",
            snap_files(&c.data_dir).iter().map(|s| s.1).collect::<Vec<_>>(),
            wal_segments(&c.data_dir).len()
        ));
        c
    }
}

fn current_revision(etcd: &Etcd) -> i64 {
    let out = etcd.ctl(&["endpoint", "status", "-w", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v[0]["Status"]["header"]["revision"].as_i64().unwrap()
}

/// `meta/consistent_index` of a db file (this crate's reader).
pub fn consistent_index(db: &Path) -> Option<u64> {
    let bytes = fs::read(db).ok()?;
    let db = etcd_snap::inspect::Db::open(bytes).ok()?;
    db.cluster_info().ok()?.meta.consistent_index
}

// ---------------------------------------------------------------------------------------
// Write load over the v3 JSON gateway

/// A minimal HTTP/1.1 client on one keep-alive connection to etcd's JSON gateway: thousands
/// of requests per second without a process each (etcdctl / curl spawn one per request).
pub struct Gateway {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Gateway {
    /// For `http://127.0.0.1:<port>`.
    pub fn new(client_url: &str) -> Self {
        Gateway {
            addr: client_url.trim_start_matches("http://").to_owned(),
            conn: None,
        }
    }

    /// POSTs `body` to `path`: `(status, JSON reply)`, or the transport error (the
    /// connection is then dropped).
    pub fn post(&mut self, path: &str, body: &Value) -> std::io::Result<(u16, Value)> {
        let r = self.try_post(path, body);
        if r.is_err() {
            self.conn = None;
        }
        r
    }

    /// [`Gateway::post`] that must give 200.
    #[track_caller]
    pub fn post_ok(&mut self, path: &str, body: &Value) -> Value {
        match self.post(path, body) {
            Ok((200, v)) => v,
            other => panic!("POST {path}: {other:?}"),
        }
    }

    fn try_post(&mut self, path: &str, body: &Value) -> std::io::Result<(u16, Value)> {
        if self.conn.is_none() {
            let s = TcpStream::connect(&self.addr)?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.set_write_timeout(Some(Duration::from_secs(10)))?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().unwrap();
        let body = serde_json::to_vec(body).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let s = conn.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(&body)?;
        let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad(format!("status line {line:?}")))?;
        let (mut length, mut chunked) = (None, false);
        loop {
            line.clear();
            if conn.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.trim().eq_ignore_ascii_case("chunked");
            }
        }
        let mut reply = Vec::new();
        if chunked {
            loop {
                line.clear();
                conn.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim(), 16)
                    .map_err(|_| bad(format!("chunk size {line:?}")))?;
                if n == 0 {
                    // Trailers (the gateway sends `Grpc-Trailer-*` on errors), then a blank line.
                    loop {
                        line.clear();
                        if conn.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let mut chunk = vec![0; n + 2];
                conn.read_exact(&mut chunk)?;
                reply.extend_from_slice(&chunk[..n]);
            }
        } else {
            let n = length.ok_or_else(|| bad("no Content-Length".into()))?;
            reply.resize(n, 0);
            conn.read_exact(&mut reply)?;
        }
        let v = serde_json::from_slice(&reply).unwrap_or(Value::Null);
        Ok((status, v))
    }
}

fn b64(b: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// What the load remembers between ops: granted leases, the last revision seen.
#[derive(Default)]
struct LoadState {
    leases: Vec<String>,
    revision: i64,
}

/// One random write: `(path, body)`.
fn next_op(rng: &mut Rng, st: &LoadState) -> (&'static str, Value) {
    let key = |rng: &mut Rng| b64(format!("k/{:02}", rng.below(32)));
    let value = |rng: &mut Rng| {
        let n = 8 + rng.below(120) as usize;
        b64((0..n)
            .map(|_| b'a' + rng.below(26) as u8)
            .collect::<Vec<u8>>())
    };
    match rng.below(100) {
        0..45 => ("/v3/kv/put", json!({"key": key(rng), "value": value(rng)})),
        45..55 if !st.leases.is_empty() => {
            let lease = &st.leases[rng.below(st.leases.len() as u64) as usize];
            (
                "/v3/kv/put",
                json!({"key": key(rng), "value": value(rng), "lease": lease}),
            )
        }
        55..65 => {
            if rng.below(2) == 0 {
                ("/v3/kv/deleterange", json!({"key": key(rng)}))
            } else {
                // Every key of one decade: "k/1" .. "k/2".
                let d = rng.below(3);
                (
                    "/v3/kv/deleterange",
                    json!({"key": b64(format!("k/{d}")), "range_end": b64(format!("k/{}", d + 1))}),
                )
            }
        }
        65..80 => {
            let k = key(rng);
            (
                "/v3/kv/txn",
                json!({
                    "compare": [{"key": k, "result": "GREATER", "target": "VERSION", "version": "1"}],
                    "success": [{"request_put": {"key": k, "value": value(rng)}},
                                {"request_delete_range": {"key": key(rng)}}],
                    "failure": [{"request_put": {"key": k, "value": value(rng)}}]
                }),
            )
        }
        80..87 => ("/v3/lease/grant", json!({"TTL": 3600})),
        87..92 if !st.leases.is_empty() => {
            let lease = &st.leases[rng.below(st.leases.len() as u64) as usize];
            ("/v3/lease/revoke", json!({"ID": lease}))
        }
        97..100 if st.revision > 20 => (
            "/v3/kv/compaction",
            json!({"revision": st.revision - 10 - rng.below(10) as i64}),
        ),
        _ => ("/v3/kv/put", json!({"key": key(rng), "value": value(rng)})),
    }
}

fn after_op(st: &mut LoadState, path: &str, body: &Value, reply: &Value) {
    if let Some(r) = reply["header"]["revision"]
        .as_str()
        .and_then(|s| s.parse().ok())
    {
        st.revision = r;
    }
    match path {
        "/v3/lease/grant" => {
            if let Some(id) = reply["ID"].as_str() {
                st.leases.push(id.to_owned());
            }
        }
        "/v3/lease/revoke" => st.leases.retain(|l| *l != body["ID"]),
        _ => {}
    }
}

/// `n` random writes, each acknowledged (a refused one, e.g. a compaction of a compacted
/// revision, is fine; a transport error is not).
fn write_ops(url: &str, rng: &mut Rng, n: usize) {
    let mut gw = Gateway::new(url);
    let mut st = LoadState::default();
    for _ in 0..n {
        let (path, body) = next_op(rng, &st);
        let (_, reply) = gw
            .post(path, &body)
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        after_op(&mut st, path, &body, &reply);
    }
}

/// Random writes until `stop` or a transport error (etcd killed), counting the answered ones
/// in `acked`: how many were answered.
fn load(url: &str, seed: u64, stop: &AtomicBool, acked: &AtomicU64) -> u64 {
    let mut gw = Gateway::new(url);
    let mut rng = Rng::new(seed);
    let mut st = LoadState::default();
    while !stop.load(Ordering::Relaxed) {
        let (path, body) = next_op(&mut rng, &st);
        match gw.post(path, &body) {
            Ok((_, reply)) => {
                after_op(&mut st, path, &body, &reply);
                acked.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => break,
        }
    }
    acked.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------
// Files

/// `(term, index)` of every `.snap` in `<data>/member/snap`, sorted by index.
pub fn snap_files(data: &Path) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = match fs::read_dir(data.join("member/snap")) {
        Ok(rd) => rd
            .filter_map(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                let (t, i) = n.strip_suffix(".snap")?.split_once('-')?;
                Some((
                    u64::from_str_radix(t, 16).ok()?,
                    u64::from_str_radix(i, 16).ok()?,
                ))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort_by_key(|s| (s.1, s.0));
    v
}

fn snap_name((term, index): (u64, u64)) -> String {
    format!("{term:016x}-{index:016x}.snap")
}

fn snap_path(data: &Path, s: (u64, u64)) -> PathBuf {
    data.join("member/snap").join(snap_name(s))
}

/// Re-saves the `.snap` `s` under `index` (same term, data and ConfState) with this crate's
/// codec; returns the new name.
fn resave_snap(data: &Path, s: (u64, u64), index: u64) -> String {
    let bytes = fs::read(snap_path(data, s)).unwrap();
    let mut snap = etcd_snap::codec::decode_snap_file(bytes.into()).unwrap();
    snap.metadata.index = index;
    let name = snap_name((s.0, index));
    fs::write(
        data.join("member/snap").join(&name),
        etcd_snap::codec::encode_snap_file(&snap),
    )
    .unwrap();
    name
}

/// The `.wal` segments of `<data>/member/wal`, sorted.
pub fn wal_segments(data: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(data.join("member/wal")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// One framed WAL record: where its length word is, its record bytes, where its padding ends.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Offset of the 8-byte length word.
    pub at: usize,
    /// The `walpb.Record` bytes.
    pub body: std::ops::Range<usize>,
    /// End of the padding.
    pub end: usize,
}

/// The record frames of one segment up to the first zero length word (the preallocated
/// tail) or a frame that does not fit: only the framing (etcd wal/encoder.go:100
/// encodeFrameSize: low 56 bits the length, top byte `0x80 | pad` when padded), so the
/// harness can aim its faults without the WAL reader under test.
pub fn wal_frames(seg: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= seg.len() {
        let word = u64::from_le_bytes(seg[at..at + 8].try_into().unwrap());
        if word == 0 {
            break;
        }
        let len = (word & 0x00ff_ffff_ffff_ffff) as usize;
        let pad = if word >> 63 == 1 {
            ((word >> 56) & 0x7) as usize
        } else {
            0
        };
        let body = at + 8..at + 8 + len;
        let end = body.end + pad;
        if end > seg.len() {
            break;
        }
        out.push(Frame { at, body, end });
        at = end;
    }
    out
}

fn write_at(p: &Path, at: u64, bytes: &[u8]) {
    let mut f = File::options().write(true).open(p).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(bytes).unwrap();
}

fn flip_middle_byte(p: &Path) -> usize {
    let b = fs::read(p).unwrap();
    let at = b.len() / 2;
    write_at(p, at as u64, &[b[at] ^ 0xff]);
    at
}

const BLOCK: usize = 1 << 20;
static ZEROS: [u8; BLOCK] = [0; BLOCK];

/// Copies a file, leaving holes for all-zero 1 MB blocks: the same bytes, without 64 MB of
/// preallocated zeros per WAL segment on disk.
fn copy_file_sparse(src: &Path, dst: &Path) {
    let mut r = File::open(src).unwrap();
    let len = r.metadata().unwrap().len();
    let mut w = File::create(dst).unwrap();
    let mut buf = vec![0u8; BLOCK];
    let mut off = 0u64;
    loop {
        let mut n = 0;
        while n < BLOCK {
            match r.read(&mut buf[n..]).unwrap() {
                0 => break,
                k => n += k,
            }
        }
        if n == 0 {
            break;
        }
        if buf[..n] != ZEROS[..n] {
            w.seek(SeekFrom::Start(off)).unwrap();
            w.write_all(&buf[..n]).unwrap();
        }
        off += n as u64;
    }
    w.set_len(len).unwrap();
    let mode = fs::metadata(src).unwrap().permissions();
    fs::set_permissions(dst, mode).unwrap();
}

/// Copies a directory tree (files and folders) with [`copy_file_sparse`].
pub fn copy_tree_sparse(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree_sparse(&e.path(), &to);
        } else {
            copy_file_sparse(&e.path(), &to);
        }
    }
}

/// Rewrites the WAL folder's files sparsely in place (etcd preallocates 64 MB per segment and
/// spare `N.tmp`; 30 members per version would hold gigabytes of zeros).
fn sparsify_tree(data: &Path) {
    let wal = data.join("member/wal");
    for e in fs::read_dir(&wal).unwrap() {
        let p = e.unwrap().path();
        let tmp = wal.join(".sparse");
        copy_file_sparse(&p, &tmp);
        fs::rename(&tmp, &p).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Small tools

/// splitmix64: seeded, reproducible, no dependency.
pub struct Rng(u64);

impl Rng {
    /// From a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `f` over `items` on `jobs` threads, results in input order.
pub fn par_map<T: Send, R: Send>(items: Vec<T>, jobs: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let n = items.len();
    let queue: Mutex<Vec<(usize, T)>> = Mutex::new(items.into_iter().enumerate().rev().collect());
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let Some((i, item)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let r = f(item);
                    results.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The comparison

/// The doctor's agreement with etcd on one version.
#[derive(Debug)]
pub struct Comparison {
    /// The version.
    pub version: Version,
    /// Cases where prediction == observation.
    pub agree: usize,
    /// Cases compared.
    pub total: usize,
    /// One report per disagreement: case, seed, facts, prediction, observation, log tail.
    pub disagreements: Vec<String>,
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "doctor vs etcd {}: {}/{} agree",
            self.version.release(),
            self.agree,
            self.total
        )?;
        for d in &self.disagreements {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Compares `predict(data_dir, version)` with the observed outcome of every case of `set`.
/// `predict` sees the case's own data dir (never started by etcd).
pub fn compare(set: &CaseSet, predict: impl Fn(&Path, Version) -> Outcome + Sync) -> Comparison {
    let predictions = par_map(set.observed.iter().collect(), 2, |o| {
        predict(&o.case.data_dir, set.version)
    });
    let mut c = Comparison {
        version: set.version,
        agree: 0,
        total: set.observed.len(),
        disagreements: Vec::new(),
    };
    for (o, p) in set.observed.iter().zip(predictions) {
        if p == o.outcome {
            c.agree += 1;
        } else {
            c.disagreements.push(format!(
                "--- {} (seed {}; {})\n  doctor:   {p}\n  etcd:     {}\n  data dir: {}\n  log tail:\n{}",
                o.case.name,
                o.case.seed,
                o.case.facts.join("; "),
                o.outcome,
                o.case.data_dir.display(),
                o.log_tail(8)
            ));
        }
    }
    c
}
