//! Fault injection for crash tests: a **mock**, used only to test how callers survive I/O
//! errors, power loss and full disks. Nothing here runs against a real disk.
//!
//! [`MemoryStorage`](super::MemoryStorage) counts every primitive step it performs (each
//! trait call; each [`AtomicWrite::write`](super::AtomicWrite::write); each of `commit`'s
//! three sub-steps: file sync, rename, directory sync; `abort` and a dropped writer's cleanup)
//! and consults its [`FaultPlan`] before each one. A failed step changes nothing.
//! Steps are numbered from 0, counted from the last
//! [`set_fault`](super::MemoryStorage::set_fault) (or from creation).
//!
//! The usual crash test runs an operation once to count its steps, then replays it once per
//! step with [`FaultPlan::CrashAt`] and checks what survives in
//! [`crash_image`](super::MemoryStorage::crash_image):
//!
//! ```
//! use etcd_snap::storage::fault::{FaultPlan, is_injected};
//! use etcd_snap::storage::MemoryStorage;
//! use etcd_snap::{AtomicWrite, Storage};
//! # futures_executor::block_on(async {
//! async fn op(s: &MemoryStorage) -> etcd_snap::Result<()> {
//!     let mut w = s.create_atomic("a.snap").await?;
//!     w.write(b"new").await?;
//!     w.commit().await
//! }
//! let setup = || {
//!     let s = MemoryStorage::new();
//!     s.insert("a.snap", b"old");
//!     s
//! };
//! // Count the steps (open, write, sync, rename, sync dir).
//! let probe = setup();
//! op(&probe).await.unwrap();
//! let n = probe.steps();
//! assert_eq!(n, 5);
//! for k in 0..n {
//!     let s = setup();
//!     s.set_fault(FaultPlan::CrashAt(k));
//!     let err = op(&s).await.unwrap_err();
//!     assert!(is_injected(&err));
//!     // Power loss now: the old or the new bytes, never a mix or nothing.
//!     let after = s.crash_image().read("a.snap").await.unwrap();
//!     assert!(after == b"old" || after == b"new", "crash at step {k}");
//! }
//! # });
//! ```

use crate::error::{Error, IoErrorKind, Result};

/// Marker contained in the detail text of every injected error.
pub const INJECTED: &str = "injected by etcd_snap::storage::fault";

/// What goes wrong, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultPlan {
    /// Nothing fails (steps are still counted).
    #[default]
    None,
    /// Step `n` fails with an injected error (kind [`IoErrorKind::Other`]) and changes
    /// nothing; later steps proceed normally.
    FailAt(u64),
    /// Step `n` and every later step fail (kind [`IoErrorKind::Other`]): the "process" is
    /// dead from step `n` on. Then call
    /// [`crash_image`](super::MemoryStorage::crash_image) to see what a power loss at that
    /// moment leaves on disk.
    CrashAt(u64),
    /// Writer bytes beyond this budget (counted over all writers since the plan was set) fail
    /// with [`IoErrorKind::NoSpace`], like a full disk or an exhausted OPFS quota: a write that
    /// crosses the budget stores the part that fits, then fails.
    NoSpaceAfter(u64),
    /// Step `n` fails with an injected error of the given kind and changes nothing, like
    /// [`FailAt`](Self::FailAt): e.g. [`IoErrorKind::TooLarge`], a limit of the runtime.
    FailKindAt(u64, IoErrorKind),
}

/// True if `e` was produced by fault injection (not by the code under test).
pub fn is_injected(e: &Error) -> bool {
    match e {
        Error::Io(io) => io.detail.contains(INJECTED),
        Error::RemoveOrphan { source, .. } => is_injected(source),
        Error::ShortRead { cause: Some(c) } => is_injected(c),
        _ => false,
    }
}

/// Per-storage fault state; the memory backend calls [`Faults::step`] before every step.
#[derive(Debug, Default, Clone)]
pub(crate) struct Faults {
    plan: FaultPlan,
    steps: u64,
    written: u64,
    crashed: bool,
}

impl Faults {
    pub(crate) fn set(&mut self, plan: FaultPlan) {
        *self = Faults {
            plan,
            ..Faults::default()
        };
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    pub(crate) fn crashed(&self) -> bool {
        self.crashed
    }

    /// Counts one step; `Err` means "do not perform it".
    pub(crate) fn step(&mut self, op: &'static str, path: &str) -> Result<()> {
        let n = self.steps;
        self.steps += 1;
        let mut kind = IoErrorKind::Other;
        let detail = match self.plan {
            _ if self.crashed => "crashed earlier",
            FaultPlan::FailKindAt(k, with) if n == k => {
                kind = with;
                "failure"
            }
            FaultPlan::CrashAt(k) if n >= k => {
                self.crashed = true;
                "crash"
            }
            FaultPlan::FailAt(k) if n == k => "failure",
            _ => return Ok(()),
        };
        Err(Error::io(
            kind,
            op,
            path,
            format!("{detail} at step {n} ({INJECTED})"),
        ))
    }

    /// How many of `len` bytes fit in the space budget (all of them without one).
    pub(crate) fn allow_write(&mut self, len: usize) -> usize {
        let FaultPlan::NoSpaceAfter(budget) = self.plan else {
            return len;
        };
        let left = budget.saturating_sub(self.written);
        let n = usize::try_from(left).map_or(len, |l| l.min(len));
        self.written += n as u64;
        n
    }

    /// The error for a write that did not fit.
    pub(crate) fn no_space(op: &'static str, path: &str) -> Error {
        Error::io(
            IoErrorKind::NoSpace,
            op,
            path,
            format!("no space left on device ({INJECTED})"),
        )
    }
}
