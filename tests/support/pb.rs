//! Shared by the pb tests (testsuite `pb::*`, interop `pb`): type dispatch by gogo name, hex
//! helpers, proptest strategies.

use bytes::Bytes;
use etcd_snap::pb::{self, *};
use proptest::prelude::*;

macro_rules! dispatch {
    ($typ:expr, $bytes:expr, $f:ident) => {
        match $typ {
            "snappb.snapshot" => $f::<SnapFile>($bytes),
            "walpb.Snapshot" => $f::<WalSnapshot>($bytes),
            "raftpb.Entry" => $f::<Entry>($bytes),
            "raftpb.ConfState" => $f::<ConfState>($bytes),
            "raftpb.SnapshotMetadata" => $f::<SnapshotMetadata>($bytes),
            "raftpb.Snapshot" => $f::<Snapshot>($bytes),
            "raftpb.HardState" => $f::<HardState>($bytes),
            "raftpb.Message" => $f::<Message>($bytes),
            "raftpb.ConfChange" => $f::<ConfChange>($bytes),
            "raftpb.ConfChangeSingle" => $f::<ConfChangeSingle>($bytes),
            "raftpb.ConfChangeV2" => $f::<ConfChangeV2>($bytes),
            other => panic!("unknown type {other}"),
        }
    };
}

/// The gogo names of every message type (as `tests/oracle/gogo_oracle.go` knows them).
pub const TYPES: &[&str] = &[
    "snappb.snapshot",
    "walpb.Snapshot",
    "raftpb.Entry",
    "raftpb.ConfState",
    "raftpb.SnapshotMetadata",
    "raftpb.Snapshot",
    "raftpb.HardState",
    "raftpb.Message",
    "raftpb.ConfChange",
    "raftpb.ConfChangeSingle",
    "raftpb.ConfChangeV2",
];

pub fn hex(b: &[u8]) -> String {
    etcd_snap::summary::hex(b)
}

pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// What etcd-snap says about `bytes` as `typ`: `Ok(hex of the re-encoded value)` or the error
/// text, the same shape as the Go oracle's `OK <hex>` / `ERR <text>`.
pub fn verdict(typ: &str, bytes: &[u8]) -> Result<String, String> {
    fn go<M: GogoMessage>(b: &[u8]) -> Result<String, String> {
        pb::decode::<M>(Bytes::copy_from_slice(b))
            .map(|m| hex(&pb::encode(&m)))
            .map_err(|e| e.to_string())
    }
    dispatch!(typ, bytes, go)
}

/// Whether prost alone (no gogo replay) accepts `bytes` as `typ`.
pub fn prost_accepts(typ: &str, bytes: &[u8]) -> bool {
    fn go<M: GogoMessage>(b: &[u8]) -> bool {
        <M as prost::Message>::decode(b).is_ok()
    }
    dispatch!(typ, bytes, go)
}

/// The gogo walker's error, if any.
pub fn gogo_error(typ: &str, bytes: &[u8]) -> Option<String> {
    fn go<M: GogoMessage>(b: &[u8]) -> Option<String> {
        pb::gogo_verdict::<M>(b).map(|e| e.to_string())
    }
    dispatch!(typ, bytes, go)
}

// ---- strategies -------------------------------------------------------------------------

pub fn u64s() -> impl Strategy<Value = u64> {
    prop_oneof![0..4u64, 0..300u64, any::<u64>(), Just(u64::MAX)]
}

pub fn i32s() -> impl Strategy<Value = i32> {
    prop_oneof![0..24i32, any::<i32>()]
}

pub fn opt_bytes() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..12))
        .prop_map(|o| o.map(Bytes::from))
}

fn u64_vec() -> impl Strategy<Value = Vec<u64>> {
    proptest::collection::vec(u64s(), 0..4)
}

pub fn arb_entry() -> impl Strategy<Value = Entry> {
    (i32s(), u64s(), u64s(), opt_bytes()).prop_map(|(r#type, term, index, data)| Entry {
        r#type,
        term,
        index,
        data,
    })
}

pub fn arb_conf_state() -> impl Strategy<Value = ConfState> {
    (u64_vec(), u64_vec(), u64_vec(), u64_vec(), any::<bool>()).prop_map(|(v, l, vo, ln, a)| {
        ConfState {
            voters: v,
            learners: l,
            voters_outgoing: vo,
            learners_next: ln,
            auto_leave: a,
        }
    })
}

pub fn arb_metadata() -> impl Strategy<Value = SnapshotMetadata> {
    (arb_conf_state(), u64s(), u64s()).prop_map(|(conf_state, index, term)| SnapshotMetadata {
        conf_state,
        index,
        term,
    })
}

pub fn arb_snapshot() -> impl Strategy<Value = Snapshot> {
    (opt_bytes(), arb_metadata()).prop_map(|(data, metadata)| Snapshot { data, metadata })
}

pub fn arb_hard_state() -> impl Strategy<Value = HardState> {
    (u64s(), u64s(), u64s()).prop_map(|(term, vote, commit)| HardState { term, vote, commit })
}

pub fn arb_message() -> impl Strategy<Value = Message> {
    (
        (i32s(), u64s(), u64s(), u64s(), u64s(), u64s()),
        proptest::collection::vec(arb_entry(), 0..3),
        (u64s(), arb_snapshot(), any::<bool>(), u64s(), opt_bytes()),
    )
        .prop_map(
            |(
                (r#type, to, from, term, log_term, index),
                entries,
                (commit, snapshot, reject, reject_hint, context),
            )| {
                Message {
                    r#type,
                    to,
                    from,
                    term,
                    log_term,
                    index,
                    entries,
                    commit,
                    snapshot,
                    reject,
                    reject_hint,
                    context,
                }
            },
        )
}

pub fn arb_conf_change() -> impl Strategy<Value = ConfChange> {
    (u64s(), i32s(), u64s(), opt_bytes()).prop_map(|(id, r#type, node_id, context)| ConfChange {
        id,
        r#type,
        node_id,
        context,
    })
}

pub fn arb_conf_change_single() -> impl Strategy<Value = ConfChangeSingle> {
    (i32s(), u64s()).prop_map(|(r#type, node_id)| ConfChangeSingle { r#type, node_id })
}

pub fn arb_conf_change_v2() -> impl Strategy<Value = ConfChangeV2> {
    (
        i32s(),
        proptest::collection::vec(arb_conf_change_single(), 0..3),
        opt_bytes(),
    )
        .prop_map(|(transition, changes, context)| ConfChangeV2 {
            transition,
            changes,
            context,
        })
}

pub fn arb_wal_snapshot() -> impl Strategy<Value = WalSnapshot> {
    (u64s(), u64s()).prop_map(|(index, term)| WalSnapshot { index, term })
}

pub fn arb_snap_file() -> impl Strategy<Value = SnapFile> {
    (any::<u32>(), opt_bytes()).prop_map(|(crc, data)| SnapFile { crc, data })
}

/// A valid gogo-layout encoding of a random value of a random type.
pub fn arb_encoded() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    fn enc<M: prost::Message>(m: M) -> Vec<u8> {
        pb::encode(&m)
    }
    prop_oneof![
        arb_snap_file().prop_map(|m| ("snappb.snapshot", enc(m))),
        arb_wal_snapshot().prop_map(|m| ("walpb.Snapshot", enc(m))),
        arb_entry().prop_map(|m| ("raftpb.Entry", enc(m))),
        arb_conf_state().prop_map(|m| ("raftpb.ConfState", enc(m))),
        arb_metadata().prop_map(|m| ("raftpb.SnapshotMetadata", enc(m))),
        arb_snapshot().prop_map(|m| ("raftpb.Snapshot", enc(m))),
        arb_hard_state().prop_map(|m| ("raftpb.HardState", enc(m))),
        arb_message().prop_map(|m| ("raftpb.Message", enc(m))),
        arb_conf_change().prop_map(|m| ("raftpb.ConfChange", enc(m))),
        arb_conf_change_single().prop_map(|m| ("raftpb.ConfChangeSingle", enc(m))),
        arb_conf_change_v2().prop_map(|m| ("raftpb.ConfChangeV2", enc(m))),
    ]
}

/// Malformed-input generator: mutates `base` with protobuf-aware damage (truncation, byte
/// flips, spliced keys of every wire type, groups, overlong and overflowing varints, huge
/// lengths). `r` is a deterministic random source.
pub fn mutate(base: &[u8], r: &mut impl FnMut() -> u64) -> Vec<u8> {
    const SPECIAL: &[u8] = &[
        0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x0b, 0x0c, 0x0f, 0x1b, 0x1c, 0x24, 0x0a, 0x12,
    ];
    const SNIPPETS: &[&[u8]] = &[
        &[0x1b, 0x1c],
        &[0x1b, 0x24],
        &[0x0b],
        &[0x0c],
        &[0x1b, 0x1b, 0x1c, 0x1c],
        &[0x1b, 0x08, 0x01, 0x1c],
        &[0x00],
        &[0x1e],
        &[0x19, 1, 2, 3, 4, 5, 6, 7, 8],
        &[0x1d, 1, 2, 3, 4],
        &[0x1a, 0x00],
        &[0x72, 0x02, 0x08, 0x01],
        &[0x68, 0x00],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        &[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02],
        &[0x80, 0x80, 0x80, 0x80, 0x10],
        &[0x88, 0x80, 0x80, 0x80, 0x80, 0x01],
        &[0x82, 0x80, 0x80, 0x80, 0x40],
        &[0xf8, 0xff, 0xff, 0xff, 0x0f],
        &[0x0a, 0x02, 0x01, 0x80, 0x01],
        &[0x0a, 0x03, 0x01, 0x02, 0x03],
        &[0x80],
    ];
    let mut v = base.to_vec();
    let rounds = 1 + r() % 3;
    for _ in 0..rounds {
        let at = if v.is_empty() {
            0
        } else {
            (r() % (v.len() as u64 + 1)) as usize
        };
        match r() % 9 {
            0 => v.truncate(at),
            1 if at < v.len() => v[at] = r() as u8,
            2 if at < v.len() => v[at] = SPECIAL[(r() % SPECIAL.len() as u64) as usize],
            3 => {
                let s = SNIPPETS[(r() % SNIPPETS.len() as u64) as usize];
                v.splice(at..at, s.iter().copied());
            }
            4 if at < v.len() => {
                let s = SNIPPETS[(r() % SNIPPETS.len() as u64) as usize];
                let end = (at + s.len()).min(v.len());
                v.splice(at..end, s.iter().copied());
            }
            5 => {
                let n = (r() % 4) as usize;
                for _ in 0..n {
                    v.insert(at.min(v.len()), r() as u8);
                }
            }
            6 if !v.is_empty() => {
                // duplicate a range (repeats fields: last-wins, merges, appends)
                let a = (r() % v.len() as u64) as usize;
                let b = a + (r() % (v.len() - a) as u64) as usize + 1;
                let dup = v[a..b].to_vec();
                v.splice(at..at, dup);
            }
            7 if at < v.len() => {
                v.remove(at);
            }
            _ => v.extend_from_slice(SNIPPETS[(r() % SNIPPETS.len() as u64) as usize]),
        }
    }
    v
}

/// SplitMix64: a tiny deterministic random source for the mutation generators.
pub fn splitmix(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
