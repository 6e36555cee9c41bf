//! etcd's WAL readers over the [`Decoder`]: `ValidSnapshotEntries`, `Open`/`OpenForRead` +
//! `ReadAll` (with etcdserver's one `Repair`), `Repair` itself, and a raw record walk.

use bytes::Bytes;
use futures_util::io::{AsyncReadExt, BufReader};

use crate::error::{DecodeError, Error, Result};
use crate::pb::{self, Entry, HardState, WalRecord, WalSnapshot, WalSnapshotRecord};
use crate::storage::Storage;
use crate::wal::decoder::{CRC_TYPE, Decoder, FRAME_SIZE, decode_frame_size};
use crate::wal::names::{self, SegmentName};
use crate::wal::{EntryInfo, EtcdVersion, OpenMode, RawRecord, ReadAll, TornTail, Wal, ZeroedTail};

const METADATA_TYPE: i64 = 1;
const ENTRY_TYPE: i64 = 2;
const STATE_TYPE: i64 = 3;
const SNAPSHOT_TYPE: i64 = 5;

/// `pbutil.MustUnmarshal`: etcd panics when the data does not decode.
fn must<M: pb::GogoMessage>(data: &Option<Bytes>) -> Result<M> {
    pb::decode::<M>(data.clone().unwrap_or_default()).map_err(Error::WalUnmarshalPanic)
}

/// `walpb.Snapshot` as each version's generated code reads it (3.5 knows field 3).
fn snapshot(data: &Option<Bytes>, v: EtcdVersion) -> Result<WalSnapshot> {
    match v {
        EtcdVersion::V3_4 => must::<WalSnapshot>(data),
        EtcdVersion::V3_5 => must::<WalSnapshotRecord>(data).map(|s| s.key()),
    }
}

/// The errors read mode tolerates at the end: `io.EOF` (here `Ok(None)`) and
/// `io.ErrUnexpectedEOF`, which 3.5 tests with `errors.Is` (so its wrapped size-limit error
/// counts) and 3.4 by equality.
fn is_unexpected_eof(e: &Error, _v: EtcdVersion) -> bool {
    matches!(
        e,
        Error::WalUnexpectedEof | Error::WalMaxEntrySizeEof { .. }
    )
}

/// The `crc` record check (etcd wal/wal.go:475): a fresh decoder (CRC 0) takes any.
fn check_crc_record(d: &mut Decoder<'_, impl Storage>, rec: &WalRecord) -> Result<()> {
    let crc = d.crc();
    if crc != 0 && rec.crc != crc {
        return Err(Error::WalCrcMismatch);
    }
    d.update_crc(rec.crc);
    Ok(())
}

/// What `Repair` does to the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairOutcome {
    /// It decodes to EOF: `Repair` returns true and changes nothing.
    Clean,
    /// It ends in an unexpected EOF: `Repair` copies it to `.broken` and truncates it.
    Truncate(TornTail),
    /// Any other error (or no segment): `Repair` returns false; the message is what etcd logs
    /// ("failed to repair").
    Fails(String),
}

impl<S: Storage> Wal<S> {
    /// Segments etcd's `selectWALFiles` opens for a snapshot at `index` (etcd wal/wal.go:380):
    /// from the last one starting at or before it, when the sequence is unbroken from there.
    fn select(&self, index: u64) -> Result<usize> {
        let segs = &self.listing.segments;
        if segs.is_empty() {
            return Err(Error::WalFileNotFound);
        }
        let names: Vec<SegmentName> = segs
            .iter()
            .map(|s| SegmentName {
                seq: s.seq,
                index: s.index,
            })
            .collect();
        match names::search_index(&names, index) {
            Some(i) if names::is_valid_seq(&names[i..]) => Ok(i),
            _ => Err(Error::WalFileNotFound),
        }
    }

    /// `wal.ValidSnapshotEntries` (etcd 3.4.23 wal/wal.go:558, v3.5.16 server/wal/wal.go:555):
    /// every snapshot record of every segment (no sequence check) whose index is at most the
    /// last HardState's commit, in file order.
    pub async fn valid_snapshot_entries(&self, v: EtcdVersion) -> Result<Vec<WalSnapshot>> {
        if self.listing.segments.is_empty() {
            return Err(Error::WalFileNotFound);
        }
        let mut d = Decoder::open(&self.storage, &self.listing.segments, v).await?;
        let mut snaps = Vec::new();
        let mut state = HardState::default();
        loop {
            match d.decode().await {
                Ok(Some(r)) => match r.rec.r#type {
                    SNAPSHOT_TYPE => snaps.push(snapshot(&r.rec.data, v)?),
                    STATE_TYPE => state = must(&r.rec.data)?,
                    CRC_TYPE => check_crc_record(&mut d, &r.rec)?,
                    _ => {}
                },
                Ok(None) => break,
                Err(e) if is_unexpected_eof(&e, v) => break,
                Err(e) => return Err(e),
            }
        }
        snaps.retain(|s| s.index <= state.commit);
        Ok(snaps)
    }

    /// `wal.OpenForRead(at)` / `wal.Open(at)` + `ReadAll` (etcd wal/wal.go:328-555): exactly
    /// what etcd returns, its errors included. In write mode an unexpected EOF is followed, as
    /// etcdserver's `readWAL` does, by one `Repair` and a second `ReadAll`: the result is the
    /// second one's with [`ReadAll::torn_tail`] set; when `Repair` fails or the second read
    /// fails too, the error is the one etcd ends on. `wal: snapshot not found` is not an
    /// `Err` (etcd returns the data with it): see [`ReadAll::snapshot_matched`].
    pub async fn read_all(
        &self,
        at: WalSnapshot,
        v: EtcdVersion,
        mode: OpenMode,
    ) -> Result<ReadAll> {
        let first = self.select(at.index)?;
        match self.read_all_once(first, at, v, mode, None).await {
            Err(e) if mode == OpenMode::Write && is_unexpected_eof(&e, v) => {
                // 3.4 repairs only on `err == io.ErrUnexpectedEOF`; 3.5 on `errors.Is`
                // (etcd 3.4.23 etcdserver/storage.go:106, v3.5.16 server/etcdserver/storage.go:104).
                if v == EtcdVersion::V3_4 && !matches!(e, Error::WalUnexpectedEof) {
                    return Err(e);
                }
                let RepairOutcome::Truncate(mut torn) = self.repair(v).await? else {
                    return Err(e);
                };
                torn.error = e.to_string();
                let mut out = self
                    .read_all_once(first, at, v, mode, Some(torn.offset))
                    .await?;
                out.torn_tail = Some(torn);
                Ok(out)
            }
            r => r,
        }
    }

    /// One `Open`/`OpenForRead` + `ReadAll`, without etcdserver's `Repair` and second read:
    /// in write mode an unexpected EOF is this `Err`, as etcd's `ReadAll` returns it.
    pub async fn read_all_without_repair(
        &self,
        at: WalSnapshot,
        v: EtcdVersion,
        mode: OpenMode,
    ) -> Result<ReadAll> {
        let first = self.select(at.index)?;
        self.read_all_once(first, at, v, mode, None).await
    }

    async fn read_all_once(
        &self,
        first: usize,
        at: WalSnapshot,
        v: EtcdVersion,
        mode: OpenMode,
        truncated: Option<u64>,
    ) -> Result<ReadAll> {
        let segs = &self.listing.segments[first..];
        let mut d = Decoder::open(&self.storage, segs, v).await?;
        if let Some(t) = truncated {
            d.truncate_last(t);
        }
        let mut out = ReadAll::default();
        let mut metadata: Option<Bytes> = None;
        let end = loop {
            let r = match d.decode().await {
                Ok(Some(r)) => r,
                Ok(None) => break None,
                Err(e) => break Some(e),
            };
            match r.rec.r#type {
                ENTRY_TYPE => {
                    let e: Entry = must(&r.rec.data)?;
                    if e.index > at.index {
                        let up = e.index - at.index - 1;
                        if up > out.entries.len() as u64 {
                            return Err(Error::WalSliceOutOfRange);
                        }
                        out.entries.truncate(up as usize);
                        out.entries.push(EntryInfo {
                            index: e.index,
                            term: e.term,
                            entry_type: e.r#type,
                            segment: first + r.seg,
                            offset: r.offset,
                            rec_len: r.rec_bytes,
                            data_len: e.data.as_ref().map_or(0, |d| d.len() as u64),
                        });
                    }
                }
                STATE_TYPE => out.state = must(&r.rec.data)?,
                METADATA_TYPE => {
                    if let Some(m) = &metadata
                        && Some(m) != r.rec.data.as_ref()
                    {
                        return Err(Error::WalMetadataConflict);
                    }
                    metadata = r.rec.data.clone();
                }
                CRC_TYPE => check_crc_record(&mut d, &r.rec)?,
                SNAPSHOT_TYPE => {
                    let s = snapshot(&r.rec.data, v)?;
                    if s.index == at.index {
                        if s.term != at.term {
                            return Err(Error::WalSnapshotMismatch);
                        }
                        out.snapshot_matched = true;
                    }
                }
                t => return Err(Error::WalUnexpectedBlockType(t)),
            }
        };
        match (mode, end) {
            (OpenMode::Read, Some(e)) if is_unexpected_eof(&e, v) => {
                out.read_error = Some(e.to_string());
            }
            (_, Some(e)) => return Err(e),
            (OpenMode::Read, None) => {}
            (OpenMode::Write, None) => {
                let last = segs.last().expect("selected segments");
                let offset = d.last_offset();
                if let Some(first_nonzero) = d.first_nonzero_after_end().await? {
                    let size = truncated.map_or(last.size, |t| t.min(last.size));
                    out.zeroed_tail = Some(ZeroedTail {
                        segment: last.name.clone(),
                        offset,
                        len: size - offset,
                        first_nonzero,
                    });
                }
            }
        }
        out.metadata = metadata.unwrap_or_default();
        Ok(out)
    }

    /// What `wal.Repair` (etcd wal/repair.go:30) would do to the last segment, decoded alone
    /// from a fresh CRC. Nothing is written.
    pub async fn repair(&self, v: EtcdVersion) -> Result<RepairOutcome> {
        let Some(last) = self.listing.segments.last() else {
            return Ok(RepairOutcome::Fails(Error::WalFileNotFound.to_string()));
        };
        let one = std::slice::from_ref(last);
        let mut d = Decoder::open(&self.storage, one, v).await?;
        loop {
            let last_offset = d.last_offset();
            match d.decode().await {
                Ok(Some(r)) => {
                    if r.rec.r#type == CRC_TYPE && check_crc_record(&mut d, &r.rec).is_err() {
                        return Ok(RepairOutcome::Fails(Error::WalCrcMismatch.to_string()));
                    }
                }
                Ok(None) => return Ok(RepairOutcome::Clean),
                Err(e)
                    if matches!(e, Error::WalUnexpectedEof)
                        || (v == EtcdVersion::V3_5 && is_unexpected_eof(&e, v)) =>
                {
                    let lost_entries = self.count_entries_after(last, last_offset).await?;
                    return Ok(RepairOutcome::Truncate(TornTail {
                        segment: last.name.clone(),
                        offset: last_offset,
                        lost_bytes: last.size.saturating_sub(last_offset),
                        lost_entries,
                        error: e.to_string(),
                    }));
                }
                Err(e @ Error::Io(_)) => return Err(e),
                Err(e) => return Ok(RepairOutcome::Fails(e.to_string())),
            }
        }
    }

    /// Entry records from `offset` on in `seg`, frames walked without CRC checks.
    async fn count_entries_after(&self, seg: &crate::wal::Segment, offset: u64) -> Result<u64> {
        let mut r = BufReader::new(self.storage.open_read(&seg.name).await?);
        skip(&mut r, offset).await?;
        let mut pos = offset;
        let mut n = 0;
        loop {
            let mut word = [0u8; 8];
            if read_up_to(&mut r, &mut word).await? < 8 {
                return Ok(n);
            }
            let (rec_bytes, pad) = decode_frame_size(u64::from_le_bytes(word));
            if rec_bytes == 0 && pad == 0 {
                return Ok(n);
            }
            pos += FRAME_SIZE;
            if rec_bytes + pad > seg.size.saturating_sub(pos) {
                return Ok(n);
            }
            let mut data = vec![0u8; (rec_bytes + pad) as usize];
            if read_up_to(&mut r, &mut data).await? < data.len() {
                return Ok(n);
            }
            pos += rec_bytes + pad;
            data.truncate(rec_bytes as usize);
            match pb::decode::<WalRecord>(Bytes::from(data)) {
                Ok(rec) if rec.r#type == ENTRY_TYPE => n += 1,
                Ok(_) => {}
                Err(_) => return Ok(n),
            }
        }
    }

    /// Every record of every segment in order (no sequence check), for `etcd-snap wal --raw`.
    /// A record whose CRC does not match is visited with `crc_ok` false; then the walk stops
    /// with `walpb: crc mismatch` (or `wal: crc mismatch` for a `crc` record), unless
    /// `keep_going`, where the running CRC restarts from the record's own. Any other decode
    /// error ends the walk with etcd's error; the size rule is 3.5's.
    pub async fn raw_records(
        &self,
        keep_going: bool,
        visit: &mut dyn FnMut(RawRecord),
    ) -> Result<()> {
        if self.listing.segments.is_empty() {
            return Err(Error::WalFileNotFound);
        }
        let mut d = Decoder::open(&self.storage, &self.listing.segments, EtcdVersion::V3_5).await?;
        d.keep_going(true);
        while let Some(r) = d.decode().await? {
            let mut crc_ok = r.crc_ok;
            let mut err = (!crc_ok).then_some(Error::WalRecordCrcMismatch);
            if r.rec.r#type == CRC_TYPE {
                let crc = d.crc();
                crc_ok = crc == 0 || r.rec.crc == crc;
                d.update_crc(r.rec.crc);
                err = (!crc_ok).then_some(Error::WalCrcMismatch);
            }
            visit(RawRecord {
                segment: r.seg,
                offset: r.offset,
                rec_len: r.rec_bytes,
                pad: r.pad,
                record_type: r.rec.r#type,
                crc: r.rec.crc,
                data: r.rec.data.unwrap_or_default(),
                crc_ok,
            });
            if let Some(e) = err
                && !keep_going
            {
                return Err(e);
            }
        }
        Ok(())
    }

    /// The data of one entry `ReadAll` returned, read again from its segment (streams the
    /// segment up to it; use [`Wal::visit_entries`] for many).
    pub async fn entry_data(&self, e: &EntryInfo) -> Result<Bytes> {
        let mut out = Bytes::new();
        self.visit_entries(std::slice::from_ref(e), &mut |_, d| {
            out = d;
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Reads the data of `entries` (in file order, as `ReadAll` returns them) in one pass
    /// over each segment, handing each to `visit`. A record that no longer decodes as the
    /// entry it was gives a decode error.
    pub async fn visit_entries(
        &self,
        entries: &[EntryInfo],
        visit: &mut dyn FnMut(&EntryInfo, Bytes) -> Result<()>,
    ) -> Result<()> {
        let mut i = 0;
        while i < entries.len() {
            let seg_no = entries[i].segment;
            let seg = self
                .listing
                .segments
                .get(seg_no)
                .ok_or_else(|| Error::InvalidArgument(format!("no segment {seg_no}")))?;
            let mut r = BufReader::new(self.storage.open_read(&seg.name).await?);
            let mut pos = 0u64;
            while i < entries.len() && entries[i].segment == seg_no {
                let e = &entries[i];
                if e.offset < pos || e.rec_len > seg.size.saturating_sub(e.offset + FRAME_SIZE) {
                    return Err(Error::InvalidArgument(format!(
                        "entry {} is not at {} in {}",
                        e.index, e.offset, seg.name
                    )));
                }
                skip(&mut r, e.offset + FRAME_SIZE - pos).await?;
                let mut buf = vec![0u8; e.rec_len as usize];
                if read_up_to(&mut r, &mut buf).await? < buf.len() {
                    return Err(Error::WalUnexpectedEof);
                }
                pos = e.offset + FRAME_SIZE + e.rec_len;
                let rec = pb::decode::<WalRecord>(Bytes::from(buf))?;
                let ent: Entry = must(&rec.data)?;
                if ent.index != e.index || ent.term != e.term {
                    return Err(Error::Decode(DecodeError::Other(format!(
                        "entry {} changed on disk",
                        e.index
                    ))));
                }
                visit(e, ent.data.unwrap_or_default())?;
                i += 1;
            }
        }
        Ok(())
    }
}

async fn read_up_to<R: futures_io::AsyncRead + Unpin>(r: &mut R, out: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < out.len() {
        let k = r.read(&mut out[n..]).await?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

async fn skip<R: futures_io::AsyncRead + Unpin>(r: &mut R, mut n: u64) -> Result<()> {
    let mut buf = [0u8; 8192];
    while n > 0 {
        let want = n.min(buf.len() as u64) as usize;
        let k = r.read(&mut buf[..want]).await?;
        if k == 0 {
            return Err(Error::WalUnexpectedEof);
        }
        n -= k as u64;
    }
    Ok(())
}
