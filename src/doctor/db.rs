//! What etcd's backend finds in a db file when it opens it: bbolt's verdict, the meta bucket's
//! consistent index (and term, 3.5), and the mvcc revision `restore` sets.

use serde::Serialize;

use crate::inspect::{Db, Mvcc, OpenOptions, PageSource};
use crate::{Error, Result, Storage};

/// A db file as etcd's backend sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbFacts {
    /// The name in the snap folder (`db` or `%016x.snap.db`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// `bolt.Open`'s error, in bbolt's words where it has some (`invalid database`, `checksum
    /// error`, ...): etcd panics with it. `None`: it opens (a zero-length file opens as a new,
    /// empty db: bbolt initializes it).
    pub open_error: Option<String>,
    /// `meta/consistent_index` (0 when absent: etcd etcdserver/cindex or mvcc's
    /// `ConsistentIndex` read 0; v3.5.16 server/etcdserver/cindex/cindex.go:182).
    pub consistent_index: u64,
    /// `meta/term` (written by 3.5+; `None` when absent).
    pub term: Option<u64>,
    /// The revision mvcc's `restore` sets: the newest stored revision, at least the finished
    /// compaction revision, at least 1 (etcd mvcc/kvstore.go:429 and :491).
    pub revision: i64,
    /// Keys live at `revision`.
    pub live_keys: u64,
    /// Leases in the `lease` bucket.
    pub leases: Vec<i64>,
}

impl DbFacts {
    /// An absent db: `openBackend` creates an empty one.
    pub fn created(name: &str) -> Self {
        DbFacts {
            name: name.to_owned(),
            size: 0,
            open_error: None,
            consistent_index: 0,
            term: None,
            revision: 1,
            live_keys: 0,
            leases: Vec::new(),
        }
    }
}

/// bbolt's own words at the head of a reader error, if the reader found what bbolt reports.
fn bolt_words(problem: &str) -> String {
    for w in [
        "invalid database",
        "version mismatch",
        "checksum error",
        "file size too small",
    ] {
        if problem.starts_with(w) {
            return w.to_owned();
        }
    }
    problem.to_owned()
}

/// A db file behind positioned reads: the backend's own where it has them
/// ([`Storage::page_source`]: native files, Node fds, memory), else the bytes read whole (the
/// JS-object and OPFS backends).
pub type DbSource = Box<dyn PageSource>;

/// Opens `name` of `snap` as etcd's backend does. `Ok(None)`: absent. `Err`: the file cannot be
/// read (a storage error, not a verdict on the db). The source is `None` for a directory and
/// for a zero-length file.
pub async fn read<S: Storage>(snap: &S, name: &str) -> Result<Option<(DbFacts, Option<DbSource>)>> {
    let meta = match snap.stat(name).await {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir {
        let mut f = DbFacts::created(name);
        f.open_error = Some("is a directory".into());
        return Ok(Some((f, None)));
    }
    let src: DbSource = match snap.page_source(name).await? {
        Some(s) => s,
        None => Box::new(bytes::Bytes::from(snap.read(name).await?)),
    };
    let mut f = DbFacts::created(name);
    f.size = src.size();
    if f.size == 0 {
        // bolt.Open initializes a zero-size file as a new db (bbolt db.go `init`).
        return Ok(Some((f, None)));
    }
    match facts_of(&*src, &mut f) {
        Ok(()) => {}
        Err(Error::BadDb { problem, .. }) => f.open_error = Some(bolt_words(&problem)),
        Err(e) => return Err(e),
    }
    Ok(Some((f, Some(src))))
}

fn facts_of(src: &dyn PageSource, f: &mut DbFacts) -> Result<()> {
    let db = open(src)?;
    let info = db.cluster_info()?;
    f.consistent_index = info.meta.consistent_index.unwrap_or(0);
    f.term = info.meta.term;
    f.leases = info.leases.iter().map(|l| l.id).collect();
    let finished = info.meta.finished_compact_revision.unwrap_or(0);
    let mvcc = Mvcc::build(db.bolt(), finished)?;
    f.revision = mvcc.current_revision().max(1);
    f.live_keys = mvcc
        .keys_from(&[])
        .filter(|(_, ev)| ev.last().is_some_and(|e| !e.tombstone))
        .count() as u64;
    Ok(())
}

/// The db as inspect reads it (no trailer: a live db has none).
pub fn open(src: &dyn PageSource) -> Result<Db<&dyn PageSource>> {
    Db::open_with(
        src,
        OpenOptions {
            verify_trailer: false,
        },
    )
}
