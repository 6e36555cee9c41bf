//! Subcommands that look inside a db: `status` (etcdctl `snapshot status`) and `keys`
//! (etcdctl `get --prefix/--rev/--limit`, read from the file instead of a server). The
//! output shapes live in the library (`etcd_snap::inspect::etcdctl`) so the npm CLI prints
//! the same bytes.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use etcd_snap::Result;
use etcd_snap::inspect::{Db, FileSource, OpenOptions, etcdctl};

/// Output format (`-w`), as etcdctl names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WriteOut {
    /// One JSON document (etcdctl's keys).
    Json,
    /// A bordered table.
    Table,
}

/// Snapshot content subcommands.
#[derive(Debug, Subcommand)]
pub enum InspectCmd {
    /// Print a db's hash, revision, total keys and total size exactly as `etcdctl snapshot
    /// status` (etcd 3.4) does. FILE is member/snap/db, a .snap.db or an `etcdctl snapshot
    /// save` file (whose sha256 trailer is verified). Runs bbolt's integrity check first.
    Status {
        /// The db file.
        file: PathBuf,
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
        #[arg(long, value_name = "N", default_value_t = 0)]
        limit: usize,
        /// Output format.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "json")]
        write_out: WriteOut,
        /// Do not verify the sha256 trailer of an `etcdctl snapshot save` file.
        #[arg(long)]
        skip_hash_check: bool,
    },
}

/// Opens a db file read a page at a time with positioned reads (never loaded whole).
fn open(file: &PathBuf, skip_hash_check: bool) -> Result<Db<FileSource>> {
    Db::open_with(
        FileSource::open(file)?,
        OpenOptions {
            verify_trailer: !skip_hash_check,
        },
    )
}

/// Damage bbolt reads through (the answer is etcdctl's): one `warning:` line each on stderr.
fn warn(db: &Db<FileSource>) {
    for w in db.warnings() {
        eprintln!("warning: {w}");
    }
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                out.write_all(b"\n")
            }
        })
        .and_then(|()| out.flush())
        .map_err(crate::stdout_error)
}

impl InspectCmd {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            InspectCmd::Status {
                file,
                write_out,
                skip_hash_check,
            } => {
                let db = open(&file, skip_hash_check)?;
                let st = db.status()?;
                warn(&db);
                print(&match write_out {
                    WriteOut::Json => etcdctl::status_json(&st),
                    WriteOut::Table => etcdctl::status_table(&st),
                })
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
                let db = open(&file, skip_hash_check)?;
                let q = etcdctl::keys_query(
                    prefix.unwrap_or_default().as_bytes(),
                    from.as_deref().map(str::as_bytes),
                    rev,
                    limit,
                );
                // Streamed to stdout as keys are found: bounded memory (issue 9, item 9).
                let mut out = std::io::stdout().lock();
                etcdctl::write_keys(&db, &q, write_out == WriteOut::Table, &mut |s| {
                    out.write_all(s.as_bytes()).map_err(crate::stdout_error)
                })?;
                warn(&db);
                out.flush().map_err(crate::stdout_error)
            }
        }
    }
}
