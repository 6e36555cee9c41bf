//! The rafthttp snapshot framing: byte-exact against etcd's sender, etcd's decode errors, the
//! envelope cap before allocation, and random round trips through odd read sizes.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use etcd_snap::pb::{self, ConfState, MessageType, Snapshot, SnapshotMetadata};
use etcd_snap::transport::{DEFAULT_ENVELOPE_LIMIT, decode_envelope, encode_envelope, encoder};
use etcd_snap::{Error, Message};
use futures_executor::block_on;
use futures_util::io::{AsyncRead, AsyncReadExt};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/etcd-3.4.23");

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The MsgSnap of `wire/golden-msgsnap-tiny.bin`, per its frame.json.
fn tiny_message() -> pb::Message {
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
                index: 100,
                term: 2,
            },
        },
        ..Default::default()
    }
}

/// Reads at most `step` bytes per call, to exercise every split of prefix, message and db.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}
impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

fn frame(m: &pb::Message, db: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    block_on(encoder(m, db).read_to_end(&mut out)).unwrap();
    out
}

fn decode_all(wire: &[u8], step: usize, limit: u64) -> Result<(pb::Message, Vec<u8>), Error> {
    block_on(async {
        let mut r = Trickle { data: wire, step };
        let m = decode_envelope(&mut r, limit).await?;
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).await?;
        Ok((m, rest))
    })
}

#[test]
fn frame_matches_etcd_sender_byte_for_byte() {
    let golden = fixture("wire/golden-msgsnap-tiny.bin");
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("expected/wire/golden-msgsnap-tiny.frame.json")).unwrap();
    let wire = frame(&tiny_message(), b"hello");
    assert_eq!(wire, golden);
    assert_eq!(wire.len() as u64, expected["bytes"].as_u64().unwrap());
    let env = encode_envelope(&tiny_message());
    assert_eq!(
        u64::from_be_bytes(env[..8].try_into().unwrap()),
        expected["length_prefix"].as_u64().unwrap()
    );
    assert_eq!(
        env.len() - 8,
        expected["message"]["msg_size"].as_u64().unwrap() as usize
    );
}

#[test]
fn frame_through_message_keeps_exact_size() {
    let (mut m, notify) = Message::new(tiny_message(), &b"hello"[..], 5).unwrap();
    assert_eq!(m.total_size(), 36 + 5);
    let mut out = Vec::new();
    block_on(encoder(&m.message, &mut m.body).read_to_end(&mut out)).unwrap();
    assert_eq!(out, fixture("wire/golden-msgsnap-tiny.bin"));
    m.close_with_error(None).unwrap();
    assert!(block_on(notify).unwrap());
}

#[test]
fn frame_body_of_wrong_size_fails_the_stream() {
    for (declared, want) in [(10_000u64, "ERR_SHORT_READ"), (1, "ERR_EXPECT_EOF")] {
        let (mut m, _) = Message::new(tiny_message(), &b"hello"[..], declared).unwrap();
        let mut out = Vec::new();
        let err = block_on(encoder(&m.message, &mut m.body).read_to_end(&mut out)).unwrap_err();
        assert_eq!(Error::from(err).code(), want, "declared {declared}");
    }
}

#[test]
fn unframe_golden_body() {
    let golden = fixture("wire/golden-msgsnap-tiny.bin");
    for step in [1, 3, 8, 9, 44, 4096] {
        let (m, db) = decode_all(&golden, step, DEFAULT_ENVELOPE_LIMIT).unwrap();
        assert_eq!(m, tiny_message(), "step {step}");
        assert_eq!(db, b"hello");
    }
}

#[test]
fn spec_g9_body_round_trips() {
    // etcd's body for G9 (tests/pb_golden.rs; Data "v2") plus the db `hello`, 51 bytes.
    let hex = "000000000000002608071002180120032800300040004a120a027632120c0a06080108022800100a18035000580068656c6c6f";
    let wire: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let (m, db) = decode_all(&wire, 7, DEFAULT_ENVELOPE_LIMIT).unwrap();
    assert_eq!(m.snapshot.data.as_deref(), Some(&b"v2"[..]));
    assert_eq!(db, b"hello");
    assert_eq!(frame(&m, &db), wire);
}

#[test]
fn decode_errors_are_etcds() {
    let limit = DEFAULT_ENVELOPE_LIMIT;
    let msg = |wire: &[u8]| decode_all(wire, 4096, limit).unwrap_err().to_string();
    assert_eq!(msg(b""), "EOF");
    assert_eq!(msg(&[0, 0, 0, 0]), "unexpected EOF");
    let mut long = 100u64.to_be_bytes().to_vec();
    long.extend_from_slice(&[8, 7]);
    assert_eq!(msg(&long), "unexpected EOF");
    assert_eq!(
        msg(&(1u64 << 63).to_be_bytes()),
        "rafthttp: error limit exceeded"
    );
    assert_eq!(
        msg(&u64::MAX.to_be_bytes()),
        "rafthttp: error limit exceeded"
    );
    // A message that ends inside a field.
    let mut bad = 2u64.to_be_bytes().to_vec();
    bad.extend_from_slice(&[0x4a, 0x10]);
    assert_eq!(
        decode_all(&bad, 4096, limit).unwrap_err().code(),
        "ERR_DECODE"
    );
}

#[test]
fn limit_is_inclusive_and_configurable() {
    let wire = frame(&tiny_message(), b"db");
    assert!(decode_all(&wire, 4096, 36).is_ok());
    let err = decode_all(&wire, 4096, 35).unwrap_err();
    assert!(matches!(err, Error::ExceedSizeLimit), "{err}");
}

fn arb_message() -> impl Strategy<Value = pb::Message> {
    (
        (any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>()),
        (any::<u64>(), any::<u64>()),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..300)),
        prop::collection::vec(any::<u64>(), 0..5),
        prop::collection::vec(any::<u64>(), 0..3),
    )
        .prop_map(
            |((to, from, term, commit), (sterm, sindex), data, voters, learners)| pb::Message {
                r#type: MessageType::MsgSnap as i32,
                to,
                from,
                term,
                commit,
                snapshot: Snapshot {
                    data: data.map(Bytes::from),
                    metadata: SnapshotMetadata {
                        conf_state: ConfState {
                            voters,
                            learners,
                            ..Default::default()
                        },
                        index: sindex,
                        term: sterm,
                    },
                },
                ..Default::default()
            },
        )
}

proptest! {
    #[test]
    fn random_round_trips(
        m in arb_message(),
        db in prop::collection::vec(any::<u8>(), 0..20_000),
        step in 1usize..5000,
    ) {
        let wire = frame(&m, &db);
        let env = encode_envelope(&m);
        prop_assert_eq!(&wire[..env.len()], &env[..]);
        let (back, rest) = decode_all(&wire, step, DEFAULT_ENVELOPE_LIMIT).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(&rest, &db);
        prop_assert_eq!(frame(&back, &rest), wire);
    }
}

/// etcd's `msg_codec_test.go` `TestMessage` with `readBytesLimit` 1000: messages round-trip
/// through the envelope codec, and a 1010-byte entry exceeds the limit.
#[test]
fn etcd_msg_codec_test_message() {
    let entry = |data: &[u8]| pb::Entry {
        r#type: 0,
        term: 1,
        index: 3,
        data: Some(Bytes::copy_from_slice(data)),
    };
    let app = pb::Message {
        r#type: MessageType::MsgApp as i32,
        from: 1,
        to: 2,
        term: 1,
        log_term: 1,
        index: 3,
        entries: vec![entry(b"some data")],
        ..Default::default()
    };
    let prop = pb::Message {
        r#type: MessageType::MsgProp as i32,
        from: 1,
        to: 2,
        entries: vec![
            entry(b"some data"),
            entry(b"some data"),
            entry(b"some data"),
        ],
        ..Default::default()
    };
    let big = pb::Message {
        r#type: MessageType::MsgProp as i32,
        from: 1,
        to: 2,
        entries: vec![entry(&[0u8; 1010])],
        ..Default::default()
    };
    for m in [app, prop] {
        let (back, rest) = decode_all(&encode_envelope(&m), 4096, 1000).unwrap();
        assert_eq!(back, m);
        assert!(rest.is_empty());
    }
    let err = decode_all(&encode_envelope(&big), 4096, 1000).unwrap_err();
    assert!(matches!(err, Error::ExceedSizeLimit), "{err}");
}
