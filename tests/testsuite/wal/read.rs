//! `ReadAll`, `ValidSnapshotEntries` and `Repair` on WALs with known records.

use etcd_snap::pb::{self, HardState};
use etcd_snap::wal::{OpenMode, RepairOutcome, Wal};
use etcd_snap::{Error, WalSnapshot};
use futures_executor::block_on;

use super::{AT0, V34, V35, ids, read_all, vse};
use crate::support::wal::{CRC, ENTRY, WalBuilder, entry};

/// crc, metadata, snapshot{0,0}, entries 1..=3 (term 1), HardState commit 2, snapshot {2,1},
/// entries 4..=5, HardState commit 5.
fn sample() -> WalBuilder {
    let mut w = WalBuilder::create(b"metadata");
    w.entries(&[entry(1, 1, b"a"), entry(2, 1, b"bb"), entry(3, 1, b"ccc")]);
    w.state(1, 1, 2);
    w.snapshot(2, 1);
    w.entries(&[entry(4, 1, b"dddd"), entry(5, 1, b"")]);
    w.state(1, 1, 5);
    w
}

#[test]
fn read_all_returns_metadata_state_and_entries() {
    let s = sample().storage();
    for v in [V34, V35] {
        for mode in [OpenMode::Read, OpenMode::Write] {
            let r = read_all(&s, AT0, v, mode).unwrap();
            assert_eq!(&r.metadata[..], b"metadata");
            assert_eq!(
                r.state,
                HardState {
                    term: 1,
                    vote: 1,
                    commit: 5
                }
            );
            assert_eq!(ids(&r), [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]);
            assert!(r.snapshot_matched);
            assert!(r.error(mode).is_none());
            assert_eq!((r.torn_tail.clone(), r.zeroed_tail.clone()), (None, None));
            // Entry data read back, one at a time and in one pass.
            let wal = block_on(Wal::open(s.clone())).unwrap();
            let d = block_on(wal.entry_data(&r.entries[3])).unwrap();
            assert_eq!(&d[..], b"dddd");
            let mut all = Vec::new();
            block_on(wal.visit_entries(&r.entries, &mut |_, d| {
                all.push(d.to_vec());
                Ok(())
            }))
            .unwrap();
            assert_eq!(all, [&b"a"[..], b"bb", b"ccc", b"dddd", b""]);
            assert_eq!(r.entries[1].data_len, 2);
        }
    }
}

#[test]
fn opened_at_a_snapshot_returns_the_entries_after_it() {
    let s = sample().storage();
    let r = read_all(&s, WalSnapshot { index: 2, term: 1 }, V34, OpenMode::Read).unwrap();
    assert_eq!(ids(&r), [(3, 1), (4, 1), (5, 1)]);
    assert!(r.snapshot_matched);

    // Another term at that index: etcd's mismatch.
    let e = read_all(&s, WalSnapshot { index: 2, term: 7 }, V34, OpenMode::Read).unwrap_err();
    assert_eq!(e.to_string(), "wal: snapshot mismatch");
    assert_eq!(e.code(), "ERR_WAL_SNAPSHOT_MISMATCH");

    // No record at that index: read mode returns the data *and* `wal: snapshot not found`;
    // write mode's ReadAll loses that error (etcd wal/wal.go:543).
    let at4 = WalSnapshot { index: 4, term: 1 };
    let r = read_all(&s, at4, V34, OpenMode::Read).unwrap();
    assert!(!r.snapshot_matched);
    assert_eq!(ids(&r), [(5, 1)]);
    assert_eq!(
        r.error(OpenMode::Read).unwrap().to_string(),
        "wal: snapshot not found"
    );
    assert!(r.error(OpenMode::Write).is_none());
}

#[test]
fn valid_snapshot_entries_keep_those_at_or_below_commit() {
    let mut w = sample();
    w.snapshot(9, 2); // past the last commit (5): dropped
    let s = w.storage();
    let want = [
        WalSnapshot { index: 0, term: 0 },
        WalSnapshot { index: 2, term: 1 },
    ];
    assert_eq!(vse(&s, V34).unwrap(), want);
    assert_eq!(vse(&s, V35).unwrap(), want);
}

#[test]
fn a_later_lower_index_overwrites_the_tail_and_a_gap_is_out_of_range() {
    let mut w = sample();
    w.entries(&[entry(4, 2, b"new"), entry(5, 2, b"x"), entry(6, 2, b"y")]);
    let r = read_all(&w.storage(), AT0, V34, OpenMode::Read).unwrap();
    assert_eq!(ids(&r), [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)]);
    let wal = block_on(Wal::open(w.storage())).unwrap();
    assert_eq!(
        &block_on(wal.entry_data(&r.entries[3])).unwrap()[..],
        b"new"
    );

    w.entries(&[entry(8, 2, b"gap")]);
    let e = read_all(&w.storage(), AT0, V34, OpenMode::Read).unwrap_err();
    assert_eq!(e.to_string(), "wal: slice bounds out of range");
    assert_eq!(e.code(), "ERR_WAL_SLICE_OUT_OF_RANGE");
}

#[test]
fn conflicting_metadata_and_unknown_types_fail() {
    let mut w = sample();
    w.raw(1, Some(b"other".to_vec()));
    let e = read_all(&w.storage(), AT0, V34, OpenMode::Read).unwrap_err();
    assert_eq!(e.to_string(), "wal: conflicting metadata found");
    // The same metadata again is fine.
    let mut w = sample();
    w.raw(1, Some(b"metadata".to_vec()));
    assert!(read_all(&w.storage(), AT0, V34, OpenMode::Read).is_ok());

    let mut w = sample();
    w.raw(9, Some(vec![1]));
    let e = read_all(&w.storage(), AT0, V34, OpenMode::Read).unwrap_err();
    assert_eq!(e.to_string(), "unexpected block type 9");
    // ValidSnapshotEntries skips types it does not know.
    assert_eq!(vse(&w.storage(), V34).unwrap().len(), 2);
}

#[test]
fn an_undecodable_entry_is_etcds_panic() {
    let mut w = sample();
    w.raw(ENTRY, Some(vec![0x08])); // a key without its varint
    let e = read_all(&w.storage(), AT0, V34, OpenMode::Read).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unmarshal should never fail (unexpected EOF)"
    );
    assert_eq!(e.code(), "ERR_WAL_UNMARSHAL_PANIC");
}

#[test]
fn the_crc_chain_runs_across_segments() {
    let mut w = sample();
    w.cut(
        5,
        HardState {
            term: 1,
            vote: 1,
            commit: 5,
        },
    );
    w.entries(&[entry(6, 1, b"six")]);
    w.state(1, 1, 6);
    let s = w.storage();
    let r = read_all(&s, AT0, V34, OpenMode::Write).unwrap();
    assert_eq!(r.entries.last().unwrap().index, 6);
    assert_eq!(r.entries.last().unwrap().segment, 1);
    assert_eq!(r.state.commit, 6);

    // Segment 1's crc record not continuing segment 0: `wal: crc mismatch`.
    let mut bad = w.segments.clone();
    let at = w.records.iter().find(|a| a.seg == 1).unwrap();
    let rec_at = at.offset + 8;
    let mut rec: pb::WalRecord =
        pb::decode(bad[1].1[rec_at..rec_at + at.len - 8].to_vec().into()).unwrap();
    assert_eq!(rec.r#type, CRC);
    rec.crc ^= 1;
    let f = crate::support::wal::frame(&rec);
    assert_eq!(f.len(), at.len);
    bad[1].1[at.offset..at.offset + at.len].copy_from_slice(&f);
    let s = etcd_snap::storage::MemoryStorage::new();
    for (n, b) in &bad {
        s.insert(n, b.clone());
    }
    for mode in [OpenMode::Read, OpenMode::Write] {
        let e = read_all(&s, AT0, V34, mode).unwrap_err();
        assert_eq!(e.to_string(), "wal: crc mismatch");
        assert_eq!(e.code(), "ERR_WAL_CRC_MISMATCH");
    }
    assert!(matches!(vse(&s, V35), Err(Error::WalCrcMismatch)));
    // Opened at 5, reading starts in segment 1 with a fresh CRC: the crc record is taken as
    // it is, so the record after it fails its own check.
    let e = read_all(&s, WalSnapshot { index: 5, term: 1 }, V34, OpenMode::Read).unwrap_err();
    assert!(matches!(e, Error::WalRecordCrcMismatch), "{e}");
}

/// The last byte of the record framed at `offset` (its data's last byte), not its padding.
fn last_data_byte(seg: &[u8], offset: usize) -> usize {
    let word = u64::from_le_bytes(seg[offset..offset + 8].try_into().unwrap());
    offset + 8 + (word & 0x00ff_ffff_ffff_ffff) as usize - 1
}

#[test]
fn a_flipped_byte_in_the_padding_is_not_checked() {
    let w = sample();
    let at = w.records[4]; // entry 2: 20 bytes, 4 of padding
    let mut seg = w.segments[0].1.clone();
    seg[at.offset + at.len - 1] ^= 0x40;
    let s = etcd_snap::storage::MemoryStorage::new();
    s.insert(&w.segments[0].0, seg);
    assert_eq!(
        read_all(&s, AT0, V34, OpenMode::Write)
            .unwrap()
            .entries
            .len(),
        5
    );
}

#[test]
fn a_flipped_byte_in_a_middle_record_is_walpb_crc_mismatch() {
    let w = sample();
    let at = w.records[4]; // entry 2
    let mut seg = w.segments[0].1.clone();
    let k = last_data_byte(&seg, at.offset);
    seg[k] ^= 0x40;
    let s = etcd_snap::storage::MemoryStorage::new();
    s.insert(&w.segments[0].0, seg);
    for v in [V34, V35] {
        let e = read_all(&s, AT0, v, OpenMode::Read).unwrap_err();
        assert_eq!(e.to_string(), "walpb: crc mismatch");
        assert_eq!(e.code(), "ERR_WALPB_CRC_MISMATCH");
    }
}

#[test]
fn padding_is_skipped_and_the_zero_tail_ends_the_segment() {
    let mut w = sample();
    // Records of every length mod 8 (1..=8 data bytes), so every padding 0..=7 occurs.
    let ents: Vec<_> = (6..14)
        .map(|i| entry(i, 1, &vec![7u8; (i - 5) as usize]))
        .collect();
    w.entries(&ents);
    w.state(1, 1, 13);
    let pads: std::collections::BTreeSet<u8> = w
        .records
        .iter()
        .map(|a| w.segments[0].1[a.offset + 7])
        .collect();
    assert!(pads.len() >= 4, "paddings seen: {pads:?}");
    w.preallocate(64 * 1024);
    let s = w.storage();
    let r = read_all(&s, AT0, V34, OpenMode::Write).unwrap();
    assert_eq!(r.entries.len(), 13);
    assert!(r.zeroed_tail.is_none(), "all zeros already");

    // Non-zero bytes after the zero word: write mode's ZeroToEnd would clear them.
    let mut seg = s.get(&w.segments[0].0).unwrap();
    let end = w.records.last().map(|a| a.offset + a.len).unwrap();
    seg[end + 100] = 1;
    s.insert(&w.segments[0].0, seg);
    let r = read_all(&s, AT0, V34, OpenMode::Write).unwrap();
    let z = r.zeroed_tail.unwrap();
    assert_eq!(
        (z.offset, z.first_nonzero, z.len),
        (end as u64, end as u64 + 100, 64 * 1024 - end as u64)
    );
    // Read mode changes nothing, so reports nothing.
    assert!(
        read_all(&s, AT0, V34, OpenMode::Read)
            .unwrap()
            .zeroed_tail
            .is_none()
    );
}

#[test]
fn a_torn_last_record_is_repaired_in_write_mode_and_tolerated_in_read_mode() {
    let w = sample();
    let last = *w.records.last().unwrap(); // the final HardState (commit 5)
    let before = w.records[w.records.len() - 2]; // entry 5
    // Cut mid-record: io.ErrUnexpectedEOF.
    let mut seg = w.segments[0].1.clone();
    seg.truncate(before.offset + before.len / 2);
    let s = etcd_snap::storage::MemoryStorage::new();
    s.insert(&w.segments[0].0, seg.clone());
    for v in [V34, V35] {
        let r = read_all(&s, AT0, v, OpenMode::Read).unwrap();
        assert_eq!(ids(&r).last(), Some(&(4, 1)));
        assert_eq!(r.state.commit, 2);
        assert!(r.read_error.is_some());

        let r = read_all(&s, AT0, v, OpenMode::Write).unwrap();
        let t = r.torn_tail.clone().expect("torn tail");
        assert_eq!(t.offset, before.offset as u64);
        assert_eq!(t.lost_bytes, (before.len / 2) as u64);
        assert_eq!(ids(&r).last(), Some(&(4, 1)));
        let wal = block_on(Wal::open(s.clone())).unwrap();
        assert!(matches!(
            block_on(wal.repair(v)).unwrap(),
            RepairOutcome::Truncate(_)
        ));
    }
    assert_eq!(
        read_all(&s, AT0, V34, OpenMode::Write)
            .unwrap()
            .torn_tail
            .unwrap()
            .error,
        "unexpected EOF"
    );

    // A zeroed sector inside the last records (a torn write): the same, and the entries in
    // the removed bytes are counted.
    let mut seg = w.segments[0].1.clone();
    let end = last.offset + last.len;
    seg.resize(end.div_ceil(512) * 512 + 1024, 0);
    let zero_from = before.offset + 8;
    // Make the record torn: zero its data, keep its length word.
    for b in &mut seg[zero_from..before.offset + before.len] {
        *b = 0;
    }
    let s = etcd_snap::storage::MemoryStorage::new();
    s.insert(&w.segments[0].0, seg);
    let r = read_all(&s, AT0, V34, OpenMode::Write).unwrap();
    let t = r.torn_tail.clone().unwrap();
    assert_eq!(t.offset, before.offset as u64);
    assert_eq!(ids(&r).last(), Some(&(4, 1)));
}

#[test]
fn clean_wal_needs_no_repair() {
    let wal = block_on(Wal::open(sample().storage())).unwrap();
    assert_eq!(block_on(wal.repair(V34)).unwrap(), RepairOutcome::Clean);
}

#[test]
fn raw_records_walk_every_record_and_can_go_past_crc_errors() {
    let w = sample();
    let at = w.records[4];
    let mut seg = w.segments[0].1.clone();
    let k = last_data_byte(&seg, at.offset);
    seg[k] ^= 0x40;
    let s = etcd_snap::storage::MemoryStorage::new();
    s.insert(&w.segments[0].0, seg);
    let wal = block_on(Wal::open(s)).unwrap();
    let mut seen = Vec::new();
    let e = block_on(wal.raw_records(false, &mut |r| seen.push((r.offset, r.crc_ok)))).unwrap_err();
    assert_eq!(e.to_string(), "walpb: crc mismatch");
    assert_eq!(seen.len(), 5);
    assert!(!seen[4].1);
    let mut seen = Vec::new();
    block_on(wal.raw_records(true, &mut |r| seen.push((r.record_type, r.crc_ok)))).unwrap();
    assert_eq!(seen.len(), w.records.len());
    assert_eq!(seen.iter().filter(|r| !r.1).count(), 1, "{seen:?}");
}

#[test]
fn a_torn_write_counts_the_entries_repair_loses() {
    let mut w = sample();
    let big = w.raw(ENTRY, Some(pb::encode(&entry(6, 1, &[9u8; 2000]))));
    w.entries(&[entry(7, 1, b"seven"), entry(8, 1, b"eight")]);
    w.state(1, 1, 8);
    let mut seg = w.segments[0].1.clone();
    // One whole sector inside entry 6's data never reached the disk.
    let sector = (big.offset + 8).div_ceil(512) * 512;
    seg[sector..sector + 512].fill(0);
    let s = etcd_snap::storage::MemoryStorage::new();
    s.insert(&w.segments[0].0, seg.clone());
    let r = read_all(&s, AT0, V34, OpenMode::Write).unwrap();
    let t = r.torn_tail.clone().unwrap();
    assert_eq!(t.offset, big.offset as u64);
    assert_eq!(t.lost_bytes, (seg.len() - big.offset) as u64);
    assert_eq!(t.lost_entries, 3, "entries 6, 7, 8");
    assert_eq!(ids(&r).last(), Some(&(5, 1)));
    assert_eq!(r.state.commit, 5);
    // In a middle segment the same damage is not a torn write: a CRC error.
    let mut w2 = WalBuilder::create(b"metadata");
    w2.cut(8, HardState::default());
    let s2 = etcd_snap::storage::MemoryStorage::new();
    s2.insert(&w.segments[0].0, seg);
    s2.insert(&w2.segments[1].0, w2.segments[1].1.clone());
    let e = read_all(&s2, AT0, V34, OpenMode::Write).unwrap_err();
    assert!(matches!(e, Error::WalRecordCrcMismatch), "{e}");
}
