//! WAL entry payloads shown as etcd-dump-logs shows them (src/walpayload). Requests are built
//! with the generated prost structs; the expected lines follow etcd v3.5.16
//! tools/etcd-dump-logs/main.go and golang/protobuf proto/text.go (`CompactTextString`), and are
//! checked against etcd's own Go code by tests/interop/walpayload.rs.

use bytes::Bytes;
use etcd_snap::pb::{ConfChange, ConfChangeV2, HardState, WalSnapshotRecord};
use etcd_snap::walpayload::pb::authpb::{Permission, UserAddOptions};
use etcd_snap::walpayload::pb::etcdserverpb::{self as e, compare, request_op};
use etcd_snap::walpayload::pb::membershippb as m;
use etcd_snap::walpayload::*;
use proptest::prelude::*;
use prost::Message as _;

const NORMAL: i32 = 0;
const CONF: i32 = 1;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn hdr(id: u64) -> Option<e::RequestHeader> {
    Some(e::RequestHeader {
        id,
        ..Default::default()
    })
}

fn irr(f: impl FnOnce(&mut e::InternalRaftRequest)) -> Vec<u8> {
    let mut r = e::InternalRaftRequest {
        header: hdr(7587861231285799685),
        ..Default::default()
    };
    f(&mut r);
    r.encode_to_vec()
}

fn text(data: &[u8]) -> String {
    let v = describe_entry(NORMAL, data);
    assert_eq!(v.kind, EntryKind::InternalRaftRequest, "{v:?}");
    v.text
}

const H: &str = "header:<ID:7587861231285799685 > ";

#[test]
fn every_request_kind_prints_as_compact_text() {
    let put = e::PutRequest {
        key: b("foo"),
        value: b("bar"),
        ..Default::default()
    };
    let cases: Vec<(Vec<u8>, String)> = vec![
        (
            irr(|r| r.put = Some(put.clone())),
            format!("{H}put:<key:\"foo\" value:\"bar\" > "),
        ),
        (
            irr(|r| {
                r.range = Some(e::RangeRequest {
                    key: b("a"),
                    range_end: b("b"),
                    limit: 10,
                    sort_order: 2,
                    serializable: true,
                    ..Default::default()
                })
            }),
            format!(
                "{H}range:<key:\"a\" range_end:\"b\" limit:10 sort_order:DESCEND serializable:true > "
            ),
        ),
        (
            irr(|r| {
                r.delete_range = Some(e::DeleteRangeRequest {
                    key: b("k"),
                    prev_kv: true,
                    ..Default::default()
                })
            }),
            format!("{H}delete_range:<key:\"k\" prev_kv:true > "),
        ),
        (
            irr(|r| {
                r.txn = Some(e::TxnRequest {
                    compare: vec![
                        e::Compare {
                            result: 0,
                            target: 3,
                            key: b("k"),
                            target_union: Some(compare::TargetUnion::Value(b("v"))),
                            ..Default::default()
                        },
                        e::Compare {
                            result: 1,
                            target: 0,
                            key: b("k"),
                            // A oneof member is written even when zero.
                            target_union: Some(compare::TargetUnion::Version(0)),
                            ..Default::default()
                        },
                    ],
                    success: vec![e::RequestOp {
                        request: Some(request_op::Request::RequestPut(put.clone())),
                    }],
                    failure: vec![e::RequestOp {
                        request: Some(request_op::Request::RequestRange(e::RangeRequest {
                            key: b("k"),
                            ..Default::default()
                        })),
                    }],
                })
            }),
            format!(
                "{H}txn:<compare:<target:VALUE key:\"k\" value:\"v\" > compare:<result:GREATER key:\"k\" version:0 > success:<request_put:<key:\"foo\" value:\"bar\" > > failure:<request_range:<key:\"k\" > > > "
            ),
        ),
        (
            irr(|r| {
                r.compaction = Some(e::CompactionRequest {
                    revision: 5,
                    physical: true,
                })
            }),
            format!("{H}compaction:<revision:5 physical:true > "),
        ),
        (
            irr(|r| r.lease_grant = Some(e::LeaseGrantRequest { ttl: -1, id: 42 })),
            format!("{H}lease_grant:<TTL:-1 ID:42 > "),
        ),
        (
            irr(|r| r.lease_revoke = Some(e::LeaseRevokeRequest { id: 42 })),
            format!("{H}lease_revoke:<ID:42 > "),
        ),
        (
            irr(|r| {
                r.lease_checkpoint = Some(e::LeaseCheckpointRequest {
                    checkpoints: vec![
                        e::LeaseCheckpoint {
                            id: 1,
                            remaining_ttl: 5,
                        },
                        e::LeaseCheckpoint {
                            id: 2,
                            remaining_ttl: 0,
                        },
                    ],
                })
            }),
            format!(
                "{H}lease_checkpoint:<checkpoints:<ID:1 remaining_TTL:5 > checkpoints:<ID:2 > > "
            ),
        ),
        (
            irr(|r| {
                r.alarm = Some(e::AlarmRequest {
                    action: 1,
                    member_id: 5,
                    alarm: 1,
                })
            }),
            format!("{H}alarm:<action:ACTIVATE memberID:5 alarm:NOSPACE > "),
        ),
        (
            irr(|r| r.auth_enable = Some(e::AuthEnableRequest {})),
            format!("{H}auth_enable:<> "),
        ),
        (
            irr(|r| r.auth_disable = Some(e::AuthDisableRequest {})),
            format!("{H}auth_disable:<> "),
        ),
        (
            irr(|r| {
                r.authenticate = Some(e::InternalAuthenticateRequest {
                    name: "root".into(),
                    password: String::new(),
                    simple_token: "tok.1".into(),
                })
            }),
            format!("{H}authenticate:<name:\"root\" simple_token:\"tok.1\" > "),
        ),
        (
            irr(|r| {
                r.auth_user_add = Some(e::AuthUserAddRequest {
                    name: "u".into(),
                    password: "p".into(),
                    options: Some(UserAddOptions { no_password: false }),
                    hashed_password: String::new(),
                })
            }),
            format!("{H}auth_user_add:<name:\"u\" password:\"p\" options:<> > "),
        ),
        (
            irr(|r| {
                r.auth_user_grant_role = Some(e::AuthUserGrantRoleRequest {
                    user: "u".into(),
                    role: "r".into(),
                })
            }),
            format!("{H}auth_user_grant_role:<user:\"u\" role:\"r\" > "),
        ),
        (
            irr(|r| r.auth_role_add = Some(e::AuthRoleAddRequest { name: "r".into() })),
            format!("{H}auth_role_add:<name:\"r\" > "),
        ),
        (
            irr(|r| {
                r.auth_role_grant_permission = Some(e::AuthRoleGrantPermissionRequest {
                    name: "r".into(),
                    perm: Some(Permission {
                        perm_type: 2,
                        key: b("a"),
                        range_end: b("b"),
                    }),
                })
            }),
            format!(
                "{H}auth_role_grant_permission:<name:\"r\" perm:<permType:READWRITE key:\"a\" range_end:\"b\" > > "
            ),
        ),
        (
            irr(|r| {
                r.auth_role_revoke_permission = Some(e::AuthRoleRevokePermissionRequest {
                    role: "r".into(),
                    key: b("a"),
                    range_end: Bytes::new(),
                })
            }),
            format!("{H}auth_role_revoke_permission:<role:\"r\" key:\"a\" > "),
        ),
        (
            irr(|r| r.auth_user_delete = Some(e::AuthUserDeleteRequest { name: "u".into() })),
            format!("{H}auth_user_delete:<name:\"u\" > "),
        ),
        (
            irr(|r| {
                r.cluster_version_set = Some(m::ClusterVersionSetRequest {
                    ver: "3.5.0".into(),
                })
            }),
            format!("{H}cluster_version_set:<ver:\"3.5.0\" > "),
        ),
        (
            irr(|r| {
                r.cluster_member_attr_set = Some(m::ClusterMemberAttrSetRequest {
                    member_id: 0x8e9e05c52164694d,
                    member_attributes: Some(m::Attributes {
                        name: "default".into(),
                        client_urls: vec!["http://a:2379".into(), "http://b:2379".into()],
                    }),
                })
            }),
            format!(
                "{H}cluster_member_attr_set:<member_ID:10276657743932975437 member_attributes:<name:\"default\" client_urls:\"http://a:2379\" client_urls:\"http://b:2379\" > > "
            ),
        ),
        (
            irr(|r| {
                r.downgrade_info_set = Some(m::DowngradeInfoSetRequest {
                    enabled: true,
                    ver: "3.4.0".into(),
                })
            }),
            format!("{H}downgrade_info_set:<enabled:true ver:\"3.4.0\" > "),
        ),
        // The ID field and no header.
        (
            e::InternalRaftRequest {
                id: 9,
                ..Default::default()
            }
            .encode_to_vec(),
            "ID:9 ".into(),
        ),
        // An empty normal entry (raft's leader no-op) is an empty InternalRaftRequest.
        (Vec::new(), String::new()),
    ];
    for (data, want) in cases {
        assert_eq!(text(&data), want);
        let v = describe_entry(NORMAL, &data);
        assert_eq!(v.line(2, 17), format!("   2\t        17\tnorm\t{want}"));
    }
}

#[test]
fn bytes_are_escaped_as_gogo_writes_them() {
    let data = irr(|r| {
        r.put = Some(e::PutRequest {
            key: Bytes::from_static(b"\x00\n\r\t\"\\'\x7f\xc3\xa9 ~"),
            ..Default::default()
        })
    });
    assert_eq!(
        text(&data),
        format!("{H}put:<key:\"\\000\\n\\r\\t\\\"\\\\'\\177\\303\\251 ~\" > ")
    );
}

#[test]
fn unknown_enum_values_print_as_numbers() {
    let data = irr(|r| {
        r.alarm = Some(e::AlarmRequest {
            action: 9,
            member_id: 0,
            alarm: -3,
        })
    });
    assert_eq!(text(&data), format!("{H}alarm:<action:9 alarm:-3 > "));
}

#[test]
fn singular_messages_merge_and_oneofs_keep_the_last_member() {
    // Two `put` fields: gogo merges them into one PutRequest (the later key wins).
    let mut data = irr(|r| {
        r.put = Some(e::PutRequest {
            key: b("a"),
            lease: 3,
            ..Default::default()
        })
    });
    data.extend(irr(|r| {
        r.header = None;
        r.put = Some(e::PutRequest {
            key: b("b"),
            ..Default::default()
        })
    }));
    assert_eq!(text(&data), format!("{H}put:<key:\"b\" lease:3 > "));

    // A Compare with two oneof members on the wire: the last one stands.
    let mut cmp = e::Compare {
        key: b("k"),
        target_union: Some(compare::TargetUnion::Lease(7)),
        ..Default::default()
    }
    .encode_to_vec();
    cmp.extend(
        e::Compare {
            target_union: Some(compare::TargetUnion::ModRevision(4)),
            ..Default::default()
        }
        .encode_to_vec(),
    );
    let txn = e::TxnRequest::default();
    let mut txn_bytes = txn.encode_to_vec();
    prost::encoding::bytes::encode(1, &cmp, &mut txn_bytes);
    let mut data = Vec::new();
    prost::encoding::bytes::encode(6, &txn_bytes, &mut data);
    assert_eq!(text(&data), "txn:<compare:<key:\"k\" mod_revision:4 > > ");
}

#[test]
fn unknown_fields_are_not_fatal_and_not_printed() {
    let mut data = irr(|r| {
        r.put = Some(e::PutRequest {
            key: b("foo"),
            ..Default::default()
        })
    });
    // Field 9999 (varint), field 2000 (bytes): unknown to etcd 3.5's schema too.
    prost::encoding::uint64::encode(9999, &7, &mut data);
    prost::encoding::bytes::encode(2000, &b"xyz".to_vec(), &mut data);
    let v = describe_entry(NORMAL, &data);
    assert_eq!(v.kind, EntryKind::InternalRaftRequest);
    assert_eq!(v.text, format!("{H}put:<key:\"foo\" > "));
    let typed = decode_internal_raft_request(&data).unwrap();
    assert_eq!(typed.put.unwrap().key, b("foo"));
}

fn v2(r: e::Request) -> EntryView {
    describe_entry(NORMAL, &r.encode_to_vec())
}

#[test]
fn v2_requests_print_printrequest_lines() {
    let put = v2(e::Request {
        id: Some(7587861231285799684),
        method: Some("PUT".into()),
        path: Some("/0/version".into()),
        val: Some("3.4.0".into()),
        ..Default::default()
    });
    assert_eq!(put.kind, EntryKind::Request);
    assert_eq!(put.text, r#"method=PUT path="/0/version" val="3.4.0""#);
    assert_eq!(
        put.request.as_ref().unwrap().message,
        "etcdserverpb.Request"
    );
    assert_eq!(
        put.request.unwrap().fields["Path"],
        serde_json::json!("/0/version")
    );

    let del = v2(e::Request {
        method: Some("DELETE".into()),
        path: Some("/0/members/1".into()),
        ..Default::default()
    });
    assert_eq!(del.text, r#"method=DELETE path="/0/members/1""#);

    let sync = v2(e::Request {
        method: Some("SYNC".into()),
        path: Some("/".into()),
        time: Some(1_600_000_000_123_000_000),
        ..Default::default()
    });
    assert_eq!(
        sync.text,
        r#"method=SYNC time="2020-09-13 12:26:40.123 +0000 UTC""#
    );

    // An empty method is a noop (the path makes the bytes fail as an InternalRaftRequest).
    let noop = v2(e::Request {
        path: Some("/".into()),
        ..Default::default()
    });
    assert_eq!(
        (noop.kind, noop.text.as_str()),
        (EntryKind::Request, "noop")
    );

    // Long paths and values are cut as excerpt() cuts them.
    let long = "/".to_owned() + &"p".repeat(200);
    let val = "v".repeat(300);
    let cut = v2(e::Request {
        method: Some("PUT".into()),
        path: Some(long.clone()),
        val: Some(val.clone()),
        ..Default::default()
    });
    assert_eq!(
        cut.text,
        format!(
            "method=PUT path=\"{}\"...\"{}\" val=\"{}\"...\"\"",
            &long[..64],
            &long[long.len() - 64..],
            &val[..128]
        )
    );
}

#[test]
fn a_v2_request_inside_an_internal_raft_request_prints_proto2_fields() {
    // proto2 non-nullable fields are Go values: written when not zero (golang/protobuf's
    // rule); PrevExist (nullable, a *bool) whenever set, false included.
    let data = irr(|r| {
        r.header = None;
        r.v2 = Some(e::Request {
            id: Some(1),
            method: Some("GET".into()),
            prev_exist: Some(false),
            ..Default::default()
        })
    });
    assert_eq!(text(&data), "v2:<ID:1 Method:\"GET\" PrevExist:false > ");
}

#[test]
fn conf_changes_print_method_and_hex_id() {
    let cc = ConfChange {
        id: 1,
        r#type: 0,
        node_id: 0x8e9e05c52164694d,
        context: Some(b("ctx")),
    };
    let v = describe_entry(CONF, &prost::Message::encode_to_vec(&cc));
    assert_eq!(v.kind, EntryKind::ConfigChange);
    assert_eq!(
        v.line(1, 1),
        "   1\t         1\tconf\tmethod=ConfChangeAddNode id=8e9e05c52164694d"
    );
    let learner = ConfChange {
        r#type: 3,
        node_id: 2,
        ..cc.clone()
    };
    assert_eq!(
        describe_entry(CONF, &prost::Message::encode_to_vec(&learner)).text,
        "method=ConfChangeAddLearnerNode id=2"
    );
    let odd = ConfChange { r#type: 17, ..cc };
    assert!(
        describe_entry(CONF, &prost::Message::encode_to_vec(&odd))
            .text
            .starts_with("method=17 ")
    );
    let bad = describe_entry(CONF, &[0x0a]);
    assert_eq!(
        (bad.kind, bad.text.as_str()),
        (EntryKind::ConfigChange, "???")
    );
}

#[test]
fn entries_etcd_dump_logs_never_prints() {
    let v = describe_entry(2, &prost::Message::encode_to_vec(&ConfChangeV2::default()));
    assert_eq!(v.kind, EntryKind::ConfChangeV2);
    let (filters, _) = parse_entry_types("ConfigChange,Normal,Request,InternalRaftRequest");
    assert!(filters.iter().all(|f| !f.passes(&v)));
    assert_eq!(describe_entry(7, b"").kind, EntryKind::UnknownType);
}

#[test]
fn garbage_normal_data_is_unknown_normal() {
    // 0x0f: field 1 with wire type 7, illegal for both messages.
    let v = describe_entry(NORMAL, &[0x0f, 0x01]);
    assert_eq!(v.kind, EntryKind::UnknownNormal);
    assert_eq!(v.line(3, 4), "   3\t         4\tnorm\t???");
    assert!(v.request.is_none());
}

#[test]
fn entry_type_filters_follow_evaluate_entrytype_flag() {
    let (f, bad) = parse_entry_types(DEFAULT_ENTRY_TYPES);
    assert_eq!(f, vec![EntryFilter::Normal, EntryFilter::ConfigChange]);
    assert!(bad.is_empty());
    let (f, bad) = parse_entry_types("IRRPut,Bogus,IRRLeaseCheckpoint");
    assert_eq!(
        f,
        vec![
            EntryFilter::Irr("put"),
            EntryFilter::Irr("lease_checkpoint")
        ]
    );
    assert_eq!(bad, vec!["Bogus"]);
    assert!(
        invalid_entry_type_message("Bogus")
            .starts_with("[Bogus] is not a valid entry-type, ignored.\n")
    );
    assert_eq!(parse_entry_types(""), (vec![], vec![]));

    let put = describe_entry(NORMAL, &irr(|r| r.put = Some(e::PutRequest::default())));
    let grant = describe_entry(
        NORMAL,
        &irr(|r| r.lease_grant = Some(e::LeaseGrantRequest::default())),
    );
    let req = v2(e::Request {
        method: Some("PUT".into()),
        ..Default::default()
    });
    let pass = |name: &str, v: &EntryView| entry_type_filter(name).unwrap().passes(v);
    assert!(pass("IRRPut", &put) && !pass("IRRPut", &grant) && !pass("IRRPut", &req));
    assert!(pass("IRRLeaseGrant", &grant) && pass("InternalRaftRequest", &grant));
    assert!(pass("Request", &req) && !pass("InternalRaftRequest", &req) && pass("Normal", &req));
    assert!(!pass("ConfigChange", &put));
    for name in [
        "IRRRange",
        "IRRDeleteRange",
        "IRRTxn",
        "IRRCompaction",
        "IRRLeaseRevoke",
    ] {
        assert!(entry_type_filter(name).is_some(), "{name}");
    }
    assert_eq!(entry_type_filter("irrput"), None);
    assert_eq!(header_line(), "term\t     index\ttype\tdata");
}

#[test]
fn json_form_uses_protojson_mapping() {
    let data = irr(|r| {
        r.put = Some(e::PutRequest {
            key: Bytes::from_static(b"\xff"),
            value: b("bar"),
            lease: 7,
            ..Default::default()
        });
        r.alarm = Some(e::AlarmRequest {
            action: 1,
            ..Default::default()
        });
    });
    let v = describe_entry(NORMAL, &data);
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!(j["kind"], "InternalRaftRequest");
    assert_eq!(
        j["request"]["fields"],
        serde_json::json!({
            "header": {"ID": "7587861231285799685"},
            "put": {"key": "/w==", "value": "YmFy", "lease": "7"},
            "alarm": {"action": "ACTIVATE"},
        })
    );
}

#[test]
fn metadata_and_raft_records_decode_with_gogo_errors() {
    let md = e::Metadata {
        node_id: Some(0x8e9e05c52164694d),
        cluster_id: Some(0xcdf818194e3a8c32),
    };
    assert_eq!(
        decode_metadata(&md.encode_to_vec()).unwrap(),
        Metadata {
            node_id: 0x8e9e05c52164694d,
            cluster_id: 0xcdf818194e3a8c32
        }
    );
    assert_eq!(
        decode_metadata(&[]).unwrap(),
        Metadata {
            node_id: 0,
            cluster_id: 0
        }
    );
    let err = decode_metadata(&[0x0a, 0x00]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "proto: wrong wireType = 2 for field NodeID"
    );
    assert_eq!(err.code(), "ERR_DECODE");
    assert_eq!(
        decode_metadata(&[0x08]).unwrap_err().to_string(),
        "unexpected EOF"
    );
    assert_eq!(
        decode_metadata(&[0x14]).unwrap_err().to_string(),
        "proto: Metadata: wiretype end group for non-group"
    );

    let hs = HardState {
        term: 2,
        vote: 1,
        commit: 9,
    };
    assert_eq!(
        decode_hard_state(&prost::Message::encode_to_vec(&hs)).unwrap(),
        hs
    );
    let snap = WalSnapshotRecord {
        index: 5,
        term: 2,
        conf_state: Some(etcd_snap::ConfState {
            voters: vec![1],
            ..Default::default()
        }),
    };
    assert_eq!(
        decode_wal_snapshot(&prost::Message::encode_to_vec(&snap)).unwrap(),
        snap
    );
    // A 3.4 record has no conf_state.
    let old = prost::Message::encode_to_vec(&etcd_snap::WalSnapshot { index: 5, term: 2 });
    assert_eq!(decode_wal_snapshot(&old).unwrap().conf_state, None);
    assert_eq!(
        decode_conf_change(&[0x10]).unwrap_err().to_string(),
        "unexpected EOF"
    );
    assert!(decode_conf_change_v2(&[0x0f]).is_err());
}

#[test]
fn hostile_nesting_is_refused_without_overflowing_the_stack() {
    // txn { success { request_txn { success { ... } } } }, 5_000 deep (past the limit of 100).
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..5_000 {
        let mut op = Vec::new();
        prost::encoding::bytes::encode(4, &inner, &mut op); // RequestOp.request_txn
        let mut txn = Vec::new();
        prost::encoding::bytes::encode(2, &op, &mut txn); // TxnRequest.success
        inner = txn;
    }
    let mut data = Vec::new();
    prost::encoding::bytes::encode(6, &inner, &mut data);
    // Past 100 levels the InternalRaftRequest reading is refused (etcd's Go would go on);
    // the bytes then read as a v2 Request whose PrevValue (field 6) is the blob.
    let v = describe_entry(NORMAL, &data);
    assert_eq!(v.kind, EntryKind::Request);
    assert!(decode_internal_raft_request(&data).is_err());
}

proptest! {
    #[test]
    fn garbage_never_panics(ty in 0i32..4, data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let v = describe_entry(ty, &data);
        match ty {
            0 => prop_assert!(matches!(v.kind, EntryKind::InternalRaftRequest | EntryKind::Request | EntryKind::UnknownNormal)),
            1 => prop_assert_eq!(v.kind, EntryKind::ConfigChange),
            2 => prop_assert_eq!(v.kind, EntryKind::ConfChangeV2),
            _ => prop_assert_eq!(v.kind, EntryKind::UnknownType),
        }
        let _ = decode_metadata(&data);
        let _ = decode_internal_raft_request(&data);
        let _ = decode_v2_request(&data);
    }

    #[test]
    fn mutated_requests_never_panic(pos in 0usize..64, byte in any::<u8>(), cut in 0usize..64) {
        let mut data = irr(|r| {
            r.txn = Some(e::TxnRequest {
                compare: vec![e::Compare { key: b("k"), target_union: Some(compare::TargetUnion::Value(b("v"))), ..Default::default() }],
                success: vec![e::RequestOp { request: Some(request_op::Request::RequestPut(e::PutRequest { key: b("k"), ..Default::default() })) }],
                failure: vec![],
            })
        });
        let n = data.len();
        data[pos % n] = byte;
        data.truncate(n - cut % n);
        let v = describe_entry(NORMAL, &data);
        // What the typed (prost) path accepts, gogo accepts too: it is an InternalRaftRequest.
        if decode_internal_raft_request(&data).is_ok() {
            prop_assert_eq!(v.kind, EntryKind::InternalRaftRequest);
        }
    }
}
