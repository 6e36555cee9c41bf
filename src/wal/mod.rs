//! etcd's write-ahead log, read as etcd 3.4.23 and 3.5.16 read it (etcd wal/wal.go,
//! decoder.go, repair.go, util.go): segment names and selection, framed records and the CRC
//! chain ([`decoder`]), and `ValidSnapshotEntries`, `Open`/`OpenForRead` + `ReadAll` and
//! `Repair` ([`read`]). Pure over one [`Storage`] (the flat `member/wal` folder), streamed,
//! and it never writes: what write mode would change (a `Repair` truncation, `ZeroToEnd`)
//! is reported, not done.
//!
//! Memory: records are read one at a time through `Storage::open_read` (never `read`), a
//! record is allocated only once it is known to fit in its segment, and `ReadAll` keeps an
//! [`EntryInfo`] (about 56 bytes) per entry instead of the entry: its data is read again on
//! demand ([`Wal::entry_data`], or [`Wal::visit_entries`] in one pass per segment).
//! Payload decoding (metadata, requests) is not here.

use bytes::Bytes;

use crate::error::Result;
use crate::pb::HardState;
use crate::storage::Storage;

pub use crate::EtcdVersion;

pub mod decoder;
pub mod names;
mod read;

pub use read::RepairOutcome;

pub use names::{SegmentName, WalFileKind};

/// One segment of the WAL folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// File name as listed.
    pub name: String,
    /// Sequence number from the name.
    pub seq: u64,
    /// First index from the name.
    pub index: u64,
    /// Size in bytes when the WAL was opened.
    pub size: u64,
}

/// The WAL folder's names, classified as etcd treats them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalListing {
    /// Segments, sorted as etcd sorts them (`sort.Strings` of the names).
    pub segments: Vec<Segment>,
    /// `0.tmp` / `1.tmp`: the preallocated next segment.
    pub spares: Vec<String>,
    /// Other `*.tmp` names and `*.broken*` copies left by `Repair`.
    pub leftovers: Vec<String>,
    /// Everything else (etcd logs "ignored file in WAL directory").
    pub other: Vec<String>,
}

/// How the WAL is opened, which decides how `ReadAll` ends (etcd wal/wal.go:501).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpenMode {
    /// `wal.OpenForRead`: a torn or cut-short last record ends the read (tolerated).
    #[default]
    Read,
    /// `wal.Open`, what etcdserver uses on restart: everything must decode to EOF; an
    /// unexpected EOF gets one `wal.Repair` of the last segment and a second `ReadAll`, as
    /// etcdserver's `readWAL` does (etcd etcdserver/storage.go:85); the zeros `ZeroToEnd`
    /// would write are reported.
    Write,
}

/// An entry `ReadAll` returns, without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryInfo {
    /// Raft index.
    pub index: u64,
    /// Raft term.
    pub term: u64,
    /// `raftpb.EntryType` (0 normal, 1 conf change, 2 conf change v2; others as found).
    pub entry_type: i32,
    /// Position of its segment in [`WalListing::segments`].
    pub segment: usize,
    /// Offset of the record's length word in that segment.
    pub offset: u64,
    /// Length of the marshalled `walpb.Record` after the length word.
    pub rec_len: u64,
    /// Length of the entry's data.
    pub data_len: u64,
}

/// What `ReadAll` returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadAll {
    /// The metadata record's data (empty when there is none); payload decoding is not here.
    pub metadata: Bytes,
    /// The last HardState.
    pub state: HardState,
    /// The entries, after etcd's overwrite rule (a later entry with a lower index replaces
    /// the tail), in index order and in file order.
    pub entries: Vec<EntryInfo>,
    /// Whether a snapshot record equal to the one opened at was found. False means etcd's
    /// `ReadAll` returned all of the above *with* `wal: snapshot not found` in read mode,
    /// and nothing in write mode (where etcd 3.4.23 and 3.5.16 overwrite that error with
    /// the encoder's nil; etcd wal/wal.go:530-546). See [`ReadAll::error`].
    pub snapshot_matched: bool,
    /// Write mode: the unexpected EOF that `Repair` truncated away (the entries above are
    /// those of the second `ReadAll`, after the truncation).
    pub torn_tail: Option<TornTail>,
    /// Write mode: the bytes `ZeroToEnd` would zero (from `lastOffset` to the end of the last
    /// segment), reported only when some are not zero already.
    pub zeroed_tail: Option<ZeroedTail>,
    /// Read mode: the tolerated error that ended the read early (`unexpected EOF`, or 3.5's
    /// wrapped size-limit one), as etcd words it.
    pub read_error: Option<String>,
}

impl ReadAll {
    /// The error etcd's `ReadAll` returns along with the data: `wal: snapshot not found` in
    /// read mode when the snapshot did not match; `None` otherwise.
    pub fn error(&self, mode: OpenMode) -> Option<crate::Error> {
        (mode == OpenMode::Read && !self.snapshot_matched)
            .then_some(crate::Error::WalSnapshotNotFound)
    }
}

/// What `wal.Repair` truncates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The last segment's name.
    pub segment: String,
    /// Where it is truncated (`decoder.lastOffset()` before the failing record).
    pub offset: u64,
    /// Bytes removed (segment size − offset); etcd first copies the whole file to
    /// `<segment>.broken`.
    pub lost_bytes: u64,
    /// Entry records recognisable in the removed bytes: frames walked from `offset`, CRCs
    /// not checked, until a zero length word, a frame past the end, or an undecodable record.
    pub lost_entries: u64,
    /// The first `ReadAll`'s error, as etcd words it.
    pub error: String,
}

/// What write mode's `ZeroToEnd` would clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZeroedTail {
    /// The last segment's name.
    pub segment: String,
    /// `decoder.lastOffset()`: zeroing starts here.
    pub offset: u64,
    /// Bytes from `offset` to the end of the segment.
    pub len: u64,
    /// The first non-zero byte at or after `offset`.
    pub first_nonzero: u64,
}

/// One record as [`Wal::raw_records`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// Position of its segment in [`WalListing::segments`].
    pub segment: usize,
    /// Offset of its length word.
    pub offset: u64,
    /// Marshalled record length.
    pub rec_len: u64,
    /// Padding after it.
    pub pad: u64,
    /// `walpb.Record.type`.
    pub record_type: i64,
    /// `walpb.Record.crc`.
    pub crc: u32,
    /// `walpb.Record.data` (empty when absent).
    pub data: Bytes,
    /// The record's CRC check passed (for a `crc` record: it continues the chain).
    pub crc_ok: bool,
}

/// etcd's WAL folder, opened for reading.
pub struct Wal<S: Storage> {
    storage: S,
    listing: WalListing,
}

impl<S: Storage> Wal<S> {
    /// Lists and classifies the folder (and stats the segments); reads no segment.
    pub async fn open(storage: S) -> Result<Self> {
        let mut names = storage.list().await?;
        names.sort_unstable();
        let mut listing = WalListing::default();
        for name in names {
            match names::classify(&name) {
                WalFileKind::Segment(n) => {
                    let size = storage.stat(&name).await?.size;
                    listing.segments.push(Segment {
                        name,
                        seq: n.seq,
                        index: n.index,
                        size,
                    });
                }
                WalFileKind::Spare => listing.spares.push(name),
                WalFileKind::Leftover => listing.leftovers.push(name),
                WalFileKind::Other => listing.other.push(name),
            }
        }
        Ok(Wal { storage, listing })
    }

    /// The classified folder.
    pub fn listing(&self) -> &WalListing {
        &self.listing
    }

    /// The storage read.
    pub fn storage(&self) -> &S {
        &self.storage
    }
}
