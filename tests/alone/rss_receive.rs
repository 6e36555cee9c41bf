//! Receiving a 1 GiB snapshot over HTTP keeps memory bounded: sender and receiver run in this
//! process (alone: see crate::alone), the db is generated on the fly, and the process's peak
//! RSS (`VmHWM`, reset first through `/proc/self/clear_refs`) must grow by far less than the
//! stream.

#![cfg(all(feature = "http", target_os = "linux"))]

use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use etcd_snap::http::{SendOptions, SnapshotReceiver, send_snapshot, serve};
use etcd_snap::pb::{self, MessageType};
use etcd_snap::storage::NativeStorage;
use etcd_snap::transport::LocalPeer;
use etcd_snap::{Message, Options, Snapshotter};
use futures_util::io::AsyncRead;

const SIZE: u64 = 1 << 30;

/// `left` bytes of a repeating 251-byte pattern, produced as they are read.
struct Pattern {
    left: u64,
    pos: usize,
    table: Vec<u8>,
}

impl Pattern {
    fn new(left: u64) -> Self {
        let table = (0..(64 << 10) + 251).map(|i| (i % 251) as u8).collect();
        Pattern {
            left,
            pos: 0,
            table,
        }
    }
}

impl AsyncRead for Pattern {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = buf.len().min(64 << 10).min(self.left as usize);
        let start = self.pos;
        buf[..n].copy_from_slice(&self.table[start..start + n]);
        self.pos = (start + n) % 251;
        self.left -= n as u64;
        Poll::Ready(Ok(n))
    }
}

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn receiving_1gib_keeps_memory_bounded() {
    let _alone = crate::alone();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let (before, after) = local.block_on(&rt, async {
        let snap = Snapshotter::open(NativeStorage::new(dir.path()), Options::default())
            .await
            .unwrap();
        let recv = SnapshotReceiver::new(snap, LocalPeer::new(7));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::task::spawn_local(serve(listener, Rc::new(recv)));
        std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
        let before = peak_rss_kib();
        let mut m = pb::Message {
            r#type: MessageType::MsgSnap as i32,
            ..Default::default()
        };
        m.snapshot.metadata.index = 9;
        let (msg, notify) = Message::new(m, Pattern::new(SIZE), SIZE).unwrap();
        let sent = send_snapshot(&url, msg, &SendOptions::new(1, 7))
            .await
            .unwrap();
        assert_eq!(notify.await, Ok(true));
        eprintln!(
            "1 GiB over loopback HTTP in {:?} ({:.0} MB/s)",
            sent.elapsed,
            SIZE as f64 / 1e6 / sent.elapsed.as_secs_f64()
        );
        server.abort();
        (before, peak_rss_kib())
    });
    let stored = dir.path().join("0000000000000009.snap.db");
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), SIZE);
    // The stored bytes are the pattern, end to end.
    let mut f = std::fs::File::open(&stored).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let expected: Vec<u8> = (0..(1 << 20) + 251).map(|i| (i % 251) as u8).collect();
    let mut off = 0u64;
    loop {
        let n = std::io::Read::read(&mut f, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        let start = (off % 251) as usize;
        assert!(
            buf[..n] == expected[start..start + n],
            "bytes after {off} differ"
        );
        off += n as u64;
    }
    assert_eq!(off, SIZE);
    let grew_mib = (after.saturating_sub(before)) / 1024;
    eprintln!("peak RSS {before} KiB -> {after} KiB (+{grew_mib} MiB)");
    assert!(
        grew_mib < 64,
        "peak RSS grew by {grew_mib} MiB for a 1 GiB stream"
    );
}
