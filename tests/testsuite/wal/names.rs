//! Segment names and the folder listing, as etcd's wal/util.go treats them.

use etcd_snap::storage::MemoryStorage;
use etcd_snap::wal::{OpenMode, SegmentName, Wal};
use etcd_snap::{Error, WalSnapshot};
use futures_executor::block_on;

use super::{AT0, V34, read_all};
use crate::support::wal::WalBuilder;

#[test]
fn names_parse_and_format_as_etcd() {
    let n = SegmentName {
        seq: 3,
        index: 0x1f,
    };
    assert_eq!(n.to_string(), "0000000000000003-000000000000001f.wal");
    assert_eq!(SegmentName::parse(&n.to_string()), Some(n));
    // Go's Sscanf is lenient: short numbers, upper case, text after the ".wal" it matched.
    assert_eq!(SegmentName::parse("3-1F.wal"), Some(n));
    assert_eq!(
        SegmentName::parse("0000000000000003-000000000000001f.wal.wal"),
        Some(n)
    );
    for bad in [
        "0000000000000003-000000000000001f.wal.tmp",
        "0000000000000003-000000000000001f.wal.broken",
        "0000000000000003_000000000000001f.wal",
        "-1.wal",
        "0.tmp",
        "",
    ] {
        assert_eq!(SegmentName::parse(bad), None, "{bad}");
    }
}

#[test]
fn listing_classifies_and_sorts_as_etcd() {
    let s = MemoryStorage::new();
    for name in [
        "0000000000000001-0000000000000005.wal",
        "0000000000000000-0000000000000000.wal",
        "0.tmp",
        "1.tmp",
        "0000000000000001-0000000000000005.wal.broken",
        "x.wal.tmp",
        "notes.txt",
    ] {
        s.insert(name, Vec::new());
    }
    let wal = block_on(Wal::open(s)).unwrap();
    let l = wal.listing();
    let segs: Vec<_> = l.segments.iter().map(|s| (s.seq, s.index)).collect();
    assert_eq!(segs, [(0, 0), (1, 5)]);
    assert_eq!(l.spares, ["0.tmp", "1.tmp"]);
    assert_eq!(
        l.leftovers,
        ["0000000000000001-0000000000000005.wal.broken", "x.wal.tmp"]
    );
    assert_eq!(l.other, ["notes.txt"]);
}

#[test]
fn no_segment_gap_or_late_first_index_is_file_not_found() {
    // No segment at all.
    let empty = MemoryStorage::new();
    empty.insert("0.tmp", Vec::new());
    let e = read_all(&empty, AT0, V34, OpenMode::Read).unwrap_err();
    assert!(matches!(e, Error::WalFileNotFound), "{e}");
    assert_eq!(e.to_string(), "wal: file not found");
    assert_eq!(e.code(), "ERR_WAL_FILE_NOT_FOUND");
    assert!(matches!(
        super::vse(&empty, V34),
        Err(Error::WalFileNotFound)
    ));

    // A gap in the sequence after the selected segment (1 then 3; etcd's isValidSeq checks
    // nothing after a seq 0, so 0 then 2 would pass).
    let mut w = WalBuilder::create(b"m");
    w.state(1, 1, 0);
    let s = w.storage();
    s.insert("0000000000000001-0000000000000005.wal", Vec::new());
    s.insert("0000000000000003-0000000000000009.wal", Vec::new());
    let e = read_all(&s, AT0, V34, OpenMode::Read).unwrap_err();
    assert!(matches!(e, Error::WalFileNotFound), "{e}");
    let zero_then_two = w.storage();
    zero_then_two.insert("0000000000000002-0000000000000009.wal", Vec::new());
    assert!(read_all(&zero_then_two, AT0, V34, OpenMode::Read).is_ok());
    // ... and opened at index 9 the gap is before the selection.
    let at9 = WalSnapshot { index: 9, term: 1 };
    assert!(read_all(&s, at9, V34, OpenMode::Read).is_ok());

    // The only segment starts after the snapshot index.
    let s = MemoryStorage::new();
    s.insert("0000000000000000-0000000000000010.wal", Vec::new());
    let e = read_all(&s, WalSnapshot { index: 5, term: 1 }, V34, OpenMode::Read).unwrap_err();
    assert!(matches!(e, Error::WalFileNotFound), "{e}");
}
