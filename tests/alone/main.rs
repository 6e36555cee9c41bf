//! Tests that measure the process itself (peak RSS, the largest allocation), so nothing else
//! may run in it meanwhile: each test holds [`alone`] for its whole run, and no other test
//! binary shares the process. Run with `cargo test --test alone` (see tests/README.md).
#![cfg(not(target_arch = "wasm32"))]

#[path = "../support/mod.rs"]
mod support;

mod largest_alloc;
mod rss_defrag;
mod rss_receive;
mod rss_save_db;
mod wal_memory;

use std::sync::{Mutex, MutexGuard};

/// Serialises this binary's tests: held for a whole measurement.
fn alone() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
