//! Helpers shared by the native test binaries (`testsuite`, `interop`, `alone`; see
//! tests/README.md): where the fixtures are, temp copies of fixture folders, running the
//! `etcd-snap` binary; in submodules a real etcd server ([`etcd`]), the doctor's ground truth
//! ([`doctor_cases`]), the pb tests' strategies
//! ([`pb`]) and the Snapshotter tests' backends ([`snapshotter`]).
//!
//! Each binary declares it once at its root (`#[path = "../support/mod.rs"] mod support;`)
//! and its modules use `crate::support::…`. Not every binary uses every helper, hence the
//! `dead_code` allowance.

#![allow(dead_code)]

pub mod doctor_cases;
pub mod etcd;
pub mod go;
pub mod pb;
pub mod snapshotter;
pub mod wal;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The vendored real-etcd fixtures (`tests/fixtures/etcd-3.4.23`, read-only). See its README.
pub fn fixtures() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/etcd-3.4.23");
    assert!(p.is_dir(), "fixtures missing at {}", p.display());
    p
}

/// Copies the regular files of `src` (flat) into `dst` (created if needed), writable, so
/// `Load` may rename and `release` may remove them. Returns `dst`.
pub fn copy_dir(src: &Path, dst: &Path) -> PathBuf {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            let to = dst.join(e.file_name());
            std::fs::copy(e.path(), &to).unwrap();
            let mut perm = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).unwrap();
        }
    }
    dst.to_path_buf()
}

/// Sorted names in a directory.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The result of one `etcd-snap` run.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "etcd-snap failed: {self:#?}");
        &self.stdout
    }

    /// Asserts success and parses stdout as one JSON value.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("bad JSON ({e}): {self:#?}"))
    }

    /// Asserts an operation failure (exit 1, nothing on stdout) and returns the last line of
    /// stderr: etcd's error string.
    #[track_caller]
    pub fn err(&self) -> &str {
        assert_eq!(self.code, Some(1), "expected failure: {self:#?}");
        assert_eq!(self.stdout, "", "a failure prints nothing on stdout");
        self.stderr
            .lines()
            .last()
            .unwrap_or_else(|| panic!("empty stderr: {self:#?}"))
    }
}

/// The built `etcd-snap` binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_etcd-snap")
}

/// Runs `etcd-snap ARGS` with empty stdin.
pub fn etcd_snap<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(bin());
    cmd.args(args).stdin(Stdio::null());
    Run::from(with_spawn_retry(|| cmd.output()))
}

/// Runs `f` (a spawn), retrying for a few seconds while the binary is missing or busy: a
/// `cargo build` running at the same time in the shared dev tree relinks `target/debug/etcd-snap`
/// under our feet. CI runs one cargo at a time and never hits this.
fn with_spawn_retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> T {
    let mut tries = 0;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e)
                if tries < 50
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::ExecutableFileBusy
                    ) =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("run {}: {e}", bin()),
        }
    }
}

/// Runs `etcd-snap ARGS` with `input` on stdin.
pub fn etcd_snap_stdin<I, S>(args: I, input: &[u8]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = with_spawn_retry(|| cmd.spawn());
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Feed stdin from a thread so a large input cannot deadlock against full output pipes.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait etcd-snap");
    feeder.join().unwrap();
    Run::from(out)
}

/// The expected error line from a fixture's `*.err.txt` (`ERROR: ` prefix removed).
pub fn expected_err(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap();
    s.trim_end()
        .strip_prefix("ERROR: ")
        .unwrap_or_else(|| panic!("{} lacks the ERROR: prefix", path.display()))
        .to_owned()
}
