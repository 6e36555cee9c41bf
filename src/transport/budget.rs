//! One byte budget for the envelopes of every upload a receiver holds at once (issue 9, item 4).
//!
//! The envelope cap ([`DEFAULT_ENVELOPE_LIMIT`](crate::transport::DEFAULT_ENVELOPE_LIMIT)) bounds
//! one request; without a shared bound, 40 peers × 60 MiB envelopes took a receiver to 2.6 GB.
//! Each upload reserves its declared envelope length here before reading it and keeps the
//! reservation until its reply is built; an upload that does not fit is answered 503 at once
//! (etcd's leader retries a failed snapshot), so memory for envelopes stays at most
//! `max(total, limit)`: an envelope within the per-request cap is always admitted while no other
//! is held, so a budget below the cap never refuses everything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default total: 256 MiB, four envelopes at etcd's 64 MiB cap.
pub const DEFAULT_ENVELOPE_BUDGET: u64 = 256 << 20;

/// Envelope bytes held by all requests of one receiver (cheap to clone; clones share the count).
#[derive(Debug, Clone)]
pub struct EnvelopeBudget {
    total: u64,
    held: Arc<AtomicU64>,
}

impl Default for EnvelopeBudget {
    fn default() -> Self {
        EnvelopeBudget::new(DEFAULT_ENVELOPE_BUDGET)
    }
}

impl EnvelopeBudget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Self {
        EnvelopeBudget {
            total,
            held: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The total.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes reserved right now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    /// Reserves `bytes` until the returned guard drops, or `None` if they do not fit next to
    /// what others hold. A reservation is always granted while nothing is held (and 0 bytes
    /// always are).
    pub fn try_reserve(&self, bytes: u64) -> Option<Reservation> {
        let mut held = self.held.load(Ordering::Acquire);
        loop {
            let fits =
                held == 0 || bytes == 0 || held.checked_add(bytes).is_some_and(|t| t <= self.total);
            if !fits {
                return None;
            }
            match self.held.compare_exchange_weak(
                held,
                held + bytes,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    return Some(Reservation {
                        held: self.held.clone(),
                        bytes,
                    });
                }
                Err(now) => held = now,
            }
        }
    }
}

/// Bytes of an [`EnvelopeBudget`], given back on drop.
#[derive(Debug)]
pub struct Reservation {
    held: Arc<AtomicU64>,
    bytes: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// What [`receive`](crate::transport::receive) enforces on each request.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest envelope one request may declare (400 `rafthttp: error limit exceeded` above).
    pub envelope: u64,
    /// Envelope bytes all requests sharing it may hold at once (503 beyond it).
    pub budget: EnvelopeBudget,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            envelope: crate::transport::DEFAULT_ENVELOPE_LIMIT,
            budget: EnvelopeBudget::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_add_up_and_are_given_back() {
        let b = EnvelopeBudget::new(100);
        let a = b.try_reserve(60).unwrap();
        assert!(b.try_reserve(41).is_none());
        let c = b.try_reserve(40).unwrap();
        assert_eq!(b.held(), 100);
        drop(a);
        drop(c);
        assert_eq!(b.held(), 0);
        // Alone, an envelope larger than the budget is admitted (the cap bounds it).
        let big = b.try_reserve(500).unwrap();
        assert!(b.try_reserve(0).is_some());
        assert!(b.try_reserve(1).is_none());
        drop(big);
        assert!(b.try_reserve(u64::MAX).is_some());
    }
}
