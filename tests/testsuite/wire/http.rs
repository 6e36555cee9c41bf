//! Our rafthttp snapshot sender and receiver over real HTTP on 127.0.0.1: etcd's status table
//! (etcd etcdserver/api/rafthttp/http.go:200), `checkPostResponse` (util.go:82), and what a
//! short, long or failed body leaves behind. The only fake is `fake_peer`, a fixed-reply HTTP
//! server for statuses our receiver never sends (200, 403, odd 412 bodies): fault injection
//! for the sender.

#![cfg(feature = "http")]

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use etcd_snap::http::{SendOptions, SnapshotReceiver, send_snapshot, serve};
use etcd_snap::pb::{self, ConfState, MessageType, Snapshot, SnapshotMetadata};
use etcd_snap::storage::NativeStorage;
use etcd_snap::transport::{LocalPeer, encode_envelope};
use etcd_snap::{Error, Message, Options, Snapshotter};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CID: u64 = 0x1000;

fn msg(index: u64) -> pb::Message {
    pb::Message {
        r#type: MessageType::MsgSnap as i32,
        to: 2,
        from: 1,
        term: 2,
        snapshot: Snapshot {
            data: None,
            metadata: SnapshotMetadata {
                conf_state: ConfState {
                    voters: vec![1, 2, 3],
                    ..Default::default()
                },
                index,
                term: 2,
            },
        },
        ..Default::default()
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs `body` on a current-thread runtime with a receiver for `dir` listening on a free port.
/// `process` fails with `fail` when set; every processed message is recorded.
fn with_receiver<F, Fut>(dir: &Path, fail: Option<Error>, body: F) -> Vec<pb::Message>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let seen2 = seen.clone();
    let fail = Rc::new(RefCell::new(fail));
    local.block_on(&rt, async move {
        let snap = Snapshotter::open(NativeStorage::new(dir), Options::default())
            .await
            .unwrap();
        let recv = SnapshotReceiver::new(snap, LocalPeer::new(CID)).with_process(Rc::new(
            move |m: pb::Message| {
                seen2.borrow_mut().push(m);
                let f = fail.borrow_mut().take();
                Box::pin(async move { f.map_or(Ok(()), Err) })
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::task::spawn_local(serve(listener, Rc::new(recv)));
        tokio::time::timeout(Duration::from_secs(120), body(url))
            .await
            .expect("test body timed out");
        server.abort();
    });
    seen.take()
}

/// One raw HTTP/1.1 exchange (`Connection: close`): (status, lowercase headers, body).
async fn raw(url: &str, request: Vec<u8>) -> (u16, Vec<(String, String)>, String) {
    let addr = url.strip_prefix("http://").unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&request).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full response");
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A POST to `/raft/snapshot` with `headers` and a Content-Length body.
fn post(headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /raft/snapshot HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

/// Request headers, body, expected status and expected body.
type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);

const GOOD: &[(&str, &str)] = &[
    ("X-Server-Version", "3.4.23"),
    ("X-Min-Cluster-Version", "3.0.0"),
    ("X-Etcd-Cluster-ID", "1000"),
];

fn wire(index: u64, db: &[u8]) -> Vec<u8> {
    let mut w = encode_envelope(&msg(index));
    w.extend_from_slice(db);
    w
}

#[test]
fn sender_to_receiver_stores_db_and_notifies_true() {
    let dir = tempfile::tempdir().unwrap();
    let seen = with_receiver(dir.path(), None, |url| async move {
        let (m, notify) = Message::new(msg(100), &b"hello"[..], 5).unwrap();
        let sent = send_snapshot(&url, m, &SendOptions::new(1, CID))
            .await
            .unwrap();
        assert_eq!(sent.status, 204);
        assert_eq!(sent.bytes, 8 + 36 + 5);
        assert_eq!(sent.url, format!("{url}/raft/snapshot"));
        assert_eq!(notify.await, Ok(true));
    });
    assert_eq!(seen, vec![msg(100)]);
    assert_eq!(names(dir.path()), ["0000000000000064.snap.db"]);
    assert_eq!(
        std::fs::read(dir.path().join("0000000000000064.snap.db")).unwrap(),
        b"hello"
    );
}

#[test]
fn receiver_status_table_matches_etcd() {
    let dir = tempfile::tempdir().unwrap();
    with_receiver(dir.path(), None, |url| async move {
        // GET: 405, Allow: POST, no cluster ID.
        let (st, h, body) = raw(
            &url,
            b"GET /raft/snapshot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
        .await;
        assert_eq!((st, body.as_str()), (405, "Method Not Allowed\n"));
        assert_eq!(header(&h, "allow"), Some("POST"));
        assert_eq!(header(&h, "x-etcd-cluster-id"), None);
        assert_eq!(
            header(&h, "content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));

        // Other paths: Go's mux 404.
        let (st, _, body) = raw(
            &url,
            b"GET /raft HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
        .await;
        assert_eq!((st, body.as_str()), (404, "404 page not found\n"));

        let good = wire(10, b"hello");
        let cases: Vec<Case> = vec![
            (vec![], good.clone(), 412, "incompatible version\n"),
            (
                vec![("X-Server-Version", "2.3.0"), ("X-Etcd-Cluster-ID", "1000")],
                good.clone(),
                412,
                "incompatible version\n",
            ),
            (
                vec![
                    ("X-Server-Version", "3.4.23"),
                    ("X-Min-Cluster-Version", "3.5.0"),
                    ("X-Etcd-Cluster-ID", "1000"),
                ],
                good.clone(),
                412,
                "incompatible version\n",
            ),
            // Malformed versions: etcd 3.4 panics; we answer 412.
            (
                vec![
                    ("X-Server-Version", "banana"),
                    ("X-Etcd-Cluster-ID", "1000"),
                ],
                good.clone(),
                412,
                "incompatible version\n",
            ),
            (
                vec![
                    ("X-Server-Version", "3.4.23"),
                    ("X-Min-Cluster-Version", "3.0"),
                    ("X-Etcd-Cluster-ID", "1000"),
                ],
                good.clone(),
                412,
                "incompatible version\n",
            ),
            (
                vec![
                    ("X-Server-Version", "3.4.23"),
                    ("X-Etcd-Cluster-ID", "1001"),
                ],
                good.clone(),
                412,
                "cluster ID mismatch\n",
            ),
            (
                vec![("X-Server-Version", "3.4.23")],
                good.clone(),
                412,
                "cluster ID mismatch\n",
            ),
            (
                vec![
                    ("X-Server-Version", "3.4.23"),
                    ("X-Etcd-Cluster-ID", "01000"),
                ],
                good.clone(),
                412,
                "cluster ID mismatch\n",
            ),
            (
                GOOD.to_vec(),
                vec![],
                400,
                "failed to decode raft message (EOF)\n",
            ),
            (
                GOOD.to_vec(),
                vec![0, 0, 0, 0],
                400,
                "failed to decode raft message (unexpected EOF)\n",
            ),
            (
                GOOD.to_vec(),
                (1u64 << 63).to_be_bytes().to_vec(),
                400,
                "failed to decode raft message (rafthttp: error limit exceeded)\n",
            ),
            (
                GOOD.to_vec(),
                u64::MAX.to_be_bytes().to_vec(),
                400,
                "failed to decode raft message (rafthttp: error limit exceeded)\n",
            ),
            (
                GOOD.to_vec(),
                [&64u64.to_be_bytes()[..], b"short"].concat(),
                400,
                "failed to decode raft message (unexpected EOF)\n",
            ),
        ];
        for (headers, body, want_status, want_body) in cases {
            let (st, h, got) = raw(&url, post(&headers, &body)).await;
            assert_eq!(
                (st, got.as_str()),
                (want_status, want_body),
                "headers {headers:?}"
            );
            assert_eq!(header(&h, "x-etcd-cluster-id"), Some("1000"));
        }

        // A non-MsgSnap message.
        let mut app = msg(5);
        app.r#type = MessageType::MsgApp as i32;
        let (st, _, got) = raw(&url, post(GOOD, &encode_envelope(&app))).await;
        assert_eq!((st, got.as_str()), (400, "wrong raft message type\n"));

        // Only X-Server-Version (min-cluster defaults to 2.0.0): accepted.
        let (st, h, got) = raw(
            &url,
            post(
                &[("X-Server-Version", "3.4.0"), ("X-Etcd-Cluster-ID", "1000")],
                &wire(10, b"hello"),
            ),
        )
        .await;
        assert_eq!((st, got.as_str()), (204, ""));
        assert_eq!(header(&h, "x-etcd-cluster-id"), Some("1000"));
        // Same index again with other bytes: 204, the first file is kept (SaveDBFrom).
        let (st, _, _) = raw(&url, post(GOOD, &wire(10, b"other bytes"))).await;
        assert_eq!(st, 204);
        // Index 11 with an empty db.
        let (st, _, _) = raw(&url, post(GOOD, &wire(11, b""))).await;
        assert_eq!(st, 204);
    });
    assert_eq!(
        names(dir.path()),
        ["000000000000000a.snap.db", "000000000000000b.snap.db"]
    );
    assert_eq!(
        std::fs::read(dir.path().join("000000000000000a.snap.db")).unwrap(),
        b"hello"
    );
    assert_eq!(
        std::fs::read(dir.path().join("000000000000000b.snap.db")).unwrap(),
        b""
    );
}

#[test]
fn process_failure_is_500_and_keeps_db_like_etcd() {
    let dir = tempfile::tempdir().unwrap();
    let fail = Error::InvalidArgument("raft rejected".into());
    with_receiver(dir.path(), Some(fail), |url| async move {
        let (st, _, got) = raw(&url, post(GOOD, &wire(12, b"db"))).await;
        assert_eq!(
            (st, got.as_str()),
            (500, "failed to process raft message (raft rejected)\n")
        );
    });
    assert_eq!(names(dir.path()), ["000000000000000c.snap.db"]);
}

#[test]
fn wrong_size_or_failing_body_notifies_false_and_leaves_no_file() {
    struct Boom;
    impl futures_util::io::AsyncRead for Boom {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Err(std::io::Error::other("boom")))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    // A db bigger than the channel and socket buffers, so the upload is really in flight.
    let big = vec![7u8; 8 << 20];
    with_receiver(dir.path(), None, |url| async move {
        let opts = SendOptions::new(1, CID);
        // Shorter than declared (TestSnapshotSend case 3).
        let (m, notify) = Message::new(msg(20), &big[..], big.len() as u64 + 10_000).unwrap();
        let err = send_snapshot(&url, m, &opts).await.unwrap_err();
        assert_eq!(err.code(), "ERR_SHORT_READ", "{err}");
        assert_eq!(notify.await, Ok(false));
        // Longer than declared (case 4).
        let (m, notify) = Message::new(msg(21), &big[..], 1).unwrap();
        let err = send_snapshot(&url, m, &opts).await.unwrap_err();
        assert_eq!(err.code(), "ERR_EXPECT_EOF", "{err}");
        assert_eq!(notify.await, Ok(false));
        // A reader that fails (case 2): etcd says short read; the cause is kept.
        let (m, notify) = Message::new(msg(22), Boom, 1).unwrap();
        let err = send_snapshot(&url, m, &opts).await.unwrap_err();
        assert_eq!(err.to_string(), "ioutil: short read");
        assert!(
            std::error::Error::source(&err)
                .unwrap()
                .to_string()
                .contains("boom")
        );
        assert_eq!(notify.await, Ok(false));
        // A raw request whose chunked body stops in the middle.
        let addr = url.strip_prefix("http://").unwrap();
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req = b"POST /raft/snapshot HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Server-Version: 3.4.23\r\nX-Etcd-Cluster-ID: 1000\r\n\r\n".to_vec();
        let w = wire(23, &[1u8; 1000]);
        req.extend_from_slice(format!("{:x}\r\n", w.len() + 500).as_bytes());
        req.extend_from_slice(&w);
        s.write_all(&req).await.unwrap();
        s.shutdown().await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out);
        // etcd's answer (Go's body reader says io.ErrUnexpectedEOF; issue 9 item 12).
        assert!(
            text.starts_with("HTTP/1.1 500")
                && text.ends_with("\r\n\r\nfailed to save KV snapshot (unexpected EOF)\n"),
            "{text}"
        );
    });
    assert_eq!(
        names(dir.path()),
        Vec::<String>::new(),
        "no db and no temp file"
    );
}

/// Answers every connection with `response` after reading the request head.
async fn fake_peer(response: &'static str) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::task::spawn_local(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(response.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    });
    url
}

#[test]
fn sender_maps_replies_like_check_post_response() {
    let dir = tempfile::tempdir().unwrap();
    with_receiver(dir.path(), None, |url| async move {
        let send = |url: String, cid: u64| async move {
            let (m, notify) = Message::new(msg(30), &b"hello"[..], 5).unwrap();
            let r = send_snapshot(&url, m, &SendOptions::new(1, cid)).await;
            (r, notify.await)
        };
        let (r, n) = send(url.clone(), 0x1001).await;
        assert!(matches!(r, Err(Error::ClusterIdMismatch)), "{r:?}");
        assert_eq!(n, Ok(false));
        // Refused while a large upload is still in flight: the sender still gets etcd's 412,
        // not a reset connection (the receiver drains the rest).
        let big = vec![1u8; 16 << 20];
        let (m, notify) = Message::new(msg(31), &big[..], big.len() as u64).unwrap();
        let r = send_snapshot(&url, m, &SendOptions::new(1, 0x1001)).await;
        assert!(matches!(r, Err(Error::ClusterIdMismatch)), "{r:?}");
        assert_eq!(notify.await, Ok(false));

        let ok = fake_peer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        let (r, n) = send(ok.clone(), CID).await;
        assert_eq!(
            r.unwrap_err().to_string(),
            format!("unexpected http status OK while posting to \"{ok}/raft/snapshot\"")
        );
        assert_eq!(n, Ok(false));

        let gone = fake_peer("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
        assert!(matches!(send(gone, CID).await.0, Err(Error::MemberRemoved)));

        let odd =
            fake_peer("HTTP/1.1 412 Precondition Failed\r\nContent-Length: 5\r\n\r\nodd\n\n").await;
        assert_eq!(
            send(odd, CID).await.0.unwrap_err().to_string(),
            "unhandled error \"odd\\n\" when precondition failed"
        );

        let iv = fake_peer(
            "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 21\r\n\r\nincompatible version\n",
        )
        .await;
        assert!(matches!(
            send(iv, CID).await.0,
            Err(Error::IncompatibleVersion)
        ));

        // Nobody listening.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let (r, n) = send(closed, CID).await;
        assert_eq!(r.unwrap_err().code(), "ERR_TRANSPORT");
        assert_eq!(n, Ok(false));
    });
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn stalled_upload_times_out_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let snap = Snapshotter::open(NativeStorage::new(dir.path()), Options::default())
            .await
            .unwrap();
        let recv = SnapshotReceiver::new(snap, LocalPeer::new(CID))
            .with_idle_timeout(Duration::from_millis(500));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::task::spawn_local(serve(listener, Rc::new(recv)));
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req = b"POST /raft/snapshot HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Server-Version: 3.4.23\r\nX-Etcd-Cluster-ID: 1000\r\n\r\n".to_vec();
        let w = wire(40, &[5u8; 1000]);
        req.extend_from_slice(format!("{:x}\r\n", w.len()).as_bytes());
        req.extend_from_slice(&w);
        req.extend_from_slice(b"\r\n");
        s.write_all(&req).await.unwrap();
        // ... and then nothing more, with the connection left open.
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out))
            .await
            .expect("the receiver gave up on the stalled upload")
            .unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 500"), "{text}");
        assert!(
            text.ends_with("failed to save KV snapshot (read: i/o timeout)\n"),
            "{text}"
        );
        server.abort();
    });
    assert_eq!(names(dir.path()), Vec::<String>::new());
}
