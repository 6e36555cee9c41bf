//! 256 MiB streamed into a `.snap.db` by `Snapshotter::save_db_from` keeps this process's
//! peak RSS bounded (moved here from testsuite `snapshotter::bad_input`, where other tests
//! share the process).

use std::pin::Pin;
use std::task::{Context, Poll};

use etcd_snap::snapshotter::DB_COPY_CHUNK;
use futures_executor::block_on;
use futures_util::io::AsyncRead;

use crate::support::snapshotter::{Env, NativeEnv};

/// `size` zero bytes, generated on demand; remembers the largest read it was asked for.
struct Zeros {
    left: u64,
    max_ask: usize,
}

impl AsyncRead for Zeros {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        self.max_ask = self.max_ask.max(buf.len());
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..n].fill(0);
        self.left -= n as u64;
        Poll::Ready(Ok(n))
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// 256 MiB streamed into a `.snap.db` with bounded memory: the copy asks for at most one
/// chunk at a time and the peak RSS grows far less than the body.
#[test]
fn huge_db_streams_with_bounded_memory() {
    let _alone = crate::alone();
    const SIZE: u64 = 256 << 20;
    let env = NativeEnv::new();
    block_on(async {
        let ss = crate::support::snapshotter::open(&env).await;
        if cfg!(target_os = "linux") {
            std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
        }
        let before = peak_rss();
        let started = std::time::Instant::now();
        let mut body = Zeros {
            left: SIZE,
            max_ask: 0,
        };
        let n = ss.save_db_from(&mut body, 7).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "save_db_from: {} MiB in {secs:.2} s ({:.0} MiB/s, incl. fsync)",
            SIZE >> 20,
            (SIZE >> 20) as f64 / secs
        );
        assert_eq!(n, SIZE);
        assert!(body.max_ask <= DB_COPY_CHUNK, "asked for {}", body.max_ask);
        let len = std::fs::metadata(env.dir.path().join("0000000000000007.snap.db"))
            .unwrap()
            .len();
        assert_eq!(len, SIZE);
        if let (Some(b), Some(a)) = (before, peak_rss()) {
            let grew = a.saturating_sub(b);
            eprintln!(
                "peak RSS grew by {} KiB for a {} MiB body",
                grew / 1024,
                SIZE >> 20
            );
            assert!(grew < 64 << 20, "peak RSS grew by {grew} bytes");
        }
        assert_eq!(env.names(), ["0000000000000007.snap.db"]);
    });
}
