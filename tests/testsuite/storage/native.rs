//! NativeStorage specifics the conformance suite cannot see: files on disk, modes, Go's error
//! wording, and the directory lock across file handles and processes.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etcd_snap::storage::NativeStorage;
use etcd_snap::{AtomicWrite, Error, IoErrorKind, LockMode, Storage};
use futures_executor::block_on;
use futures_util::AsyncReadExt;

fn disk_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn is_temp_name(n: &str) -> bool {
    n.len() > 3 && n.starts_with("tmp") && n[3..].bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn temp_file_on_disk_then_gone_after_commit_abort_drop() {
    let dir = tempfile::tempdir().unwrap();
    let s = NativeStorage::new(dir.path());
    block_on(async {
        // While writing: exactly one tmp<digits> file, nothing under the final name.
        let mut w = s.create_atomic("1.snap.db").await.unwrap();
        w.write(b"abc").await.unwrap();
        let names = disk_names(dir.path());
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(is_temp_name(&names[0]), "{names:?}");
        assert_eq!(w.temp_path(), dir.path().join(&names[0]));
        w.commit().await.unwrap();
        assert_eq!(disk_names(dir.path()), ["1.snap.db"]);
        assert_eq!(fs::read(dir.path().join("1.snap.db")).unwrap(), b"abc");

        let mut w = s.create_atomic("2.snap.db").await.unwrap();
        w.write(b"abc").await.unwrap();
        w.abort().await.unwrap();
        assert_eq!(disk_names(dir.path()), ["1.snap.db"]);

        let mut w = s.create_atomic("3.snap.db").await.unwrap();
        w.write(&vec![7u8; 1 << 20]).await.unwrap();
        drop(w);
        assert_eq!(disk_names(dir.path()), ["1.snap.db"]);
    });
}

#[test]
fn file_modes_follow_etcd() {
    let dir = tempfile::tempdir().unwrap();
    let s = NativeStorage::new(dir.path());
    // What 0666 becomes under this process's umask (File::create uses 0666).
    let probe = dir.path().join("probe");
    fs::File::create(&probe).unwrap();
    let snap_mode = mode(&probe);
    fs::remove_file(&probe).unwrap();
    block_on(async {
        let mut w = s.create_atomic("000000000000002a.snap.db").await.unwrap();
        w.write(b"db").await.unwrap();
        assert_eq!(mode(w.temp_path()), 0o600, "temp file");
        w.commit().await.unwrap();
        let w = s
            .create_atomic("0000000000000001-0000000000000001.snap")
            .await
            .unwrap();
        w.commit().await.unwrap();
    });
    assert_eq!(mode(&dir.path().join("000000000000002a.snap.db")), 0o600);
    assert_eq!(
        mode(&dir.path().join("0000000000000001-0000000000000001.snap")),
        snap_mode
    );
}

#[test]
fn errors_read_like_go() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let s = NativeStorage::new(dir.path());
    fs::create_dir(dir.path().join("sub.snap")).unwrap();
    block_on(async {
        let e = s.read("x.snap").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("open {d}/x.snap: no such file or directory")
        );
        assert_eq!(e.io_kind(), Some(IoErrorKind::NotFound));

        let e = s.read("sub.snap").await.unwrap_err();
        assert_eq!(e.to_string(), format!("read {d}/sub.snap: is a directory"));
        assert_eq!(e.io_kind(), Some(IoErrorKind::IsADirectory));
        assert!(s.stat("sub.snap").await.unwrap().is_dir);

        // Streaming: opening a directory works (as in Go), reading it fails the same way.
        let mut r = s.open_read("sub.snap").await.unwrap();
        let mut buf = Vec::new();
        let e = Error::from(r.read_to_end(&mut buf).await.unwrap_err());
        assert_eq!(e.to_string(), format!("read {d}/sub.snap: is a directory"));
        assert_eq!(e.io_kind(), Some(IoErrorKind::IsADirectory));

        let e = s.rename("a", "b").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("rename {d}/a {d}/b: no such file or directory")
        );
        let e = s.remove("a").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("remove {d}/a: no such file or directory")
        );
        let e = s.stat("a").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("stat {d}/a: no such file or directory")
        );

        for bad in ["", ".", "..", "a/b", "../x", "/etc/passwd"] {
            let e = s.read(bad).await.unwrap_err();
            assert_eq!(e.code(), "ERR_INVALID_ARGUMENT", "{bad:?}");
            let e = s.create_atomic(bad).await.unwrap_err();
            assert_eq!(e.code(), "ERR_INVALID_ARGUMENT", "{bad:?}");
            let e = s.rename("sub.snap", bad).await.unwrap_err();
            assert_eq!(e.code(), "ERR_INVALID_ARGUMENT", "{bad:?}");
        }
        assert_eq!(s.path_of("x.snap"), format!("{d}/x.snap"));
    });
}

#[test]
fn missing_directory_errors_like_etcd() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    let g = gone.to_str().unwrap().to_owned();
    let s = NativeStorage::new(&gone); // no I/O yet
    block_on(async {
        let e = s.list().await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("open {g}: no such file or directory")
        );
        // etcd SaveDBFrom: `open <dir>/tmpNNN: no such file or directory`.
        let e = s.create_atomic("1.snap.db").await.unwrap_err();
        let msg = e.to_string();
        let rest = msg
            .strip_prefix(&format!("open {g}/"))
            .and_then(|m| m.strip_suffix(": no such file or directory"))
            .unwrap_or_else(|| panic!("{msg}"));
        assert!(is_temp_name(rest), "{msg}");
        assert!(e.is_not_found());
        assert!(s.sync_dir().await.unwrap_err().is_not_found());
        assert!(s.lock(LockMode::Fail).await.unwrap_err().is_not_found());
    });
    assert!(!gone.exists());
}

#[test]
fn remove_is_go_os_remove() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let s = NativeStorage::new(dir.path());
    fs::create_dir(dir.path().join("empty")).unwrap();
    fs::create_dir(dir.path().join("full")).unwrap();
    fs::write(dir.path().join("full/x"), b"x").unwrap();
    block_on(async {
        s.remove("empty").await.unwrap();
        let e = s.remove("full").await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("remove {d}/full: directory not empty")
        );
        // A file cannot replace a directory (EISDIR), as in MemoryStorage.
        fs::write(dir.path().join("f"), b"f").unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        let e = s.rename("f", "d").await.unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::IsADirectory));
        assert_eq!(e.to_string(), format!("rename {d}/f {d}/d: is a directory"));
        s.remove("f").await.unwrap();
        s.remove("d").await.unwrap();
        // Directories can be renamed (etcd renames `sub.snap` to `sub.snap.broken`).
        s.rename("full", "full.broken").await.unwrap();
    });
    assert_eq!(disk_names(dir.path()), ["full.broken"]);
}

#[test]
fn lock_leaves_no_file_and_excludes_other_handles() {
    let dir = tempfile::tempdir().unwrap();
    let s = NativeStorage::new(dir.path());
    block_on(async {
        let g = s.lock(LockMode::Fail).await.unwrap();
        assert!(disk_names(dir.path()).is_empty(), "no lock file");
        // flock is per open file description: another handle in this process conflicts.
        let other = fs::File::open(dir.path()).unwrap();
        assert!(other.try_lock().is_err());
        let e = NativeStorage::new(dir.path())
            .lock(LockMode::Fail)
            .await
            .unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::Locked));
        assert_eq!(e.code(), "ERR_LOCKED");
        drop(g);
        other.try_lock().unwrap();
        let e = s.lock(LockMode::Fail).await.unwrap_err();
        assert_eq!(e.io_kind(), Some(IoErrorKind::Locked));
    });
}

/// Kills the child on drop, so a failing assertion never leaks a process.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const PROBE_ENV: &str = "ETCD_SNAP_LOCK_PROBE";

/// The libtest name of this module's test `f` (its path without the binary's name), for
/// `--exact` when this binary starts itself as a child.
fn test_name(f: &str) -> String {
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{f}")
}

/// Starts this test binary as a child that runs `lock_probe_child` on `dir`.
fn spawn_probe(dir: &Path, mode: &str) -> KillOnDrop {
    let child = Command::new(std::env::current_exe().unwrap())
        .arg("--exact")
        .arg(test_name("lock_probe_child"))
        .args(["--nocapture", "--test-threads=1"])
        .env(PROBE_ENV, format!("{mode}:{}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    KillOnDrop(child)
}

fn wait_output(mut probe: KillOnDrop, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        if probe.0.try_wait().unwrap().is_some() {
            let mut out = String::new();
            std::io::Read::read_to_string(probe.0.stdout.as_mut().unwrap(), &mut out).unwrap();
            return out;
        }
        assert!(start.elapsed() < timeout, "probe did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Not a test on its own: the child side of the cross-process lock tests (does nothing unless
/// started by them with `ETCD_SNAP_LOCK_PROBE=<mode>:<dir>`).
#[test]
fn lock_probe_child() {
    let Ok(spec) = std::env::var(PROBE_ENV) else {
        return;
    };
    let (mode, dir) = spec.split_once(':').unwrap();
    let mode = if mode == "wait" {
        LockMode::Wait
    } else {
        LockMode::Fail
    };
    let r = block_on(NativeStorage::new(dir).lock(mode));
    let mut out = std::io::stdout();
    match r {
        Ok(_g) => writeln!(out, "PROBE:ACQUIRED").unwrap(),
        Err(e) => writeln!(out, "PROBE:{}", e.code()).unwrap(),
    }
    out.flush().unwrap();
}

#[test]
fn lock_excludes_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let s = NativeStorage::new(dir.path());
    let timeout = Duration::from_secs(120);
    let g = block_on(s.lock(LockMode::Fail)).unwrap();
    let out = wait_output(spawn_probe(dir.path(), "fail"), timeout);
    assert!(out.contains("PROBE:ERR_LOCKED"), "{out}");

    // A waiting process gets the lock only after we release it.
    let mut probe = spawn_probe(dir.path(), "wait");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        probe.0.try_wait().unwrap().is_none(),
        "waiter finished early"
    );
    drop(g);
    let out = wait_output(probe, timeout);
    assert!(out.contains("PROBE:ACQUIRED"), "{out}");

    // Released by the child's exit: we can lock again.
    let out = wait_output(spawn_probe(dir.path(), "fail"), timeout);
    assert!(out.contains("PROBE:ACQUIRED"), "{out}");
    drop(block_on(s.lock(LockMode::Fail)).unwrap());
}

#[test]
fn lock_is_compatible_with_flock_command() {
    // util-linux flock(1) on the same directory sees our lock.
    if Command::new("flock").arg("--version").output().is_err() {
        panic!("flock(1) (util-linux) is required for this test");
    }
    let dir = tempfile::tempdir().unwrap();
    let s = NativeStorage::new(dir.path());
    let g = block_on(s.lock(LockMode::Fail)).unwrap();
    let st = Command::new("flock")
        .args(["-n", "-E", "42"])
        .arg(dir.path())
        .arg("true")
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(42), "flock -n should fail while we hold it");
    drop(g);
    let st = Command::new("flock")
        .arg("-n")
        .arg(dir.path())
        .arg("true")
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn wait_lock_does_not_block_the_executor() {
    // A Wait lock parks a helper thread, so other futures on this thread keep running.
    let dir = tempfile::tempdir().unwrap();
    let s = NativeStorage::new(dir.path());
    block_on(async {
        let g = s.lock(LockMode::Fail).await.unwrap();
        let waiter = s.lock(LockMode::Wait);
        let other = async {
            // Other I/O proceeds while the waiter is parked.
            let mut w = s.create_atomic("a").await.unwrap();
            w.write(b"x").await.unwrap();
            w.commit().await.unwrap();
            drop(g);
        };
        let (l, ()) = futures_util::future::join(waiter, other).await;
        l.unwrap();
    });
    assert_eq!(disk_names(dir.path()), ["a"]);
}

const DURABILITY_ENV: &str = "ETCD_SNAP_DURABILITY_PROBE";

/// Not a test on its own: the traced side of `commit_syscalls_are_durable` (does nothing
/// unless started by it with `ETCD_SNAP_DURABILITY_PROBE=<dir>`).
#[test]
fn durability_probe_child() {
    let Ok(dir) = std::env::var(DURABILITY_ENV) else {
        return;
    };
    let s = NativeStorage::new(dir);
    block_on(async {
        let mut w = s.create_atomic("000000000000002a.snap.db").await.unwrap();
        for _ in 0..64 {
            w.write(&[5u8; 16 * 1024]).await.unwrap();
        }
        w.commit().await.unwrap();
    });
}

/// One traced syscall: name, its text, and its return value.
struct Call {
    name: String,
    args: String,
    ret: String,
}

fn parse_strace(text: &str) -> Vec<Call> {
    text.lines()
        .filter_map(|l| {
            // "<pid> name(args) = ret"
            let l = l.split_once(' ').map_or(l, |(_, rest)| rest).trim_start();
            let (name, rest) = l.split_once('(')?;
            let (args, ret) = rest.rsplit_once(" = ")?;
            let args = args.trim_end().strip_suffix(')')?;
            Some(Call {
                name: name.to_owned(),
                args: args.to_owned(),
                ret: ret.split_whitespace().next()?.to_owned(),
            })
        })
        .collect()
}

#[test]
fn commit_syscalls_are_durable() {
    // The claim "commit = fsync the temp file, rename, fsync the directory" checked on the
    // real system calls, with strace (installed by .ci/setup).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_owned();
    let trace = dir
        .path()
        .join("..")
        .join(format!("etcd-snap-strace-{}.txt", std::process::id()));
    let out = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=openat,write,fsync,fdatasync,rename,renameat,renameat2,close",
        ])
        .arg("-o")
        .arg(&trace)
        .arg(std::env::current_exe().unwrap())
        .arg("--exact")
        .arg(test_name("durability_probe_child"))
        .arg("--test-threads=1")
        .env(DURABILITY_ENV, &d)
        .output()
        .expect("strace is required for this test (apt-get install strace)");
    let text = fs::read_to_string(&trace).unwrap_or_default();
    let _ = fs::remove_file(&trace);
    assert!(
        out.status.success(),
        "strace run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(disk_names(dir.path()), ["000000000000002a.snap.db"]);

    let calls = parse_strace(&text);
    let pos = |pred: &dyn Fn(&Call) -> bool, from: usize| -> usize {
        calls[from..]
            .iter()
            .position(pred)
            .map(|i| i + from)
            .unwrap_or_else(|| panic!("expected syscall not found after #{from}:\n{text}"))
    };
    // Exclusive create of tmp<digits> in the directory, mode 0600.
    let tmp_prefix = format!("\"{d}/tmp");
    let open = pos(
        &|c| c.name == "openat" && c.args.contains(&tmp_prefix) && c.args.contains("O_EXCL"),
        0,
    );
    assert!(calls[open].args.ends_with("0600"), "{}", calls[open].args);
    let fd = calls[open].ret.clone();
    let tmp = calls[open].args.split('"').nth(1).unwrap().to_owned();
    // All data written, then fsync of that file.
    let fsync = pos(
        &|c| (c.name == "fsync" || c.name == "fdatasync") && c.args == fd,
        open,
    );
    let written: u64 = calls[open..fsync]
        .iter()
        .filter(|c| c.name == "write" && c.args.starts_with(&format!("{fd}, ")))
        .map(|c| c.ret.parse::<u64>().unwrap())
        .sum();
    assert_eq!(written, 64 * 16 * 1024);
    // Then the rename over the final name, then an fsync of the directory.
    let final_path = format!("{d}/000000000000002a.snap.db");
    let rename = pos(
        &|c| c.name.starts_with("rename") && c.args.contains(&tmp) && c.args.contains(&final_path),
        fsync,
    );
    assert_eq!(calls[rename].ret, "0");
    let dir_open = pos(
        &|c| c.name == "openat" && c.args.contains(&format!("\"{d}\"")),
        rename,
    );
    let dir_fd = calls[dir_open].ret.clone();
    let dir_sync = pos(&|c| c.name == "fsync" && c.args == dir_fd, dir_open);
    assert_eq!(calls[dir_sync].ret, "0");
    // No write to the temp file after its fsync.
    assert!(
        !calls[fsync..rename]
            .iter()
            .any(|c| c.name == "write" && c.args.starts_with(&format!("{fd}, "))),
        "write after fsync"
    );
}

// The Node lock protocol (src/storage/node.rs): `<dir>.etcd-snap.lock` beside the folder.

/// A snap folder inside a temp dir, so the lock file beside it is cleaned up too.
fn snap_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("snap");
    fs::create_dir(&d).unwrap();
    (t, d)
}

fn lock_file(dir: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.etcd-snap.lock", dir.display()))
}

fn this_host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim_end()
        .to_owned()
}

/// The owner record of the lock entry (a symlink's target, src/storage/lock_file.rs).
fn lock_record(dir: &Path) -> String {
    fs::read_link(lock_file(dir))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// `pid` of a record `pid:starttime:bootid8:token8@host`.
fn record_pid(rec: &str) -> u32 {
    rec.split(':').next().unwrap().parse().unwrap()
}

/// An earlier version's lock file (regular file, JSON) naming `pid` on this host.
fn write_node_lock(dir: &Path, pid: u32) {
    let body = format!(
        "{{\"pid\":{pid},\"host\":{},\"token\":\"0123456789abcdef\"}}\n",
        serde_json::to_string(&this_host()).unwrap()
    );
    fs::write(lock_file(dir), body).unwrap();
}

#[test]
fn native_lock_writes_node_lock_file_and_removes_it() {
    let (_t, dir) = snap_dir();
    let s = NativeStorage::new(&dir);
    assert_eq!(s.lock_path().unwrap(), lock_file(&dir));
    // Every spelling of the folder names the same lock (issue 9, item 1).
    let link = dir.parent().unwrap().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    for spelling in [
        format!("{}/", dir.display()),
        format!("{}/.", dir.display()),
        link.display().to_string(),
    ] {
        assert_eq!(
            NativeStorage::new(&spelling).lock_path().unwrap(),
            lock_file(&dir),
            "{spelling}"
        );
    }
    fs::remove_file(&link).unwrap();
    let g = block_on(s.lock(LockMode::Fail)).unwrap();
    // A symlink whose target is `pid:starttime:bootid8:token8@host` (no data block).
    let meta = fs::symlink_metadata(lock_file(&dir)).unwrap();
    assert!(meta.file_type().is_symlink());
    let rec = lock_record(&dir);
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    let start = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_owned();
    let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let (head, host) = rec.split_once('@').unwrap();
    let f: Vec<&str> = head.split(':').collect();
    assert_eq!(f[0], std::process::id().to_string(), "{rec}");
    assert_eq!(f[1], start, "{rec}");
    assert_eq!(f[2], &boot[..8], "{rec}");
    assert!(
        f[3].len() == 8 && f[3].bytes().all(|b| b.is_ascii_hexdigit()),
        "{rec}"
    );
    assert!(rec.len() <= 59, "{rec}");
    if head.len() + this_host().len() < 59 {
        assert_eq!(host, this_host(), "{rec}");
    }
    assert!(
        disk_names(&dir).is_empty(),
        "nothing inside the snap folder"
    );
    drop(g);
    assert!(
        fs::symlink_metadata(lock_file(&dir)).is_err(),
        "lock file removed on release"
    );

    // A lock file replaced by someone else's (not our token) is left alone on release.
    let g = block_on(s.lock(LockMode::Fail)).unwrap();
    fs::remove_file(lock_file(&dir)).unwrap();
    write_node_lock(&dir, std::process::id());
    drop(g);
    assert!(
        lock_file(&dir).exists(),
        "a foreign lock file is not removed"
    );
}

#[test]
fn live_node_lock_file_makes_native_lock_fail_or_wait() {
    let (_t, dir) = snap_dir();
    let s = NativeStorage::new(&dir);
    let sleeper = KillOnDrop(Command::new("sleep").arg("30").spawn().unwrap());
    write_node_lock(&dir, sleeper.0.id());
    let e = block_on(s.lock(LockMode::Fail)).unwrap_err();
    assert_eq!(e.io_kind(), Some(IoErrorKind::Locked), "{e}");
    assert_eq!(e.code(), "ERR_LOCKED");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("held by pid {} on ", sleeper.0.id())),
        "{msg}"
    );
    // The flock was released again: another handle can take it.
    let other = fs::File::open(&dir).unwrap();
    other.try_lock().unwrap();
    drop(other);
    // The foreign lock file is untouched.
    assert!(
        fs::read_to_string(lock_file(&dir))
            .unwrap()
            .contains("0123456789abcdef")
    );

    // Wait mode polls until the Node holder releases.
    let waiter = std::thread::spawn({
        let s = s.clone();
        move || block_on(s.lock(LockMode::Wait)).map(|g| (g, Instant::now()))
    });
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        !waiter.is_finished(),
        "waiter got the lock while Node held it"
    );
    let released = Instant::now();
    fs::remove_file(lock_file(&dir)).unwrap();
    let (g, got) = waiter.join().unwrap().unwrap();
    assert!(got >= released);
    assert_eq!(record_pid(&lock_record(&dir)), std::process::id());
    drop(g);
    assert!(fs::symlink_metadata(lock_file(&dir)).is_err());
}

#[test]
fn stale_node_lock_files_are_taken_over() {
    let (_t, dir) = snap_dir();
    let s = NativeStorage::new(&dir);
    // A dead PID on this host.
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    write_node_lock(&dir, dead_pid);
    let g = block_on(s.lock(LockMode::Fail)).unwrap();
    assert_eq!(record_pid(&lock_record(&dir)), std::process::id());
    drop(g);
    assert!(fs::symlink_metadata(lock_file(&dir)).is_err());
    let leftovers: Vec<String> = disk_names(dir.parent().unwrap());
    assert_eq!(leftovers, ["snap"], "no .stale file left behind");

    // An unparsable lock file (a holder between create and write) is live for 10 s ...
    fs::write(lock_file(&dir), "{\"pid\":").unwrap();
    let e = block_on(s.lock(LockMode::Fail)).unwrap_err();
    assert_eq!(e.io_kind(), Some(IoErrorKind::Locked), "{e}");
    // ... then stale.
    let f = fs::File::options()
        .write(true)
        .open(lock_file(&dir))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(11))
        .unwrap();
    drop(f);
    let g = block_on(s.lock(LockMode::Fail)).unwrap();
    drop(g);
    assert!(fs::symlink_metadata(lock_file(&dir)).is_err());

    // Another host's lock file is never stale, whatever its PID.
    fs::write(
        lock_file(&dir),
        format!("{{\"pid\":{dead_pid},\"host\":\"some-other-host\",\"token\":\"x\"}}\n"),
    )
    .unwrap();
    let e = block_on(s.lock(LockMode::Fail)).unwrap_err();
    assert_eq!(e.io_kind(), Some(IoErrorKind::Locked), "{e}");
    assert!(
        e.to_string()
            .ends_with("; if that process is gone, rerun with --break-lock"),
        "{e}"
    );
    // ... unless broken on request (LockMode::Break, the CLIs' --break-lock).
    let g = block_on(s.lock(LockMode::Break)).unwrap();
    assert_eq!(record_pid(&lock_record(&dir)), std::process::id());
    drop(g);

    // An empty file with a future mtime is stale too (issue 9, item 8).
    fs::write(lock_file(&dir), "").unwrap();
    let f = fs::File::options()
        .write(true)
        .open(lock_file(&dir))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    drop(f);
    drop(block_on(s.lock(LockMode::Fail)).unwrap());
    assert!(fs::symlink_metadata(lock_file(&dir)).is_err());
}
