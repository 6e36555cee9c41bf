//! Snapshot transfer against real etcd, 3.4.23 and 3.5.16 (`.ci/setup` installs both):
//! - `send_*`: our sender (the `etcd-snap send` CLI and the library) POSTs to a live member;
//! - `receive_*`: a 3-member cluster on loopback whose lagging member's advertised peer URL is a
//!   recording TCP proxy in front of it, so the leader's real `POST /raft/snapshot` is captured
//!   byte for byte and replayed to our `etcd-snap serve-snapshots`.
//!
//! Every process is started by PID and killed by PID (Drop guards), on free 127.0.0.1 ports.

#![cfg(feature = "http")]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::etcd::{Etcd, EtcdOptions, Version, per_version};
use crate::support::etcd_snap;

per_version!(
    send_to_live_etcd_is_stored_byte_identical_and_etcd_keeps_serving,
    receive_what_a_real_leader_sends,
    a_body_cut_off_mid_upload_gets_the_same_answer_from_etcd_and_from_us,
);

const TIMEOUT: Duration = Duration::from_secs(180);

/// The tests here pick free ports by binding and releasing them; run them one at a time so
/// one test's etcd cannot take a port another just picked.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn etcdctl(v: Version, endpoint: &str, args: &[&str]) -> std::process::Output {
    v.etcdctl_command()
        .args([
            "--endpoints",
            endpoint,
            "--dial-timeout",
            "10s",
            "--command-timeout",
            "30s",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run etcdctl (is etcd-client installed?)")
}

/// The JSON a successful etcd tool printed.
#[track_caller]
fn json_output(what: &str, o: &std::process::Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
}

#[track_caller]
fn ctl_json(v: Version, endpoint: &str, args: &[&str]) -> serde_json::Value {
    json_output(&format!("etcdctl {args:?}"), &etcdctl(v, endpoint, args))
}

/// `(raft_term, revision)` of one endpoint.
fn status(v: Version, endpoint: &str) -> (u64, i64) {
    let v = ctl_json(v, endpoint, &["endpoint", "status", "-w", "json"]);
    let s = &v[0]["Status"];
    (
        s["header"]["raft_term"].as_u64().expect("raft_term"),
        s["header"]["revision"].as_i64().expect("revision"),
    )
}

fn snap_db_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".snap.db") || n.starts_with("tmp"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Pseudo-random bytes (xorshift), so the db is not trivially compressible or repetitive.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

fn options(v: Version) -> EtcdOptions {
    EtcdOptions {
        version: v,
        ..EtcdOptions::default()
    }
}

fn send_to_live_etcd_is_stored_byte_identical_and_etcd_keeps_serving(v: Version) {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let etcd = Etcd::start(&tmp.path().join("data"), &options(v));
    etcd.put("before", "1");
    let (cluster_id, member_id) = etcd.ids();
    let (term, _) = status(v, &etcd.client_url);
    assert!(
        term >= 2,
        "a fresh member elects itself at term >= 2, got {term}"
    );

    // 3 MiB db; index high enough that no ReleaseSnapDBs removes it during the test.
    let db = noise(3 << 20, 0x9e37_79b9_7f4a_7c15);
    let dbfile = tmp.path().join("db.bin");
    std::fs::write(&dbfile, &db).unwrap();
    let index: u64 = 0x7777_0001;
    // Message term below the cluster's: raft ignores the message after the handler stored it.
    let run = etcd_snap([
        "send".into(),
        etcd.peer_url.clone(),
        "1".into(),
        index.to_string(),
        dbfile.display().to_string(),
        "--cluster-id".into(),
        format!("{cluster_id:x}"),
        "--from".into(),
        "0x1234".into(),
        "--to".into(),
        member_id.to_string(),
        "--msg-term".into(),
        (term - 1).to_string(),
        "--voters".into(),
        member_id.to_string(),
    ]);
    let out = run.json();
    assert_eq!(out["status"], 204, "{out}");
    assert_eq!(out["db_bytes"], db.len() as u64);
    let stored = etcd.snap_dir().join(format!("{index:016x}.snap.db"));
    assert_eq!(std::fs::read(&stored).expect("etcd stored the db"), db);

    // A body shorter than declared: etcd aborts its SaveDBFrom and keeps nothing.
    let before = snap_db_files(&etcd.snap_dir());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let m = short_msg(member_id, term - 1, index + 1);
        let (msg, notify) = etcd_snap::Message::new(m, &db[..1 << 20], 2 << 20).unwrap();
        let opts = etcd_snap::http::SendOptions::new(0x1234, cluster_id);
        let err = etcd_snap::http::send_snapshot(&etcd.peer_url, msg, &opts)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "ERR_SHORT_READ", "{err}");
        assert_eq!(notify.await, Ok(false));
        // Wrong cluster ID: etcd's own 412 body maps to ClusterIdMismatch.
        let m = short_msg(member_id, term - 1, index + 2);
        let (msg, notify) = etcd_snap::Message::new(m, &b"x"[..], 1).unwrap();
        let opts = etcd_snap::http::SendOptions::new(0x1234, cluster_id ^ 1);
        let err = etcd_snap::http::send_snapshot(&etcd.peer_url, msg, &opts)
            .await
            .unwrap_err();
        assert!(matches!(err, etcd_snap::Error::ClusterIdMismatch), "{err}");
        assert_eq!(notify.await, Ok(false));
    });
    // etcd removes its temp file on the failed copy (give it a moment to notice the abort).
    let deadline = Instant::now() + Duration::from_secs(30);
    while snap_db_files(&etcd.snap_dir()) != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(snap_db_files(&etcd.snap_dir()), before);

    // A MsgSnap addressed to another member: both versions store the db first (SaveDBFrom
    // runs before Process); 3.4 then hands the message to raft (204); 3.5's Process refuses
    // it, "cannot process message to mismatch member" (etcd v3.5.16
    // server/etcdserver/server.go:1000-1007). That error's WriteTo returns an error, so it is
    // no writerToResponse (rafthttp/http.go:64-66) and the handler answers 500 "failed to
    // process raft message (…)" (http.go:302-310), which etcd's sender, like ours, reports as
    // an unexpected http status (rafthttp/util.go:114-115).
    let other_index = index + 3;
    let (sent, notified) = rt.block_on(async {
        let m = short_msg(member_id ^ 0x5a5a, term - 1, other_index);
        let (msg, notify) = etcd_snap::Message::new(m, &db[..4096], 4096).unwrap();
        let opts = etcd_snap::http::SendOptions::new(0x1234, cluster_id);
        let sent = etcd_snap::http::send_snapshot(&etcd.peer_url, msg, &opts).await;
        (sent, notify.await)
    });
    match v {
        Version::V3_4 => {
            assert!(sent.is_ok(), "{sent:?}");
            assert_eq!(notified, Ok(true));
        }
        Version::V3_5 => {
            let err = sent.unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "unexpected http status Internal Server Error while posting to \"{}/raft/snapshot\"",
                    etcd.peer_url
                )
            );
            assert_eq!(err.code(), "ERR_HTTP_STATUS");
            assert_eq!(notified, Ok(false));
            let log = etcd.log();
            let refused = log
                .lines()
                .find(|l| l.contains("\"msg\":\"failed to process Raft message\""))
                .unwrap_or_else(|| panic!("etcd did not refuse the message:\n{log}"));
            assert!(
                refused.contains("\"error\":\"cannot process message to mismatch member\""),
                "{refused}"
            );
        }
    }
    let other_db = etcd.snap_dir().join(format!("{other_index:016x}.snap.db"));
    assert_eq!(std::fs::read(&other_db).unwrap(), &db[..4096]);

    // etcd keeps serving, and nothing was restored from our snapshot.
    etcd.put("after", "2");
    assert_eq!(etcd.get("before").as_deref(), Some("1"));
    assert_eq!(etcd.get("after").as_deref(), Some("2"));
    assert_eq!(status(v, &etcd.client_url).0, term);
    assert!(
        !etcd.log().contains("applying snapshot"),
        "etcd applied our snapshot"
    );
    etcd.stop();
}

fn short_msg(to: u64, term: u64, index: u64) -> etcd_snap::pb::Message {
    let mut m = etcd_snap::pb::Message {
        r#type: etcd_snap::pb::MessageType::MsgSnap as i32,
        to,
        from: 0x1234,
        term,
        ..Default::default()
    };
    m.snapshot.metadata.index = index;
    m.snapshot.metadata.term = term;
    m
}

// ---- 3-member cluster with a recording proxy -------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One etcd process of the cluster, killed by PID on drop.
struct Member {
    name: String,
    data_dir: PathBuf,
    client_url: String,
    listen_peer: String,
    advertise_peer: String,
    child: Option<Child>,
    log: PathBuf,
    version: Version,
}

impl Member {
    fn start(&mut self, initial_cluster: &str, snapshot_count: u64) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(self.version.etcd())
            .args(["--name", &self.name])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen-client-urls", &self.client_url])
            .args(["--advertise-client-urls", &self.client_url])
            .args(["--listen-peer-urls", &self.listen_peer])
            .args(["--initial-advertise-peer-urls", &self.advertise_peer])
            .args(["--initial-cluster", initial_cluster])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", "etcd-snap-wire"])
            .args(["--snapshot-count", &snapshot_count.to_string()])
            .args(["--logger", "zap", "--log-outputs", "stderr"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn etcd (is etcd-server installed?)");
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while c.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + TIMEOUT;
        while !etcdctl(self.version, &self.client_url, &["endpoint", "health"])
            .status
            .success()
        {
            assert!(
                Instant::now() < deadline,
                "{} not healthy:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Client-to-member bytes of every proxied connection that began with `POST `.
type Recordings = Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>;

/// A TCP proxy to `target` that records what clients send on POST connections.
fn recording_proxy(listener: TcpListener, target: String) -> Recordings {
    let recs: Recordings = Arc::default();
    let recs2 = recs.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { return };
            let target = target.clone();
            let recs = recs2.clone();
            std::thread::spawn(move || {
                let Ok(server) = TcpStream::connect(&target) else {
                    return;
                };
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                });
                let mut rec: Option<Arc<Mutex<Vec<u8>>>> = None;
                let mut first = true;
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    let n = match c_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if first {
                        first = false;
                        if buf[..n].starts_with(b"POST ") {
                            let r = Arc::new(Mutex::new(Vec::new()));
                            recs.lock().unwrap().push(r.clone());
                            rec = Some(r);
                        }
                    }
                    if let Some(r) = &rec {
                        r.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    recs
}

/// One HTTP/1.1 request parsed independently of the library: head and de-chunked body.
struct RawRequest {
    raw: Vec<u8>,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Splits a recorded connection into complete requests.
fn parse_requests(mut data: &[u8]) -> Vec<RawRequest> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&data[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let path = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap_or("")
            .to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut pos = end + 4;
        let mut body = Vec::new();
        if get("transfer-encoding").as_deref() == Some("chunked") {
            loop {
                let Some(le) = data[pos..].windows(2).position(|w| w == b"\r\n") else {
                    return out;
                };
                let size_line = String::from_utf8_lossy(&data[pos..pos + le]).into_owned();
                let size =
                    usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16).unwrap();
                pos += le + 2;
                if data.len() < pos + size + 2 {
                    return out; // incomplete
                }
                body.extend_from_slice(&data[pos..pos + size]);
                pos += size + 2;
                if size == 0 {
                    break;
                }
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().unwrap();
            if data.len() < pos + len {
                return out;
            }
            body.extend_from_slice(&data[pos..pos + len]);
            pos += len;
        }
        out.push(RawRequest {
            raw: data[..pos].to_vec(),
            path,
            headers,
            body,
        });
        data = &data[pos..];
    }
    out
}

/// `n` puts through the v3 JSON gateway on `conns` pipelined keep-alive connections.
fn bulk_put(client_url: &str, n: usize, conns: usize) {
    let addr = client_url.strip_prefix("http://").unwrap().to_string();
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let count = n / conns + usize::from(c < n % conns);
                let s = TcpStream::connect(&addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
                let mut w = s.try_clone().unwrap();
                let writer = std::thread::spawn(move || {
                    for i in 0..count {
                        let key = b64(format!("k/{c}/{i:06}").as_bytes());
                        let val = b64(format!("value {c} {i} {}", "x".repeat(40)).as_bytes());
                        let body = format!("{{\"key\":\"{key}\",\"value\":\"{val}\"}}");
                        let req = format!(
                            "POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        w.write_all(req.as_bytes()).unwrap();
                    }
                });
                // Bodies carry no newline, so count status lines in the raw stream.
                let mut seen = Vec::new();
                let (mut replies, mut scanned) = (0, 0);
                let mut buf = vec![0u8; 64 << 10];
                let mut r = s;
                while replies < count {
                    let n = r.read(&mut buf).expect("gateway reply");
                    assert!(n > 0, "gateway closed after {replies} replies");
                    seen.extend_from_slice(&buf[..n]);
                    let status = b"HTTP/1.1 ";
                    while scanned + status.len() + 3 <= seen.len() {
                        if seen[scanned..].starts_with(status) {
                            let code = &seen[scanned + status.len()..scanned + status.len() + 3];
                            assert_eq!(code, b"200", "a put failed");
                            replies += 1;
                        }
                        scanned += 1;
                    }
                }
                writer.join().unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for ch in data.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= ch.len() {
                s.push(A[(v >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// `etcd-snap serve-snapshots`, killed by PID on drop.
struct Receiver {
    child: Child,
    addr: String,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Receiver {
    fn start(dir: &Path, cluster_id: u64) -> Receiver {
        let mut child = Command::new(crate::support::bin())
            .arg("serve-snapshots")
            .arg(dir)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--cluster-id",
                &format!("{cluster_id:x}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for l in out.lines() {
                let Ok(l) = l else { return };
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        let first = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("listening line");
        let v: serde_json::Value = serde_json::from_str(&first).unwrap();
        let addr = v["listening"].as_str().unwrap().to_string();
        Receiver { child, addr, lines }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn receive_what_a_real_leader_sends(version: Version) {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let proxy_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy_listener.local_addr().unwrap());
    let mut members: Vec<Member> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let peer = format!("http://127.0.0.1:{}", free_port());
            Member {
                name: name.to_string(),
                data_dir: tmp.path().join(name),
                client_url: format!("http://127.0.0.1:{}", free_port()),
                listen_peer: peer.clone(),
                advertise_peer: peer,
                child: None,
                log: tmp.path().join(format!("{name}.log")),
                version,
            }
        })
        .collect();
    // c is reached by its peers only through the proxy.
    members[2].advertise_peer = proxy_url.clone();
    let recs = recording_proxy(
        proxy_listener,
        members[2]
            .listen_peer
            .strip_prefix("http://")
            .unwrap()
            .to_string(),
    );
    let initial: Vec<String> = members
        .iter()
        .map(|m| format!("{}={}", m.name, m.advertise_peer))
        .collect();
    let initial = initial.join(",");
    for m in &mut members {
        m.start(&initial, 200);
    }
    for m in &members {
        m.wait_healthy();
    }
    let a = members[0].client_url.clone();
    let c = members[2].client_url.clone();
    let v = ctl_json(version, &a, &["member", "list", "-w", "json"]);
    let cluster_id = v["header"]["cluster_id"].as_u64().unwrap();
    let c_id = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "c")
        .unwrap()["ID"]
        .as_u64()
        .unwrap();

    // c falls behind by more than etcd's 5000 catch-up entries: the leader must send a snapshot.
    members[2].stop();
    bulk_put(&a, 5600, 8);
    let (_, leader_rev) = status(version, &a);
    members[2].start(&initial, 200);
    members[2].wait_healthy();

    // Wait for the leader's POST /raft/snapshot to be recorded in full and for c to catch up.
    let deadline = Instant::now() + TIMEOUT;
    let snap_req = loop {
        let found = recs
            .lock()
            .unwrap()
            .iter()
            .flat_map(|r| parse_requests(&r.lock().unwrap()))
            .find(|r| r.path == "/raft/snapshot");
        if let Some(r) = found {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot sent to c:\n{}",
            members[0].log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    while status(version, &c).1 != leader_rev {
        assert!(
            Instant::now() < deadline,
            "c did not catch up:\n{}",
            members[2].log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let header = |k: &str| {
        snap_req
            .headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("transfer-encoding"), Some("chunked"));
    assert_eq!(
        header("x-etcd-cluster-id"),
        Some(format!("{cluster_id:x}").as_str())
    );
    assert_eq!(header("x-server-version"), Some(version.release()));

    // Independent decoding of the recorded body: 8-byte length, message, db.
    let body = &snap_req.body;
    let len = u64::from_be_bytes(body[..8].try_into().unwrap()) as usize;
    let sent_db = &body[8 + len..];

    // Replay etcd's exact bytes to our receiver.
    let ours = tmp.path().join("ours");
    let recv = Receiver::start(&ours, cluster_id);
    let mut s = TcpStream::connect(&recv.addr).unwrap();
    s.write_all(&snap_req.raw).unwrap();
    let mut resp = [0u8; 12];
    s.read_exact(&mut resp).unwrap();
    assert_eq!(&resp, b"HTTP/1.1 204", "{}", String::from_utf8_lossy(&resp));
    let line = recv.lines.recv_timeout(Duration::from_secs(60)).unwrap();
    let got: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(got["status"], 204, "{got}");
    assert_eq!(got["message"]["type"], "MsgSnap");
    assert_eq!(got["message"]["to"], c_id);
    assert_eq!(
        got["message"]["snapshot"]["conf_state"]["voters"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(got["message"]["msg_size"], len as u64);
    let index = got["message"]["snapshot"]["index"].as_u64().unwrap();
    // Our sender's headers are exactly the ones etcd's sender used (names case-insensitive).
    let leader = got["message"]["from"].as_u64().unwrap();
    let mut sender_headers = etcd_snap::transport::SenderHeaders::new(leader, cluster_id);
    // The release the leader runs; 3.5 still sends MinClusterVersion 3.0.0 (etcd v3.5.16
    // api/version/version.go:28).
    sender_headers.server_version = version.release().into();
    sender_headers.peer_urls = header("x-peerurls")
        .expect("etcd sends X-PeerURLs")
        .split(',')
        .map(str::to_string)
        .collect();
    for (name, value) in sender_headers.to_pairs() {
        assert_eq!(
            header(&name.to_ascii_lowercase()),
            Some(value.as_str()),
            "{name}"
        );
    }
    assert!(
        members[..2]
            .iter()
            .any(|m| sender_headers.peer_urls == [m.advertise_peer.clone()]),
        "X-PeerURLs {:?} is not the leader's",
        sender_headers.peer_urls
    );
    let stored = ours.join(format!("{index:016x}.snap.db"));
    let stored_bytes = std::fs::read(&stored).unwrap();
    assert_eq!(got["db_bytes"], stored_bytes.len() as u64);
    // What etcd's SaveDBFrom stores is exactly the body after the envelope (io.Copy); ours too.
    assert_eq!(
        stored_bytes, sent_db,
        "stored db differs from the leader's db bytes"
    );

    // etcd's own tool accepts the stored db; its revision is the cluster's, which c now serves.
    let st = json_output(
        "snapshot status",
        &version
            .snapshot_status(&stored)
            .args(["-w", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(st["revision"].as_i64().unwrap(), leader_rev, "{st}");
    assert_eq!(st["totalSize"].as_u64().unwrap(), stored_bytes.len() as u64);
    assert!(st["totalKey"].as_u64().unwrap() > 5600);
    // c's own SaveDBFrom logged the same file name and byte count (its file is renamed to
    // `db` and opened as the live backend right after, so its bytes cannot be compared later).
    let c_log = members[2].log();
    let saved = c_log
        .lines()
        .find(|l| l.contains("saved database snapshot to disk"))
        .unwrap_or_else(|| panic!("c did not log a saved snapshot db:\n{c_log}"));
    let v: serde_json::Value = serde_json::from_str(saved).expect("zap JSON log line");
    assert!(
        v["path"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{index:016x}.snap.db")),
        "{saved}"
    );
    assert_eq!(
        v["bytes"].as_u64(),
        Some(stored_bytes.len() as u64),
        "{saved}"
    );
    eprintln!(
        "leader sent MsgSnap index {index} ({} byte message, {} byte db, revision {leader_rev}); ours stored {}",
        len,
        sent_db.len(),
        stored.display()
    );
    // Same db unframed through the CLI from etcd's de-chunked body.
    let bodyfile = tmp.path().join("body.bin");
    std::fs::write(&bodyfile, body).unwrap();
    let un = etcd_snap([
        "unframe".into(),
        bodyfile.display().to_string(),
        tmp.path().join("cli").display().to_string(),
    ])
    .json();
    assert_eq!(un["db_bytes"], sent_db.len() as u64);
    assert_eq!(
        std::fs::read(tmp.path().join("cli").join(format!("{index:016x}.snap.db"))).unwrap(),
        sent_db
    );

    drop(recv);
    for m in &mut members {
        m.stop();
    }
}

/// Sends `request`, half-closes (a sender that stops mid-body), and reads the whole reply:
/// (status, the headers etcd's handler sets, body).
fn cut_exchange(addr: &str, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(request).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no reply from {addr}: {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let mut headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(k, _)| {
            [
                "content-type",
                "x-content-type-options",
                "x-etcd-cluster-id",
            ]
            .contains(&k.as_str())
        })
        .collect();
    headers.sort();
    (status, headers, body.to_string())
}

fn a_body_cut_off_mid_upload_gets_the_same_answer_from_etcd_and_from_us(v: Version) {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let etcd = Etcd::start(&tmp.path().join("data"), &options(v));
    let (cluster_id, member_id) = etcd.ids();
    let ours = Receiver::start(&tmp.path().join("ours"), cluster_id);
    let env = etcd_snap::transport::encode_envelope(&short_msg(member_id, 1, 0x7777_2000));
    let mut in_db = env.clone();
    in_db.extend_from_slice(&[9u8; 5000]);
    let cases: [(&[u8], u16, &str); 2] = [
        (&in_db, 500, "failed to save KV snapshot (unexpected EOF)\n"),
        (
            &env[..env.len() - 3],
            400,
            "failed to decode raft message (unexpected EOF)\n",
        ),
    ];
    let etcd_addr = etcd.peer_url.strip_prefix("http://").unwrap().to_string();
    for (body, want_status, want_body) in cases {
        for chunked in [false, true] {
            let mut req = format!(
                "POST /raft/snapshot HTTP/1.1\r\nHost: x\r\nX-Server-From: 1234\r\n\
                 X-Server-Version: 3.4.23\r\nX-Min-Cluster-Version: 3.0.0\r\n\
                 X-Etcd-Cluster-ID: {cluster_id:x}\r\n"
            );
            let declared = body.len() + 10_000;
            if chunked {
                req.push_str(&format!(
                    "Transfer-Encoding: chunked\r\n\r\n{declared:x}\r\n"
                ));
            } else {
                req.push_str(&format!("Content-Length: {declared}\r\n\r\n"));
            }
            let mut req = req.into_bytes();
            req.extend_from_slice(body);
            let theirs = cut_exchange(&etcd_addr, &req);
            assert_eq!(
                (theirs.0, theirs.2.as_str()),
                (want_status, want_body),
                "etcd, chunked {chunked}"
            );
            assert_eq!(cut_exchange(&ours.addr, &req), theirs, "chunked {chunked}");
        }
    }
    // etcd kept nothing and keeps serving.
    assert_eq!(snap_db_files(&etcd.snap_dir()), Vec::<String>::new());
    etcd.put("k", "v");
    assert_eq!(etcd.get("k").as_deref(), Some("v"));
    drop(ours);
    etcd.stop();
}
