//! Snap operation throughput, printed as a table (`make bench` = `cargo bench --bench snap`).
//!
//! Each etcd-snap operation is timed beside a plain-`std` baseline doing the same I/O, so the
//! ratio shows what the snapshot logic costs on this machine rather than how fast the disk is:
//! - `.snap` decode (`codec::decode_snap_file`, in memory) and `Snapshotter::read` on
//!   `NativeStorage` (vs `std::fs::read`), for 1 MiB and 64 MiB payloads;
//! - `SaveSnap` (encode, temp file, fsync, rename, dir fsync) vs `std::fs::write` + fsync;
//! - CRC-32C;
//! - `SaveDBFrom` of a generated 128 MiB and 1 GiB stream vs `std::io::copy` + fsync, each
//!   run in a child process of this program so its peak RSS (`VmHWM`) is its own: flat peak
//!   RSS across sizes shows the db body is streamed, never held whole.
//!
//! Times are the best of several runs, each operation alternating with its baseline so both
//! see the same machine load; MB/s is 10^6 bytes per second of payload.

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::Path;
use std::pin::Pin;
use std::process::Command;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_executor::block_on;
use futures_io::AsyncRead;

use etcd_snap::codec;
use etcd_snap::storage::NativeStorage;
use etcd_snap::{ConfState, Options, Snapshot, SnapshotMetadata, Snapshotter};

const MIB: usize = 1 << 20;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-savedb") {
        let mode = args[i + 1].as_str();
        let bytes: u64 = args[i + 2].parse().expect("size");
        child_savedb(mode, bytes);
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    println!(
        "etcd-snap snap benchmarks ({} build, temp dir {})",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        tmp.path().display()
    );
    println!();
    let mut t = Table::default();
    crc(&mut t);
    for size in [MIB, 64 * MIB] {
        read(&mut t, tmp.path(), size);
    }
    for size in [MIB, 64 * MIB] {
        save(&mut t, tmp.path(), size);
    }
    t.print();
    println!();
    savedb_table(tmp.path());
}

/// Rows of the main table.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    /// Adds a measurement; `baseline` is the time of the plain-std row it is compared with.
    fn row(&mut self, op: &str, bytes: usize, time: Duration, baseline: Option<Duration>) {
        self.rows.push([
            op.to_owned(),
            human(bytes as u64),
            format!("{:.3} ms", time.as_secs_f64() * 1e3),
            format!("{:.0}", mbps(bytes as u64, time)),
            baseline.map_or_else(
                || "-".to_owned(),
                |b| format!("{:.2}x", time.as_secs_f64() / b.as_secs_f64()),
            ),
        ]);
    }

    fn print(&self) {
        print_table(
            &[
                "operation",
                "payload",
                "best time",
                "MB/s",
                "time vs baseline",
            ],
            &self.rows,
        );
    }
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut w = header.map(str::len);
    for r in rows {
        for (w, c) in w.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::from("|");
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                s += &format!(" {c}{} |", " ".repeat(pad));
            } else {
                s += &format!(" {}{c} |", " ".repeat(pad));
            }
        }
        println!("{s}");
    };
    line(header.iter().map(|s| s.to_string()).collect());
    line(
        w.iter()
            .enumerate()
            .map(|(i, &n)| {
                if i == 0 {
                    "-".repeat(n)
                } else {
                    format!("{}:", "-".repeat(n - 1))
                }
            })
            .collect(),
    );
    for r in rows {
        line(r.to_vec());
    }
}

fn human(b: u64) -> String {
    if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
        format!("{} GiB", b >> 30)
    } else if b >= MIB as u64 {
        format!("{} MiB", b / MIB as u64)
    } else {
        format!("{b} B")
    }
}

fn mbps(bytes: u64, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn timed(f: &mut impl FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Best wall time of `reps` runs of `f` (after one warm-up run). The minimum, not the mean:
/// on a shared machine noise only ever adds time.
fn best(reps: usize, mut f: impl FnMut()) -> Duration {
    f();
    (0..reps).map(|_| timed(&mut f)).min().unwrap()
}

/// Best times of a baseline and an operation run alternately, so both see the same
/// conditions (page cache, disk load from other processes).
fn best_pair(reps: usize, mut base: impl FnMut(), mut op: impl FnMut()) -> (Duration, Duration) {
    base();
    op();
    let (mut b, mut o) = (Duration::MAX, Duration::MAX);
    for _ in 0..reps {
        b = b.min(timed(&mut base));
        o = o.min(timed(&mut op));
    }
    (b, o)
}

fn reps_for(size: usize) -> usize {
    if size <= MIB { 31 } else { 7 }
}

/// Deterministic, incompressible-looking payload.
fn payload(size: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn snapshot(size: usize) -> Snapshot {
    Snapshot {
        data: Some(Bytes::from(payload(size))),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 2, 3],
                ..ConfState::default()
            },
            index: 100,
            term: 2,
        },
    }
}

fn crc(t: &mut Table) {
    let data = payload(64 * MIB);
    let time = best(7, || {
        black_box(codec::crc32c(black_box(&data)));
    });
    t.row("CRC-32C", data.len(), time, None);
}

fn open(dir: &Path) -> Snapshotter<NativeStorage> {
    block_on(Snapshotter::open(
        NativeStorage::new(dir),
        Options::default(),
    ))
    .unwrap()
}

fn read(t: &mut Table, root: &Path, size: usize) {
    let dir = root.join(format!("read-{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = snapshot(size);
    let file = codec::encode_snap_file(&snap);
    let name = etcd_snap::names::snap_name(2, 100);
    std::fs::write(dir.join(&name), &file).unwrap();
    let reps = reps_for(size);

    let shared = Bytes::from(file);
    let decode = best(reps, || {
        let s = codec::decode_snap_file(black_box(shared.clone())).unwrap();
        assert_eq!(s.data.as_ref().map(|d| d.len()), Some(size));
    });
    let path = dir.join(&name);
    let s = open(&dir);
    let (baseline, read) = best_pair(
        reps,
        || {
            black_box(std::fs::read(&path).unwrap());
        },
        || {
            let snap = block_on(s.read(&name)).unwrap();
            assert_eq!(snap.data.as_ref().map(|d| d.len()), Some(size));
        },
    );
    t.row("decode_snap_file (in memory)", size, decode, None);
    t.row("std::fs::read (baseline)", size, baseline, None);
    t.row(
        "Snapshotter::read (NativeStorage)",
        size,
        read,
        Some(baseline),
    );
}

fn save(t: &mut Table, root: &Path, size: usize) {
    let dir = root.join(format!("save-{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = snapshot(size);
    let reps = reps_for(size);
    let file = codec::encode_snap_file(&snap);
    let encode = best(reps, || {
        black_box(codec::encode_snap_file(black_box(&snap)));
    });
    // The baseline writes the already-encoded bytes into a file of its own folder.
    let base_dir = root.join(format!("save-baseline-{size}"));
    std::fs::create_dir_all(&base_dir).unwrap();
    let path = base_dir.join("baseline.bin");
    let s = open(&dir);
    let (baseline, save) = best_pair(
        reps,
        || {
            let mut f = std::fs::File::create(&path).unwrap();
            f.write_all(&file).unwrap();
            f.sync_all().unwrap();
        },
        || block_on(s.save_snap(&snap)).unwrap(),
    );
    let written = std::fs::read(dir.join(etcd_snap::names::snap_name(2, 100))).unwrap();
    assert!(written == file, "SaveSnap wrote other bytes");
    t.row("encode_snap_file (in memory)", size, encode, None);
    t.row("std write + fsync (baseline)", size, baseline, None);
    t.row("SaveSnap (NativeStorage)", size, save, Some(baseline));
}

/// An `AsyncRead` (and `Read`) of `remaining` generated bytes, never held whole.
struct Generated {
    block: Vec<u8>,
    pos: usize,
    remaining: u64,
}

impl Generated {
    fn new(bytes: u64) -> Self {
        Generated {
            block: payload(MIB + 4093),
            pos: 0,
            remaining: bytes,
        }
    }

    fn fill(&mut self, buf: &mut [u8]) -> usize {
        let n = (buf.len() as u64).min(self.remaining) as usize;
        let mut done = 0;
        while done < n {
            let k = (n - done).min(self.block.len() - self.pos);
            buf[done..done + k].copy_from_slice(&self.block[self.pos..self.pos + k]);
            self.pos = (self.pos + k) % self.block.len();
            done += k;
        }
        self.remaining -= n as u64;
        n
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(self.get_mut().fill(buf)))
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(self.fill(buf))
    }
}

/// `VmHWM` (peak resident set) of this process in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child process: one SaveDBFrom (or baseline copy) of `bytes`; prints
/// `secs hwm_before_kib hwm_after_kib` on stdout.
fn child_savedb(mode: &str, bytes: u64) {
    let dir = std::env::var_os("ETCD_SNAP_BENCH_DIR").expect("dir");
    let dir = Path::new(&dir);
    let before = vm_hwm_kib();
    let start = Instant::now();
    match mode {
        "savedb" => {
            let s = block_on(Snapshotter::open(
                NativeStorage::new(dir),
                Options::default(),
            ))
            .unwrap();
            let n = block_on(s.save_db_from(Generated::new(bytes), 1)).unwrap();
            assert_eq!(n, bytes);
        }
        "baseline" => {
            let mut f = std::fs::File::create(dir.join("baseline.db")).unwrap();
            let n = std::io::copy(&mut Generated::new(bytes), &mut f).unwrap();
            f.sync_all().unwrap();
            assert_eq!(n, bytes);
        }
        m => panic!("unknown mode {m}"),
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{secs} {before} {}", vm_hwm_kib());
}

/// One child run: `(seconds, VmHWM before, VmHWM after)` in KiB.
fn run_child(root: &Path, mode: &str, size: u64) -> (f64, u64, u64) {
    let dir = root.join(format!("db-{mode}-{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--child-savedb", mode, &size.to_string()])
        .env("ETCD_SNAP_BENCH_DIR", &dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "child failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let f: Vec<f64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let written = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum::<u64>();
    assert_eq!(written, size, "{mode}: bytes on disk");
    std::fs::remove_dir_all(&dir).unwrap();
    (f[0], f[1] as u64, f[2] as u64)
}

/// Rounds per (size, mode); baseline and SaveDBFrom alternate, the best time is kept, so a
/// noisy shared disk hurts both sides alike.
const DB_ROUNDS: usize = 2;

fn savedb_table(root: &Path) {
    let mut rows = Vec::new();
    for size in [128u64 << 20, 1 << 30] {
        let mut best: [(f64, u64, u64); 2] = [(f64::MAX, 0, 0); 2];
        for _ in 0..DB_ROUNDS {
            for (slot, mode) in ["baseline", "savedb"].into_iter().enumerate() {
                let (secs, before, after) = run_child(root, mode, size);
                let b = &mut best[slot];
                b.0 = b.0.min(secs);
                b.1 = b.1.max(before);
                b.2 = b.2.max(after);
            }
        }
        for (slot, op) in [
            "std::io::copy + fsync (baseline)",
            "SaveDBFrom (NativeStorage)",
        ]
        .into_iter()
        .enumerate()
        {
            let (secs, before, after) = best[slot];
            rows.push([
                op.to_owned(),
                human(size),
                format!("{secs:.2} s"),
                format!("{:.0}", size as f64 / secs / 1e6),
                if slot == 1 {
                    format!("{:.2}x", secs / best[0].0)
                } else {
                    "-".to_owned()
                },
                format!("{:.1} MiB", before as f64 / 1024.0),
                format!("{:.1} MiB", after as f64 / 1024.0),
            ]);
        }
    }
    print_table(
        &[
            "generated stream to disk",
            "size",
            "best time",
            "MB/s",
            "time vs baseline",
            "peak RSS at start",
            "peak RSS at end",
        ],
        &rows,
    );
}
