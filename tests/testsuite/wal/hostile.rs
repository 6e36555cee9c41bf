//! Hostile length words and random damage: typed errors, never a panic, never an allocation
//! sized by a length word (the allocation bound itself is measured in tests/alone).

use etcd_snap::Error;
use etcd_snap::pb::HardState;
use etcd_snap::storage::MemoryStorage;
use etcd_snap::wal::{OpenMode, Wal};
use futures_executor::block_on;
use proptest::prelude::*;

use super::{AT0, V34, V35, read_all, vse};
use crate::support::wal::{WalBuilder, entry};

fn with_frame(word: u64, tail: &[u8]) -> (MemoryStorage, u64) {
    let mut w = WalBuilder::create(b"m");
    w.entries(&[entry(1, 1, b"x")]);
    let mut f = word.to_le_bytes().to_vec();
    f.extend_from_slice(tail);
    let at = w.push_frame(f);
    (w.storage(), at.offset as u64)
}

#[test]
fn a_length_past_the_file_is_an_unexpected_eof_or_etcds_limit() {
    // 1 KiB declared, 16 bytes present.
    let (s, _) = with_frame(1024, &[1; 16]);
    for v in [V34, V35] {
        // Read mode tolerates it.
        let r = read_all(&s, AT0, v, OpenMode::Read).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert!(r.read_error.is_some());
    }
    let r = read_all(&s, AT0, V34, OpenMode::Read).unwrap();
    assert_eq!(r.read_error.as_deref(), Some("unexpected EOF"));
    let r = read_all(&s, AT0, V35, OpenMode::Read).unwrap();
    let msg = r.read_error.unwrap();
    assert!(
        msg.starts_with("unexpected EOF: [wal] max entry size limit exceeded when decoding \"0000000000000000-0000000000000000.wal\", recBytes: 1024, fileSize("),
        "{msg}"
    );

    // 2^56 - 1: 3.4's 10 MiB limit, which nothing tolerates; 3.5's file-size limit.
    let (s, off) = with_frame((1 << 56) - 1, &[]);
    let e = read_all(&s, AT0, V34, OpenMode::Read).unwrap_err();
    assert!(matches!(e, Error::WalMaxEntrySize), "{e}");
    assert_eq!(e.to_string(), "wal: max entry size limit exceeded");
    assert!(matches!(vse(&s, V34), Err(Error::WalMaxEntrySize)));
    assert_eq!(vse(&s, V35).unwrap().len(), 1);
    let e = read_all(&s, AT0, V35, OpenMode::Read)
        .unwrap()
        .read_error
        .unwrap();
    assert_eq!(
        e,
        format!(
            "unexpected EOF: [wal] max entry size limit exceeded when decoding \"0000000000000000-0000000000000000.wal\", recBytes: {}, fileSize({}) - offset({off}) - padBytes(0) = entryLimit(8)",
            (1u64 << 56) - 1,
            off + 8
        )
    );
    // 3.5's wrapped error is an unexpected EOF to `errors.Is`: etcdserver repairs it (3.4's
    // limit error is fatal there).
    let r = read_all(&s, AT0, V35, OpenMode::Write).unwrap();
    assert_eq!(r.torn_tail.unwrap().offset, off);
    assert!(matches!(
        read_all(&s, AT0, V34, OpenMode::Write),
        Err(Error::WalMaxEntrySize)
    ));
}

#[test]
fn length_word_two_to_the_63_is_an_empty_record() {
    // 0x80 << 56: the padding flag with no length. The empty record's CRC (0) is not the
    // running CRC.
    let (s, _) = with_frame(1 << 63, &[]);
    for v in [V34, V35] {
        let e = read_all(&s, AT0, v, OpenMode::Read).unwrap_err();
        assert!(matches!(e, Error::WalRecordCrcMismatch), "{e}");
    }
}

#[test]
fn padding_bits_above_three_are_ignored() {
    // 0xff top byte: pad = 7 (only the low 3 bits count), length 1.
    let (s, _) = with_frame(0xff00_0000_0000_0001, &[0x0f, 0, 0, 0, 0, 0, 0, 0]);
    let e = read_all(&s, AT0, V34, OpenMode::Read).unwrap_err();
    // One byte `0x0f` (field 1, wire type 7) is gogo's error, not tolerated.
    assert_eq!(e.code(), "ERR_DECODE", "{e}");
    assert_eq!(e.to_string(), "proto: wrong wireType = 7 for field Type");
}

fn damaged_base() -> WalBuilder {
    let mut w = WalBuilder::create(b"metadata");
    w.entries(&[entry(1, 1, b"a"), entry(2, 1, b"bbbbbbbbbbbbbbbbbbbbbbb")]);
    w.state(1, 1, 2);
    w.snapshot(2, 1);
    w.cut(
        2,
        HardState {
            term: 1,
            vote: 1,
            commit: 2,
        },
    );
    w.entries(&[entry(3, 2, b"c"), entry(2, 2, b"over"), entry(3, 2, b"d")]);
    w.state(2, 1, 3);
    w.preallocate(2048);
    w
}

fn is_typed_wal_error(e: &Error) -> bool {
    matches!(
        e,
        Error::WalCrcMismatch
            | Error::WalRecordCrcMismatch
            | Error::WalFileNotFound
            | Error::WalSliceOutOfRange
            | Error::WalSnapshotMismatch
            | Error::WalMetadataConflict
            | Error::WalUnexpectedEof
            | Error::WalMaxEntrySize
            | Error::WalMaxEntrySizeEof { .. }
            | Error::WalUnexpectedBlockType(_)
            | Error::WalUnmarshalPanic(_)
            | Error::Decode(_)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn flips_and_truncations_never_panic(
        seg in 0usize..2,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let w = damaged_base();
        let s = MemoryStorage::new();
        for (i, (name, bytes)) in w.segments.iter().enumerate() {
            let mut b = bytes.clone();
            if i == seg {
                for (at, x) in &flips {
                    let k = at.index(b.len());
                    b[k] ^= x;
                }
                if let Some(c) = cut {
                    b.truncate(c.index(b.len()));
                }
            }
            s.insert(name, b);
        }
        for v in [V34, V35] {
            for mode in [OpenMode::Read, OpenMode::Write] {
                match read_all(&s, AT0, v, mode) {
                    Ok(r) => {
                        // Entries stay in index order, one apart.
                        for p in r.entries.windows(2) {
                            prop_assert_eq!(p[1].index, p[0].index + 1);
                        }
                        let wal = block_on(Wal::open(s.clone())).unwrap();
                        block_on(wal.visit_entries(&r.entries, &mut |_, _| Ok(()))).unwrap();
                    }
                    Err(e) => prop_assert!(is_typed_wal_error(&e), "{e:?}"),
                }
            }
            if let Err(e) = vse(&s, v) {
                prop_assert!(is_typed_wal_error(&e), "{e:?}");
            }
        }
        let wal = block_on(Wal::open(s.clone())).unwrap();
        let _ = block_on(wal.raw_records(true, &mut |_| {}));
    }
}

#[test]
fn a_record_cut_inside_a_field_is_io_unexpected_eof() {
    // The frame says 4 bytes: `1a 05 ..`, a data field of 5 bytes with 2 present. gogo returns
    // io.ErrUnexpectedEOF itself, which etcd tolerates in read mode, even in a middle
    // segment (found by tests/interop/wal.rs's random damage against etcd).
    let (s, _) = with_frame(0x8400_0000_0000_0004, &[0x1a, 0x05, 1, 2, 0, 0, 0, 0]);
    let mut w2 = WalBuilder::create(b"m");
    w2.cut(9, HardState::default());
    s.insert(&w2.segments[1].0, w2.segments[1].1.clone());
    let r = read_all(&s, AT0, V34, OpenMode::Read).unwrap();
    assert_eq!(r.read_error.as_deref(), Some("unexpected EOF"));
    assert_eq!(r.entries.len(), 1);
}
