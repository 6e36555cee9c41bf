//! Storage backend throughput, printed as a table (`cargo bench --bench storage`).
//!
//! Each `NativeStorage` operation is timed beside plain `std` code doing the same system
//! work, so the ratio is the backend's own cost, not the disk's speed:
//! - atomic write (temp file, writes, fsync, rename, directory fsync) in 4 KiB and 64 KiB
//!   writes vs `std` with the same steps (a `BufWriter` of the same 256 KiB for 4 KiB writes);
//! - streaming read through `open_read` in 64 KiB chunks vs a `std::fs::File` read loop;
//! - `MemoryStorage` write and streaming read (what crash tests pay per replay).
//!
//! Medians of 5 runs after a warm-up; MB/s is 10^6 bytes of payload per second.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use etcd_snap::storage::{MemoryStorage, NativeStorage};
use etcd_snap::{AtomicWrite, Storage};
use futures_executor::block_on;
use futures_util::AsyncReadExt;

const MIB: usize = 1 << 20;
const RUNS: usize = 5;

fn median(mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    let mut t: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[RUNS / 2]
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn ours_write<S: Storage>(s: &S, data: &[u8], chunk: usize) {
    block_on(async {
        let mut w = s.create_atomic("000000000000002a.snap.db").await.unwrap();
        for c in data.chunks(chunk) {
            w.write(c).await.unwrap();
        }
        w.commit().await.unwrap();
    });
}

fn std_write(dir: &Path, data: &[u8], chunk: usize) {
    let tmp = dir.join("tmp-std");
    let f = File::create(&tmp).unwrap();
    let mut w = BufWriter::with_capacity(256 * 1024, f);
    for c in data.chunks(chunk) {
        w.write_all(c).unwrap();
    }
    let f = w.into_inner().unwrap();
    f.sync_all().unwrap();
    drop(f);
    fs::rename(&tmp, dir.join("std.snap.db")).unwrap();
    File::open(dir).unwrap().sync_all().unwrap();
}

fn ours_read<S: Storage>(s: &S) -> usize {
    block_on(async {
        let mut r = s.open_read("000000000000002a.snap.db").await.unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0;
        loop {
            let k = r.read(&mut buf).await.unwrap();
            if k == 0 {
                return n;
            }
            n += k;
        }
    })
}

fn std_read(dir: &Path) -> usize {
    let mut f = File::open(dir.join("std.snap.db")).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0;
    loop {
        let k = f.read(&mut buf).unwrap();
        if k == 0 {
            return n;
        }
        n += k;
    }
}

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let s = NativeStorage::new(dir);
    println!(
        "etcd-snap storage benchmarks ({} build, temp dir {})\n",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        dir.display()
    );
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut row = |op: &str, bytes: usize, t: Duration, base: Option<Duration>| {
        rows.push([
            op.to_owned(),
            format!("{} MiB", bytes / MIB),
            format!("{:.2} ms", t.as_secs_f64() * 1e3),
            format!("{:.0}", bytes as f64 / t.as_secs_f64() / 1e6),
            base.map_or("-".to_owned(), |b| {
                format!("{:.2}x", t.as_secs_f64() / b.as_secs_f64())
            }),
        ]);
    };
    for size in [MIB, 64 * MIB] {
        let data = payload(size);
        for chunk in [4 * 1024, 64 * 1024] {
            let base = median(|| std_write(dir, &data, chunk));
            let ours = median(|| ours_write(&s, &data, chunk));
            let op = format!("native atomic write, {} KiB writes", chunk / 1024);
            row(&op, size, ours, Some(base));
            row("  std: same steps", size, base, None);
        }
        let base = median(|| assert_eq!(std_read(dir), size));
        let ours = median(|| assert_eq!(ours_read(&s), size));
        row("native streaming read, 64 KiB", size, ours, Some(base));
        row("  std: File read loop", size, base, None);
        let m = MemoryStorage::new();
        let t = median(|| ours_write(&m, &data, 64 * 1024));
        row("memory atomic write, 64 KiB writes", size, t, None);
        let t = median(|| assert_eq!(ours_read(&m), size));
        row("memory streaming read, 64 KiB", size, t, None);
    }
    let header = ["operation", "payload", "median", "MB/s", "time vs std"];
    let mut w = header.map(str::len);
    for r in &rows {
        for (w, c) in w.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::from("|");
        for (i, c) in cells.iter().enumerate() {
            if i == 0 {
                out += &format!(" {c:<0$} |", w[i]);
            } else {
                out += &format!(" {c:>0$} |", w[i]);
            }
        }
        println!("{out}");
    };
    line(&header.map(str::to_owned));
    println!(
        "|{}",
        w.iter()
            .enumerate()
            .map(|(i, n)| if i == 0 {
                format!(":{}|", "-".repeat(n + 1))
            } else {
                format!("{}:|", "-".repeat(n + 1))
            })
            .collect::<String>()
    );
    for r in &rows {
        line(r);
    }
}
