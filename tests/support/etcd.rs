//! A real etcd server for interop tests, in two versions ([`Version`]): 3.4.23 (Debian
//! bookworm's `etcd-server` / `etcd-client`) and 3.5.16 (Debian trixie's, unpacked into a
//! cache folder); `.ci/setup` installs both.
//!
//! ```ignore
//! let data = tempfile::tempdir().unwrap();
//! let etcd = Etcd::start(data.path(), &EtcdOptions { snapshot_count: Some(20), ..Default::default() });
//! etcd.put("k", "v");
//! let (cluster_id, member_id) = etcd.ids();
//! etcd.stop();                          // SIGTERM by PID, waits; Drop kills if still running
//! let etcd = Etcd::start(data.path(), &EtcdOptions::default()); // restart on the same data
//! let v35 = EtcdOptions { version: Version::V3_5, ..Default::default() };    // etcd 3.5.16
//!
//! fn status_is_etcds(v: Version) { /* … */ }
//! per_version!(status_is_etcds);   // tests status_is_etcds::etcd34 and ::etcd35
//! ```
//!
//! - Versions: 3.4 is the default everywhere (`EtcdOptions::default()`); a test written as
//!   `fn name(v: Version)` runs against both through [`per_version!`], with the same
//!   assertions. Where 3.5 legitimately differs, the test asks the [`Version`] (its release
//!   string, its offline `snapshot status` tool) and cites etcd's source.
//! - Ports: two free 127.0.0.1 ports are picked at run time (bind to port 0, read the port,
//!   release it). If etcd still loses the race and exits at start, it is retried with new
//!   ports.
//! - Health: [`Etcd::start`] returns once `GET /health` and then a linearizable `etcdctl get`
//!   succeed (generous timeout for a loaded 2-core machine); if etcd exits first, it panics
//!   with etcd's log.
//! - Logs: etcd's stdout/stderr go to `<data-dir>.etcd.log` beside the data dir, readable with
//!   [`Etcd::log`], and are printed when a start fails.
//! - Cleanup: [`Etcd::stop`] sends SIGTERM to etcd's PID (via `sh -c 'kill -TERM <pid>'`) and waits;
//!   dropping an `Etcd` that is still running SIGKILLs that PID and reaps it, so a failing
//!   test never leaves etcd behind. Nothing is ever killed by name.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The etcd release a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// etcd 3.4.23: `etcd` / `etcdctl` on `PATH` (override with `ETCD_BIN` / `ETCDCTL_BIN`).
    #[default]
    V3_4,
    /// etcd 3.5.16: `etcd`, `etcdctl`, `etcdutl` in `ETCD35_BIN_DIR`, by default the cache
    /// folder `.ci/setup` unpacks Debian trixie's .debs into
    /// (`${XDG_CACHE_HOME:-~/.cache}/etcd-snap/etcd-3.5.16/root/usr/bin`).
    V3_5,
}

impl Version {
    /// Both, oldest first.
    pub const ALL: [Version; 2] = [Version::V3_4, Version::V3_5];

    /// The release, as etcd reports it (`X-Server-Version`, `etcd --version`).
    pub fn release(self) -> &'static str {
        match self {
            Version::V3_4 => "3.4.23",
            Version::V3_5 => "3.5.16",
        }
    }

    /// `major.minor`, as the cluster version stored in the db reads (`3.4.0` / `3.5.0`).
    pub fn minor(self) -> &'static str {
        match self {
            Version::V3_4 => "3.4",
            Version::V3_5 => "3.5",
        }
    }

    /// The folder holding etcd 3.5.16's binaries.
    fn v35_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("ETCD35_BIN_DIR") {
            return dir.into();
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(&std::env::var_os("HOME").expect("HOME is set")).join(".cache")
            });
        cache.join("etcd-snap/etcd-3.5.16/root/usr/bin")
    }

    /// One of etcd 3.5.16's binaries (`etcd`, `etcdctl`, `etcdutl`).
    fn v35_bin(name: &str) -> PathBuf {
        let p = Self::v35_dir().join(name);
        assert!(
            p.is_file(),
            "etcd 3.5.16's {name} is not at {} (run .ci/setup, or set ETCD35_BIN_DIR)",
            p.display()
        );
        p
    }

    /// The server binary.
    pub fn etcd(self) -> PathBuf {
        match self {
            Version::V3_4 => {
                std::env::var_os("ETCD_BIN").map_or_else(|| "etcd".into(), PathBuf::from)
            }
            Version::V3_5 => Self::v35_bin("etcd"),
        }
    }

    /// The client.
    pub fn etcdctl(self) -> PathBuf {
        match self {
            Version::V3_4 => {
                std::env::var_os("ETCDCTL_BIN").map_or_else(|| "etcdctl".into(), PathBuf::from)
            }
            Version::V3_5 => Self::v35_bin("etcdctl"),
        }
    }

    /// `etcdctl` with API v3 selected, nothing else set.
    pub fn etcdctl_command(self) -> Command {
        let mut cmd = Command::new(self.etcdctl());
        cmd.env("ETCDCTL_API", "3");
        cmd
    }

    /// The offline `snapshot status` of a db file, without `-w`: `etcdctl snapshot status` in
    /// 3.4; `etcdutl snapshot status` in 3.5, where etcdctl's only prints a deprecation
    /// notice on stderr and calls etcdutl's (etcd v3.5.16
    /// etcdctl/ctlv3/command/snapshot_command.go:128-130).
    pub fn snapshot_status(self, file: &Path) -> Command {
        let mut cmd = match self {
            Version::V3_4 => self.etcdctl_command(),
            Version::V3_5 => Command::new(Self::v35_bin("etcdutl")),
        };
        cmd.args(["snapshot", "status"])
            .arg(file)
            .stdin(Stdio::null());
        cmd
    }
}

/// Defines, for each `fn name(v: Version)` listed, a module `name` with one `#[test]` per
/// etcd version: `name::etcd34` and `name::etcd35` (`cargo test --test interop etcd35` runs
/// every 3.5 test). Only `interop` uses it; the other binaries include this file too.
#[allow(unused_macros)]
macro_rules! per_version {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn etcd34() {
                    super::$name($crate::support::etcd::Version::V3_4);
                }

                #[test]
                fn etcd35() {
                    super::$name($crate::support::etcd::Version::V3_5);
                }
            }
        )+
    };
}
#[allow(unused_imports)]
pub(crate) use per_version;

/// How long to wait for etcd to become healthy or to stop.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long one `etcdctl` call may take.
pub const CTL_TIMEOUT: &str = "30s";

/// Start options.
#[derive(Debug, Clone, Default)]
pub struct EtcdOptions {
    /// Member name (default `etcd-snap-test`).
    pub name: Option<String>,
    /// `--snapshot-count`: applied entries between snapshots (etcd's default is 100000).
    pub snapshot_count: Option<u64>,
    /// `--max-snapshots`: `.snap` files etcd's purge keeps (0 = unlimited; etcd default 5).
    pub max_snapshots: Option<u64>,
    /// Any further flags, passed last.
    pub extra_args: Vec<String>,
    /// Which etcd (default 3.4.23).
    pub version: Version,
    /// How long [`Etcd::try_start`] waits for health (default [`START_TIMEOUT`]).
    pub start_timeout: Option<Duration>,
}

/// Why [`Etcd::try_start_outcome`] returned no running etcd.
#[derive(Debug, Clone)]
pub enum NotStarted {
    /// etcd exited before it served: its exit status and what it logged.
    Exited {
        /// The exit status, as `std::process::ExitStatus` prints it.
        status: String,
        /// What this process logged.
        log: String,
    },
    /// Neither healthy nor exited within the timeout (etcd was then killed).
    TimedOut {
        /// The timeout that passed.
        after: Duration,
        /// What it logged until then.
        log: String,
    },
}

impl NotStarted {
    /// What etcd logged.
    pub fn log(&self) -> &str {
        match self {
            NotStarted::Exited { log, .. } | NotStarted::TimedOut { log, .. } => log,
        }
    }
}

impl std::fmt::Display for NotStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotStarted::Exited { status, log } => write!(f, "etcd exited with {status}:\n{log}"),
            NotStarted::TimedOut { after, log } => {
                write!(f, "etcd not healthy after {after:?}:\n{log}")
            }
        }
    }
}

/// A running single-member etcd.
pub struct Etcd {
    child: Option<Child>,
    /// The `--data-dir`.
    pub data_dir: PathBuf,
    /// `http://127.0.0.1:<client port>`.
    pub client_url: String,
    /// `http://127.0.0.1:<peer port>`.
    pub peer_url: String,
    /// Where etcd's output goes.
    pub log_path: PathBuf,
    /// Length of the log when this process started.
    log_offset: usize,
    /// Which etcd this is.
    pub version: Version,
}

/// Two distinct free ports on 127.0.0.1 (both held while picking so they differ).
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

impl Etcd {
    /// Starts etcd on `data_dir` (created by etcd if absent; an existing one is reused, so
    /// this also restarts) and waits until it is healthy. Panics with etcd's log otherwise.
    #[track_caller]
    pub fn start(data_dir: &Path, opts: &EtcdOptions) -> Etcd {
        Etcd::try_start(data_dir, opts).unwrap_or_else(|log| panic!("etcd did not start:\n{log}"))
    }

    /// Like [`Etcd::start`], but a failed start is `Err(etcd's log)`, for tests that expect
    /// etcd to refuse a data dir. A start lost to a port race is retried with new ports.
    pub fn try_start(data_dir: &Path, opts: &EtcdOptions) -> Result<Etcd, String> {
        Etcd::try_start_outcome(data_dir, opts).map_err(|e| e.to_string())
    }

    /// Like [`Etcd::try_start`], but says whether etcd exited (and how) or hung, for the
    /// doctor's ground truth (tests/support/doctor_cases.rs).
    pub fn try_start_outcome(data_dir: &Path, opts: &EtcdOptions) -> Result<Etcd, NotStarted> {
        let timeout = opts.start_timeout.unwrap_or(START_TIMEOUT);
        let mut last = None;
        for _attempt in 0..3 {
            let (client, peer) = free_ports();
            let mut etcd = Etcd::spawn(data_dir, opts, client, peer);
            match etcd.wait_healthy(timeout) {
                Ok(()) => return Ok(etcd),
                Err(e) if e.log().contains("address already in use") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("three attempts"))
    }

    fn spawn(data_dir: &Path, opts: &EtcdOptions, client: u16, peer: u16) -> Etcd {
        let name = opts.name.clone().unwrap_or_else(|| "etcd-snap-test".into());
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let mut log_name = data_dir.file_name().unwrap().to_os_string();
        log_name.push(".etcd.log");
        let log_path = data_dir.with_file_name(log_name);
        let log_offset = std::fs::read(&log_path).map_or(0, |b| b.len());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open etcd log");
        let etcd_bin = opts.version.etcd();
        let mut cmd = Command::new(&etcd_bin);
        cmd.arg("--name")
            .arg(&name)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen-client-urls", &client_url])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("{name}={peer_url}")])
            .args(["--initial-cluster-state", "new"])
            .args(["--logger", "zap", "--log-outputs", "stderr"]);
        if let Some(n) = opts.snapshot_count {
            cmd.args(["--snapshot-count", &n.to_string()]);
        }
        if let Some(n) = opts.max_snapshots {
            cmd.args(["--max-snapshots", &n.to_string()]);
        }
        cmd.args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "spawn {}: {e} (is etcd-server installed?)",
                etcd_bin.display()
            )
        });
        Etcd {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            client_url,
            peer_url,
            log_path,
            log_offset,
            version: opts.version,
        }
    }

    /// Polls `etcdctl endpoint health`; `Err` if etcd exits or the timeout passes.
    fn wait_healthy(&mut self, timeout: Duration) -> Result<(), NotStarted> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Err(NotStarted::Exited {
                    status,
                    log: self.this_log(),
                });
            }
            // A cheap probe first: etcd listens before it bootstraps (embed/etcd.go), and an
            // etcdctl call against a member that then dies blocks for its dial timeout. Then a
            // linearizable read, which is 3.4's `endpoint health` (etcd
            // etcdctl/ctlv3/command/ep_command.go:121); 3.5's also lists alarms through raft,
            // which never answers on a member whose db is ahead of its WAL
            // (tests/support/doctor_cases.rs), though it serves.
            if self.http_health() && self.ctl_raw(&["get", "health"]).status.success() {
                return Ok(());
            }
            if Instant::now() > deadline {
                if let Some(status) = self.exit_status() {
                    return Err(NotStarted::Exited {
                        status,
                        log: self.this_log(),
                    });
                }
                let log = self.this_log();
                self.kill();
                return Err(NotStarted::TimedOut {
                    after: timeout,
                    log,
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `GET /health` on the client URL answers `"health":"true"` within a second (served
    /// only once etcd is ready, etcd embed/serve.go).
    fn http_health(&self) -> bool {
        use std::io::{Read as _, Write as _};
        let addr = self.client_url.trim_start_matches("http://");
        let Ok(mut s) = std::net::TcpStream::connect(addr) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let req = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        let mut reply = String::new();
        s.write_all(req.as_bytes()).is_ok()
            && s.read_to_string(&mut reply).is_ok()
            && reply.contains("\"health\":\"true\"")
    }

    /// `Some(status)` once etcd has exited (reaped), `None` while it runs.
    pub fn exit_status(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        child.try_wait().unwrap().map(|s| s.to_string())
    }

    /// SIGKILL by PID and reap: a crash, for the doctor's killed members.
    pub fn sigkill(mut self) {
        self.kill();
    }

    /// etcd's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("etcd is running").id()
    }

    /// `<data-dir>/member/snap`.
    pub fn snap_dir(&self) -> PathBuf {
        self.data_dir.join("member/snap")
    }

    /// Everything etcd logged so far (all starts on this data dir).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// What this process logged.
    pub fn this_log(&self) -> String {
        let log = std::fs::read(&self.log_path).unwrap_or_default();
        String::from_utf8_lossy(log.get(self.log_offset..).unwrap_or_default()).into_owned()
    }

    /// This version's `etcdctl --endpoints <client>` (API v3, with timeouts), for callers that
    /// add arguments and stdin themselves.
    pub fn ctl_command(&self) -> Command {
        let mut cmd = self.version.etcdctl_command();
        cmd.args(["--endpoints", &self.client_url]).args([
            "--dial-timeout",
            "10s",
            "--command-timeout",
            CTL_TIMEOUT,
        ]);
        cmd
    }

    /// Runs `etcdctl --endpoints <client> ARGS` (API v3) and returns its output as is.
    pub fn ctl_raw(&self, args: &[&str]) -> Output {
        self.ctl_command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "spawn {}: {e} (is etcd-client installed?)",
                    self.version.etcdctl().display()
                )
            })
    }

    /// Runs etcdctl, panics (with etcd's log) unless it succeeds, returns stdout.
    #[track_caller]
    pub fn ctl(&self, args: &[&str]) -> String {
        let o = self.ctl_raw(args);
        if !o.status.success() {
            panic!(
                "etcdctl {args:?} failed: {}\n--- etcd log ---\n{}",
                String::from_utf8_lossy(&o.stderr),
                self.log()
            );
        }
        String::from_utf8(o.stdout).expect("etcdctl output is UTF-8")
    }

    /// `etcdctl put KEY VALUE`.
    #[track_caller]
    pub fn put(&self, key: &str, value: &str) {
        let out = self.ctl(&["put", key, value]);
        assert_eq!(out.trim(), "OK", "etcdctl put {key}");
    }

    /// `etcdctl del KEY`: how many keys were deleted.
    #[track_caller]
    pub fn del(&self, key: &str) -> u64 {
        self.ctl(&["del", key])
            .trim()
            .parse()
            .expect("etcdctl del count")
    }

    /// The value of one key, if present.
    #[track_caller]
    pub fn get(&self, key: &str) -> Option<String> {
        let out = self.ctl(&["get", key, "--print-value-only"]);
        // etcdctl prints the value followed by a newline, nothing for a missing key.
        out.strip_suffix('\n').map(str::to_owned)
    }

    /// Every (key, value) under `prefix`, in key order. Keys and values must not contain
    /// newlines (etcdctl's simple output alternates key and value lines).
    #[track_caller]
    pub fn get_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let out = self.ctl(&["get", prefix, "--prefix"]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines.len().is_multiple_of(2),
            "odd etcdctl get output: {out}"
        );
        lines
            .chunks(2)
            .map(|kv| (kv[0].to_owned(), kv[1].to_owned()))
            .collect()
    }

    /// `(cluster_id, member_id)` from `etcdctl member list -w json` (the member ID is what
    /// the snapshots' ConfState lists as the voter).
    #[track_caller]
    pub fn ids(&self) -> (u64, u64) {
        let out = self.ctl(&["member", "list", "-w", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("member list JSON");
        let cluster = v["header"]["cluster_id"]
            .as_u64()
            .expect("header.cluster_id");
        let member = v["header"]["member_id"].as_u64().expect("header.member_id");
        (cluster, member)
    }

    /// The `.snap` names in the snap folder, sorted.
    pub fn snap_files(&self) -> Vec<String> {
        let mut v: Vec<String> = match std::fs::read_dir(self.snap_dir()) {
            Ok(rd) => rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".snap"))
                .collect(),
            Err(_) => Vec::new(),
        };
        v.sort();
        v
    }

    /// Waits (up to [`START_TIMEOUT`]) until the snap folder has at least `n` `.snap` files;
    /// etcd writes them asynchronously after applying.
    #[track_caller]
    pub fn wait_snap_files(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let files = self.snap_files();
            if files.len() >= n {
                return files;
            }
            if Instant::now() > deadline {
                panic!("only {files:?} after {START_TIMEOUT:?}\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Graceful stop: SIGTERM to etcd's PID, then wait (SIGKILL after [`START_TIMEOUT`]).
    pub fn stop(mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let pid = child.id().to_string();
        // The shell's builtin `kill` (dash has one; procps' /bin/kill may be absent).
        let _ = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status();
        let deadline = Instant::now() + START_TIMEOUT;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                self.kill();
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child = None;
    }

    /// SIGKILL by PID and reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
    }
}
