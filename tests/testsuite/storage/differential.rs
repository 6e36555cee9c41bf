//! MemoryStorage must behave like the real file system: random operation sequences run on
//! MemoryStorage and on NativeStorage (a temp dir) side by side give the same results, error
//! kinds, contents and listings (temp files compared by count, since their digits differ).

use etcd_snap::storage::{MemoryStorage, NativeStorage};
use etcd_snap::{AtomicWrite, IoErrorKind, Result, Storage};
use futures_executor::block_on;
use futures_util::AsyncReadExt;
use proptest::prelude::*;

const NAMES: [&str; 4] = ["a.snap", "b.snap.db", "c", "d é"];

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
    Read(usize),
    Stream(usize),
    Stat(usize),
    SyncDir,
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0..NAMES.len();
    let slot = 0..2usize;
    prop_oneof![
        (n.clone(), 0..5000usize).prop_map(|(a, l)| Op::Put(a, l)),
        (slot.clone(), n.clone()).prop_map(|(s, a)| Op::Open(s, a)),
        (slot.clone(), 0..3000usize).prop_map(|(s, l)| Op::Write(s, l)),
        slot.clone().prop_map(Op::Commit),
        slot.clone().prop_map(Op::Abort),
        slot.prop_map(Op::Drop),
        (n.clone(), n.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        n.clone().prop_map(Op::Remove),
        n.clone().prop_map(Op::Read),
        n.clone().prop_map(Op::Stream),
        n.prop_map(Op::Stat),
        Just(Op::SyncDir),
    ]
}

/// What an operation produced, comparable across backends.
#[derive(Debug, PartialEq)]
enum Out {
    Done,
    Bytes(Vec<u8>),
    Size(u64),
    Err(Option<IoErrorKind>, &'static str),
    NoWriter,
}

fn out<T>(r: Result<T>, f: impl FnOnce(T) -> Out) -> Out {
    match r {
        Ok(v) => f(v),
        Err(e) => Out::Err(e.io_kind(), e.code()),
    }
}

/// One backend with its two writer slots.
struct Side<S: Storage> {
    s: S,
    slots: [Option<S::Writer>; 2],
    counter: u32,
}

impl<S: Storage> Side<S> {
    fn new(s: S) -> Self {
        Side {
            s,
            slots: [None, None],
            counter: 0,
        }
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        self.counter += 1;
        let c = self.counter;
        (0..len)
            .map(|i| (i as u32 ^ c.wrapping_mul(31)) as u8)
            .collect()
    }

    async fn apply(&mut self, op: &Op) -> Out {
        match *op {
            Op::Put(a, len) => {
                let data = self.bytes(len);
                let r = async {
                    let mut w = self.s.create_atomic(NAMES[a]).await?;
                    w.write(&data).await?;
                    w.commit().await
                };
                out(r.await, |()| Out::Done)
            }
            Op::Open(slot, a) => {
                self.slots[slot] = None;
                match self.s.create_atomic(NAMES[a]).await {
                    Ok(w) => {
                        self.slots[slot] = Some(w);
                        Out::Done
                    }
                    Err(e) => Out::Err(e.io_kind(), e.code()),
                }
            }
            Op::Write(slot, len) => {
                let data = self.bytes(len);
                match self.slots[slot].as_mut() {
                    Some(w) => out(w.write(&data).await, |()| Out::Done),
                    None => Out::NoWriter,
                }
            }
            Op::Commit(slot) => match self.slots[slot].take() {
                Some(w) => out(w.commit().await, |()| Out::Done),
                None => Out::NoWriter,
            },
            Op::Abort(slot) => match self.slots[slot].take() {
                Some(w) => out(w.abort().await, |()| Out::Done),
                None => Out::NoWriter,
            },
            Op::Drop(slot) => match self.slots[slot].take() {
                Some(w) => {
                    drop(w);
                    Out::Done
                }
                None => Out::NoWriter,
            },
            Op::Rename(a, b) => out(self.s.rename(NAMES[a], NAMES[b]).await, |()| Out::Done),
            Op::Remove(a) => out(self.s.remove(NAMES[a]).await, |()| Out::Done),
            Op::Read(a) => out(self.s.read(NAMES[a]).await, Out::Bytes),
            Op::Stream(a) => match self.s.open_read(NAMES[a]).await {
                Ok(mut r) => {
                    let mut v = Vec::new();
                    let res = r.read_to_end(&mut v).await.map_err(etcd_snap::Error::from);
                    out(res, |_| Out::Bytes(v))
                }
                Err(e) => Out::Err(e.io_kind(), e.code()),
            },
            Op::Stat(a) => out(self.s.stat(NAMES[a]).await, |m| Out::Size(m.size)),
            Op::SyncDir => out(self.s.sync_dir().await, |()| Out::Done),
        }
    }

    /// Non-temp names (sorted) and the number of temp entries.
    async fn listing(&self) -> (Vec<String>, usize) {
        let names = self.s.list().await.expect("list");
        let tmp = names.iter().filter(|n| n.starts_with("tmp")).count();
        let mut v: Vec<String> = names
            .into_iter()
            .filter(|n| !n.starts_with("tmp"))
            .collect();
        v.sort();
        (v, tmp)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn memory_matches_native(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Side::new(MemoryStorage::new());
        let mut nat = Side::new(NativeStorage::new(dir.path()));
        block_on(async {
            for (i, op) in ops.iter().enumerate() {
                let m = mem.apply(op).await;
                let n = nat.apply(op).await;
                prop_assert_eq!(&m, &n, "op #{} {:?}", i, op);
                prop_assert_eq!(mem.listing().await, nat.listing().await, "after op #{} {:?}", i, op);
            }
            Ok(())
        })?;
    }
}
