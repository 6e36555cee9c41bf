//! `storage::ReadOnly`, the view the doctor reads member folders through, under etcd's rules.

use etcd_snap::storage::{MemoryStorage, ReadOnly};
use etcd_snap::{Options, Snapshotter};
use futures_executor::block_on;

/// `Load` over a read-only view renames no unreadable `.snap` to `.broken`.
#[test]
fn a_snapshotter_over_it_renames_nothing() {
    let mem = MemoryStorage::new();
    mem.insert("0000000000000001-0000000000000001.snap", b"junk".to_vec());
    let ro = ReadOnly::new(mem.clone());
    let opts = Options {
        lock: None,
        ..Default::default()
    };
    block_on(async {
        let s = Snapshotter::open(ro, opts).await.unwrap();
        assert!(s.load().await.is_err());
    });
    assert!(mem.get("0000000000000001-0000000000000001.snap").is_some());
    assert_eq!(mem.names().len(), 1);
}
