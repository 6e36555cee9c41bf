//! `snap.Message` and `ioutil.ExactReadCloser` (etcd pkg/ioutil/readcloser.go): its test cases,
//! TestSnapshotSend's reader semantics (cases 1–4), TotalSize and the close notification.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use etcd_snap::pb::{self, MessageType};
use etcd_snap::{ConfState, Error, ExactReader, Message, Snapshot, SnapshotMetadata};
use futures_executor::block_on;
use futures_util::AsyncReadExt as _;
use futures_util::io::{AsyncRead, Cursor};

/// G9, the golden `MsgSnap` of tests/pb_golden.rs.
fn g9() -> pb::Message {
    pb::Message {
        r#type: MessageType::MsgSnap as i32,
        to: 2,
        from: 1,
        term: 3,
        snapshot: Snapshot {
            data: Some(Bytes::from_static(b"v2")),
            metadata: SnapshotMetadata {
                conf_state: ConfState {
                    voters: vec![1, 2],
                    ..Default::default()
                },
                index: 10,
                term: 3,
            },
        },
        ..Default::default()
    }
}

/// A reader that fails on its first read (TestSnapshotSend case 2's `errReadCloser`).
struct ErrReader;

impl AsyncRead for ErrReader {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::other("io: read/write on closed pipe")))
    }
}

/// Reads `r` to the end into a Vec, as the sender's HTTP body copy does.
async fn drain<R: AsyncRead + Unpin>(r: &mut R) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    r.read_to_end(&mut out).await.map_err(Error::from)?;
    Ok(out)
}

#[test]
fn total_size_is_message_size_plus_db_size() {
    let m = g9();
    assert_eq!(
        pb::encode(&m),
        hex("08071002180120032800300040004a120a027632120c0a0608010802280010 0a18035000 5800")
    );
    let (msg, _rx) = Message::new(m, Cursor::new(b"hello".to_vec()), 5).unwrap();
    assert_eq!(msg.total_size(), 43);
}

#[test]
fn new_rejects_other_message_types() {
    let mut m = g9();
    m.r#type = MessageType::MsgApp as i32;
    let err = Message::new(m, Cursor::new(Vec::new()), 0).err().unwrap();
    assert_eq!(err.code(), "ERR_INVALID_ARGUMENT");
    assert!(err.to_string().contains("MsgApp"), "{err}");
}

/// readcloser_test.go TestExactReadCloserExpectEOF: 10 bytes available, total 1.
#[test]
fn exact_reader_expect_eof() {
    block_on(async {
        let mut r = ExactReader::new(Cursor::new(vec![0u8; 10]), 1);
        let mut buf = [0u8; 10];
        let err = Error::from(r.read(&mut buf).await.unwrap_err());
        assert!(matches!(err, Error::ExpectEof), "{err:?}");
        assert_eq!(err.to_string(), "ioutil: expect EOF");
        assert_eq!(err.code(), "ERR_EXPECT_EOF");
    });
}

/// readcloser_test.go TestExactReadCloserShort: 5 of 10 bytes read fine; Close says short.
#[test]
fn exact_reader_short_then_close() {
    block_on(async {
        let mut r = ExactReader::new(Cursor::new(vec![0u8; 5]), 10);
        let mut buf = [0u8; 5];
        assert_eq!(r.read(&mut buf).await.unwrap(), 5);
        assert_eq!(r.bytes_read(), 5);
        let err = r.finish().unwrap_err();
        assert!(matches!(err, Error::ShortRead { cause: None }), "{err:?}");
        assert_eq!(err.to_string(), "ioutil: short read");
        // The next read hits the inner EOF with 5 < 10: short read, no inner error to keep.
        let err = Error::from(r.read(&mut buf).await.unwrap_err());
        assert!(matches!(err, Error::ShortRead { cause: None }), "{err:?}");
    });
}

#[test]
fn exact_reader_exact_size_reads_to_clean_eof() {
    block_on(async {
        let mut r = ExactReader::new(Cursor::new(b"hello".to_vec()), 5);
        assert_eq!(drain(&mut r).await.unwrap(), b"hello");
        r.finish().unwrap();
        // A zero-length read is not an end of stream.
        let mut r = ExactReader::new(Cursor::new(b"hi".to_vec()), 2);
        assert_eq!(r.read(&mut []).await.unwrap(), 0);
        assert_eq!(drain(&mut r).await.unwrap(), b"hi");
    });
}

/// The inner error becomes the cause of the short read instead of being masked (#21418).
#[test]
fn exact_reader_keeps_inner_error_as_cause() {
    block_on(async {
        let mut r = ExactReader::new(ErrReader, 1);
        let err = drain(&mut r).await.unwrap_err();
        assert_eq!(err.to_string(), "ioutil: short read");
        let Error::ShortRead { cause: Some(cause) } = &err else {
            panic!("expected a short read with a cause, got {err:?}");
        };
        assert!(cause.to_string().contains("closed pipe"), "{cause}");
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("closed pipe"), "{source}");
    });
}

/// A typed error from the inner reader survives the trip through io::Error.
#[test]
fn exact_reader_cause_stays_typed() {
    struct Typed;
    impl AsyncRead for Typed {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Err(Error::CrcMismatch.into()))
        }
    }
    block_on(async {
        let err = drain(&mut ExactReader::new(Typed, 3)).await.unwrap_err();
        match err {
            Error::ShortRead { cause: Some(c) } => assert!(matches!(*c, Error::CrcMismatch)),
            other => panic!("{other:?}"),
        }
    });
}

/// An inner error after exactly `total` bytes is passed through as is.
#[test]
fn exact_reader_passes_error_at_total() {
    struct ThenFail(bool);
    impl AsyncRead for ThenFail {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            if self.0 {
                return Poll::Ready(Err(io::Error::other("late")));
            }
            self.0 = true;
            buf[..2].copy_from_slice(b"ok");
            Poll::Ready(Ok(2))
        }
    }
    block_on(async {
        let mut r = ExactReader::new(ThenFail(false), 2);
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).await.unwrap(), 2);
        let err = Error::from(r.read(&mut buf).await.unwrap_err());
        assert!(err.to_string().contains("late"), "{err}");
        assert!(!matches!(err, Error::ShortRead { .. }));
        r.finish().unwrap();
    });
}

/// TestSnapshotSend's sender side, cases 1–4: what the body copy reports and what
/// `CloseNotify` says.
#[test]
fn snapshot_send_cases_close_notify() {
    block_on(async {
        // Case 1: "hello", declared 5: success, notify true.
        let (mut msg, rx) = Message::new(g9(), Cursor::new(b"hello".to_vec()), 5).unwrap();
        assert_eq!(drain(&mut msg.body).await.unwrap(), b"hello");
        msg.close_with_error(None).unwrap();
        assert!(rx.await.unwrap());

        // Case 2: error reader, declared 1: "ioutil: short read" with the cause kept.
        let (mut msg, rx) = Message::new(g9(), ErrReader, 1).unwrap();
        let err = drain(&mut msg.body).await.unwrap_err();
        assert!(
            matches!(err, Error::ShortRead { cause: Some(_) }),
            "{err:?}"
        );
        let back = msg.close_with_error(Some(err)).unwrap_err();
        assert_eq!(back.to_string(), "ioutil: short read");
        assert!(!rx.await.unwrap());

        // Case 3: "hello" declared 10000: short read.
        let (mut msg, rx) = Message::new(g9(), Cursor::new(b"hello".to_vec()), 10000).unwrap();
        let err = drain(&mut msg.body).await.unwrap_err();
        assert!(matches!(err, Error::ShortRead { cause: None }), "{err:?}");
        msg.close_with_error(Some(err)).unwrap_err();
        assert!(!rx.await.unwrap());

        // Case 4: "hello" declared 1: expect EOF.
        let (mut msg, rx) = Message::new(g9(), Cursor::new(b"hello".to_vec()), 1).unwrap();
        let err = drain(&mut msg.body).await.unwrap_err();
        assert!(matches!(err, Error::ExpectEof), "{err:?}");
        msg.close_with_error(Some(err)).unwrap_err();
        assert!(!rx.await.unwrap());
    });
}

/// Closing without error but with the body unread turns success into a short read (etcd's
/// Close replaces the nil error), and the notification says false.
#[test]
fn close_without_error_but_short_body_is_short_read() {
    block_on(async {
        let (mut msg, rx) = Message::new(g9(), Cursor::new(b"hello".to_vec()), 5).unwrap();
        let mut two = [0u8; 2];
        msg.body.read_exact(&mut two).await.unwrap();
        let err = msg.close_with_error(None).unwrap_err();
        assert!(matches!(err, Error::ShortRead { cause: None }), "{err:?}");
        assert!(!rx.await.unwrap());
    });
}

/// An explicit error wins, even with a fully read body (etcd: `CloseWithError(errMemberNotFound)`).
#[test]
fn close_with_error_notifies_false() {
    block_on(async {
        let (mut msg, rx) = Message::new(g9(), Cursor::new(b"hello".to_vec()), 5).unwrap();
        drain(&mut msg.body).await.unwrap();
        let err = msg
            .close_with_error(Some(Error::InvalidArgument("member not found".into())))
            .unwrap_err();
        assert_eq!(err.to_string(), "member not found");
        assert!(!rx.await.unwrap());
    });
}

/// A message dropped without closing cancels the notification (never a false `true`).
#[test]
fn dropped_message_cancels_notify() {
    block_on(async {
        let (msg, rx) = Message::new(g9(), Cursor::new(Vec::new()), 0).unwrap();
        drop(msg);
        assert!(rx.await.is_err());
    });
}

/// A receiver that went away does not make closing fail.
#[test]
fn close_without_receiver_is_fine() {
    let (msg, rx) = Message::new(g9(), Cursor::new(Vec::new()), 0).unwrap();
    drop(rx);
    msg.close_with_error(None).unwrap();
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
