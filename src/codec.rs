//! `.snap` file bytes <-> [`Snapshot`], with etcd's check order (`snap.Read`).

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::pb::{self, SnapFile, Snapshot};

pub use crate::crc::{crc32c, crc32c_append};

/// Encodes a snapshot as the exact bytes etcd's `SaveSnap` writes:
/// `snappb.snapshot{crc: CRC-32C(inner), data: inner}` with `inner` = marshalled `raftpb.Snapshot`.
pub fn encode_snap_file(snap: &Snapshot) -> Vec<u8> {
    let parts = SnapFileParts::new(snap);
    let mut out = Vec::with_capacity(parts.len());
    for p in parts.parts() {
        out.extend_from_slice(p);
    }
    out
}

/// The bytes of a `.snap` file as three consecutive slices: the envelope and inner headers,
/// the payload (shared with the [`Snapshot`], not copied), and the encoded metadata.
///
/// Writing these in turn produces exactly [`encode_snap_file`]'s bytes without copying a
/// payload that may be gigabytes (etcd 3.4 keeps the whole v2 store in it).
#[derive(Debug, Clone)]
pub struct SnapFileParts {
    head: Vec<u8>,
    data: Bytes,
    tail: Vec<u8>,
}

impl SnapFileParts {
    /// Lays out `snap` in etcd 3.4's gogo encoding; the CRC runs over the pieces in order.
    pub fn new(snap: &Snapshot) -> Self {
        use prost::Message as _;
        use prost::encoding::{WireType, encode_key, encode_varint};

        // raftpb.Snapshot: data (1, iff present), then metadata (2, always).
        let mut inner_head = Vec::with_capacity(11);
        if let Some(d) = &snap.data {
            encode_key(1, WireType::LengthDelimited, &mut inner_head);
            encode_varint(d.len() as u64, &mut inner_head);
        }
        let mut tail = Vec::with_capacity(snap.metadata.encoded_len() + 11);
        encode_key(2, WireType::LengthDelimited, &mut tail);
        snap.metadata
            .encode_length_delimited(&mut tail)
            .expect("Vec grows");
        let data = snap.data.clone().unwrap_or_default();

        let crc = [&inner_head[..], &data[..], &tail[..]]
            .iter()
            .fold(0, |crc, p| crc32c_append(crc, p));
        let inner_len = inner_head.len() + data.len() + tail.len();

        // snappb.snapshot: crc (1, always), data (2) = the inner message.
        let mut head = Vec::with_capacity(17 + inner_head.len());
        encode_key(1, WireType::Varint, &mut head);
        encode_varint(u64::from(crc), &mut head);
        encode_key(2, WireType::LengthDelimited, &mut head);
        encode_varint(inner_len as u64, &mut head);
        head.extend_from_slice(&inner_head);
        SnapFileParts { head, data, tail }
    }

    /// The three slices, to be written in order.
    pub fn parts(&self) -> [&[u8]; 3] {
        [&self.head, &self.data, &self.tail]
    }

    /// Total file size.
    pub fn len(&self) -> usize {
        self.head.len() + self.data.len() + self.tail.len()
    }

    /// Never true: a `.snap` file always holds at least its envelope and metadata.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Decodes `.snap` file bytes in etcd's check order: empty file, envelope decode, empty data
/// or zero CRC, CRC mismatch, inner decode. Payload bytes are sliced from `file`, not copied.
pub fn decode_snap_file(file: Bytes) -> Result<Snapshot> {
    decode_snap_file_raw(file).map(|d| d.snapshot)
}

/// A snapshot read from a `.snap` file, with the marshalled `raftpb.Snapshot` it was decoded
/// from: etcd 3.4 keeps the unknown fields in it and counts them in `Size()`
/// ([`crate::pb::size`]), which [`summary`](Self::summary) reports as `pb_size`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedSnap {
    /// The decoded snapshot (unknown fields dropped).
    pub snapshot: Snapshot,
    /// The envelope's `data` field: a slice of the file bytes, sharing the payload with
    /// `snapshot.data` (no copy).
    pub raw: Bytes,
}

impl DecodedSnap {
    /// What `etcd-snap read` / `load` print, `pb_size` as etcd's `Size()`.
    pub fn summary(&self) -> crate::summary::SnapSummary {
        crate::summary::SnapSummary::of_raw(&self.snapshot, &self.raw)
    }

    /// The unknown-field bytes of `raw`, level by level (none if gogo would reject `raw`,
    /// which a decoded snapshot's bytes never are).
    pub fn unknown(&self) -> crate::pb::size::SnapshotUnknown {
        crate::pb::size::SnapshotUnknown::of(&self.raw).unwrap_or_default()
    }
}

/// [`decode_snap_file`], keeping the inner message's bytes ([`DecodedSnap::raw`]).
pub fn decode_snap_file_raw(file: Bytes) -> Result<DecodedSnap> {
    if file.is_empty() {
        return Err(Error::EmptySnapshot);
    }
    let envelope: SnapFile = pb::decode(file)?;
    let data = match envelope.data {
        Some(d) if !d.is_empty() && envelope.crc != 0 => d,
        _ => return Err(Error::EmptySnapshot),
    };
    if crc32c(&data) != envelope.crc {
        return Err(Error::CrcMismatch);
    }
    Ok(DecodedSnap {
        snapshot: pb::decode(data.clone())?,
        raw: data,
    })
}

/// Read buffer of [`verify_snap_stream`]: all the memory a verdict on a payload takes (1 MiB:
/// Node's `readSync` costs about 14x more per byte in 64 KiB calls).
pub const VERIFY_CHUNK: usize = 1 << 20;

/// [`decode_snap_file`]'s verdict on a `.snap` file of `size` bytes read from `r`, in bounded
/// memory: the payload streams through the CRC in [`VERIFY_CHUNK`] pieces instead of being
/// held (only the small `SnapshotMetadata` is buffered).
///
/// Same checks in etcd's order, same errors: empty file, envelope decode (gogo's walk over
/// the whole envelope: a later bad field still wins), empty data or zero CRC, CRC mismatch,
/// inner (`raftpb.Snapshot`) decode. As in gogo, the last `crc` and the last `data` field win.
/// Reads at most `size` bytes; a stream that ends early is `unexpected EOF`. Reader errors
/// are returned as they are.
pub async fn verify_snap_stream<R: futures_io::AsyncRead + Unpin>(r: R, size: u64) -> Result<()> {
    use crate::pb::GogoMessage as _;
    use crate::pb::gogo_stream;

    if size == 0 {
        return Err(Error::EmptySnapshot);
    }
    let mut file = FileCursor {
        r,
        buf: vec![0; VERIFY_CHUNK.min(size as usize).max(1)],
        start: 0,
        end: 0,
        pos: 0,
        len: size,
    };
    let mut env = Envelope::default();
    gogo_stream::walk(SnapFile::schema(), &mut file, &mut env).await?;
    let Some(data) = env.data else {
        return Err(Error::EmptySnapshot);
    };
    if data.len == 0 || env.crc == 0 {
        return Err(Error::EmptySnapshot);
    }
    if data.crc != env.crc {
        return Err(Error::CrcMismatch);
    }
    // Walked while the payload streamed by (see `Envelope::bytes`).
    data.inner.map_err(Error::Decode)
}

/// The whole file as a [`Cursor`](crate::pb::gogo_stream::Cursor), through one buffer.
struct FileCursor<R> {
    r: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    pos: u64,
    len: u64,
}

impl<R: futures_io::AsyncRead + Unpin> crate::pb::gogo_stream::Cursor for FileCursor<R> {
    fn pos(&self) -> u64 {
        self.pos
    }
    fn len(&self) -> u64 {
        self.len
    }
    async fn chunk(&mut self, max: u64) -> Result<&[u8]> {
        use futures_util::AsyncReadExt as _;
        if self.start == self.end {
            let want = usize::try_from(self.len - self.pos)
                .map_or(self.buf.len(), |r| r.min(self.buf.len()));
            let n = loop {
                match self.r.read(&mut self.buf[..want]).await {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            if n == 0 {
                // The file shrank since its size was taken.
                return Err(crate::pb::DecodeError::UnexpectedEof.into());
            }
            (self.start, self.end) = (0, n);
        }
        let n =
            usize::try_from(max).map_or(self.end - self.start, |m| m.min(self.end - self.start));
        let s = self.start;
        self.start += n;
        self.pos += n as u64;
        Ok(&self.buf[s..s + n])
    }
}

/// The part of a `data` field read so far, as a cursor for the inner walk: every byte taken
/// also goes through the CRC.
struct DataCursor<'a, C> {
    outer: &'a mut C,
    pos: u64,
    len: u64,
    crc: u32,
}

impl<C: crate::pb::gogo_stream::Cursor> crate::pb::gogo_stream::Cursor for DataCursor<'_, C> {
    fn pos(&self) -> u64 {
        self.pos
    }
    fn len(&self) -> u64 {
        self.len
    }
    async fn chunk(&mut self, max: u64) -> Result<&[u8]> {
        let c = self.outer.chunk(max.min(self.len - self.pos)).await?;
        self.crc = crc32c_append(self.crc, c);
        self.pos += c.len() as u64;
        Ok(c)
    }
}

/// One envelope `data` field: its length, CRC and the inner message's gogo verdict.
struct DataSeen {
    len: u64,
    crc: u32,
    inner: std::result::Result<(), crate::pb::DecodeError>,
}

/// The envelope walk's findings: the last `crc` and the last `data` (gogo: last one wins).
#[derive(Default)]
struct Envelope {
    crc: u32,
    data: Option<DataSeen>,
}

impl<C: crate::pb::gogo_stream::Cursor> crate::pb::gogo_stream::Fields<C> for Envelope {
    fn varint(&mut self, num: u32, v: u64) {
        if num == 1 {
            self.crc = v as u32; // gogo: `m.Crc |= uint32(b&0x7F) << shift`
        }
    }
    async fn bytes(&mut self, num: u32, c: &mut C, end: u64) -> Result<()> {
        use crate::pb::GogoMessage as _;
        use crate::pb::gogo_stream::{self, SkipBytes};
        if num != 2 {
            return gogo_stream::skip_to(c, end).await;
        }
        let len = end - c.pos();
        let mut d = DataCursor {
            outer: c,
            pos: 0,
            len,
            crc: 0,
        };
        let inner = match gogo_stream::walk(pb::Snapshot::schema(), &mut d, &mut SkipBytes).await {
            Ok(()) => Ok(()),
            Err(Error::Decode(e)) => Err(e),
            Err(e) => return Err(e),
        };
        // The rest of the field still counts for the CRC.
        gogo_stream::skip_to(&mut d, len).await?;
        self.data = Some(DataSeen {
            len,
            crc: d.crc,
            inner,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb::{ConfState, SnapshotMetadata};

    /// The piecewise layout must equal prost's plain two-step encoding, for absent, empty and
    /// multi-byte-length payloads.
    #[test]
    fn parts_equal_plain_encoding() {
        for data in [None, Some(Bytes::new()), Some(Bytes::from(vec![7u8; 300]))] {
            let snap = Snapshot {
                data,
                metadata: SnapshotMetadata {
                    conf_state: ConfState {
                        voters: vec![1, u64::MAX],
                        ..Default::default()
                    },
                    index: 1 << 40,
                    term: 3,
                },
            };
            let inner = pb::encode(&snap);
            let plain = pb::encode(&SnapFile {
                crc: crc32c(&inner),
                data: Some(Bytes::from(inner)),
            });
            assert_eq!(encode_snap_file(&snap), plain);
            assert_eq!(SnapFileParts::new(&snap).len(), plain.len());
        }
    }

    /// An `AsyncRead` over bytes that hands out 1..=`max` bytes per read, so cursor chunk
    /// boundaries fall everywhere.
    struct Dribble {
        data: Vec<u8>,
        pos: usize,
        rng: u64,
        max: usize,
    }

    impl futures_io::AsyncRead for Dribble {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let this = &mut *self;
            this.rng = xorshift(this.rng);
            let n = (1 + this.rng as usize % this.max)
                .min(buf.len())
                .min(this.data.len() - this.pos);
            buf[..n].copy_from_slice(&this.data[this.pos..this.pos + n]);
            this.pos += n;
            std::task::Poll::Ready(Ok(n))
        }
    }

    fn xorshift(mut x: u64) -> u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }

    fn verdict(r: Result<()>) -> String {
        match r {
            Ok(()) => "ok".into(),
            Err(e) => format!("{}: {e}", e.code()),
        }
    }

    /// The streaming verdict equals `decode_snap_file`'s on valid files and on thousands of
    /// mutations of them (flips, truncations, insertions, repeated and unknown fields),
    /// whatever the read sizes. Seeded; the seed is printed so a failure reproduces.
    #[test]
    fn streaming_verdict_equals_whole_file_verdict() {
        let seed = std::env::var("VERIFY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x9e37_79b9_7f4a_7c15u64);
        eprintln!("VERIFY_SEED={seed}");
        let mut rng = seed;
        let mut next = |n: usize| {
            rng = xorshift(rng);
            (rng % n.max(1) as u64) as usize
        };
        let mut bases = Vec::new();
        for data in [None, Some(Bytes::new()), Some(Bytes::from(vec![7u8; 300]))] {
            let snap = Snapshot {
                data,
                metadata: SnapshotMetadata {
                    conf_state: ConfState {
                        voters: vec![1, 2, u64::MAX],
                        learners: vec![9],
                        ..Default::default()
                    },
                    index: 1 << 40,
                    term: 3,
                },
            };
            bases.push(encode_snap_file(&snap));
        }
        // A file with an unknown envelope field and a group, and one with two data fields.
        let mut odd = bases[2].clone();
        odd.extend_from_slice(&[0x1a, 2, 0xaa, 0xbb, 0x23, 0x08, 1, 0x24]);
        bases.push(odd);
        let mut twice = bases[2].clone();
        twice.extend_from_slice(&bases[0][5..]);
        bases.push(twice);
        let mut checked = 0;
        let mut seen = std::collections::BTreeSet::new();
        for base in &bases {
            for round in 0..3000 {
                let mut f = base.clone();
                for _ in 0..=next(3) {
                    match next(5) {
                        0 if !f.is_empty() => {
                            let i = next(f.len());
                            f[i] ^= 1 << next(8);
                        }
                        1 if !f.is_empty() => {
                            let i = next(f.len());
                            f[i] = next(256) as u8;
                        }
                        2 => f.truncate(next(f.len() + 1)),
                        3 => {
                            let i = next(f.len() + 1);
                            f.insert(i, next(256) as u8);
                        }
                        _ => {
                            let i = next(f.len() + 1);
                            let k = [0x08, 0x12, 0x0a, 0x1a, 0x0b, 0x0c, 0xff, 0x80][next(8)];
                            f.insert(i, k);
                        }
                    }
                }
                if round == 0 {
                    f = base.clone();
                } else if let (0, Ok(env)) =
                    (round % 2, pb::decode::<SnapFile>(Bytes::from(base.clone())))
                {
                    // Mutate the inner message instead and seal it with a right CRC, so the
                    // inner decode's verdicts are reached too.
                    let mut inner = env.data.unwrap_or_default().to_vec();
                    if !inner.is_empty() {
                        let i = next(inner.len());
                        inner[i] ^= 1 << next(8);
                    }
                    let i = next(inner.len() + 1);
                    inner.insert(i, [0x0a, 0x12, 0x08, 0x1a, 0x0b, 0x0c, 0xff, 0x80][next(8)]);
                    f = pb::encode(&SnapFile {
                        crc: crc32c(&inner),
                        data: Some(Bytes::from(inner)),
                    });
                }
                let want = verdict(decode_snap_file(Bytes::from(f.clone())).map(|_| ()));
                let r = Dribble {
                    data: f.clone(),
                    pos: 0,
                    rng: seed ^ round as u64 | 1,
                    max: 1 + next(40),
                };
                let size = f.len() as u64;
                let got = verdict(futures_executor::block_on(verify_snap_stream(r, size)));
                assert_eq!(got, want, "seed {seed}, input {f:02x?}");
                seen.insert(want);
                checked += 1;
            }
        }
        assert_eq!(checked, bases.len() * 3000);
        eprintln!("{} distinct verdicts", seen.len());
        for v in [
            "ok",
            "ERR_CRC_MISMATCH: snap: crc mismatch",
            "ERR_EMPTY_SNAPSHOT: snap: empty snapshot",
            "ERR_DECODE: unexpected EOF",
        ] {
            assert!(seen.contains(v), "mutations never gave {v}");
        }
        assert!(seen.len() >= 10, "too few kinds of verdict: {seen:?}");
    }
}
