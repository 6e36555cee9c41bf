//! The durability model of MemoryStorage, stated as properties over random operation
//! sequences with an injected crash or failure (fault injection is a mock; see
//! `etcd_snap::storage::fault`):
//! - after a crash, the non-temp files are exactly what they were at the last successful
//!   commit or `sync_dir` (later renames and removals are lost, nothing is torn);
//! - with an injected failure, every visible non-temp file holds bytes that some commit
//!   published in full.

use std::collections::{BTreeMap, HashSet};

use etcd_snap::storage::MemoryStorage;
use etcd_snap::storage::fault::FaultPlan;
use etcd_snap::storage::memory::MemoryWriter;
use etcd_snap::{AtomicWrite, Storage};
use futures_executor::block_on;
use proptest::prelude::*;

const NAMES: [&str; 3] = ["a.snap", "b.snap.db", "c"];

#[derive(Debug, Clone)]
enum Op {
    Put(usize, usize),
    Open(usize, usize),
    Write(usize, usize),
    Commit(usize),
    Abort(usize),
    Drop(usize),
    Rename(usize, usize),
    Remove(usize),
    SyncDir,
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..NAMES.len();
    let slot = 0..2usize;
    prop_oneof![
        (n.clone(), 0..300usize).prop_map(|(a, l)| Op::Put(a, l)),
        (slot.clone(), n.clone()).prop_map(|(s, a)| Op::Open(s, a)),
        (slot.clone(), 1..200usize).prop_map(|(s, l)| Op::Write(s, l)),
        slot.clone().prop_map(Op::Commit),
        slot.clone().prop_map(Op::Abort),
        slot.prop_map(Op::Drop),
        (n.clone(), n.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        n.prop_map(Op::Remove),
        Just(Op::SyncDir),
    ]
}

type Files = BTreeMap<String, Vec<u8>>;

fn visible_files(s: &MemoryStorage) -> Files {
    s.names()
        .into_iter()
        .filter(|n| !n.starts_with("tmp"))
        .map(|n| {
            let b = s.get(&n).expect("file");
            (n, b)
        })
        .collect()
}

struct Run {
    s: MemoryStorage,
    slots: [Option<(MemoryWriter, Vec<u8>)>; 2],
    counter: u8,
    /// Non-temp files at the last successful commit / sync_dir.
    last_durable: Files,
    /// Every content some commit published.
    published: HashSet<Vec<u8>>,
}

impl Run {
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        self.counter = self.counter.wrapping_add(1);
        vec![self.counter; len]
    }

    async fn apply(&mut self, op: &Op) {
        match *op {
            Op::Put(a, len) => {
                let data = self.bytes(len);
                let r = async {
                    let mut w = self.s.create_atomic(NAMES[a]).await?;
                    w.write(&data).await?;
                    w.commit().await
                };
                let ok = r.await.is_ok();
                // Published even if only the final directory sync failed.
                self.published.insert(data);
                if ok {
                    self.last_durable = visible_files(&self.s);
                }
            }
            Op::Open(slot, a) => {
                self.slots[slot] = None;
                if let Ok(w) = self.s.create_atomic(NAMES[a]).await {
                    self.slots[slot] = Some((w, Vec::new()));
                }
            }
            Op::Write(slot, len) => {
                let data = self.bytes(len);
                if let Some((w, buf)) = self.slots[slot].as_mut() {
                    if w.write(&data).await.is_ok() {
                        buf.extend_from_slice(&data);
                    } else {
                        // A careful caller gives up on a writer whose write failed.
                        self.slots[slot] = None;
                    }
                }
            }
            Op::Commit(slot) => {
                if let Some((w, buf)) = self.slots[slot].take() {
                    // A failed commit may still have published (dir sync failed after rename).
                    self.published.insert(buf);
                    if w.commit().await.is_ok() {
                        self.last_durable = visible_files(&self.s);
                    }
                }
            }
            Op::Abort(slot) => {
                if let Some((w, _)) = self.slots[slot].take() {
                    let _ = w.abort().await;
                }
            }
            Op::Drop(slot) => {
                self.slots[slot] = None;
            }
            Op::Rename(a, b) => {
                let _ = self.s.rename(NAMES[a], NAMES[b]).await;
            }
            Op::Remove(a) => {
                let _ = self.s.remove(NAMES[a]).await;
            }
            Op::SyncDir => {
                if self.s.sync_dir().await.is_ok() {
                    self.last_durable = visible_files(&self.s);
                }
            }
        }
    }
}

fn run(ops: &[Op], plan: FaultPlan) -> Run {
    let s = MemoryStorage::new();
    s.insert("c", b"initial".to_vec());
    s.set_fault(plan);
    let mut r = Run {
        last_durable: visible_files(&s),
        published: HashSet::from([b"initial".to_vec()]),
        s,
        slots: [None, None],
        counter: 0,
    };
    block_on(async {
        for op in ops {
            r.apply(op).await;
        }
    });
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn crash_keeps_exactly_the_last_durable_state(
        ops in proptest::collection::vec(op(), 1..40),
        k in 0u64..80,
    ) {
        let r = run(&ops, FaultPlan::CrashAt(k));
        let image = r.s.crash_image();
        prop_assert_eq!(visible_files(&image), r.last_durable.clone());
        for name in image.names() {
            prop_assert!(name.starts_with("tmp") || NAMES.contains(&name.as_str()), "{}", name);
        }
        // The image is a working storage, and a second crash of it changes nothing.
        prop_assert_eq!(visible_files(&image.crash_image()), r.last_durable);
    }

    #[test]
    fn failures_never_expose_partial_files(
        ops in proptest::collection::vec(op(), 1..40),
        k in 0u64..80,
    ) {
        let r = run(&ops, FaultPlan::FailAt(k));
        for (name, bytes) in visible_files(&r.s) {
            prop_assert!(r.published.contains(&bytes), "{} holds unpublished bytes", name);
        }
        let image = r.s.crash_image();
        prop_assert_eq!(visible_files(&image), r.last_durable);
    }

    #[test]
    fn no_space_never_exposes_partial_files(
        ops in proptest::collection::vec(op(), 1..40),
        budget in 0u64..600,
    ) {
        let r = run(&ops, FaultPlan::NoSpaceAfter(budget));
        for (name, bytes) in visible_files(&r.s) {
            prop_assert!(r.published.contains(&bytes), "{} holds unpublished bytes", name);
        }
        prop_assert_eq!(visible_files(&r.s.crash_image()), r.last_durable);
    }
}
