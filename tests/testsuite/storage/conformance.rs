//! The storage conformance suite, run for MemoryStorage and NativeStorage (one test per check
//! and backend, each on a fresh empty directory).

use etcd_snap::storage::conformance::{CHECKS, run_one};
use etcd_snap::storage::{MemoryStorage, NativeStorage};
use futures_executor::block_on;

fn memory(check: &str) {
    block_on(run_one(check, MemoryStorage::new()));
}

fn native(check: &str) {
    let dir = tempfile::tempdir().unwrap();
    block_on(run_one(check, NativeStorage::new(dir.path())));
}

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::memory(stringify!($name)); } )*
        }
        mod native {
            $( #[test] fn $name() { super::native(stringify!($name)); } )*
        }
        /// Every check in the suite has a test here.
        #[test]
        fn every_check_is_listed() {
            let mut ours = vec![$(stringify!($name)),*];
            let mut all = CHECKS.to_vec();
            ours.sort();
            all.sort();
            assert_eq!(ours, all);
        }
    };
}

// The suite's own list (src/storage/conformance.rs), one test per check and backend.
etcd_snap::storage_conformance_checks!(checks);

/// `run_all` drives the same checks through a factory.
#[test]
fn run_all_memory() {
    block_on(etcd_snap::storage::conformance::run_all(|| async {
        MemoryStorage::new()
    }));
}

#[test]
#[should_panic(expected = "unknown conformance check")]
fn unknown_check_panics() {
    memory("no_such_check");
}
