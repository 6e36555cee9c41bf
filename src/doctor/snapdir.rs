//! `LoadNewestAvailable` predicted without renaming anything: the same candidates, order and
//! read-error rule as the [`Snapshotter`](crate::Snapshotter) (`names::load_candidates`,
//! `snapshotter::after_read_error`), with `Read` run through a read-only folder.

use bytes::Bytes;
use serde::Serialize;

use crate::pb::WalSnapshot;
use crate::snapshotter::{AfterReadError, after_read_error};
use crate::storage::ReadOnly;
use crate::{Result, Snapshotter, Storage};

/// The snap folder as the doctor reads it: no lock, no cleanup, every mutation refused, so
/// the Snapshotter does no I/O of its own.
pub(super) async fn open_read_only<S: Storage>(snap: S) -> Result<Snapshotter<ReadOnly<S>>> {
    Snapshotter::open(
        ReadOnly::new(snap),
        crate::Options {
            lock: None,
            clean_tmp_on_open: false,
            max_broken: None,
        },
    )
    .await
}

/// The folder's names in byte order (a missing folder is an empty one, as etcd's
/// `TouchDirAll` makes it).
pub(super) async fn sorted_names<S: Storage>(s: &ReadOnly<S>) -> Result<Vec<String>> {
    let mut names = match s.list().await {
        Ok(n) => n,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e) => return Err(e),
    };
    names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// One `.snap` candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapFact {
    /// The file name.
    pub name: String,
    /// The term in the file (from its metadata, which etcd matches; not the name).
    pub term: Option<u64>,
    /// The index in the file.
    pub index: Option<u64>,
    /// `Read`'s error, in etcd's words (`None`: it reads).
    pub error: Option<String>,
    /// Whether the WAL holds a valid snapshot record for it.
    pub in_wal: bool,
    /// Whether `LoadNewestAvailable` reaches it (it stops at its pick).
    pub tried: bool,
}

impl SnapFact {
    /// It reads.
    pub fn readable(&self) -> bool {
        self.error.is_none() && self.index.is_some()
    }
}

/// The snapshot etcd loads.
#[derive(Debug, Clone)]
pub(super) struct Chosen {
    pub name: String,
    pub term: u64,
    pub index: u64,
    pub data: Bytes,
}

pub(super) struct Pick {
    pub snaps: Vec<SnapFact>,
    pub quarantined: Vec<String>,
    pub chosen: Option<Chosen>,
}

/// etcd etcdserver/api/snap/snapshotter.go:118 (`LoadNewestAvailable` → `loadMatching`): the
/// byte-wise newest `.snap` that reads and whose (term, index) is one of `wal_snaps`; every
/// candidate tried before it that fails `Read` is renamed `.broken` (snapshotter.go:145).
/// `names`: the folder after the `tmp*` cleanup.
pub(super) async fn load_newest_available<S: Storage>(
    s: &Snapshotter<ReadOnly<S>>,
    names: &[String],
    wal_snaps: &[WalSnapshot],
) -> Result<Pick> {
    let mut pick = Pick {
        snaps: Vec::new(),
        quarantined: Vec::new(),
        chosen: None,
    };
    for name in crate::names::load_candidates(names.iter().map(String::as_str)) {
        let tried = pick.chosen.is_none();
        let mut fact = SnapFact {
            name: name.clone(),
            term: None,
            index: None,
            error: None,
            in_wal: false,
            tried,
        };
        match s.read_raw(&name).await {
            Ok(d) => {
                let m = &d.snapshot.metadata;
                fact.term = Some(m.term);
                fact.index = Some(m.index);
                fact.in_wal = wal_snaps
                    .iter()
                    .any(|w| w.term == m.term && w.index == m.index);
                if tried && fact.in_wal {
                    pick.chosen = Some(Chosen {
                        name: name.clone(),
                        term: m.term,
                        index: m.index,
                        data: d.snapshot.data.clone().unwrap_or_default(),
                    });
                }
            }
            Err(e) => {
                fact.error = Some(e.to_string());
                if tried {
                    match after_read_error(e.io_kind()) {
                        AfterReadError::Quarantine => pick.quarantined.push(name.clone()),
                        AfterReadError::Skip => {}
                        // A limit of ours: etcd would read it, we cannot say what it holds.
                        AfterReadError::Stop => return Err(e),
                    }
                }
            }
        }
        pick.snaps.push(fact);
    }
    Ok(pick)
}
