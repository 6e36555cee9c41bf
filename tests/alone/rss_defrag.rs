//! `defrag` of a 512 MiB db keeps this process's peak RSS bounded: the source is read a page
//! at a time, the writer holds about a page per tree level and at most one output chunk
//! (src/inspect/bbolt/write.rs), for both of its passes.

use etcd_snap::inspect::bbolt::write::{self, Op, OpsFeed, Options};
use etcd_snap::inspect::{Db, FileSource};
use etcd_snap::storage::NativeStorage;
use futures_executor::block_on;

/// Peak resident memory of this process (Linux `VmHWM`), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

const KEYS: u64 = 128 * 1024;
const VALUE: usize = 2048;

/// 128 Ki keys of 2 KiB in one bucket (two to a node, 512 MiB of pages), plus a small one,
/// made lazily.
fn ops() -> impl Iterator<Item = etcd_snap::Result<Op>> {
    let key = (0..KEYS).map(|i| Op::Put {
        key: i.to_be_bytes().to_vec(),
        value: vec![(i % 251) as u8; VALUE],
    });
    [Op::Bucket {
        name: b"key".to_vec(),
        sequence: 0,
    }]
    .into_iter()
    .chain(key)
    .chain([
        Op::End,
        Op::Bucket {
            name: b"meta".to_vec(),
            sequence: 0,
        },
        Op::Put {
            key: b"consistent_index".to_vec(),
            value: 7u64.to_be_bytes().to_vec(),
        },
        Op::End,
    ])
    .map(Ok)
}

#[test]
fn defrag_of_a_large_db_runs_in_bounded_memory() {
    let _alone = crate::alone();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("db");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&src).unwrap());
        write::write_to(Options::default(), &mut OpsFeed::new(ops), &mut out).unwrap();
    }
    let size = std::fs::metadata(&src).unwrap().len();
    assert!(size > 256 << 20, "{size}");
    if cfg!(target_os = "linux") {
        std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    }
    let before = peak_rss();
    let started = std::time::Instant::now();
    let db = Db::open(FileSource::open(&src).unwrap()).unwrap();
    let storage = NativeStorage::new(dir.path());
    let report = block_on(etcd_snap::defrag::defrag(&db, &storage, "db.defrag")).unwrap();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "defrag: {} MiB in {secs:.2} s (check, plan, write, fsync)",
        size >> 20
    );
    assert_eq!(report.keys, KEYS + 1);
    assert_eq!(
        std::fs::metadata(dir.path().join("db.defrag"))
            .unwrap()
            .len(),
        report.after.file_bytes
    );
    if let (Some(b), Some(a)) = (before, peak_rss()) {
        let grew = a.saturating_sub(b);
        eprintln!(
            "peak RSS grew by {} KiB for a {} MiB db",
            grew / 1024,
            size >> 20
        );
        assert!(grew < 32 << 20, "peak RSS grew by {grew} bytes");
    }
}
