//! Byte-exact encodings from etcd 3.4.23 (golden G1-G3, G9 below) and decoding of the 3.6 / 3.7
//! encodings of the same values (raft v3.6 / v3.7), plus gogo's decode rules: packed or unpacked
//! repeated fields, any field order, unknown fields skipped, last scalar wins, repeated
//! embedded messages merged.

use crate::support::pb::{hex, unhex};
use bytes::Bytes;
use etcd_snap::codec::{crc32c, decode_snap_file, encode_snap_file};
use etcd_snap::names::snap_name;
use etcd_snap::pb::{self, *};

fn b(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

fn conf(voters: &[u64]) -> ConfState {
    ConfState {
        voters: voters.to_vec(),
        ..Default::default()
    }
}

fn snap(data: Option<Bytes>, cs: ConfState, index: u64, term: u64) -> Snapshot {
    Snapshot {
        data,
        metadata: SnapshotMetadata {
            conf_state: cs,
            index,
            term,
        },
    }
}

fn dec<M: GogoMessage>(h: &str) -> M {
    pb::decode(Bytes::from(unhex(h))).unwrap_or_else(|e| panic!("{h}: {e}"))
}

fn g1() -> Snapshot {
    snap(b("some snapshot"), conf(&[1, 2, 3]), 1, 1)
}

fn g9() -> Message {
    Message {
        r#type: MessageType::MsgSnap as i32,
        to: 2,
        from: 1,
        term: 3,
        snapshot: snap(b("v2"), conf(&[1, 2]), 10, 3),
        ..Default::default()
    }
}

const G1_INNER: &str = "0a0d736f6d6520736e617073686f74120e0a08080108020803280010011801";

#[test]
fn g1_test_snap() {
    let s = g1();
    assert_eq!(hex(&pb::encode(&s)), G1_INNER);
    assert_eq!(crc32c(&unhex(G1_INNER)), 2838147117);
    let file = encode_snap_file(&s);
    assert_eq!(hex(&file), format!("08ade0aac90a121f{G1_INNER}"));
    assert_eq!(file.len(), 39);
    assert_eq!(
        snap_name(s.metadata.term, s.metadata.index),
        "0000000000000001-0000000000000001.snap"
    );
    assert_eq!(decode_snap_file(Bytes::from(file)).unwrap(), s);
}

#[test]
fn g2_nil_data() {
    let s = snap(None, ConfState::default(), 16, 2);
    assert_eq!(hex(&pb::encode(&s)), "12080a02280010101802");
    let file = encode_snap_file(&s);
    assert_eq!(hex(&file), "08b4e581d607120a12080a02280010101802");
    assert_eq!(snap_name(2, 16), "0000000000000002-0000000000000010.snap");
    let back = decode_snap_file(Bytes::from(file)).unwrap();
    assert_eq!(back.data, None, "absent data must stay nil");
    assert_eq!(back, s);
}

#[test]
fn g2b_empty_data_is_present() {
    let s = snap(Some(Bytes::new()), ConfState::default(), 17, 2);
    assert_eq!(hex(&pb::encode(&s)), "0a0012080a02280010111802");
    let back: Snapshot = dec("0a0012080a02280010111802");
    assert_eq!(
        back.data,
        Some(Bytes::new()),
        "present-but-empty data must stay non-nil"
    );
    let file = encode_snap_file(&s);
    assert_eq!(decode_snap_file(Bytes::from(file)).unwrap(), s);
}

#[test]
fn g3_joint_config_large_numbers() {
    let s = Snapshot {
        data: Some(Bytes::from_static(&[0xde, 0xad])),
        metadata: SnapshotMetadata {
            conf_state: ConfState {
                voters: vec![1, 300],
                learners: vec![4],
                voters_outgoing: vec![1, 2],
                learners_next: vec![5],
                auto_leave: true,
            },
            index: 1 << 40,
            term: u64::MAX,
        },
    };
    let inner =
        "0a02dead12230a0f080108ac021004180118022005280110808080808020 18ffffffffffffffffff01";
    assert_eq!(
        hex(&pb::encode(&s)),
        unhex(inner)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(pb::encode(&s).len(), 41);
    let file = encode_snap_file(&s);
    assert_eq!(file.len(), 49);
    assert_eq!(
        snap_name(s.metadata.term, s.metadata.index),
        "ffffffffffffffff-0000010000000000.snap"
    );
    assert_eq!(decode_snap_file(Bytes::from(file)).unwrap(), s);
}

#[test]
fn table_3_4() {
    let entry = Entry {
        term: 1,
        index: 4,
        ..Default::default()
    };
    assert_eq!(hex(&pb::encode(&entry)), "080010011804");
    let hs = HardState {
        term: 1,
        vote: 2,
        commit: 3,
    };
    assert_eq!(hex(&pb::encode(&hs)), "080110021803");
    assert_eq!(hex(&pb::encode(&ConfState::default())), "2800");
    let empty = "08001000180020002800300040004a0a12080a0228001000180050005800";
    assert_eq!(hex(&pb::encode(&Message::default())), empty);
    assert_eq!(pb::encode(&Message::default()).len(), 30);
    let msg_snap = Message {
        r#type: MessageType::MsgSnap as i32,
        to: 1,
        ..Default::default()
    };
    assert_eq!(
        hex(&pb::encode(&msg_snap)),
        "08071001180020002800300040004a0a12080a0228001000180050005800"
    );
    let g9_hex = "08071002180120032800300040004a120a027632120c0a06080108022800100a180350005800";
    assert_eq!(hex(&pb::encode(&g9())), g9_hex);
    assert_eq!(pb::encode(&g9()).len(), 38);
    // and back
    assert_eq!(dec::<Entry>("080010011804"), entry);
    assert_eq!(dec::<HardState>("080110021803"), hs);
    assert_eq!(dec::<ConfState>("2800"), ConfState::default());
    assert_eq!(dec::<Message>(empty), Message::default());
    assert_eq!(dec::<Message>(g9_hex), g9());
}

#[test]
fn other_messages_encode_in_gogo_layout() {
    let cc = ConfChange {
        id: 1,
        r#type: ConfChangeType::ConfChangeRemoveNode as i32,
        node_id: 3,
        context: b("hi"),
    };
    assert_eq!(hex(&pb::encode(&cc)), "08011001180322026869");
    let v2 = ConfChangeV2 {
        transition: ConfChangeTransition::ConfChangeTransitionJointImplicit as i32,
        changes: vec![
            ConfChangeSingle {
                r#type: 1,
                node_id: 2,
            },
            ConfChangeSingle {
                r#type: 3,
                node_id: 0,
            },
        ],
        context: Some(Bytes::new()),
    };
    assert_eq!(hex(&pb::encode(&v2)), "08011204080110021204080310001a00");
    assert_eq!(
        hex(&pb::encode(&WalSnapshot { index: 1, term: 2 })),
        "08011002"
    );
    assert_eq!(hex(&pb::encode(&SnapFile { crc: 0, data: None })), "0800");
}

#[test]
fn decodes_etcd_3_6_encodings() {
    // raft 3.6: Message gains field 13 `vote` (always emitted) and omits a nil snapshot.
    assert_eq!(
        dec::<Message>(
            "08071002180120032800300040004a120a027632120c0a06080108022800100a1803500058006800"
        ),
        g9()
    );
    assert_eq!(
        dec::<Message>("0800100018002000280030004000500058006800"),
        Message::default()
    );
    // a non-zero 3.6 vote is an unknown field to 3.4: skipped
    assert_eq!(
        dec::<Message>("0800100018002000280030004000500058006807"),
        Message::default()
    );
    // Snapshot/SnapshotMetadata/ConfState bytes are unchanged in 3.6
    assert_eq!(dec::<Snapshot>(G1_INNER), g1());
}

#[test]
fn decodes_etcd_3_7_presence_based_encodings() {
    assert_eq!(
        dec::<Snapshot>("0a0d736f6d6520736e617073686f74120c0a0608010802080310011801"),
        g1()
    );
    assert_eq!(
        dec::<Message>("08071002180120034a100a027632120a0a0408010802100a1803"),
        g9()
    );
    // every field unset: all defaults
    assert_eq!(dec::<Message>(""), Message::default());
    assert_eq!(dec::<Snapshot>(""), Snapshot::default());
    // and re-encoding gives the 3.4 layout
    assert_eq!(
        hex(&pb::encode(&dec::<Snapshot>(
            "0a0d736f6d6520736e617073686f74120c0a0608010802080310011801"
        ))),
        G1_INNER
    );
}

#[test]
fn packed_repeated_fields_decode() {
    assert_eq!(dec::<ConfState>("0a03010203"), conf(&[1, 2, 3]));
    // packed and unpacked mixed, across all four lists
    let cs: ConfState = dec("0a020102 0803 1202ac02 1a0105 2201 06 2206 0708090a0b0c 2801");
    assert_eq!(cs.voters, vec![1, 2, 3]);
    assert_eq!(cs.learners, vec![300]);
    assert_eq!(cs.voters_outgoing, vec![5]);
    assert_eq!(cs.learners_next, vec![6, 7, 8, 9, 10, 11, 12]);
    assert!(cs.auto_leave);
    // re-encodes unpacked, as gogo writes it
    assert_eq!(hex(&pb::encode(&conf(&[1, 2, 3]))), "0801080208032800");
}

/// Splits a well-formed encoding into its top-level fields (key + value bytes).
fn fields(mut b: &[u8]) -> Vec<Vec<u8>> {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let mut v = 0;
        let mut s = 0;
        loop {
            let x = b[*i];
            *i += 1;
            v |= u64::from(x & 0x7f) << s;
            if x < 0x80 {
                return v;
            }
            s += 7;
        }
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let mut i = 0;
        let key = varint(b, &mut i);
        match key & 7 {
            0 => {
                varint(b, &mut i);
            }
            2 => {
                let n = varint(b, &mut i) as usize;
                i += n;
            }
            1 => i += 8,
            5 => i += 4,
            wt => panic!("wire type {wt}"),
        }
        out.push(b[..i].to_vec());
        b = &b[i..];
    }
    out
}

#[test]
fn fields_in_any_order() {
    let msg = g9();
    let mut f = fields(&pb::encode(&msg));
    f.reverse();
    assert_eq!(dec::<Message>(&hex(&f.concat())), msg);
    let s = g1();
    let mut f = fields(&pb::encode(&s));
    f.reverse();
    assert_eq!(dec::<Snapshot>(&hex(&f.concat())), s);
    // rotated, inside ConfState as well
    assert_eq!(
        dec::<ConfState>("2801 0803 0801 0802"),
        ConfState {
            voters: vec![3, 1, 2],
            auto_leave: true,
            ..Default::default()
        }
    );
}

#[test]
fn unknown_fields_are_skipped() {
    // field 100 bytes, field 111 varint, field 20 fixed64, field 21 fixed32, field 22 group
    let unknown = "a20603616263 f80605 a1010102030405060708 ad0101020304 b301 0801 b401";
    let mut with = pb::encode(&g9());
    with.splice(4..4, unhex(unknown));
    with.extend(unhex(unknown));
    assert_eq!(dec::<Message>(&hex(&with)), g9());
    // in nested messages too (ConfState inside Metadata inside Snapshot)
    assert_eq!(
        dec::<Snapshot>("12110a0b080108020803f806052800 10011801 0a0d736f6d6520736e617073686f74"),
        g1()
    );
    // and in the envelope: a file with an extra field 3 still loads (etcd's snappb keeps it)
    let mut file = encode_snap_file(&g1());
    file.extend(unhex("1a03787878"));
    assert_eq!(decode_snap_file(Bytes::from(file)).unwrap(), g1());
}

#[test]
fn repeated_scalars_last_one_wins() {
    assert_eq!(
        dec::<HardState>("0801 1002 1803 0809 1807"),
        HardState {
            term: 9,
            vote: 2,
            commit: 7
        }
    );
    let m: Message = dec("0807 0803 5001 5000 620141 620142");
    assert_eq!(m.r#type, MessageType::MsgApp as i32);
    assert!(!m.reject);
    assert_eq!(m.context, b("B"));
    let s: Snapshot = dec("0a0141 0a00");
    assert_eq!(
        s.data,
        Some(Bytes::new()),
        "a later empty data replaces the earlier one"
    );
}

#[test]
fn repeated_embedded_messages_merge() {
    // Snapshot.metadata twice: scalars of the second win, unset ones are kept (gogo merges)
    let s: Snapshot = dec("1204 1005 1806 1202 1007");
    assert_eq!((s.metadata.index, s.metadata.term), (7, 6));
    // ConfState twice inside metadata: repeated fields append
    let s: Snapshot = dec("120a 0a020801 0a040802 2801");
    assert_eq!(
        s.metadata.conf_state,
        ConfState {
            voters: vec![1, 2],
            auto_leave: true,
            ..Default::default()
        }
    );
    // Message.snapshot twice: data from the first survives the second's metadata
    let m: Message = dec("4a020a00 4a04 12021005");
    assert_eq!(m.snapshot.data, Some(Bytes::new()));
    assert_eq!(m.snapshot.metadata.index, 5);
    // Message.entries: each occurrence is a new entry (not merged)
    let m: Message = dec("3a021001 3a021002");
    assert_eq!(
        m.entries.iter().map(|e| e.term).collect::<Vec<_>>(),
        vec![1, 2]
    );
}
