//! `defrag`: a compact copy of a db written next to it ([`crate::defrag`]), offline.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::host::Host;
use super::print;
use crate::error::{Error, Result};
use crate::inspect::{Db, OpenOptions};

/// Defrag subcommands.
#[derive(Debug, Subcommand)]
pub enum DefragCmd {
    /// Write a compact copy of a db, as etcd's defrag does online: every bucket copied in key
    /// order into a fresh bbolt file (fill percent 0.9, the db's page size), so the pages
    /// freed by deletes and compactions are gone. Offline: DB is never modified; the copy
    /// goes to OUT (default DB.defrag), which must not exist, and appears whole or not at
    /// all. A db that fails bbolt's check is refused. Prints the sizes before and after.
    /// To use the copy, stop etcd and put it in place of member/snap/db.
    Defrag {
        /// The db file (member/snap/db, a .snap.db or an `etcdctl snapshot save` file,
        /// whose sha256 trailer is verified and not copied).
        file: PathBuf,
        /// Where to write the copy (default: DB.defrag next to DB).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Do not verify the sha256 trailer of an `etcdctl snapshot save` file.
        #[arg(long)]
        skip_hash_check: bool,
    },
}

/// `path`'s folder and file name, as the storage trait names files.
fn split(path: &Path) -> Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "--out {}: not a file name this tool can write",
                path.display()
            ))
        })?
        .to_owned();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

impl DefragCmd {
    /// Runs the subcommand on `host`.
    pub async fn run<H: Host>(self, host: &H) -> Result<()> {
        let DefragCmd::Defrag {
            file,
            out,
            skip_hash_check,
        } = self;
        let out = out.unwrap_or_else(|| {
            let mut s = file.clone().into_os_string();
            s.push(".defrag");
            PathBuf::from(s)
        });
        let (dir, name) = split(&out)?;
        let storage = host.storage(&dir)?;
        let db = Db::open_with(
            host.open_source(&file)?,
            OpenOptions {
                verify_trailer: !skip_hash_check,
            },
        )?;
        let report = crate::defrag::defrag(&db, &storage, &name).await?;
        print::json(host, &report)
    }
}
