//! Subcommands over a whole member (`<data-dir>/member/{snap,wal}`): `wal` (etcd-dump-logs'
//! view of the WAL, [`crate::waldump`]) and `doctor` (what etcd does when it starts on the
//! data dir, [`crate::doctor`]). Both only read.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::host::Host;
use super::inspect::WriteOut;
use super::print;
use crate::datadir::{self, DirKind};
use crate::doctor::{self, Diagnosis, Verdict};
use crate::inspect::MetaOnlyRule;
use crate::wal::Wal;
use crate::waldump::{self, DumpQuery, RawLine, WalDump};
use crate::walpayload::{self, DEFAULT_ENTRY_TYPES};
use crate::{Error, EtcdVersion, Result};

/// The exit status of `doctor` when etcd would fail on at least one member.
pub const EXIT_WOULD_FAIL: u8 = 3;

/// Member subcommands.
#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Print a member's WAL as etcd-dump-logs does: the snapshot etcd's Load picks, the WAL
    /// metadata and HardState, then the entries (`term index type data`) and their count.
    ///
    /// DIR is a data dir, its `member` folder or the `member/wal` folder. Reads only (an
    /// unreadable .snap is skipped, not renamed). JSON is one document with each entry's
    /// decoded request.
    Wal {
        /// The data dir, `member` or `member/wal` folder.
        dir: PathBuf,
        /// Start at this index instead of at the snapshot (etcd-dump-logs' --start-index).
        #[arg(long, value_name = "N", default_value_t = 0)]
        start_index: u64,
        /// Stop after this index.
        #[arg(long, value_name = "N")]
        end_index: Option<u64>,
        /// Only these entry types, comma-separated: ConfigChange, Normal, Request,
        /// InternalRaftRequest, IRRRange, IRRPut, IRRDeleteRange, IRRTxn, IRRCompaction,
        /// IRRLeaseGrant, IRRLeaseRevoke, IRRLeaseCheckpoint.
        #[arg(long, value_name = "T[,T...]", default_value = DEFAULT_ENTRY_TYPES)]
        entry_type: String,
        /// List every record of every segment (offset, type, length, CRC check, content),
        /// reading on past CRC mismatches and reporting each on stderr.
        #[arg(long, conflicts_with_all = ["start_index", "end_index"])]
        raw: bool,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value_t = WriteOut::Table)]
        write_out: WriteOut,
        /// The etcd release whose WAL rules apply (3.4 or 3.5).
        #[arg(long, value_name = "VERSION", default_value = "3.5", value_parser = parse_version)]
        etcd: EtcdVersion,
    },
    /// Predict what etcd does when it starts on each data dir: the verdict first (starts
    /// from which snapshot, replaying how many entries; or fails with which message), then
    /// the bootstrap steps with their etcd source lines, the warnings (what etcd renames,
    /// deletes or truncates) and the facts read. With several data dirs (the members of one
    /// cluster), also which member to recover from.
    ///
    /// Reads only. Exit status: 0 when etcd starts on every member, 3 when it would fail on
    /// at least one, 1 when a data dir cannot be read, 2 on a usage error.
    Doctor {
        /// Data dirs (or their `member` folders).
        #[arg(required = true, value_name = "DATA_DIR")]
        dirs: Vec<PathBuf>,
        /// The etcd release to predict (3.4 or 3.5).
        #[arg(long, value_name = "VERSION", default_value = "3.5", value_parser = parse_version)]
        etcd: EtcdVersion,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value_t = WriteOut::Table)]
        write_out: WriteOut,
    },
    /// Checks a data dir as `etcdutl check` does.
    Check {
        /// What to check.
        #[command(subcommand)]
        what: CheckCmd,
    },
}

/// `check` subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckCmd {
    /// Whether the v2 store of the snapshot etcd would load holds anything but membership
    /// (v2 keys, v2 auth), as `etcdutl check v2store` (etcd 3.5.18+) does: such content makes
    /// etcd 3.6 refuse to start, so it blocks the upgrade. Prints etcdutl's words; with
    /// content, lists the top-level nodes on stderr and exits with status 1.
    V2store {
        /// The data dir (or its `member` folder).
        #[arg(value_name = "DATA_DIR")]
        dir: PathBuf,
        /// A dedicated WAL folder (etcd's --wal-dir).
        #[arg(long, value_name = "DIR")]
        wal_dir: Option<PathBuf>,
        /// The etcd release whose rule applies: before 3.5.22 and 3.6.0–3.6.3 the empty v2
        /// auth skeleton (`/2/{enabled,roles,users}`) counts as content; later it does not.
        #[arg(long, value_name = "VERSION", default_value = "3.6.9", value_parser = parse_release)]
        etcd: MetaOnlyRule,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value_t = WriteOut::Table)]
        write_out: WriteOut,
    },
}

/// The `IsMetaStoreOnly` of an etcd release (etcd 3.5+).
fn parse_release(s: &str) -> std::result::Result<MetaOnlyRule, String> {
    let v = semver::Version::parse(s.trim_start_matches('v'))
        .map_err(|e| format!("{s:?} is not an etcd release (like 3.5.21): {e}"))?;
    match (v.major, v.minor, v.patch) {
        (3, 5, p) if p < 22 => Ok(MetaOnlyRule::Strict),
        (3, 6, p) if p < 4 => Ok(MetaOnlyRule::Strict),
        (3, m, _) if m >= 5 => Ok(MetaOnlyRule::AuthSkeleton),
        _ => Err(format!(
            "etcd {v} does not check the v2 store (3.5 and later do)"
        )),
    }
}

fn parse_version(s: &str) -> std::result::Result<EtcdVersion, String> {
    s.parse().map_err(|e: Error| e.to_string())
}

/// The member's `snap` and `wal` folders for `dir` (a data dir, `member`, or `member/wal`).
async fn member_dirs<H: Host>(host: &H, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let kind = datadir::classify(&host.storage(dir)?).await?;
    let member = match kind {
        DirKind::DataDir => dir.join("member"),
        DirKind::Member => dir.to_path_buf(),
        DirKind::Wal => {
            let parent = dir.parent().unwrap_or(Path::new("."));
            return Ok((parent.join("snap"), dir.to_path_buf()));
        }
        DirKind::Unknown => {
            return Err(Error::InvalidArgument(format!(
                "{}: not a data dir (no member, snap or wal folder, no WAL segment)",
                dir.display()
            )));
        }
    };
    Ok((member.join("snap"), member.join("wal")))
}

/// Whether the snap folder is there (etcd-dump-logs' `Load` on a missing one finds no
/// snapshot).
async fn snap_storage<H: Host>(host: &H, snap: &Path) -> Result<Option<H::Storage>> {
    let s = host.storage(snap)?;
    Ok(crate::Storage::list(&s).await.is_ok().then_some(s))
}

impl MemberCmd {
    /// Runs the subcommand on `host`; returns the exit status.
    pub async fn run<H: Host>(self, host: &H) -> Result<u8> {
        match self {
            MemberCmd::Wal {
                dir,
                start_index,
                end_index,
                entry_type,
                raw,
                write_out,
                etcd,
            } => {
                let (snap, wal) = member_dirs(host, &dir).await?;
                if raw {
                    return raw_records(host, &wal, write_out).await;
                }
                let q = DumpQuery {
                    start_index,
                    end_index,
                    entry_types: entry_type,
                };
                let snap = if start_index == 0 {
                    snap_storage(host, &snap).await?
                } else {
                    None
                };
                let dump = WalDump::open(snap, host.storage(&wal)?, &q, etcd).await?;
                for name in &dump.head().ignored_entry_types {
                    print::warning(host, &walpayload::invalid_entry_type_message(name));
                }
                if let Some(e) = &dump.head().read_error {
                    print::warning(host, &format!("the WAL ends in a torn record: {e}"));
                }
                match write_out {
                    WriteOut::Table => {
                        host.write_stdout(dump.head_text().as_bytes())?;
                        let n = dump
                            .visit(&mut |e| host.write_stdout(format!("{}\n", e.line()).as_bytes()))
                            .await?;
                        host.write_stdout(dump.count_text(n).as_bytes())?;
                    }
                    WriteOut::Json => {
                        // One document, streamed: the head's fields, the entries, the count.
                        let head = print::to_json(dump.head())?;
                        let head = head.strip_suffix('}').unwrap_or(&head);
                        host.write_stdout(format!("{head},\"list\":[").as_bytes())?;
                        let mut first = true;
                        let n = dump
                            .visit(&mut |e| {
                                let sep = if first { "" } else { "," };
                                first = false;
                                host.write_stdout(
                                    format!("{sep}{}", print::to_json(&e)?).as_bytes(),
                                )
                            })
                            .await?;
                        host.write_stdout(format!("],\"count\":{n}}}\n").as_bytes())?;
                    }
                }
                Ok(0)
            }
            MemberCmd::Doctor {
                dirs,
                etcd,
                write_out,
            } => {
                let mut members = Vec::new();
                for dir in &dirs {
                    let (snap, wal) = member_dirs(host, dir).await?;
                    let d =
                        doctor::diagnose(host.storage(&snap)?, host.storage(&wal)?, etcd).await?;
                    members.push((dir.display().to_string(), d));
                }
                let rec = (members.len() > 1).then(|| doctor::choose_member(&members));
                match write_out {
                    WriteOut::Table => print::text(host, &doctor_table(&members, rec.as_ref()))?,
                    WriteOut::Json => {
                        print::json(host, &datadir::doctor_report(&members, rec.as_ref()))?
                    }
                }
                let fails = members
                    .iter()
                    .any(|(_, d)| matches!(d.verdict, Verdict::Fails(_)));
                Ok(if fails { EXIT_WOULD_FAIL } else { 0 })
            }
            MemberCmd::Check {
                what:
                    CheckCmd::V2store {
                        dir,
                        wal_dir,
                        etcd,
                        write_out,
                    },
            } => {
                let (snap, wal) = member_dirs(host, &dir).await?;
                let wal = wal_dir.unwrap_or(wal);
                let c =
                    doctor::check_v2store(host.storage(&snap)?, host.storage(&wal)?, etcd).await?;
                match write_out {
                    WriteOut::Json => print::json(host, &c)?,
                    WriteOut::Table if c.custom.is_empty() => {
                        print::text(host, doctor::V2STORE_CLEAN)?
                    }
                    WriteOut::Table => {
                        let mut err = String::new();
                        for n in &c.custom {
                            err.push_str(&format!(
                                "custom content: {} ({} children) in {}\n",
                                n.path,
                                n.children,
                                c.snapshot.as_deref().unwrap_or_default()
                            ));
                        }
                        err.push_str(&format!("Error: {}\n", doctor::V2STORE_CUSTOM));
                        host.write_stderr(err.as_bytes());
                    }
                }
                Ok(if c.custom.is_empty() { 0 } else { 1 })
            }
        }
    }
}

/// `--raw`: every record, CRC mismatches reported on stderr and read past.
async fn raw_records<H: Host>(host: &H, wal_dir: &Path, write_out: WriteOut) -> Result<u8> {
    let wal = Wal::open(crate::storage::ReadOnly::new(host.storage(wal_dir)?)).await?;
    let names: Vec<String> = wal
        .listing()
        .segments
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut lines = Vec::new();
    let mut failed = Ok(());
    let mut out = String::new();
    let emit = |r: crate::wal::RawRecord, out: &mut String, lines: &mut Vec<RawLine>| {
        let l = RawLine::of(&r, names.get(r.segment).map_or("?", String::as_str));
        if let Some(e) = &l.error {
            print::warning(host, &format!("{e} at {}:{}", l.segment, l.offset));
        }
        match write_out {
            WriteOut::Table => {
                out.push_str(&l.line());
                out.push('\n');
            }
            WriteOut::Json => lines.push(l),
        }
    };
    if write_out == WriteOut::Table {
        host.write_stdout(format!("{}\n", waldump::raw_header_line()).as_bytes())?;
    }
    let mut count = 0u64;
    let mut crc_errors = 0u64;
    let res = wal
        .raw_records(true, &mut |r| {
            count += 1;
            crc_errors += u64::from(!r.crc_ok);
            emit(r, &mut out, &mut lines);
            if out.len() > 1 << 16 {
                let _ = host.write_stdout(out.as_bytes());
                out.clear();
            }
        })
        .await;
    if let Err(e) = res {
        failed = Err(e);
    }
    match write_out {
        WriteOut::Table => {
            out.push_str(&format!(
                "\nRecords: {count}, CRC mismatches: {crc_errors}\n"
            ));
            host.write_stdout(out.as_bytes())?;
        }
        WriteOut::Json => print::json(
            host,
            &serde_json::json!({
                "records": lines,
                "count": count,
                "crc_mismatches": crc_errors,
                "error": failed.as_ref().err().map(ToString::to_string),
            }),
        )?,
    }
    failed.map(|()| 0)
}

/// The table: per member, the verdict sentence, steps, warnings and facts; then the
/// recommendation.
fn doctor_table(members: &[(String, Diagnosis)], rec: Option<&doctor::Recommendation>) -> String {
    let mut out = String::new();
    let many = members.len() > 1;
    for (i, (dir, d)) in members.iter().enumerate() {
        if many {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&format!("== {dir}\n"));
        }
        out.push_str(&d.summary());
        out.push_str("\n\nSteps:\n");
        for (n, s) in d.steps.iter().enumerate() {
            out.push_str(&format!(
                "  {:>2}. {}: {}  ({})\n",
                n + 1,
                step_name(s.id),
                s.outcome,
                s.cite
            ));
        }
        out.push_str("\nWarnings:\n");
        if d.warnings.is_empty() {
            out.push_str("  none\n");
        }
        for w in &d.warnings {
            out.push_str(&format!("  - {}", w.message));
            if !w.names.is_empty() {
                out.push_str(&format!(": {}", w.names.join(", ")));
            }
            out.push('\n');
        }
        out.push_str("\nFacts:\n");
        out.push_str(&facts_text(&d.facts));
    }
    if let Some(r) = rec {
        out.push_str("\nRecommendation:\n");
        match &r.member {
            Some(m) => out.push_str(&format!("  recover from {m}\n")),
            None => out.push_str("  no member to recover from\n"),
        }
        for why in &r.reasons {
            out.push_str(&format!("  - {why}\n"));
        }
        for (m, why) in &r.excluded {
            out.push_str(&format!("  - excluded {m}: {why}\n"));
        }
    }
    out
}

fn step_name(id: doctor::StepId) -> String {
    serde_json::to_value(id)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn facts_text(f: &doctor::Facts) -> String {
    let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
    let hex = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v:x}"));
    let mut out = format!(
        "  member {} in cluster {}; HardState term {}, commit {}; last index {}\n",
        hex(f.member_id),
        hex(f.cluster_id),
        opt(f.term),
        opt(f.commit),
        opt(f.last_index)
    );
    out.push_str(&format!(
        "  WAL segments: {}\n",
        if f.wal_segments.is_empty() {
            "none".to_owned()
        } else {
            f.wal_segments.join(", ")
        }
    ));
    if let Some(ws) = &f.wal_snapshots {
        let list: Vec<String> = ws
            .iter()
            .map(|s| format!("{}/{}", s.term, s.index))
            .collect();
        out.push_str(&format!(
            "  WAL snapshot records (term/index): {}\n",
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        ));
    }
    if let Some(w) = &f.wal_minimal_version {
        match (&w.version, &w.error) {
            (_, Some(e)) => out.push_str(&format!(
                "  WAL version (etcd 3.6's MinimalEtcdVersion): unreadable, etcd 3.6 panics at {e}\n"
            )),
            (Some(v), None) => out.push_str(&format!(
                "  WAL version (etcd 3.6's MinimalEtcdVersion): {v} ({} at index {}); etcdutl migrate refuses a lower target\n",
                w.by.as_deref().unwrap_or_default(),
                w.index.unwrap_or_default()
            )),
            (None, None) => out.push_str("  WAL version: no entries after the snapshot\n"),
        }
    }
    for s in &f.snaps {
        let state = match (&s.error, s.in_wal) {
            (Some(e), _) => format!("unreadable: {e}"),
            (None, true) => "readable, in the WAL".to_owned(),
            (None, false) => "readable, not in the WAL".to_owned(),
        };
        out.push_str(&format!("  {}: {state}\n", s.name));
    }
    for db in [&f.db, &f.snap_db].into_iter().flatten() {
        match &db.open_error {
            Some(e) => out.push_str(&format!(
                "  {} ({} bytes): does not open: {e}\n",
                db.name, db.size
            )),
            None => out.push_str(&format!(
                "  {} ({} bytes): consistent index {}, revision {}\n",
                db.name, db.size, db.consistent_index, db.revision
            )),
        }
    }
    out
}
