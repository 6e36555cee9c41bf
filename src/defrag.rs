//! bbolt files written through the storage trait, and the offline defrag built on them.
//!
//! [`write_db`] runs the two passes of the bbolt writer ([`crate::inspect::bbolt::write`])
//! into [`Storage::create_atomic`]: the plan first (nothing is created if the input fails
//! there), then the file, which appears under its name whole (temp name, fsync, rename,
//! fsync of the folder) or not at all. [`defrag`] copies every bucket of a db that way, as
//! etcd's defrag copies them into a new file (etcd mvcc/backend/backend.go:490, `defragdb`),
//! but offline and into a new file next to the old one, which it never modifies.

use serde::Serialize;

use crate::error::{Error, IoErrorKind, Result};
use crate::inspect::bbolt::write::{self, CopyFeed, Feed, Layout, Options, Writer};
use crate::inspect::{Db, PageSource};
use crate::storage::{AtomicWrite, Storage};

/// Writes the bbolt file `feed` gives (both passes) to `name` in `storage`, durably; the
/// file's layout.
pub async fn write_db<St: Storage>(
    storage: &St,
    name: &str,
    opts: Options,
    feed: &mut dyn Feed,
) -> Result<Layout> {
    let layout = write::plan(opts, feed)?;
    write_planned(storage, name, opts, layout, feed).await
}

/// The second pass of [`write_db`], for a caller that looked at the plan first.
pub async fn write_planned<St: Storage>(
    storage: &St,
    name: &str,
    opts: Options,
    layout: Layout,
    feed: &mut dyn Feed,
) -> Result<Layout> {
    let mut out = storage.create_atomic(name).await?;
    let written = async {
        feed.rewind()?;
        let mut w = Writer::write(opts, layout)?;
        loop {
            let done = feed.feed(&mut w, write::CHUNK)?;
            out.write(&w.take_output()).await?;
            if done {
                break;
            }
        }
        let (layout, rest) = w.finish()?;
        out.write(&rest).await?;
        Ok::<_, Error>(layout)
    }
    .await;
    match written {
        Ok(layout) => {
            out.commit().await?;
            Ok(layout)
        }
        Err(e) => {
            let _ = out.abort().await;
            Err(e)
        }
    }
}

/// The size of a db before or after [`defrag`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizes {
    /// Bytes of the file (bbolt grows a file ahead of its pages; a snapshot file adds a
    /// sha256 trailer).
    pub file_bytes: u64,
    /// bbolt's `tx.Size()`: high water mark times page size, `snapshot status`'s totalSize
    /// and what etcd reports as the db size.
    pub total_size: u64,
}

/// What [`defrag`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefragReport {
    /// Where the new file is (the storage's `path_of`).
    pub path: String,
    /// Page size of both files.
    pub page_size: u32,
    /// The input.
    pub before: Sizes,
    /// The new file.
    pub after: Sizes,
    /// Buckets copied (nested ones included).
    pub buckets: u64,
    /// Keys copied.
    pub keys: u64,
}

/// Copies `db` into a new compact file `name` in `storage` (see the module docs). `name`
/// must not exist (`AlreadyExists`: a defrag never replaces a file, the db itself included).
/// A db that fails bbolt's check, or that reads only through damage (see [`Db::warnings`]),
/// is refused with [`Error::BadDb`] before anything is created: a copy would carry the
/// damage into a file that looks sound.
pub async fn defrag<S: PageSource, St: Storage>(
    db: &Db<S>,
    storage: &St,
    name: &str,
) -> Result<DefragReport> {
    if storage.exists(name).await? {
        return Err(Error::io(
            IoErrorKind::AlreadyExists,
            "create",
            storage.path_of(name),
            "file exists (defrag never replaces a file; remove it or write elsewhere)",
        ));
    }
    let bolt = db.bolt();
    let problems = bolt.try_check()?;
    if !problems.is_empty() {
        return Err(refused(&problems));
    }
    // The reader opens pages of at most 1 MiB.
    let page_size = u32::try_from(bolt.page_size())
        .map_err(|_| Error::InvalidArgument("page size out of range".into()))?;
    let opts = Options::with_page_size(page_size);
    let mut feed = CopyFeed::new(bolt);
    let layout = write::plan(opts, &mut feed)?;
    let warnings = bolt.warnings();
    if !warnings.is_empty() {
        return Err(refused(&warnings));
    }
    let layout = write_planned(storage, name, opts, layout, &mut feed).await?;
    Ok(DefragReport {
        path: storage.path_of(name),
        page_size,
        before: Sizes {
            file_bytes: bolt.source().inner().size(),
            total_size: bolt.size(),
        },
        after: Sizes {
            file_bytes: layout.size(),
            total_size: layout.size(),
        },
        buckets: layout.buckets,
        keys: layout.keys,
    })
}

fn refused(problems: &[String]) -> Error {
    let mut problem = String::from("not defragmenting a damaged db");
    for p in problems.iter().take(5) {
        problem.push_str("; ");
        problem.push_str(p);
    }
    if problems.len() > 5 {
        problem.push_str(&format!("; and {} more", problems.len() - 5));
    }
    Error::BadDb {
        page: None,
        problem,
    }
}
