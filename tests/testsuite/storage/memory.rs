//! MemoryStorage specifics: the durability model, test helpers and fault injection.

use etcd_snap::storage::MemoryStorage;
use etcd_snap::storage::fault::{FaultPlan, is_injected};
use etcd_snap::{AtomicWrite, IoErrorKind, LockMode, Storage};
use futures_executor::block_on;
use futures_util::AsyncReadExt;

async fn write(s: &MemoryStorage, name: &str, bytes: &[u8]) -> etcd_snap::Result<()> {
    let mut w = s.create_atomic(name).await?;
    w.write(bytes).await?;
    w.commit().await
}

#[test]
fn commit_is_durable_and_insert_is_durable() {
    block_on(async {
        let s = MemoryStorage::new();
        s.insert("old", b"o".to_vec());
        write(&s, "a", b"hello").await.unwrap();
        let img = s.crash_image();
        assert_eq!(img.names(), ["a", "old"]);
        assert_eq!(img.read("a").await.unwrap(), b"hello");
        assert_eq!(img.read("old").await.unwrap(), b"o");
    });
}

#[test]
fn rename_and_remove_need_sync_dir() {
    block_on(async {
        let s = MemoryStorage::new();
        s.insert("a", b"1".to_vec());
        s.insert("b", b"2".to_vec());
        s.rename("a", "c").await.unwrap();
        s.remove("b").await.unwrap();
        assert_eq!(s.names(), ["c"]);
        // Not synced: the crash brings back the old directory.
        let img = s.crash_image();
        assert_eq!(img.names(), ["a", "b"]);
        assert_eq!(img.read("b").await.unwrap(), b"2");
        s.sync_dir().await.unwrap();
        let img = s.crash_image();
        assert_eq!(img.names(), ["c"]);
        assert_eq!(img.read("c").await.unwrap(), b"1");
    });
}

#[test]
fn writer_in_flight_leaves_tmp_only_after_dir_sync() {
    block_on(async {
        let s = MemoryStorage::new();
        let mut w = s.create_atomic("x.snap.db").await.unwrap();
        w.write(b"partial").await.unwrap();
        let tmp = w.temp_name().to_owned();
        assert!(tmp.starts_with("tmp") && tmp[3..].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(s.names(), std::slice::from_ref(&tmp));
        assert_eq!(s.stat(&tmp).await.unwrap().size, 7);
        // Temp entry not durable yet.
        assert!(s.crash_image().names().is_empty());
        // Another commit syncs the directory: the temp entry becomes durable, contents not.
        write(&s, "other", b"z").await.unwrap();
        let img = s.crash_image();
        assert_eq!(img.names(), ["other".to_owned(), tmp.clone()]);
        assert_eq!(img.read(&tmp).await.unwrap(), b"");
        // Dropping the writer removes the temp file (live), durable after sync_dir.
        drop(w);
        assert_eq!(s.names(), ["other"]);
        assert!(s.crash_image().names().contains(&tmp));
        s.sync_dir().await.unwrap();
        assert_eq!(s.crash_image().names(), ["other"]);
    });
}

#[test]
fn directory_entries() {
    block_on(async {
        let s = MemoryStorage::new();
        s.mkdir("sub.snap");
        let m = s.stat("sub.snap").await.unwrap();
        assert!(m.is_dir);
        let e = s.read("sub.snap").await.unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::IsADirectory));
        assert_eq!(e.to_string(), "read sub.snap: is a directory");
        let mut r = s.open_read("sub.snap").await.unwrap();
        let mut buf = Vec::new();
        let e = etcd_snap::Error::from(r.read_to_end(&mut buf).await.unwrap_err());
        assert_eq!(e.to_string(), "read sub.snap: is a directory");
        s.rename("sub.snap", "sub.snap.broken").await.unwrap();
        assert!(s.stat("sub.snap.broken").await.unwrap().is_dir);
        // A file cannot replace a directory.
        s.insert("f", b"x".to_vec());
        let e = s.rename("f", "sub.snap.broken").await.unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::IsADirectory));
        assert_eq!(e.to_string(), "rename f sub.snap.broken: is a directory");
        s.sync_dir().await.unwrap();
        assert_eq!(s.crash_image().names(), ["f", "sub.snap.broken"]);
    });
}

#[test]
fn error_wording() {
    block_on(async {
        let s = MemoryStorage::new();
        let e = s.read("x.snap").await.unwrap_err();
        assert_eq!(e.to_string(), "open x.snap: no such file or directory");
        let e = s.rename("a", "b").await.unwrap_err();
        assert_eq!(e.to_string(), "rename a b: no such file or directory");
        let e = s.remove("a").await.unwrap_err();
        assert_eq!(e.to_string(), "remove a: no such file or directory");
        let e = s.read("a/b").await.unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_ARGUMENT");
        let e = s.create_atomic("..").await.unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_ARGUMENT");
    });
}

#[test]
fn readers_see_a_stable_snapshot() {
    block_on(async {
        let s = MemoryStorage::new();
        s.insert("a", b"first".to_vec());
        let mut r = s.open_read("a").await.unwrap();
        write(&s, "a", b"second").await.unwrap();
        let mut buf = Vec::new();
        r.read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"first");
        assert_eq!(s.read("a").await.unwrap(), b"second");
    });
}

#[test]
fn fork_is_independent() {
    block_on(async {
        let s = MemoryStorage::new();
        s.insert("a", b"1".to_vec());
        let f = s.fork();
        write(&f, "b", b"2").await.unwrap();
        f.remove("a").await.unwrap();
        assert_eq!(s.names(), ["a"]);
        assert_eq!(f.names(), ["b"]);
        // A writer open in the original keeps writing only there.
        let mut w = s.create_atomic("c").await.unwrap();
        w.write(b"12").await.unwrap();
        let f2 = s.fork();
        w.write(b"34").await.unwrap();
        let tmp = w.temp_name().to_owned();
        assert_eq!(f2.get(&tmp).unwrap(), b"12");
        assert_eq!(s.get(&tmp).unwrap(), b"1234");
        w.commit().await.unwrap();
        assert_eq!(f2.names(), ["a", &tmp]);
        assert_eq!(s.names(), ["a", "c"]);
        // A lock on one does not block the other.
        let _g = s.lock(LockMode::Fail).await.unwrap();
        let _h = f.lock(LockMode::Fail).await.unwrap();
    });
}

#[test]
fn step_counts() {
    block_on(async {
        let s = MemoryStorage::new();
        assert_eq!(s.steps(), 0);
        write(&s, "a", b"x").await.unwrap(); // open, write, sync, rename, sync dir
        assert_eq!(s.steps(), 5);
        s.set_fault(FaultPlan::None);
        s.list().await.unwrap();
        s.stat("a").await.unwrap();
        s.exists("zz").await.unwrap();
        s.read("a").await.unwrap();
        s.open_read("a").await.unwrap();
        s.rename("a", "b").await.unwrap();
        s.remove("b").await.unwrap();
        s.sync_dir().await.unwrap();
        drop(s.lock(LockMode::Fail).await.unwrap());
        assert_eq!(s.steps(), 9);
        let w = s.create_atomic("c").await.unwrap();
        w.abort().await.unwrap(); // open, remove
        let w = s.create_atomic("c").await.unwrap();
        drop(w); // open, remove
        assert_eq!(s.steps(), 13);
        assert!(s.names().is_empty());
    });
}

#[test]
fn fail_at_each_step_of_a_commit() {
    block_on(async {
        for k in 0..5 {
            let s = MemoryStorage::new();
            s.insert("a", b"old".to_vec());
            s.set_fault(FaultPlan::FailAt(k));
            let e = write(&s, "a", b"new").await.unwrap_err();
            assert!(is_injected(&e), "{e}");
            assert!(e.to_string().contains("injected"), "{e}");
            assert!(!s.is_crashed());
            if k < 4 {
                // Failed before publishing: old bytes, temp cleaned up (live view).
                assert_eq!(s.read("a").await.unwrap(), b"old", "k={k}");
                assert_eq!(s.names(), ["a"], "k={k}");
            } else {
                // Directory sync failed: published but the rename is not durable.
                assert_eq!(s.read("a").await.unwrap(), b"new");
                assert_eq!(s.crash_image().read("a").await.unwrap(), b"old");
            }
            // Later steps work again.
            write(&s, "a", b"again").await.unwrap();
            assert_eq!(s.crash_image().read("a").await.unwrap(), b"again");
        }
    });
}

#[test]
fn crash_at_each_step_keeps_old_or_new() {
    block_on(async {
        let probe = MemoryStorage::new();
        probe.insert("a", b"old".to_vec());
        probe.set_fault(FaultPlan::None);
        write(&probe, "a", b"new").await.unwrap();
        let n = probe.steps();
        assert_eq!(n, 5);
        for k in 0..=n {
            let s = MemoryStorage::new();
            s.insert("a", b"old".to_vec());
            s.set_fault(FaultPlan::CrashAt(k));
            let r = write(&s, "a", b"new").await;
            assert_eq!(r.is_err(), k < n, "k={k}");
            assert_eq!(s.is_crashed(), k < n);
            if k < n {
                // Everything fails after a crash, and nothing changes.
                let names = s.names();
                assert!(is_injected(&s.remove("a").await.unwrap_err()));
                assert!(is_injected(&s.list().await.unwrap_err()));
                assert_eq!(s.names(), names);
            }
            let img = s.crash_image();
            let got = img.read("a").await.unwrap();
            let want: &[u8] = if k == n { b"new" } else { b"old" };
            assert_eq!(got, want, "k={k}");
            // Possibly a leftover temp file, never anything else.
            for name in img.names() {
                assert!(name == "a" || name.starts_with("tmp"), "{name}");
            }
            // The image is usable: writable and unlocked.
            write(&img, "a", b"after").await.unwrap();
            drop(img.lock(LockMode::Fail).await.unwrap());
        }
    });
}

#[test]
fn no_space_after_budget() {
    block_on(async {
        let s = MemoryStorage::new();
        s.set_fault(FaultPlan::NoSpaceAfter(10));
        let mut w = s.create_atomic("a").await.unwrap();
        w.write(b"0123456").await.unwrap();
        let e = w.write(b"789abc").await.unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::NoSpace));
        assert!(is_injected(&e));
        let tmp = w.temp_name().to_owned();
        assert_eq!(s.get(&tmp).unwrap(), b"0123456789");
        w.abort().await.unwrap();
        assert!(s.names().is_empty());
        // The budget is spent: any further byte fails; empty writes succeed.
        let mut w = s.create_atomic("b").await.unwrap();
        w.write(b"").await.unwrap();
        assert_eq!(
            w.write(b"x").await.unwrap_err().io_kind(),
            Some(IoErrorKind::NoSpace)
        );
        drop(w);
        assert!(s.names().is_empty());
    });
}

#[test]
fn lock_wait_is_woken_on_release() {
    use std::cell::Cell;
    block_on(async {
        let s = MemoryStorage::new();
        let g = s.lock(LockMode::Fail).await.unwrap();
        let e = s.lock(LockMode::Fail).await.unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::Locked));
        let got = Cell::new(false);
        let waiter = async {
            let l = s.lock(LockMode::Wait).await.unwrap();
            got.set(true);
            l
        };
        let releaser = async {
            for _ in 0..10 {
                yield_now().await;
                assert!(!got.get());
            }
            drop(g);
        };
        let (l, ()) = futures_util::future::join(waiter, releaser).await;
        assert!(got.get());
        assert!(s.is_locked());
        drop(l);
        assert!(!s.is_locked());
    });
}

async fn yield_now() {
    let mut yielded = false;
    futures_util::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
