//! Shared by the Snapshotter integration tests: one [`Env`] per backend, so every test body is
//! written once and runs against both `MemoryStorage` and `NativeStorage` (in a temp dir).

use std::path::{Path, PathBuf};

use etcd_snap::storage::{MemoryStorage, NativeStorage};
use etcd_snap::{Options, Snapshotter, Storage};

/// A snap folder under test, plus back doors that bypass the Snapshotter (and count no
/// fault-injection steps) to arrange and inspect it.
pub trait Env {
    /// The backend.
    type S: Storage;
    /// A fresh, empty folder.
    fn new() -> Self;
    /// A new handle on the same folder.
    fn storage(&self) -> Self::S;
    /// Writes a file (replacing it), durably.
    fn put(&self, name: &str, bytes: &[u8]);
    /// Creates an empty directory entry.
    fn mkdir(&self, name: &str);
    /// Every entry name, sorted byte-wise.
    fn names(&self) -> Vec<String>;
    /// A file's contents (`None` if absent or a directory).
    fn get(&self, name: &str) -> Option<Vec<u8>>;
    /// Copies every file of a (flat) host folder in.
    fn put_dir(&self, dir: &Path) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                self.put(
                    e.file_name().to_str().unwrap(),
                    &std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
}

/// The in-memory backend.
pub struct MemEnv(pub MemoryStorage);

impl Env for MemEnv {
    type S = MemoryStorage;
    fn new() -> Self {
        MemEnv(MemoryStorage::new())
    }
    fn storage(&self) -> MemoryStorage {
        self.0.clone()
    }
    fn put(&self, name: &str, bytes: &[u8]) {
        self.0.insert(name, bytes.to_vec());
    }
    fn mkdir(&self, name: &str) {
        self.0.mkdir(name);
    }
    fn names(&self) -> Vec<String> {
        let mut v = self.0.names();
        v.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        v
    }
    fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.0.get(name)
    }
}

/// The std::fs backend in a fresh temp dir (removed on drop).
pub struct NativeEnv {
    pub dir: tempfile::TempDir,
}

impl NativeEnv {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Env for NativeEnv {
    type S = NativeStorage;
    fn new() -> Self {
        NativeEnv {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    fn storage(&self) -> NativeStorage {
        NativeStorage::new(self.dir.path())
    }
    fn put(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).unwrap();
    }
    fn mkdir(&self, name: &str) {
        std::fs::create_dir(self.path(name)).unwrap();
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        v
    }
    fn get(&self, name: &str) -> Option<Vec<u8>> {
        let p = self.path(name);
        if p.is_file() {
            Some(std::fs::read(p).unwrap())
        } else {
            None
        }
    }
}

/// Opens with the default options (lock, tmp cleanup, max_broken 5).
pub async fn open<E: Env>(env: &E) -> Snapshotter<E::S> {
    Snapshotter::open(env.storage(), Options::default())
        .await
        .expect("open")
}

/// The fixtures folder (tests/fixtures/etcd-3.4.23, see its README; read-only: tests copy files
/// into a fresh [`Env`] before loading).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/etcd-3.4.23")
}

/// Names starting with `tmp`.
pub fn tmp_names(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| n.starts_with("tmp"))
        .cloned()
        .collect()
}

/// Generates `mod memory { #[test] fn name() }` (and the same for native) for async test
/// bodies `async fn name<E: Env>(env: E)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    futures_executor::block_on(super::$name(
                        <$crate::support::snapshotter::MemEnv as $crate::support::snapshotter::Env>::new(),
                    ));
                }
            )*
        }
        mod native {
            $(
                #[test]
                fn $name() {
                    futures_executor::block_on(super::$name(
                        <$crate::support::snapshotter::NativeEnv as $crate::support::snapshotter::Env>::new(),
                    ));
                }
            )*
        }
    };
}
