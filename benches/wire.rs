//! Snapshot-transfer throughput, side by side with plain copies of the same bytes.
//!
//! `cargo bench --bench wire` (or `make bench-wire`); size with `WIRE_BENCH_MB` (default 1024),
//! place with `WIRE_BENCH_DIR` (default: the system temp dir; `/dev/shm` takes the disk out).
//! Every row moves the same db from the page cache to a new file and fsyncs it; "peak RSS"
//! is the growth of the process's peak resident set during the row (`VmHWM`, reset per row).

use std::io::{Read, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use etcd_snap::http::{SendOptions, SnapshotReceiver, send_snapshot, serve};
use etcd_snap::pb::{self, MessageType};
use etcd_snap::storage::NativeStorage;
use etcd_snap::transport::{DEFAULT_ENVELOPE_LIMIT, LocalPeer, decode_envelope, encoder};
use etcd_snap::{Message, Options, Snapshotter};
use futures_util::io::{AllowStdIo, BufReader};

const BUF: usize = 1 << 20;
const RUNS: usize = 2;

fn peak_reset() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    peak_kib()
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn msg(index: u64) -> pb::Message {
    let mut m = pb::Message {
        r#type: MessageType::MsgSnap as i32,
        to: 2,
        from: 1,
        term: 2,
        ..Default::default()
    };
    m.snapshot.metadata.index = index;
    m.snapshot.metadata.term = 2;
    m.snapshot.metadata.conf_state.voters = vec![1, 2, 3];
    m
}

fn copy_fsync(mut r: impl Read, to: &Path) -> u64 {
    let mut f = std::fs::File::create(to).unwrap();
    let mut buf = vec![0u8; BUF];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        f.write_all(&buf[..k]).unwrap();
        n += k as u64;
    }
    f.sync_all().unwrap();
    n
}

struct Row {
    name: &'static str,
    time: Duration,
    rss_kib: u64,
}

/// Best of `RUNS` runs (fsync timing is noisy on shared disks).
fn measure(name: &'static str, f: impl Fn()) -> Row {
    let mut best = Row {
        name,
        time: Duration::MAX,
        rss_kib: 0,
    };
    for _ in 0..RUNS {
        let base = peak_reset();
        let t = Instant::now();
        f();
        let time = t.elapsed();
        best.rss_kib = best.rss_kib.max(peak_kib().saturating_sub(base));
        best.time = best.time.min(time);
    }
    best
}

fn main() {
    let mb: u64 = std::env::var("WIRE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mb << 20;
    let tmp = match std::env::var_os("WIRE_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let dir = tmp.path();
    let src = dir.join("src.db");
    {
        // Incompressible-looking content, written once and then served from the page cache.
        let mut f = std::io::BufWriter::new(std::fs::File::create(&src).unwrap());
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut block = vec![0u8; BUF];
        let mut left = size;
        while left > 0 {
            for c in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
            }
            let k = left.min(BUF as u64) as usize;
            f.write_all(&block[..k]).unwrap();
            left -= k as u64;
        }
        f.into_inner().unwrap().sync_all().unwrap();
    }
    let open = || std::fs::File::open(&src).unwrap();
    let mut rows = Vec::new();

    rows.push(measure("plain copy: file -> file", || {
        assert_eq!(copy_fsync(open(), &dir.join("copy.db")), size);
    }));

    let wire = dir.join("wire.bin");
    rows.push(measure("frame: db -> wire body file", || {
        futures_executor::block_on(async {
            let (mut m, _) = Message::new(msg(1), AllowStdIo::new(open()), size).unwrap();
            let mut out = AllowStdIo::new(std::fs::File::create(&wire).unwrap());
            let framed = BufReader::with_capacity(BUF, encoder(&m.message, &mut m.body));
            futures_util::io::copy_buf(framed, &mut out).await.unwrap();
            out.into_inner().sync_all().unwrap();
            m.close_with_error(None).unwrap();
        })
    }));

    let unframed = dir.join("unframed");
    std::fs::create_dir(&unframed).unwrap();
    rows.push(measure("unframe: wire body -> SaveDBFrom", || {
        futures_executor::block_on(async {
            let mut r = AllowStdIo::new(std::fs::File::open(&wire).unwrap());
            let m = decode_envelope(&mut r, DEFAULT_ENVELOPE_LIMIT)
                .await
                .unwrap();
            let s = Snapshotter::open(NativeStorage::new(&unframed), Options::default())
                .await
                .unwrap();
            let n = s.save_db_from(r, m.snapshot.metadata.index).await.unwrap();
            assert_eq!(n, size);
            std::fs::remove_file(s.db_file_path(1).await.unwrap()).unwrap();
        })
    }));

    rows.push(measure("plain TCP loopback -> file", || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let to = dir.join("tcp.db");
        let rx = std::thread::spawn(move || copy_fsync(l.accept().unwrap().0, &to));
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let (mut f, mut buf) = (open(), vec![0u8; BUF]);
        loop {
            let k = f.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            s.write_all(&buf[..k]).unwrap();
        }
        drop(s);
        assert_eq!(rx.join().unwrap(), size);
    }));

    let received = dir.join("received");
    std::fs::create_dir(&received).unwrap();
    rows.push(measure("HTTP send -> receive -> SaveDBFrom", || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            let snap = Snapshotter::open(NativeStorage::new(&received), Options::default())
                .await
                .unwrap();
            let recv = SnapshotReceiver::new(snap, LocalPeer::new(7));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let server = tokio::task::spawn_local(serve(listener, Rc::new(recv)));
            let (m, _) = Message::new(msg(2), AllowStdIo::new(open()), size).unwrap();
            send_snapshot(&url, m, &SendOptions::new(1, 7))
                .await
                .unwrap();
            server.abort();
            std::fs::remove_file(received.join("0000000000000002.snap.db")).unwrap();
        });
    }));

    let base = rows[0].time.as_secs_f64();
    println!(
        "snapshot transfer, {mb} MiB db in {} (page-cached source, fsynced destination, best of {RUNS})",
        dir.display()
    );
    println!(
        "{:<38} {:>9} {:>9} {:>11} {:>14}",
        "path", "seconds", "MB/s", "vs copy", "peak RSS +KiB"
    );
    for r in &rows {
        let s = r.time.as_secs_f64();
        println!(
            "{:<38} {:>9.2} {:>9.0} {:>10.2}x {:>14}",
            r.name,
            s,
            size as f64 / 1e6 / s,
            base / s,
            r.rss_kib
        );
    }
}
