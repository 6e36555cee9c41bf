//! Subcommands that look inside a db: `status` (etcdctl `snapshot status`) and `keys`
//! (etcdctl `get --prefix/--rev/--limit`, read from the file instead of a server). The
//! output shapes live in the library (`crate::inspect::etcdctl`).

use std::path::Path;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use super::host::Host;
use super::print;
use crate::Result;
use crate::inspect::{Compat, Db, OpenOptions, PageSource, etcdctl};

/// Output format (`-w`), as etcdctl names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WriteOut {
    /// One JSON document (etcdctl's keys).
    Json,
    /// A bordered table.
    Table,
}

/// Whose `snapshot status` semantics to print (`--compat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompatArg {
    /// etcd 3.4's etcdctl: totalKey counts every entry of every bucket.
    #[value(name = "3.4")]
    V34,
    /// etcd 3.5's etcdutl: as 3.4.
    #[value(name = "3.5")]
    V35,
    /// etcd 3.6's etcdutl: totalKey counts distinct live keys; a `version` field.
    #[value(name = "3.6")]
    V36,
}

impl From<CompatArg> for Compat {
    fn from(c: CompatArg) -> Compat {
        match c {
            CompatArg::V34 => Compat::V3_4,
            CompatArg::V35 => Compat::V3_5,
            CompatArg::V36 => Compat::V3_6,
        }
    }
}

/// Snapshot content subcommands.
#[derive(Debug, Subcommand)]
pub enum InspectCmd {
    /// Print a db's hash, revision, total keys and total size exactly as `snapshot status`
    /// of the etcd that wrote it does (etcd 3.6+ records its storage version; older dbs are
    /// told apart by etcd 3.6's rules): 3.4's etcdctl and 3.5's etcdutl count every entry of
    /// every bucket, 3.6's etcdutl counts distinct live keys and adds `version`. FILE is
    /// member/snap/db, a .snap.db or an `etcdctl snapshot save` file (whose sha256 trailer
    /// is verified). Runs bbolt's integrity check first.
    Status {
        /// The db file.
        file: PathBuf,
        /// Print what this etcd version prints instead (default: the db's own).
        #[arg(long, value_enum, value_name = "VERSION")]
        compat: Option<CompatArg>,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "json")]
        write_out: WriteOut,
        /// Do not verify the sha256 trailer of an `etcdctl snapshot save` file.
        #[arg(long)]
        skip_hash_check: bool,
    },
    /// List the keys of a db live at a revision, like `etcdctl get --prefix` against the
    /// server that wrote it. JSON is etcdctl's (`-w json`: keys and values base64).
    Keys {
        /// The db file.
        file: PathBuf,
        /// Only keys starting with P (default: every key).
        #[arg(long, value_name = "P")]
        prefix: Option<String>,
        /// Start at key K (inclusive, like etcdctl's --from-key within the prefix). To page,
        /// pass the last key shown: it is listed again first.
        #[arg(long, value_name = "K")]
        from: Option<String>,
        /// Read at revision R (0 = current). Revisions below the compaction revision give
        /// etcd's "required revision has been compacted".
        #[arg(long, value_name = "R", default_value_t = 0)]
        rev: i64,
        /// Return at most N keys (0 = all); `count` still counts every match.
        // u64, not usize: the same values parse on wasm32 (a limit past what fits in memory
        // lists everything).
        #[arg(long, value_name = "N", default_value_t = 0)]
        limit: u64,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "json")]
        write_out: WriteOut,
        /// Do not verify the sha256 trailer of an `etcdctl snapshot save` file.
        #[arg(long)]
        skip_hash_check: bool,
    },
}

/// Opens a db file read a page at a time with positioned reads (never loaded whole).
fn open<H: Host>(host: &H, file: &Path, skip_hash_check: bool) -> Result<Db<H::Source>> {
    Db::open_with(
        host.open_source(file)?,
        OpenOptions {
            verify_trailer: !skip_hash_check,
        },
    )
}

/// Damage bbolt reads through (the answer is etcdctl's): one `warning:` line each on stderr.
fn warn<H: Host, S: PageSource>(host: &H, db: &Db<S>) {
    for w in db.warnings() {
        print::warning(host, &w);
    }
}

impl InspectCmd {
    /// Runs the subcommand on `host`.
    pub fn run<H: Host>(self, host: &H) -> Result<()> {
        match self {
            InspectCmd::Status {
                file,
                compat,
                write_out,
                skip_hash_check,
            } => {
                let db = open(host, &file, skip_hash_check)?;
                let st = match compat {
                    Some(c) => db.status_as(c.into())?,
                    None => db.status()?,
                };
                warn(host, &db);
                print::text(
                    host,
                    &match write_out {
                        WriteOut::Json => etcdctl::status_json(&st),
                        WriteOut::Table => etcdctl::status_table(&st),
                    },
                )
            }
            InspectCmd::Keys {
                file,
                prefix,
                from,
                rev,
                limit,
                write_out,
                skip_hash_check,
            } => {
                let db = open(host, &file, skip_hash_check)?;
                let q = etcdctl::keys_query(
                    prefix.unwrap_or_default().as_bytes(),
                    from.as_deref().map(str::as_bytes),
                    rev,
                    usize::try_from(limit).unwrap_or(usize::MAX),
                );
                // Streamed to stdout as keys are found: bounded memory (issue 9, item 9).
                etcdctl::write_keys(&db, &q, write_out == WriteOut::Table, &mut |s| {
                    host.write_stdout(s.as_bytes())
                })?;
                warn(host, &db);
                Ok(())
            }
        }
    }
}
