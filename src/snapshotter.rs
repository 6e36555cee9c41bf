//! `Snapshotter<S: Storage>`: every operation of etcd's `snap` package, written once over the
//! storage trait. It follows etcd 3.4.23's etcdserver/api/snap/ except where etcd loses data or
//! leaks files; each such difference is marked **Differs from etcd**.

use bytes::Bytes;
use futures_io::AsyncRead;

use crate::codec::{self, DecodedSnap};
use crate::error::{Error, IoErrorKind, Result};
use crate::names::{self, NameKind};
use crate::pb::{Snapshot, WalSnapshot};
use crate::storage::copy::copy_into;
use crate::storage::{AtomicWrite as _, LockMode, Storage};

/// Chunk size of [`Snapshotter::save_db_from`]: the only buffer a db stream passes through.
pub const DB_COPY_CHUNK: usize = crate::storage::copy::COPY_CHUNK;

/// How a folder is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// Take the exclusive directory lock (`None`: do not lock; for inspection tools, which
    /// should stick to [`Snapshotter::read`] and [`Snapshotter::list`]: `Load` still renames
    /// unreadable files, as etcd's does, lock or not).
    pub lock: Option<LockMode>,
    /// Remove stale `tmp*` files (interrupted writes) when opening. Needs the lock.
    pub clean_tmp_on_open: bool,
    /// Keep at most this many `*.snap.broken` files (newest by name); `None` keeps all, as
    /// etcd. Applied at open and after `Load` quarantines a file, only with the lock held.
    /// Files beyond the bound are removed only if they still fail `Read` with a content error
    /// (decode, empty, CRC): a quarantined file that reads cleanly (or cannot be read at all)
    /// may be a good snapshot hit by a passing I/O error, and is kept.
    pub max_broken: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lock: Some(LockMode::Fail),
            clean_tmp_on_open: true,
            max_broken: Some(5),
        }
    }
}

/// True for a snap folder with a db (`db` or a `.snap.db`) and no v2 `.snap` file: what etcd
/// main writes, not a broken folder. etcd 3.7.0 stopped loading `.snap` files on bootstrap
/// (commit e74bb6a0e, PR #21107: the newest snapshot entry of the WAL is used instead), and
/// main stopped writing them (PR #22263: `storage.SaveSnap` only appends the WAL entry,
/// server/storage/storage.go) and purging them (PR #22271: `purgeFile` keeps only `snap.db`
/// and `wal`, server/etcdserver/server.go). `Load` on such a folder is still etcd's
/// `ErrNoSnapshot` (snapshotter.go `snapNames`, unchanged in main), which main's bootstrap
/// never asks for.
///
/// Leftover `.snap` files of an upgraded member: etcd 3.4 to 3.7 purge `.snap` files past
/// `--max-snapshots` (default 5) while running (3.4.0 etcdserver/server.go:811, 3.7.0
/// server/etcdserver/server.go:603; 3.7.0 still writes them, server/storage/storage.go:71);
/// main at c34dc7ee0 removes none (no purge since #22271, server.go:601; its bootstrap
/// deletes only `tmp*` files, bootstrap.go:219-227), so they stay until removed by hand.
pub fn v3_only_folder<'a>(names: impl IntoIterator<Item = &'a str>) -> bool {
    let mut db = false;
    for n in names {
        match names::classify(n) {
            NameKind::Snap => return false,
            NameKind::Db(_) | NameKind::LiveDb => db = true,
            _ => {}
        }
    }
    db
}

/// Why a `.snap` file does not load: the error `Read` gives, as code and etcd's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    /// [`Error::code`].
    pub code: &'static str,
    /// The error's message (etcd's wording).
    pub message: String,
}

/// Whether `Load` renames a `.snap` to `.broken` after `Read` failed with `e`: every error
/// (content or storage, as etcd) except a size limit of ours
/// ([`IoErrorKind::TooLarge`]) and a name that is not a regular file
/// ([`IoErrorKind::NotRegular`]), which say nothing about a snapshot's bytes.
pub fn quarantines(e: &Error) -> bool {
    after_read_error(e.io_kind()) == AfterReadError::Quarantine
}

/// What `Load` does with a `.snap` whose `Read` failed (see
/// [`Snapshotter::load_newest_available`] for why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterReadError {
    /// Renames it to `<name>.broken` and tries the next name (etcd's rule).
    Quarantine,
    /// Leaves it alone and tries the next name: not a regular file.
    Skip,
    /// Renames nothing and fails with this error: a limit of ours, not damage.
    Stop,
}

/// [`AfterReadError`] for an error of I/O kind `kind` (`None`: a content error).
pub fn after_read_error(kind: Option<IoErrorKind>) -> AfterReadError {
    match kind {
        Some(IoErrorKind::NotRegular) => AfterReadError::Skip,
        Some(IoErrorKind::TooLarge) => AfterReadError::Stop,
        _ => AfterReadError::Quarantine,
    }
}

/// The name etcd's `Load` returns, given `Read`'s answer for names of a folder (`Ok(())`, or
/// the failed read's [`Error::io_kind`]): the first of [`names::load_candidates`] that reads,
/// unless an [`AfterReadError::Stop`] comes first. `None` when `Load` fails. Names `Load`
/// never tries may be passed and are ignored; a candidate missing from `reads` counts as
/// unreadable. Pure: for showing `Load`'s choice without renaming anything.
pub fn load_pick<'a>(
    reads: impl IntoIterator<Item = (&'a str, std::result::Result<(), Option<IoErrorKind>>)>,
) -> Option<&'a str> {
    let reads: Vec<_> = reads.into_iter().collect();
    for name in names::load_candidates(reads.iter().map(|(n, _)| *n)) {
        let Some(&(name, read)) = reads.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        match read {
            Ok(()) => return Some(name),
            Err(kind) if after_read_error(kind) == AfterReadError::Stop => return None,
            Err(_) => {}
        }
    }
    None
}

/// One entry of [`Snapshotter::list`]: what `etcd-snap ls` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The entry name.
    pub name: String,
    /// How etcd's scans and cleanups treat the name.
    pub kind: NameKind,
    /// Term from a well-formed `%016x-%016x.snap` name; `None` otherwise.
    pub term: Option<u64>,
    /// Index from a well-formed `.snap` name or a parseable `.snap.db` name.
    pub index: Option<u64>,
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// True for a directory.
    pub is_dir: bool,
    /// For names ending in `.snap` (what `Load` would try): `Some(Ok(()))` if `Read`
    /// succeeds, `Some(Err(_))` with `Read`'s error otherwise. `None` for every other name.
    pub verdict: Option<std::result::Result<(), ReadFailure>>,
}

/// etcd's Snapshotter over a [`Storage`] backend.
///
/// Holds the backend's directory lock (unless opened with `lock: None`) until dropped.
pub struct Snapshotter<S: Storage> {
    _lock: Option<S::Lock>,
    storage: S,
    options: Options,
}

impl<S: Storage> Snapshotter<S> {
    /// Opens a snap folder: takes the lock and cleans up as `options` says.
    ///
    /// With a lock mode, the lock is taken first ([`LockMode::Fail`] gives `ERR_LOCKED` when
    /// someone else holds it). Then, only while holding the lock: every name starting with
    /// `tmp` is removed (removal errors other than not-found are ignored, as etcd logs them),
    /// corrupt `*.snap.broken` files beyond `max_broken` are removed, and the directory is
    /// synced. Without a lock nothing is removed: cleanup could delete a live
    /// writer's temp file.
    ///
    /// **Differs from etcd:** `snap.New` does no I/O; etcd 3.4.20+ removes `tmp*` once at
    /// server start, outside the `snap` package. Here that cleanup happens at every open, and
    /// it also covers etcd-snap's own atomic-writer temp files (interrupted `SaveSnap`s).
    pub async fn open(storage: S, options: Options) -> Result<Self> {
        let lock = match options.lock {
            Some(mode) => Some(storage.lock(mode).await?),
            None => None,
        };
        let s = Snapshotter {
            _lock: lock,
            storage,
            options,
        };
        if s._lock.is_some() {
            let names = s.storage.list().await?;
            if s.options.clean_tmp_on_open {
                for name in names.iter().filter(|n| n.starts_with(names::TMP_PREFIX)) {
                    let _ = s.storage.remove(name).await;
                }
            }
            s.prune_broken(&names).await;
            // Also makes durable whatever an earlier, interrupted holder renamed or removed.
            s.storage.sync_dir().await?;
        }
        Ok(s)
    }

    /// The backend.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The options the folder was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// etcd `SaveSnap`. Index 0 is a no-op (even with data), as `raft.IsEmptySnap`.
    ///
    /// **Differs from etcd:** etcd truncates and rewrites `%016x-%016x.snap` in place, so a
    /// crash leaves an empty or torn file (issue #3498). Here the bytes go through the
    /// backend's atomic writer (temp file, fsync, rename, directory fsync): after a crash or an
    /// error the name holds the old file (if any) or the new one, never a mix. On failure the
    /// write is aborted and the original error returned.
    pub async fn save_snap(&self, snap: &Snapshot) -> Result<()> {
        if snap.metadata.index == 0 {
            return Ok(());
        }
        let name = names::snap_name(snap.metadata.term, snap.metadata.index);
        // Written piecewise so the payload is never copied (see `SnapFileParts`).
        let file = codec::SnapFileParts::new(snap);
        let mut w = self.storage.create_atomic(&name).await?;
        for part in file.parts().into_iter().filter(|p| !p.is_empty()) {
            if let Err(e) = w.write(part).await {
                let _ = w.abort().await;
                return Err(e);
            }
        }
        w.commit().await
    }

    /// etcd `Load`: the newest readable `.snap`; unreadable ones are renamed `*.broken`.
    ///
    /// See [`load_newest_available`](Self::load_newest_available) for the exact steps.
    pub async fn load(&self) -> Result<Snapshot> {
        self.load_raw().await.map(|d| d.snapshot)
    }

    /// [`load`](Self::load), keeping the snapshot's bytes (for etcd's `Size()`, `pb_size`).
    pub async fn load_raw(&self) -> Result<DecodedSnap> {
        self.load_matching(|_| true).await
    }

    /// etcd `LoadNewestAvailable`: the newest readable `.snap` whose (term, index) is in
    /// `wal_snaps` (order irrelevant).
    ///
    /// Steps, as etcd: scan the directory (`db.tmp*` names are removed, not-found ignored,
    /// any other removal error is `failed to remove orphaned .snap.db file <name>: <err>`);
    /// keep names ending in `.snap` (directories included); none → `ErrNoSnapshot`; try them
    /// byte-wise newest first. A `Read` error renames the entry to `<name>.broken` (a rename
    /// failure is ignored) and moves on; a valid file that does not match is left untouched.
    /// Nothing found → `ErrNoSnapshot`. Which errors quarantine ([`quarantines`]):
    /// - content errors (empty file, zero CRC or empty data, CRC mismatch, envelope or inner
    ///   decode error): renamed, as etcd;
    /// - storage errors (EIO, EACCES, a directory named `*.snap`, ...): renamed too, as etcd
    ///   does, although the file may be good; it is kept whole under `.broken` (renaming it
    ///   back restores it) and never pruned by `max_broken` unless it reads as corrupt;
    /// - **differs from etcd:** an entry that is not a regular file (a FIFO, socket or device,
    ///   [`IoErrorKind::NotRegular`]) is not a snapshot file at
    ///   all: it is skipped, neither read (etcd would hang or allocate without end) nor
    ///   renamed;
    /// - **differs from etcd:** a limit of ours ([`IoErrorKind::TooLarge`]:
    ///   a file this runtime cannot hold in memory, e.g. over 4 GiB in wasm32) says nothing
    ///   about the file: nothing is renamed and the error is returned at once, rather than
    ///   falling back to an older snapshot (issue 9, item 5).
    ///
    /// **Differs from etcd:** after renames the directory is synced, and with the lock held
    /// the corrupt `*.snap.broken` files are bounded to `max_broken`, keeping the newest names
    /// (etcd never deletes them and they fill disks: issue #20732); see [`Options::max_broken`].
    pub async fn load_newest_available(&self, wal_snaps: &[WalSnapshot]) -> Result<Snapshot> {
        self.load_newest_available_raw(wal_snaps)
            .await
            .map(|d| d.snapshot)
    }

    /// [`load_newest_available`](Self::load_newest_available), keeping the snapshot's bytes.
    pub async fn load_newest_available_raw(
        &self,
        wal_snaps: &[WalSnapshot],
    ) -> Result<DecodedSnap> {
        self.load_matching(|s| {
            wal_snaps
                .iter()
                .any(|w| w.term == s.metadata.term && w.index == s.metadata.index)
        })
        .await
    }

    async fn load_matching(&self, matches: impl Fn(&Snapshot) -> bool) -> Result<DecodedSnap> {
        let (names, mut changed) = self.snap_names().await?;
        let mut quarantined = false;
        let mut found: Option<Result<DecodedSnap>> = None;
        for name in &names {
            match self.read_raw(name).await {
                Ok(snap) if matches(&snap.snapshot) => {
                    found = Some(Ok(snap));
                    break;
                }
                Ok(_) => {}
                Err(e) => match after_read_error(e.io_kind()) {
                    AfterReadError::Skip => {}
                    AfterReadError::Stop => {
                        found = Some(Err(e));
                        break;
                    }
                    AfterReadError::Quarantine => {
                        let broken = names::broken_name(name);
                        if self.storage.rename(name, &broken).await.is_ok() {
                            quarantined = true;
                        }
                    }
                },
            }
        }
        if quarantined {
            let all = self.storage.list().await.unwrap_or_default();
            self.prune_broken(&all).await;
            changed = true;
        }
        if changed {
            // Renames that do not survive a crash are redone by the next Load; a failed sync
            // must not hide the snapshot that was found.
            let _ = self.storage.sync_dir().await;
        }
        found.unwrap_or(Err(Error::NoSnapshot))
    }

    /// etcd `snapNames`: `.snap` names newest first, after removing `db.tmp*` leftovers.
    /// Also says whether anything was removed.
    async fn snap_names(&self) -> Result<(Vec<String>, bool)> {
        let all = self.storage.list().await?;
        let mut removed = false;
        for name in all.iter().filter(|n| n.starts_with(names::DB_TMP_PREFIX)) {
            match self.storage.remove(name).await {
                Ok(()) => removed = true,
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(Error::RemoveOrphan {
                        name: name.clone(),
                        source: Box::new(e),
                    });
                }
            }
        }
        let snaps = names::load_candidates(all.iter().map(String::as_str));
        if snaps.is_empty() {
            if removed {
                let _ = self.storage.sync_dir().await;
            }
            return Err(Error::NoSnapshot);
        }
        Ok((snaps, removed))
    }

    /// Removes the oldest `*.snap.broken` files beyond `max_broken` (only with the lock held).
    ///
    /// Only files that still fail `Read` with a content error (decode, empty, CRC) are removed:
    /// `Load` also quarantines snapshots whose read failed for a passing reason (EIO, EACCES),
    /// and such a file may be the only copy of a good snapshot, so a `.broken` file that now
    /// reads cleanly, or cannot be read at all, is kept. Best effort: removal errors are
    /// ignored. Says whether anything was removed.
    async fn prune_broken(&self, names: &[String]) -> bool {
        let (Some(max), Some(_)) = (self.options.max_broken, self._lock.as_ref()) else {
            return false;
        };
        let suffix = format!("{}{}", names::SNAP_SUFFIX, names::BROKEN_SUFFIX);
        let mut broken: Vec<&String> = names.iter().filter(|n| n.ends_with(&suffix)).collect();
        broken.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
        let mut removed = false;
        for name in broken.into_iter().skip(max) {
            let corrupt = matches!(
                self.verify(name).await,
                Err(Error::Decode(_) | Error::EmptySnapshot | Error::CrcMismatch)
            );
            if corrupt {
                removed |= self.storage.remove(name).await.is_ok();
            }
        }
        removed
    }

    /// etcd `Read` of one file in this folder: the storage error as is, then the codec's
    /// checks in etcd's order (empty file, envelope decode, empty data or zero CRC, CRC, inner
    /// decode).
    pub async fn read(&self, name: &str) -> Result<Snapshot> {
        self.read_raw(name).await.map(|d| d.snapshot)
    }

    /// [`read`](Self::read), keeping the snapshot's bytes (for etcd's `Size()`, `pb_size`).
    pub async fn read_raw(&self, name: &str) -> Result<DecodedSnap> {
        let bytes = self.storage.read(name).await?;
        codec::decode_snap_file_raw(Bytes::from(bytes))
    }

    /// [`read`](Self::read)'s verdict on one file, in bounded memory: the file is streamed
    /// through [`codec::verify_snap_stream`] (a [`codec::VERIFY_CHUNK`] buffer), never held
    /// whole, so judging a multi-gigabyte `.snap` costs kilobytes. Same errors as `read`.
    pub async fn verify(&self, name: &str) -> Result<()> {
        let reader = self.storage.open_read(name).await?;
        let meta = self.storage.stat(name).await?;
        if meta.is_dir {
            drop(reader);
            // `read`'s exact error for a directory (`read <path>: is a directory`).
            return self.read(name).await.map(|_| ());
        }
        codec::verify_snap_stream(reader, meta.size).await
    }

    /// etcd `SaveDBFrom`: streams `r` into `%016x.snap.db`; returns the bytes read.
    ///
    /// The stream passes through one [`DB_COPY_CHUNK`] buffer into the backend's atomic
    /// writer, so memory does not grow with the size. A reader or write error aborts the
    /// write (no file is left) and is returned. If `%016x.snap.db` already exists when the
    /// copy is done, the new bytes are discarded and `Ok(n)` returned: the old content stays,
    /// as in etcd.
    ///
    /// **Differs from etcd:** the directory is synced after the rename and on the
    /// already-exists path (etcd 3.4–3.7.1 never syncs it, and a lost directory entry is one
    /// cause of `failed to find [SNAPSHOT-INDEX].snap.db` panics: #22340, fixed upstream by PR
    /// #22314). On error etcd returns the bytes copied so far alongside the error; here only
    /// the error is returned. A failing existence check (other than not-found) aborts with
    /// that error, where etcd's `fileutil.Exist` would treat it as "absent" and rename over.
    pub async fn save_db_from<R: AsyncRead + Unpin>(&self, r: R, index: u64) -> Result<u64> {
        let name = names::db_name(index);
        let w = self.storage.create_atomic(&name).await?;
        let (w, n) = copy_into(w, r).await?;
        match self.storage.exists(&name).await {
            Ok(true) => {
                // etcd ignores the temp file's removal error here too; a leftover `tmp*`
                // is removed by the next open.
                let _ = w.abort().await;
                self.storage.sync_dir().await?;
                Ok(n)
            }
            Ok(false) => {
                w.commit().await?;
                Ok(n)
            }
            Err(e) => {
                let _ = w.abort().await;
                Err(e)
            }
        }
    }

    /// etcd `DBFilePath`: the path of `%016x.snap.db` (as [`Storage::path_of`] shows it) or
    /// `ErrNoDBSnapshot`. The directory is listed first, so an unreadable directory gives
    /// its own error, as in etcd. (A failing stat other than not-found is returned as is;
    /// etcd reports it as `ErrNoDBSnapshot`.)
    pub async fn db_file_path(&self, index: u64) -> Result<String> {
        self.storage.list().await?;
        let name = names::db_name(index);
        if self.storage.exists(&name).await? {
            Ok(self.storage.path_of(&name))
        } else {
            Err(Error::NoDbSnapshot)
        }
    }

    /// etcd `ReleaseSnapDBs`: removes `.snap.db` files whose index (parsed as
    /// `strconv.ParseUint(stem, 16, 64)`; unparseable names are skipped) is strictly below
    /// `snap`'s index. Removal errors are ignored, as etcd only logs them; only the listing
    /// error is returned.
    ///
    /// **Differs from etcd:** the directory is synced after removals (best effort).
    pub async fn release_snap_dbs(&self, snap: &Snapshot) -> Result<()> {
        let all = self.storage.list().await?;
        let mut removed = false;
        for name in &all {
            if let Some(i) = names::parse_db_name(name)
                && i < snap.metadata.index
            {
                removed |= self.storage.remove(name).await.is_ok();
            }
        }
        if removed {
            let _ = self.storage.sync_dir().await;
        }
        Ok(())
    }

    /// Every entry, sorted by name, with its kind, parsed term/index, size, and for `.snap`
    /// names the `Read` verdict (from [`verify`](Self::verify): bounded memory). Renames and
    /// removes nothing. To show verdicts as each is reached, use [`entries`](Self::entries)
    /// and [`judge`](Self::judge).
    pub async fn list(&self) -> Result<Vec<FileInfo>> {
        let mut out = self.entries().await?;
        for f in &mut out {
            self.judge(f).await;
        }
        Ok(out)
    }

    /// Fills in `f.verdict` for a `.snap` name (see [`FileInfo::verdict`]); others stay `None`.
    pub async fn judge(&self, f: &mut FileInfo) {
        if f.kind == NameKind::Snap {
            f.verdict = Some(self.verify(&f.name).await.map_err(|e| ReadFailure {
                code: e.code(),
                message: e.to_string(),
            }));
        }
    }

    /// [`list`](Self::list) without the verdicts (all `None`): names, kinds and sizes only,
    /// cheap; [`judge`](Self::judge) each entry afterwards.
    pub async fn entries(&self) -> Result<Vec<FileInfo>> {
        let mut all = self.storage.list().await?;
        all.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let mut out = Vec::with_capacity(all.len());
        for name in all {
            let meta = match self.storage.stat(&name).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() => continue, // removed meanwhile
                Err(e) => return Err(e),
            };
            let kind = names::classify(&name);
            let (term, index) = match kind {
                NameKind::Snap => match names::parse_snap_name(&name) {
                    Some((t, i)) => (Some(t), Some(i)),
                    None => (None, None),
                },
                NameKind::Db(i) => (None, Some(i)),
                _ => (None, None),
            };
            out.push(FileInfo {
                name,
                kind,
                term,
                index,
                size: meta.size,
                is_dir: meta.is_dir,
                verdict: None,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::SnapshotMetadata;
    use crate::storage::MemoryStorage;

    fn snap(term: u64, index: u64) -> Vec<u8> {
        codec::encode_snap_file(&Snapshot {
            data: Some(Bytes::from_static(b"{}")),
            metadata: SnapshotMetadata {
                term,
                index,
                ..Default::default()
            },
        })
    }

    #[test]
    fn load_pick_takes_the_bytewise_newest_readable_snap() {
        let crc = Err(None);
        let reads = [
            ("0000000000000001-0000000000000001.snap", Ok(())),
            ("0000000000000001-0000000000000003.snap", crc),
            ("0000000000000001-0000000000000002.snap", Ok(())),
            ("0000000000000003.snap.db", Ok(())),
        ];
        assert_eq!(
            load_pick(reads),
            Some("0000000000000001-0000000000000002.snap")
        );
        assert_eq!(load_pick([("x.snap", crc)]), None);
        assert_eq!(load_pick([("db", Ok(()))]), None);
        assert_eq!(load_pick([("db.tmp.1.snap", Ok(()))]), None);
        // Not a regular file: passed over; a limit of ours: Load fails there.
        let fifo = Err(Some(IoErrorKind::NotRegular));
        let big = Err(Some(IoErrorKind::TooLarge));
        assert_eq!(
            load_pick([("b.snap", fifo), ("a.snap", Ok(()))]),
            Some("a.snap")
        );
        assert_eq!(load_pick([("b.snap", big), ("a.snap", Ok(()))]), None);
        assert_eq!(
            load_pick([("c.snap", Ok(())), ("b.snap", big)]),
            Some("c.snap")
        );
    }

    #[test]
    fn load_pick_agrees_with_load() {
        // UTF-16 order (a JS sort) would pick U+FF21; byte order, as etcd, picks U+10000.
        let store = MemoryStorage::new();
        store.insert("\u{ff21}.snap", snap(1, 7));
        store.insert("\u{10000}.snap", snap(1, 5));
        store.insert("\u{10001}.snap", b"not a snapshot".to_vec());
        let options = Options {
            lock: None,
            ..Options::default()
        };
        futures_executor::block_on(async {
            let s = Snapshotter::open(store.clone(), options).await.unwrap();
            let listed = s.list().await.unwrap();
            let pick = load_pick(listed.iter().map(|f| {
                let read = match &f.verdict {
                    Some(Ok(())) => Ok(()),
                    _ => Err(None),
                };
                (f.name.as_str(), read)
            }));
            assert_eq!(pick, Some("\u{10000}.snap"));
            assert_eq!(s.load().await.unwrap().metadata.index, 5);
        });
    }
}
