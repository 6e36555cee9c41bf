//! Builds the Go programs the tests use as oracles (etcd's own code, offline against Debian's
//! golang-etcd-server-dev: `GO111MODULE=off GOPATH=/usr/share/gocode`), once per test binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

const GO_HINT: &str =
    "needs `go` and etcd's Go source (apt: golang-go golang-etcd-server-dev; run .ci/setup)";

/// `tests/oracle/<name>.go` built into the test binary's temp folder; the path of the binary.
pub fn oracle(name: &str) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    build(name, &repo.join("tests/oracle"), &format!("{name}.go"))
}

/// The Go package in `dir` (relative to the repository) built as `name`.
pub fn package(name: &str, dir: &str) -> PathBuf {
    build(name, &Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), ".")
}

fn build(name: &str, dir: &Path, target: &str) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(bin) = built.get(name) {
        return bin.clone();
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let bin = tmp.join(name);
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(target)
        .current_dir(dir)
        .env("GO111MODULE", "off")
        .env("GOPATH", "/usr/share/gocode")
        .env("GOFLAGS", "")
        .env(
            "GOCACHE",
            std::env::var_os("GOCACHE").unwrap_or_else(|| tmp.join("go-build").into()),
        )
        .output()
        .unwrap_or_else(|e| panic!("cannot run go ({e}); {GO_HINT}"));
    assert!(
        out.status.success(),
        "go build {name} failed; {GO_HINT}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    built.insert(name.to_owned(), bin.clone());
    bin
}
