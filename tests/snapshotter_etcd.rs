//! etcd's `snapshotter_test.go` ported (spec §9), plus the spec's "extra acceptance cases"
//! from runs of etcd's own code, against both native backends. The bodies live in the shared
//! suite (tests/snapshotter_suite/mod.rs), which the wasm runners run on the other backends.
#![cfg(not(target_arch = "wasm32"))]

#[path = "snapshotter_suite/mod.rs"]
mod suite;

use std::path::PathBuf;

use etcd_snap::storage::{MemoryStorage, NativeStorage};
use suite::Folder;

/// The in-memory backend; back doors through `MemoryStorage`'s test accessors (no writer, no
/// fault-injection steps).
struct MemFolder(MemoryStorage);

impl Folder for MemFolder {
    type S = MemoryStorage;
    fn storage(&self) -> MemoryStorage {
        self.0.clone()
    }
    async fn mkdir(&self, name: &str) {
        self.0.mkdir(name);
    }
    async fn put(&self, name: &str, bytes: &[u8]) {
        self.0.insert(name, bytes.to_vec());
    }
    async fn names(&self) -> Vec<String> {
        let mut v = self.0.names();
        v.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        v
    }
    async fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.0.get(name)
    }
}

/// The std::fs backend in a fresh temp dir (removed on drop); back doors through std::fs, so
/// the checks see the real directory, not the backend's view of it.
struct NativeFolder(tempfile::TempDir);

impl NativeFolder {
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

impl Folder for NativeFolder {
    type S = NativeStorage;
    fn storage(&self) -> NativeStorage {
        NativeStorage::new(self.0.path())
    }
    async fn mkdir(&self, name: &str) {
        std::fs::create_dir(self.path(name)).unwrap();
    }
    async fn put(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).unwrap();
    }
    async fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.0.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        v
    }
    async fn get(&self, name: &str) -> Option<Vec<u8>> {
        let p = self.path(name);
        p.is_file().then(|| std::fs::read(p).unwrap())
    }
}

/// Every suite entry, for a runner that runs them all.
macro_rules! all_entries {
    ($runner:literal, $make:expr) => {
        $crate::snapshotter_suite_native!(
            runner: $runner,
            folder: $make,
            run: [
                save_and_load,
                bad_crc,
                failback,
                snap_names,
                load_newest_snap,
                no_snapshot,
                empty_snapshot,
                all_snapshot_broken,
                release_snap_dbs,
                save_snap_index_zero_is_noop,
                save_snap_overwrites,
                mixed_directory_as_etcd,
                mixed_directory_default_open,
                save_db_from_cases,
                save_db_from_keeps_typed_reader_errors,
                save_db_from_streams_large,
                db_file_path,
                release_snap_dbs_parse_rules,
                lock_fail_gives_err_locked,
                lock_wait_until_released,
                no_cleanup_without_lock,
                load_bounds_broken_files,
                prune_keeps_valid_broken_files,
                list_reports_kinds_and_verdicts,
                real_etcd_fixtures,
                read_missing_is_not_found,
            ],
            excluded: [],
        );
    };
}

mod memory {
    use super::*;
    all_entries!("native memory", MemFolder(MemoryStorage::new()));
}

mod native {
    use super::*;
    all_entries!(
        "native std::fs",
        NativeFolder(tempfile::tempdir().expect("tempdir"))
    );
}
