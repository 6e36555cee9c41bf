//! The WAL reader's memory is bounded by its buffers, not by the WAL: 64 preallocated
//! 64 MB segments (sparse files, as etcd's `cut` leaves them) read through `NativeStorage`,
//! and a hostile length word of 2^56 − 1 at the end, allocate nothing large and keep little
//! live (the counting allocator is the one of largest_alloc.rs).

use std::sync::atomic::Ordering;

use etcd_snap::pb::HardState;
use etcd_snap::storage::NativeStorage;
use etcd_snap::wal::{EtcdVersion, OpenMode, Wal};
use etcd_snap::{Error, WalSnapshot};
use futures_executor::block_on;

use crate::largest_alloc::{LARGEST, LIVE, PEAK_LIVE};
use crate::support::wal::{WalBuilder, entry};

const SEGMENT: u64 = 64 * 1000 * 1000;

#[test]
fn many_64mb_segments_and_a_hostile_length_allocate_nothing_large() {
    const SEGMENTS: u64 = 64;
    const PER_SEGMENT: u64 = 20;
    const ENTRIES: usize = (SEGMENTS * PER_SEGMENT) as usize;
    let _alone = crate::alone();
    let dir = tempfile::tempdir().unwrap();
    let mut w = WalBuilder::create(b"metadata");
    let mut index = 0;
    for seg in 0..SEGMENTS {
        if seg > 0 {
            w.cut(
                index,
                HardState {
                    term: 1,
                    vote: 1,
                    commit: index,
                },
            );
        }
        for _ in 0..PER_SEGMENT {
            index += 1;
            w.entries(&[entry(index, 1, &[7u8; 300])]);
        }
        w.state(1, 1, index);
    }
    // Hostile: a length word of 2^56 - 1 right after the last record.
    w.push_frame(((1u64 << 56) - 1).to_le_bytes().to_vec());
    for (name, bytes) in &w.segments {
        let f = std::fs::File::create(dir.path().join(name)).unwrap();
        use std::io::Write as _;
        (&f).write_all(bytes).unwrap();
        f.set_len(SEGMENT).unwrap();
    }
    let wal = block_on(Wal::open(NativeStorage::new(dir.path()))).unwrap();
    assert_eq!(wal.listing().segments.len(), SEGMENTS as usize);
    let at = WalSnapshot { index: 0, term: 0 };

    LARGEST.store(0, Ordering::Relaxed);
    let live_before = LIVE.load(Ordering::Relaxed);
    PEAK_LIVE.store(live_before, Ordering::Relaxed);
    // 3.4: the 10 MiB limit, fatal; 3.5: the file-size limit, tolerated in read mode and
    // repaired in write mode.
    let e = block_on(wal.read_all(at, EtcdVersion::V3_4, OpenMode::Read)).unwrap_err();
    assert!(matches!(e, Error::WalMaxEntrySize), "{e}");
    let r = block_on(wal.read_all(at, EtcdVersion::V3_5, OpenMode::Read)).unwrap();
    assert_eq!(r.entries.len(), ENTRIES);
    let r = block_on(wal.read_all(at, EtcdVersion::V3_5, OpenMode::Write)).unwrap();
    assert_eq!(r.entries.len(), ENTRIES);
    assert!(r.torn_tail.is_some());
    assert_eq!(
        block_on(wal.valid_snapshot_entries(EtcdVersion::V3_5))
            .unwrap()
            .len(),
        1
    );
    let mut n = 0;
    block_on(wal.visit_entries(&r.entries, &mut |_, d| {
        n += d.len();
        Ok(())
    }))
    .unwrap();
    assert_eq!(n, ENTRIES * 300);
    let largest = LARGEST.load(Ordering::Relaxed);
    let peak = PEAK_LIVE.load(Ordering::Relaxed) - live_before;
    // The EntryInfo list (1280 × 56 bytes) and one 64 KiB read buffer at a time (not one per
    // segment: 64 of them would be 4 MiB).
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
    assert!(peak < 1536 << 10, "peak live memory {peak} bytes");
    eprintln!(
        "wal: 64 × 64 MB segments read with largest allocation {largest} B, peak live {peak} B"
    );
}
