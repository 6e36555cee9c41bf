//! etcd's WAL `decoder` (etcd 3.4.23 wal/decoder.go, v3.5.16 server/wal/decoder.go): framed
//! records read one at a time from a run of segments, the running CRC-32C, the zero word
//! that ends a segment, and the torn-write test. Streamed: one buffered reader at a time,
//! and a record is only allocated once it is known to fit in what is left of its segment.

use bytes::Bytes;
use futures_util::io::{AsyncReadExt, BufReader};

use crate::crc::crc32c_append;
use crate::error::{Error, Result};
use crate::pb::{self, WalRecord};
use crate::storage::Storage;
use crate::wal::{EtcdVersion, Segment};

/// Frame header: the little-endian length word (etcd wal/decoder.go:33).
pub const FRAME_SIZE: u64 = 8;
/// etcd 3.4's `maxWALEntrySizeLimit`, 10 MiB (etcd 3.4.23 wal/decoder.go:65); 3.5 bounds a
/// record by what is left of its segment instead.
pub const MAX_ENTRY_SIZE_3_4: u64 = 10 * 1024 * 1024;
/// The sector size of the torn-write test (etcd wal/decoder.go:30).
const MIN_SECTOR_SIZE: u64 = 512;
/// `crcType`: the one record whose CRC is not checked by the decoder.
pub const CRC_TYPE: i64 = 4;

/// One decoded record and where it lies.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The record.
    pub rec: WalRecord,
    /// Position in [`Decoder`]'s segment list.
    pub seg: usize,
    /// Offset of its length word in the segment.
    pub offset: u64,
    /// Length of the marshalled record (low 56 bits of the length word).
    pub rec_bytes: u64,
    /// Padding after it.
    pub pad: u64,
    /// False only in `keep_going` mode, for a record whose CRC did not match.
    pub crc_ok: bool,
}

/// The low 56 bits are the record length; a set top bit says the top byte's low 3 bits are
/// the padding (etcd wal/decoder.go:122).
pub fn decode_frame_size(word: u64) -> (u64, u64) {
    let rec_bytes = word & !(0xffu64 << 56);
    let pad = if (word as i64) < 0 {
        (word >> 56) & 0x7
    } else {
        0
    };
    (rec_bytes, pad)
}

/// A decoder over `segments` (all opened first, as etcd's `openWALFiles` does).
pub struct Decoder<'a, S: Storage> {
    segments: &'a [Segment],
    /// Every segment's reader, opened up front as etcd does; each is buffered only while it
    /// is the one being read, so memory does not grow with the number of segments.
    readers: Vec<Option<S::Reader>>,
    reader: Option<BufReader<S::Reader>>,
    /// Segment being read.
    cur: usize,
    /// Bytes consumed from the current segment.
    pos: u64,
    /// etcd's `lastValidOff`: the offset after the last valid record of the current segment.
    last_valid_off: u64,
    crc: u32,
    version: EtcdVersion,
    keep_going: bool,
    /// A size to read the last segment up to (a simulated `Repair` truncation).
    last_size: Option<u64>,
}

const BUF: usize = 64 * 1024;

impl<'a, S: Storage> Decoder<'a, S> {
    /// Opens every segment of `segments` for reading, in order.
    pub async fn open(storage: &S, segments: &'a [Segment], version: EtcdVersion) -> Result<Self> {
        let mut readers = Vec::with_capacity(segments.len());
        for s in segments {
            readers.push(Some(storage.open_read(&s.name).await?));
        }
        let reader = match readers.first_mut() {
            Some(r) => r.take().map(|r| BufReader::with_capacity(BUF, r)),
            None => None,
        };
        Ok(Decoder {
            segments,
            readers,
            reader,
            cur: 0,
            pos: 0,
            last_valid_off: 0,
            crc: 0,
            version,
            keep_going: false,
            last_size: None,
        })
    }

    /// Keeps decoding past a record CRC mismatch (the record comes back with `crc_ok`
    /// false and the running CRC restarts from its stored one), for raw dumps.
    pub fn keep_going(&mut self, on: bool) {
        self.keep_going = on;
    }

    /// Reads the last segment only up to `size` bytes, as after `Repair` truncated it there.
    pub fn truncate_last(&mut self, size: u64) {
        self.last_size = Some(size);
    }

    /// etcd's `decoder.crc.Sum32()`.
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// etcd's `updateCRC`.
    pub fn update_crc(&mut self, prev: u32) {
        self.crc = prev;
    }

    /// etcd's `lastOffset()`.
    pub fn last_offset(&self) -> u64 {
        self.last_valid_off
    }

    /// The segment being read (after `Ok(None)`: the last one).
    pub fn current(&self) -> usize {
        self.cur.min(self.segments.len().saturating_sub(1))
    }

    fn size_of(&self, seg: usize) -> u64 {
        let size = self.segments[seg].size;
        match self.last_size {
            Some(l) if seg + 1 == self.segments.len() => l.min(size),
            _ => size,
        }
    }

    /// Reads into `out` until full or end of segment; the count read.
    async fn read_full(&mut self, out: &mut [u8]) -> Result<usize> {
        let limit = self.size_of(self.cur).saturating_sub(self.pos);
        let want = (out.len() as u64).min(limit) as usize;
        let r = self.reader.as_mut().expect("open reader");
        let mut n = 0;
        while n < want {
            let k = r.read(&mut out[n..want]).await?;
            if k == 0 {
                break;
            }
            n += k;
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// etcd's `decodeRecord`: the next record, `Ok(None)` at the end of the last segment
    /// (`io.EOF`), or etcd's error.
    pub async fn decode(&mut self) -> Result<Option<Decoded>> {
        loop {
            if self.cur >= self.segments.len() {
                return Ok(None);
            }
            let mut word = [0u8; 8];
            let got = self.read_full(&mut word).await?;
            let l = u64::from_le_bytes(word);
            if got == 0 || (got == 8 && l == 0) {
                // End of the segment or its preallocated zeros: on to the next one.
                if self.cur + 1 >= self.segments.len() {
                    self.cur = self.segments.len();
                    return Ok(None);
                }
                self.cur += 1;
                self.reader = self.readers[self.cur]
                    .take()
                    .map(|r| BufReader::with_capacity(BUF, r));
                self.pos = 0;
                self.last_valid_off = 0;
                continue;
            }
            if got < 8 {
                return Err(Error::WalUnexpectedEof);
            }
            return self.decode_body(l).await.map(Some);
        }
    }

    async fn decode_body(&mut self, l: u64) -> Result<Decoded> {
        let (rec_bytes, pad) = decode_frame_size(l);
        let size = self.size_of(self.cur);
        match self.version {
            EtcdVersion::V3_4 => {
                if rec_bytes as i64 >= MAX_ENTRY_SIZE_3_4 as i64 - pad as i64 {
                    return Err(Error::WalMaxEntrySize);
                }
            }
            EtcdVersion::V3_5 => {
                let limit = size as i64 - self.last_valid_off as i64 - pad as i64;
                if rec_bytes as i64 > limit {
                    return Err(Error::WalMaxEntrySizeEof {
                        file: self.segments[self.cur].name.clone(),
                        rec_bytes: rec_bytes as i64,
                        file_size: size as i64,
                        offset: self.last_valid_off as i64,
                        pad_bytes: pad as i64,
                        limit,
                    });
                }
            }
        }
        let need = rec_bytes + pad;
        // io.ReadFull past the end is an unexpected EOF: say so without allocating for it.
        if need > size.saturating_sub(self.pos) {
            return Err(Error::WalUnexpectedEof);
        }
        let mut data = vec![0u8; need as usize];
        if self.read_full(&mut data).await? < data.len() {
            return Err(Error::WalUnexpectedEof);
        }
        let data = Bytes::from(data);
        let rec = match pb::decode::<WalRecord>(data.slice(..rec_bytes as usize)) {
            Ok(r) => r,
            Err(e) => {
                // gogo's "unexpected EOF" *is* io.ErrUnexpectedEOF, so etcd tolerates or
                // repairs it like a cut-short record.
                if self.is_torn_entry(&data) || e == pb::DecodeError::UnexpectedEof {
                    return Err(Error::WalUnexpectedEof);
                }
                return Err(Error::Decode(e));
            }
        };
        let mut crc_ok = true;
        if rec.r#type != CRC_TYPE {
            self.crc = crc32c_append(self.crc, rec.data.as_deref().unwrap_or_default());
            if rec.crc != self.crc {
                if self.is_torn_entry(&data) {
                    return Err(Error::WalUnexpectedEof);
                }
                if !self.keep_going {
                    return Err(Error::WalRecordCrcMismatch);
                }
                crc_ok = false;
                self.crc = rec.crc;
            }
        }
        let offset = self.last_valid_off;
        self.last_valid_off += FRAME_SIZE + need;
        Ok(Decoded {
            rec,
            seg: self.cur,
            offset,
            rec_bytes,
            pad,
            crc_ok,
        })
    }

    /// etcd's `isTornEntry` (etcd wal/decoder.go:135): in the last segment only, a record
    /// with a 512-byte sector chunk that is all zeros was torn by a crash.
    fn is_torn_entry(&self, data: &[u8]) -> bool {
        if self.cur + 1 != self.segments.len() {
            return false;
        }
        let mut file_off = self.last_valid_off + FRAME_SIZE;
        let mut cur = 0usize;
        while cur < data.len() {
            let chunk =
                ((MIN_SECTOR_SIZE - file_off % MIN_SECTOR_SIZE) as usize).min(data.len() - cur);
            if data[cur..cur + chunk].iter().all(|&b| b == 0) {
                return true;
            }
            file_off += chunk as u64;
            cur += chunk;
        }
        false
    }

    /// After `Ok(None)`: the offset of the first non-zero byte after `last_offset()` in the
    /// last segment, if any (what write mode's `ZeroToEnd` would clear). Reads the rest of
    /// the segment, a buffer at a time.
    pub async fn first_nonzero_after_end(&mut self) -> Result<Option<u64>> {
        let Some(last) = self.segments.len().checked_sub(1) else {
            return Ok(None);
        };
        if self.cur < self.segments.len() || self.reader.is_none() {
            return Ok(None);
        }
        self.cur = last;
        let mut buf = vec![0u8; BUF];
        loop {
            let start = self.pos;
            let n = self.read_full(&mut buf).await?;
            if n == 0 {
                self.cur = self.segments.len();
                return Ok(None);
            }
            if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
                self.cur = self.segments.len();
                return Ok(Some(start + i as u64));
            }
        }
    }
}
