//! etcd's etcdserver/api/snap/snapshotter_test.go ported, plus more cases whose answers come
//! from runs of etcd's own code, against both native backends. The bodies live in the shared
//! suite (tests/support/snapshotter_suite/mod.rs), which the wasm runners run on the other
//! backends.

use std::path::PathBuf;

use crate::suite::Folder;
use etcd_snap::storage::{MemoryStorage, NativeStorage};

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

mod memory {
    use super::*;
    crate::snapshotter_suite_all!(
        snapshotter_suite_native,
        "native memory",
        MemFolder(MemoryStorage::new())
    );
}

mod native {
    use super::*;
    crate::snapshotter_suite_all!(
        snapshotter_suite_native,
        "native std::fs",
        NativeFolder(tempfile::tempdir().expect("tempdir"))
    );
}
