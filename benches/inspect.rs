//! `inspect` speed on a large real etcd db, printed as tables (`cargo bench --bench inspect`).
//!
//! The db: `ETCD_SNAP_BENCH_DB=<file>` if set, else one written by a real etcd 3.4 started
//! here (Kubernetes-like keys `/registry/<kind>/<ns>/<name>`, 1 KiB values, each key written
//! twice so there is history), about `ETCD_SNAP_BENCH_MB` MiB (default 64), saved with
//! `etcdctl snapshot save` (so it has the sha256 trailer); kept as
//! `target/inspect-bench-<MB>mb.db` for reruns.
//!
//! Table 1 runs `etcd-snap status` and `etcdctl snapshot status` side by side as processes on
//! the same file (medians of 5) and checks they print the same numbers. Table 2 times the
//! library steps the viewer uses, over an in-memory slice and over a file read page by page.

#[path = "../tests/support/etcd.rs"]
#[allow(dead_code)]
mod etcd;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use etcd_snap::inspect::{Db, FileSource, OpenOptions, RangeQuery};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(std::hint::black_box(f()));
        times.push(t.elapsed());
    }
    (median(times), last.unwrap())
}

fn generate(dir: &Path, mb: usize) -> PathBuf {
    let data = dir.join("data");
    let server = etcd::Etcd::start(
        &data,
        &etcd::EtcdOptions {
            extra_args: vec!["--quota-backend-bytes".into(), (8u64 << 30).to_string()],
            ..Default::default()
        },
    );
    let value = "v".repeat(1024);
    let keys = mb * 1024 / 2; // each key is written twice
    let kinds = ["pods", "configmaps", "secrets", "events", "leases"];
    eprintln!("writing {keys} keys twice into etcd ...");
    for round in 0..2 {
        for chunk in (0..keys).collect::<Vec<_>>().chunks(120) {
            let mut script = String::from("\n");
            for &i in chunk {
                let kind = kinds[i % kinds.len()];
                script.push_str(&format!(
                    "put /registry/{kind}/ns{}/obj{i:07} {round}{value}\n",
                    i % 17
                ));
            }
            script.push_str("\n\n");
            let mut child = Command::new("etcdctl")
                .env("ETCDCTL_API", "3")
                .args([
                    "--endpoints",
                    &server.client_url,
                    "--command-timeout",
                    "60s",
                    "txn",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("etcdctl");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            assert!(child.wait().unwrap().success());
        }
    }
    let out = dir.join("bench.db");
    server.ctl(&["snapshot", "save", out.to_str().unwrap()]);
    server.stop();
    out
}

fn run(cmd: &mut Command) -> String {
    let o = cmd.output().expect("spawn");
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout).unwrap()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let db_path = match std::env::var_os("ETCD_SNAP_BENCH_DB") {
        Some(p) => PathBuf::from(p),
        None => {
            let mb = std::env::var("ETCD_SNAP_BENCH_MB")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(64);
            // Kept under target/ so reruns skip the minutes etcd takes to write it.
            let kept = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("target/inspect-bench-{mb}mb.db"));
            if !kept.exists() {
                std::fs::copy(generate(tmp.path(), mb), &kept).unwrap();
            }
            kept
        }
    };
    let size = std::fs::metadata(&db_path).unwrap().len();
    let mb = size as f64 / 1e6;
    println!("db: {} ({:.1} MB)\n", db_path.display(), mb);

    // Table 1: the CLI against etcdctl.
    let bin = env!("CARGO_BIN_EXE_etcd-snap");
    let (ours_t, ours) = time(5, || run(Command::new(bin).arg("status").arg(&db_path)));
    let (skip_t, _) = time(5, || {
        run(Command::new(bin)
            .args(["status", "--skip-hash-check"])
            .arg(&db_path))
    });
    let (ctl_t, theirs) = time(5, || {
        run(Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args(["snapshot", "status", "-w", "json"])
            .arg(&db_path))
    });
    let same = serde_json::from_str::<serde_json::Value>(&ours).unwrap()
        == serde_json::from_str::<serde_json::Value>(&theirs).unwrap();
    println!("| status of the same file (process, median of 5) | time | MB/s |");
    println!("|---|---:|---:|");
    println!(
        "| etcd-snap status (sha256 check + bbolt check + hash) | {:.0} ms | {:.0} |",
        ours_t.as_secs_f64() * 1e3,
        mb / ours_t.as_secs_f64()
    );
    println!(
        "| etcd-snap status --skip-hash-check (bbolt check + hash) | {:.0} ms | {:.0} |",
        skip_t.as_secs_f64() * 1e3,
        mb / skip_t.as_secs_f64()
    );
    println!(
        "| etcdctl snapshot status 3.4 (bbolt check + hash) | {:.0} ms | {:.0} |",
        ctl_t.as_secs_f64() * 1e3,
        mb / ctl_t.as_secs_f64()
    );
    println!(
        "| ratio etcd-snap --skip-hash-check / etcdctl | {:.2} | same numbers: {same} |\n",
        skip_t.as_secs_f64() / ctl_t.as_secs_f64()
    );
    assert!(same, "ours {ours} vs etcdctl {theirs}");

    // Table 2: library steps.
    let bytes = std::fs::read(&db_path).unwrap();
    let no_verify = OpenOptions {
        verify_trailer: false,
    };
    println!("| library step (median of 3) | slice | file (pread per page) |");
    println!("|---|---:|---:|");
    let row = |name: &str, t: [Duration; 2]| {
        let ms = t.map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3));
        println!("| {name} | {} | {} |", ms[0], ms[1]);
    };
    let open_file = || FileSource::open(&db_path).unwrap();
    row(
        "open + sha256 trailer check",
        [
            time(3, || Db::open(bytes.as_slice()).unwrap()).0,
            time(3, || Db::open(open_file()).unwrap()).0,
        ],
    );
    // A fresh handle per run for the file column.
    let mem = Db::open_with(bytes.as_slice(), no_verify).unwrap();
    let file = || Db::open_with(open_file(), no_verify).unwrap();
    row(
        "status (bbolt check + hash)",
        [
            time(3, || mem.status().unwrap()).0,
            time(3, || file().status().unwrap()).0,
        ],
    );
    row(
        "mvcc index build (all revisions)",
        [
            time(3, || mem.mvcc().unwrap().key_count()).0,
            time(3, || file().mvcc().unwrap().key_count()).0,
        ],
    );
    let fdb = file();
    let (mi, fi) = (mem.mvcc().unwrap(), fdb.mvcc().unwrap());
    let page = RangeQuery {
        limit: 100,
        ..RangeQuery::prefix(b"/registry/pods/")
    };
    row(
        "one page: 100 keys of a prefix, with values (index built)",
        [
            time(3, || mi.range(&page).unwrap()).0,
            time(3, || fi.range(&page).unwrap()).0,
        ],
    );
    row(
        "space by prefix (depth 3, index built)",
        [
            time(3, || mi.space_by_prefix(b'/', 3)).0,
            time(3, || fi.space_by_prefix(b'/', 3)).0,
        ],
    );
    row(
        "buckets with page stats",
        [
            time(3, || mem.buckets().unwrap()).0,
            time(3, || file().buckets().unwrap()).0,
        ],
    );
    println!(
        "\nkeys: {}, revisions: {}, current revision: {}",
        mi.key_count(),
        mi.revision_count(),
        mi.current_revision()
    );
}
