//! A frame that declares a 64 MiB envelope but sends 10 bytes allocates nothing large: the
//! envelope cap is checked before allocation and memory follows what arrives (moved here from
//! testsuite `wire::frame`; the counting allocator below sees every thread of the process).

use std::alloc::{GlobalAlloc, Layout, System};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use etcd_snap::Error;
use etcd_snap::pb;
use etcd_snap::transport::{DEFAULT_ENVELOPE_LIMIT, decode_envelope};
use futures_executor::block_on;
use futures_util::io::{AsyncRead, AsyncReadExt};

/// Counts the largest single allocation, to show a false length costs no memory.
struct Peak;
pub(crate) static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated and not yet freed, and the most of them seen (reset by storing `LIVE`).
pub(crate) static LIVE: AtomicUsize = AtomicUsize::new(0);
pub(crate) static PEAK_LIVE: AtomicUsize = AtomicUsize::new(0);
fn grow(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK_LIVE.fetch_max(live, Ordering::Relaxed);
}
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        grow(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LARGEST.fetch_max(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        grow(new);
        unsafe { System.realloc(p, l, new) }
    }
}
#[global_allocator]
static GLOBAL: Peak = Peak;

/// Reads at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}
impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

fn decode_all(wire: &[u8], step: usize, limit: u64) -> Result<(pb::Message, Vec<u8>), Error> {
    block_on(async {
        let mut r = Trickle { data: wire, step };
        let m = decode_envelope(&mut r, limit).await?;
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).await?;
        Ok((m, rest))
    })
}

#[test]
fn false_length_allocates_nothing_large() {
    let _alone = crate::alone();
    // Declares 64 MiB (at the cap) but sends 10 bytes: memory follows what arrives.
    let mut wire = DEFAULT_ENVELOPE_LIMIT.to_be_bytes().to_vec();
    wire.extend_from_slice(&[0u8; 10]);
    LARGEST.store(0, Ordering::Relaxed);
    let err = decode_all(&wire, 4096, DEFAULT_ENVELOPE_LIMIT).unwrap_err();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert_eq!(err.to_string(), "unexpected EOF");
    assert!(largest < 1 << 20, "largest allocation {largest} bytes");
}
