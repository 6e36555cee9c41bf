//! The `<dir>.etcd-snap.lock` protocol, shared by the Node backend (which cannot `flock`) and
//! the native one (which also takes it, so Node and native writers exclude each other).
//! Written once here; each backend brings only its I/O ([`LockIo`]).
//!
//! **Where.** Beside the folder (etcd warns about unexpected files inside it), keyed on the
//! folder's real path: `<realpath(dir)>.etcd-snap.lock`, so `snap`, `snap/.`, `./snap/` and a
//! symlink to it all name one lock (issue 9, item 1). Two bind mounts of one folder have two
//! real paths and are **not** detected as one folder (natively the `flock` on the directory
//! still excludes native writers from each other there).
//!
//! **What.** A **symlink** whose target is the owner record, created atomically and
//! exclusively by `symlink(2)` and read with `readlink` (the Emacs lock-file technique). A
//! short target needs no data block (ext4 stores targets under 60 bytes in the inode, tmpfs
//! and xfs inline them), so taking the lock works on a full disk and `release`, the command
//! that frees space, can run there (issue 9, item 6). The record is
//! `<pid>:<starttime>:<bootid8>:<token8>@<host>`: `starttime` is field 22 of
//! `/proc/<pid>/stat` (clock ticks since boot), `bootid8` the first 8 hex digits of
//! `/proc/sys/kernel/random/boot_id` (both empty where there is no `/proc`), `token8` random;
//! when the record would exceed [`MAX_TARGET`] bytes, `host` becomes `#` + 8 hex digits of its
//! SHA-256. Where symlinks cannot be made (`EPERM`, `ENOTSUP`, non-Unix) the same record is
//! written to an exclusively created regular file instead. The format of earlier versions, a
//! regular file holding `{"pid":N,"host":"H","token":"T"}`, is still read.
//!
//! **Stale** (taken over at once) when the record names this host and: another boot id, or a
//! PID that no longer exists, or a live PID with another start time (the PID was reused, e.g.
//! PID 1 of a restarted container; issue 9, item 8). An entry that does not parse is stale
//! once its mtime is more than [`UNPARSED_STALE_MS`] away from now in either direction. A
//! record that names this host, a live PID and the same start time is **live** and is never
//! broken. Anything else is **undecidable** (another host, a pre-start-time record naming a
//! live PID, a start time that cannot be read): it blocks like a live holder, but
//! [`LockMode::Break`](super::LockMode::Break) (`--break-lock`) takes it over, with a warning
//! on stderr. Not detected: holders in another PID namespace with the same host name and boot
//! id (their PIDs mean something else here); use distinct host names per container.
//!
//! **Takeover** without ever removing a live entry, and without the three-process race of the
//! former rename-away-and-link-back scheme: a taker first creates a guard entry
//! `<lockfile>.break.<8 hex of SHA-256 of the stale record>` exclusively, re-reads the lock
//! and removes it only if it still is that record, then removes the guard. Every taker of one
//! stale record needs the same guard, and a record is never written twice (random token), so
//! no taker can remove a fresh lock. A guard left by a taker that crashed is removed once it
//! is [`UNPARSED_STALE_MS`] old.

use sha2::{Digest, Sha256};

use crate::error::{Error, IoErrorKind, Result};

/// An entry that does not parse is stale once its mtime is this far from now (a live holder of
/// the regular-file format writes it right after creating it; a symlink is never half-made).
pub(crate) const UNPARSED_STALE_MS: f64 = 10_000.0;

/// The longest symlink target written: ext4 keeps targets under 60 bytes in the inode.
pub(crate) const MAX_TARGET: usize = 59;

/// `<dir>.etcd-snap.lock` for an already resolved `dir` (trailing slashes ignored).
pub(crate) fn lock_path(resolved_dir: &str) -> String {
    let trimmed = resolved_dir.trim_end_matches('/');
    let base = if trimmed.is_empty() { "/" } else { trimmed };
    format!("{base}.etcd-snap.lock")
}

/// What a backend found at a lock path.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// The symlink target, or the regular file's contents (lossy UTF-8, at most 4 KiB).
    pub raw: String,
    /// Milliseconds since its mtime (negative: in the future); `None` if unknown.
    pub age_ms: Option<f64>,
}

/// How an exclusive create went.
#[derive(Debug)]
pub(crate) enum Created {
    /// Made.
    Yes,
    /// Something is there already.
    Exists,
    /// This file system (or OS) cannot make symlinks: use a regular file.
    Unsupported,
}

/// Whether a PID names a running process, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PidState {
    /// `kill(pid, 0)` fails with `ESRCH`.
    Gone,
    /// Running; its start time when readable.
    Alive(Option<u64>),
}

/// The I/O the protocol needs; native.rs and node.rs implement it.
pub(crate) trait LockIo {
    /// `symlink(target, path)`.
    fn create_link(&self, target: &str, path: &str) -> Result<Created>;
    /// `open(path, O_CREAT|O_EXCL)`, write `contents`, `fsync`, close.
    fn create_file(&self, contents: &str, path: &str) -> Result<Created>;
    /// `lstat` + `readlink` (or the file's contents); `None` if nothing is there.
    fn read_entry(&self, path: &str) -> Option<Seen>;
    /// `unlink(path)`; true if it removed something.
    fn remove(&self, path: &str) -> bool;
    /// The state of `pid` on this host.
    fn pid_state(&self, pid: u32) -> PidState;
    /// A warning line for stderr (a broken lock is never silent).
    fn warn(&self, line: &str);
}

/// This host and process, as the protocol compares them.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    pub pid: u32,
    pub start: Option<u64>,
    pub boot: Option<String>,
    pub host: String,
    pub token: String,
}

impl Me {
    /// `boot_id` is the contents of `/proc/sys/kernel/random/boot_id` (if readable), `stat`
    /// those of `/proc/<pid>/stat`.
    pub fn new(
        pid: u32,
        stat: Option<&str>,
        boot_id: Option<&str>,
        host: String,
        token: u32,
    ) -> Self {
        Me {
            pid,
            start: stat.and_then(start_time),
            boot: boot_id.and_then(boot8),
            host,
            token: format!("{token:08x}"),
        }
    }

    /// The owner record (the symlink target).
    pub fn record(&self) -> String {
        let head = format!(
            "{}:{}:{}:{}@",
            self.pid,
            self.start.map(|s| s.to_string()).unwrap_or_default(),
            self.boot.as_deref().unwrap_or(""),
            self.token
        );
        if head.len() + self.host.len() <= MAX_TARGET && !self.host.starts_with('#') {
            format!("{head}{}", self.host)
        } else {
            format!("{head}{}", host_hash(&self.host))
        }
    }

    fn same_host(&self, host: &str) -> bool {
        host == self.host || (host.starts_with('#') && host == host_hash(&self.host))
    }
}

/// `#` + the first 8 hex digits of SHA-256(host).
fn host_hash(host: &str) -> String {
    let d = Sha256::digest(host.as_bytes());
    format!("#{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
}

/// Field 22 (`starttime`) of `/proc/<pid>/stat`; the command name (field 2) may hold spaces
/// and parentheses, so fields are counted after the last `)`.
pub(crate) fn start_time(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// The first 8 hex digits of a boot id (`xxxxxxxx-xxxx-...`).
fn boot8(boot_id: &str) -> Option<String> {
    let b = boot_id.trim().get(..8)?;
    b.bytes()
        .all(|c| c.is_ascii_hexdigit())
        .then(|| b.to_ascii_lowercase())
}

/// A parsed owner record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Owner {
    pub pid: f64,
    pub host: String,
    pub token: String,
    pub start: Option<u64>,
    pub boot: Option<String>,
    /// The record of an earlier version (`{"pid","host","token"}`): no start time, no boot id.
    pub legacy: bool,
}

impl Owner {
    /// A compact record or an earlier version's JSON; `None` if neither.
    pub fn parse(raw: &str) -> Option<Owner> {
        let raw = raw.trim_end_matches('\n');
        if raw.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(raw).ok()?;
            return Some(Owner {
                pid: v.get("pid")?.as_f64()?,
                host: v.get("host")?.as_str()?.to_owned(),
                token: v.get("token")?.as_str()?.to_owned(),
                start: None,
                boot: None,
                legacy: true,
            });
        }
        let (head, host) = raw.split_once('@')?;
        let mut f = head.split(':');
        let (pid, start, boot, token) = (f.next()?, f.next()?, f.next()?, f.next()?);
        if f.next().is_some() || token.is_empty() {
            return None;
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Some(Owner {
            pid: pid.parse::<u32>().ok()?.into(),
            host: host.to_owned(),
            token: token.to_owned(),
            start: match start {
                "" => None,
                s => Some(s.parse().ok()?),
            },
            boot: opt(boot),
            legacy: false,
        })
    }
}

/// Whether an entry may be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Its holder is provably gone: taken over at once.
    Stale,
    /// Its holder provably runs on this host: never broken.
    Live,
    /// Cannot be told from here (another host, no start time): broken only on request.
    Undecidable,
}

/// The rules of the module doc.
pub(crate) fn verdict(io: &dyn LockIo, me: &Me, seen: &Seen) -> Verdict {
    let Some(o) = Owner::parse(&seen.raw) else {
        let old = seen.age_ms.is_some_and(|a| a.abs() > UNPARSED_STALE_MS);
        return if old {
            Verdict::Stale
        } else {
            Verdict::Undecidable
        };
    };
    if !me.same_host(&o.host) {
        return Verdict::Undecidable;
    }
    if let (Some(a), Some(b)) = (&o.boot, &me.boot)
        && a != b
    {
        return Verdict::Stale;
    }
    if o.pid <= 0.0 || o.pid.fract() != 0.0 || o.pid > f64::from(i32::MAX) {
        return Verdict::Undecidable;
    }
    let pid = o.pid as u32;
    match io.pid_state(pid) {
        PidState::Gone => Verdict::Stale,
        // Our own PID in an earlier version's record: we never write that format.
        _ if o.legacy && pid == me.pid => Verdict::Stale,
        PidState::Alive(Some(now)) => match o.start {
            Some(then) if then == now => Verdict::Live,
            Some(_) => Verdict::Stale,
            None => Verdict::Undecidable,
        },
        PidState::Alive(None) => Verdict::Undecidable,
    }
}

/// One try at the lock file.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// Ours now.
    Acquired,
    /// Held; the error to return if not waiting.
    Held(Error),
    /// Another taker is removing a stale entry right now: try again shortly.
    Busy,
}

/// Creates `path` holding `record` (a symlink, else a regular file).
fn create(io: &dyn LockIo, record: &str, path: &str) -> Result<Created> {
    match io.create_link(record, path)? {
        Created::Unsupported => io.create_file(&format!("{record}\n"), path),
        c => Ok(c),
    }
}

/// Tries once to take `path` for `me`; `dir` is the folder as given (for messages).
pub(crate) fn try_acquire(
    io: &dyn LockIo,
    dir: &str,
    path: &str,
    me: &Me,
    break_lock: bool,
) -> Result<Attempt> {
    let record = me.record();
    for _ in 0..100 {
        if let Created::Yes = create(io, &record, path)? {
            return Ok(Attempt::Acquired);
        }
        let Some(seen) = io.read_entry(path) else {
            continue; // released between our create and read
        };
        let v = verdict(io, me, &seen);
        let breaking = v == Verdict::Undecidable && break_lock;
        if v == Verdict::Stale || breaking {
            match take_over(io, me, path, &seen)? {
                Takeover::Removed if breaking => io.warn(&format!(
                    "warning: broke the lock of {dir} ({}; lock file {path}): \
                     if that process still runs, the folder may now have two writers",
                    holder_text(&seen.raw)
                )),
                Takeover::Removed | Takeover::Changed => {}
                Takeover::Busy => return Ok(Attempt::Busy),
            }
            continue;
        }
        let hint = match v {
            Verdict::Live => "that process is running on this host",
            _ => "if that process is gone, rerun with --break-lock",
        };
        return Ok(Attempt::Held(Error::io(
            IoErrorKind::Locked,
            "lock",
            dir,
            format!("{} (lock file {path}); {hint}", holder_text(&seen.raw)),
        )));
    }
    Ok(Attempt::Busy)
}

/// `held by pid N on HOST` (an entry that does not parse: pid 0 on unknown host).
fn holder_text(raw: &str) -> String {
    match Owner::parse(raw) {
        Some(o) => format!("held by pid {} on {}", o.pid, o.host),
        None => "held by pid 0 on unknown host".into(),
    }
}

enum Takeover {
    Removed,
    Changed,
    Busy,
}

/// Removes `path` if it still holds `stale.raw`, under the record's guard (module doc).
fn take_over(io: &dyn LockIo, me: &Me, path: &str, stale: &Seen) -> Result<Takeover> {
    let d = Sha256::digest(stale.raw.as_bytes());
    let guard = format!(
        "{path}.break.{:02x}{:02x}{:02x}{:02x}",
        d[0], d[1], d[2], d[3]
    );
    if let Created::Exists = create(io, &me.record(), &guard)? {
        if let Some(g) = io.read_entry(&guard)
            && g.age_ms.is_some_and(|a| a.abs() > UNPARSED_STALE_MS)
        {
            io.remove(&guard); // left by a taker that crashed
        }
        return Ok(Takeover::Busy);
    }
    let r = match io.read_entry(path) {
        Some(now) if now.raw == stale.raw && io.remove(path) => Takeover::Removed,
        _ => Takeover::Changed,
    };
    io.remove(&guard);
    Ok(r)
}

/// Whether the entry at `path` is ours (`me`'s token); the release check.
pub(crate) fn is_ours(io: &dyn LockIo, path: &str, me: &Me) -> bool {
    io.read_entry(path)
        .and_then(|s| Owner::parse(&s.raw))
        .is_some_and(|o| o.token == me.token && o.pid == f64::from(me.pid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    #[test]
    fn path_is_beside_the_folder() {
        assert_eq!(lock_path("/d/snap"), "/d/snap.etcd-snap.lock");
        assert_eq!(lock_path("/d/snap//"), "/d/snap.etcd-snap.lock");
        assert_eq!(lock_path("/"), "/.etcd-snap.lock");
    }

    const STAT: &str = "77 (a) b) c) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 9 9";

    #[test]
    fn record_is_compact_and_round_trips() {
        let boot = "0a1B2c3d-0000-4000-8000-000000000000\n";
        let me = Me::new(77, Some(STAT), Some(boot), "node-1".into(), 0xdead_beef);
        assert_eq!(me.start, Some(123456));
        assert_eq!(me.record(), "77:123456:0a1b2c3d:deadbeef@node-1");
        let o = Owner::parse(&me.record()).unwrap();
        assert_eq!(
            (o.pid, o.host.as_str(), o.start, o.boot.as_deref()),
            (77.0, "node-1", Some(123456), Some("0a1b2c3d"))
        );
        // A long host name is hashed to keep the target within a fast symlink.
        let long = Me::new(4_194_303, Some(STAT), Some(boot), "h".repeat(64), 1);
        let r = long.record();
        assert!(r.len() <= MAX_TARGET, "{r}");
        let o = Owner::parse(&r).unwrap();
        assert!(o.host.starts_with('#') && long.same_host(&o.host), "{r}");
        assert!(!me.same_host(&o.host));
        // Without /proc: empty fields.
        let bare = Me::new(5, None, None, "h".into(), 2);
        assert_eq!(bare.record(), "5:::00000002@h");
        assert_eq!(Owner::parse(&bare.record()).unwrap().start, None);
        // The earlier JSON format.
        let old = Owner::parse("{\"pid\":9,\"host\":\"h\",\"token\":\"00ff\"}\n").unwrap();
        assert!(old.legacy && old.pid == 9.0 && old.token == "00ff");
        for bad in [
            "",
            "{",
            "x@h",
            "1:2:3@h",
            "1:2:3:4:5@h",
            "a:::t@h",
            "1:x::t@h",
        ] {
            assert_eq!(Owner::parse(bad), None, "{bad}");
        }
    }

    /// A fault-free in-memory LockIo (a mock for the rules only; the real backends are tested
    /// with real files and processes in tests/testsuite/storage/native.rs and tests/js/).
    #[derive(Default)]
    struct FakeIo {
        entries: RefCell<HashMap<String, Seen>>,
        pids: HashMap<u32, PidState>,
        warned: RefCell<Vec<String>>,
    }

    impl LockIo for FakeIo {
        fn create_link(&self, target: &str, path: &str) -> Result<Created> {
            let mut e = self.entries.borrow_mut();
            if e.contains_key(path) {
                return Ok(Created::Exists);
            }
            e.insert(
                path.into(),
                Seen {
                    raw: target.into(),
                    age_ms: Some(0.0),
                },
            );
            Ok(Created::Yes)
        }
        fn create_file(&self, contents: &str, path: &str) -> Result<Created> {
            self.create_link(contents, path)
        }
        fn read_entry(&self, path: &str) -> Option<Seen> {
            self.entries.borrow().get(path).cloned()
        }
        fn remove(&self, path: &str) -> bool {
            self.entries.borrow_mut().remove(path).is_some()
        }
        fn pid_state(&self, pid: u32) -> PidState {
            self.pids.get(&pid).copied().unwrap_or(PidState::Gone)
        }
        fn warn(&self, line: &str) {
            self.warned.borrow_mut().push(line.into());
        }
    }

    #[test]
    fn staleness_follows_the_rules() {
        let me = Me::new(1, Some(STAT), Some("aaaaaaaa"), "h".into(), 3);
        let mut io = FakeIo::default();
        io.pids.insert(1, PidState::Alive(Some(123456)));
        io.pids.insert(2, PidState::Alive(Some(99)));
        io.pids.insert(3, PidState::Alive(None));
        let v = |raw: &str, age: f64| {
            verdict(
                &io,
                &me,
                &Seen {
                    raw: raw.into(),
                    age_ms: Some(age),
                },
            )
        };
        assert_eq!(v("1:123456:aaaaaaaa:t@h", 0.0), Verdict::Live);
        assert_eq!(
            v("1:123455:aaaaaaaa:t@h", 0.0),
            Verdict::Stale,
            "pid reused"
        );
        assert_eq!(v("1:123456:bbbbbbbb:t@h", 0.0), Verdict::Stale, "rebooted");
        assert_eq!(v("9:1:aaaaaaaa:t@h", 0.0), Verdict::Stale, "pid gone");
        assert_eq!(v("1:123456:aaaaaaaa:t@other", 0.0), Verdict::Undecidable);
        assert_eq!(v("3:5:aaaaaaaa:t@h", 0.0), Verdict::Undecidable);
        assert_eq!(v("2::aaaaaaaa:t@h", 0.0), Verdict::Undecidable);
        let legacy = |pid: u32| format!("{{\"pid\":{pid},\"host\":\"h\",\"token\":\"x\"}}");
        assert_eq!(v(&legacy(2), 0.0), Verdict::Undecidable);
        assert_eq!(
            v(&legacy(1), 0.0),
            Verdict::Stale,
            "our own pid, old format"
        );
        assert_eq!(v(&legacy(9), 0.0), Verdict::Stale);
        assert_eq!(v("", 0.0), Verdict::Undecidable);
        assert_eq!(v("", UNPARSED_STALE_MS + 1.0), Verdict::Stale);
        assert_eq!(
            v("", -UNPARSED_STALE_MS - 1.0),
            Verdict::Stale,
            "future mtime"
        );
    }

    /// The three-process race of the former rename-away-and-link-back takeover: B saw the
    /// stale entry, A took it over and holds a fresh lock, then B acts on its old view. B must
    /// not remove A's lock, and C must not get in meanwhile. (Deterministic interleaving on a
    /// mock; tests/js/lock_edges.test.mjs races real processes.)
    #[test]
    fn late_taker_never_removes_a_fresh_lock() {
        let mut io = FakeIo::default();
        let me = |pid: u32, token| Me::new(pid, Some(STAT), Some("aaaaaaaa"), "h".into(), token);
        let (a, b, c) = (me(1, 1), me(2, 2), me(3, 3));
        for pid in [1, 2, 3] {
            io.pids.insert(pid, PidState::Alive(Some(123456)));
        }
        let stale = Seen {
            raw: "9:1:aaaaaaaa:t@h".into(),
            age_ms: Some(0.0),
        };
        io.entries.borrow_mut().insert("L".into(), stale.clone());
        assert_eq!(verdict(&io, &b, &stale), Verdict::Stale); // B's view
        assert!(matches!(
            try_acquire(&io, "d", "L", &a, false).unwrap(),
            Attempt::Acquired
        ));
        assert!(matches!(
            take_over(&io, &b, "L", &stale).unwrap(),
            Takeover::Changed
        ));
        assert!(is_ours(&io, "L", &a), "A's lock survives B's late takeover");
        assert!(matches!(
            try_acquire(&io, "d", "L", &c, false).unwrap(),
            Attempt::Held(_)
        ));
        assert_eq!(io.entries.borrow().len(), 1, "no guard left");
    }

    #[test]
    fn acquire_breaks_only_what_it_may() {
        let me = Me::new(1, Some(STAT), Some("aaaaaaaa"), "h".into(), 3);
        let mut io = FakeIo::default();
        io.pids.insert(1, PidState::Alive(Some(123456)));
        let put = |io: &FakeIo, raw: &str| {
            io.entries.borrow_mut().insert(
                "L".into(),
                Seen {
                    raw: raw.into(),
                    age_ms: Some(0.0),
                },
            );
        };
        put(&io, "5:1:aaaaaaaa:t@other");
        let Attempt::Held(e) = try_acquire(&io, "d", "L", &me, false).unwrap() else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "lock d: held by pid 5 on other (lock file L); if that process is gone, rerun with --break-lock"
        );
        assert!(matches!(
            try_acquire(&io, "d", "L", &me, true).unwrap(),
            Attempt::Acquired
        ));
        assert!(is_ours(&io, "L", &me));
        assert_eq!(io.warned.borrow().len(), 1);
        assert!(
            io.warned.borrow()[0]
                .starts_with("warning: broke the lock of d (held by pid 5 on other; lock file L)")
        );
        // A live holder (ourselves) is never broken.
        let Attempt::Held(e) = try_acquire(&io, "d", "L", &me, true).unwrap() else {
            panic!()
        };
        assert!(
            e.to_string()
                .ends_with("; that process is running on this host"),
            "{e}"
        );
        // A guard held by another taker: busy; an old guard is cleared.
        put(&io, "9:1:aaaaaaaa:t@h");
        let d = Sha256::digest(b"9:1:aaaaaaaa:t@h");
        let guard = format!("L.break.{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3]);
        io.entries.borrow_mut().insert(
            guard.clone(),
            Seen {
                raw: "x".into(),
                age_ms: Some(UNPARSED_STALE_MS + 1.0),
            },
        );
        assert!(matches!(
            try_acquire(&io, "d", "L", &me, false).unwrap(),
            Attempt::Busy
        ));
        assert!(matches!(
            try_acquire(&io, "d", "L", &me, false).unwrap(),
            Attempt::Acquired
        ));
        assert_eq!(io.entries.borrow().len(), 1, "guard removed");
    }
}
