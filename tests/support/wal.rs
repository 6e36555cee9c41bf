//! A WAL writer for tests, framing records as etcd's `encoder` does (etcd 3.4.23
//! wal/encoder.go: running CRC-32C, 8-byte alignment padding, `0x80|pad` in the top byte) and
//! laying out segments as `wal.Create` / `cut` do (a `crc` record first, then metadata, then
//! a snapshot or HardState record), so faults can be placed at known offsets. Real WALs
//! written by etcd are in tests/interop/wal.rs.
#![allow(dead_code)]

use etcd_snap::pb::{self, Entry, HardState, WalRecord, WalSnapshot};
use etcd_snap::storage::MemoryStorage;

pub const METADATA: i64 = 1;
pub const ENTRY: i64 = 2;
pub const STATE: i64 = 3;
pub const CRC: i64 = 4;
pub const SNAPSHOT: i64 = 5;

/// One record as written: its segment and the offset of its length word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub seg: usize,
    pub offset: usize,
    pub len: usize,
}

/// Segments under construction.
pub struct WalBuilder {
    pub segments: Vec<(String, Vec<u8>)>,
    pub records: Vec<At>,
    crc: u32,
    metadata: Vec<u8>,
}

pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    crc32c::crc32c_append(crc, data)
}

/// The frame etcd's encoder writes for `rec`.
pub fn frame(rec: &WalRecord) -> Vec<u8> {
    let data = pb::encode(rec);
    let pad = (8 - data.len() % 8) % 8;
    let mut len = data.len() as u64;
    if pad != 0 {
        len |= ((0x80 | pad) as u64) << 56;
    }
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(&data);
    out.resize(out.len() + pad, 0);
    out
}

pub fn entry(index: u64, term: u64, data: &[u8]) -> Entry {
    Entry {
        r#type: 0,
        term,
        index,
        data: Some(data.to_vec().into()),
    }
}

impl WalBuilder {
    /// `wal.Create(metadata)`: segment 0 with crc(0), metadata, an empty snapshot record.
    pub fn create(metadata: &[u8]) -> WalBuilder {
        let mut w = WalBuilder {
            segments: vec![("0000000000000000-0000000000000000.wal".into(), Vec::new())],
            records: Vec::new(),
            crc: 0,
            metadata: metadata.to_vec(),
        };
        w.raw(CRC, None);
        w.raw(METADATA, Some(metadata.to_vec()));
        w.snapshot(0, 0);
        w
    }

    /// Appends a record of `ty` with `data`, CRC chained (a `crc` record carries the
    /// previous CRC, as etcd's `cut` writes it).
    pub fn raw(&mut self, ty: i64, data: Option<Vec<u8>>) -> At {
        let crc = if ty == CRC {
            self.crc
        } else {
            self.crc = crc32c_append(self.crc, data.as_deref().unwrap_or_default());
            self.crc
        };
        let rec = WalRecord {
            r#type: ty,
            crc,
            data: data.map(Into::into),
        };
        self.push_frame(frame(&rec))
    }

    /// Appends bytes as one record's frame without touching the CRC.
    pub fn push_frame(&mut self, f: Vec<u8>) -> At {
        let seg = self.segments.len() - 1;
        let buf = &mut self.segments[seg].1;
        let at = At {
            seg,
            offset: buf.len(),
            len: f.len(),
        };
        buf.extend_from_slice(&f);
        self.records.push(at);
        at
    }

    pub fn entries(&mut self, ents: &[Entry]) {
        for e in ents {
            self.raw(ENTRY, Some(pb::encode(e)));
        }
    }

    pub fn state(&mut self, term: u64, vote: u64, commit: u64) {
        self.raw(STATE, Some(pb::encode(&HardState { term, vote, commit })));
    }

    pub fn snapshot(&mut self, index: u64, term: u64) {
        self.raw(SNAPSHOT, Some(pb::encode(&WalSnapshot { index, term })));
    }

    /// etcd's `cut`: a new segment `seq-index` starting with crc, metadata, HardState.
    pub fn cut(&mut self, index: u64, state: HardState) {
        let seq = self.segments.len() as u64;
        self.segments
            .push((format!("{seq:016x}-{index:016x}.wal"), Vec::new()));
        self.raw(CRC, None);
        let md = self.metadata.clone();
        self.raw(METADATA, Some(md));
        self.raw(STATE, Some(pb::encode(&state)));
    }

    /// Zero-fills the last segment up to `size` bytes (the preallocated tail).
    pub fn preallocate(&mut self, size: usize) {
        let last = self.segments.last_mut().unwrap();
        if last.1.len() < size {
            last.1.resize(size, 0);
        }
    }

    /// The folder in memory.
    pub fn storage(&self) -> MemoryStorage {
        let s = MemoryStorage::new();
        for (name, bytes) in &self.segments {
            s.insert(name, bytes.clone());
        }
        s
    }
}
