//! `raftpb` messages in etcd 3.4's gogo layout (see the module docs of [`crate::pb`]).

use bytes::Bytes;

/// `raftpb.EntryType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum EntryType {
    EntryNormal = 0,
    EntryConfChange = 1,
    EntryConfChangeV2 = 2,
}

/// `raftpb.MessageType` (19–23 are raft 3.6+).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MessageType {
    MsgHup = 0,
    MsgBeat = 1,
    MsgProp = 2,
    MsgApp = 3,
    MsgAppResp = 4,
    MsgVote = 5,
    MsgVoteResp = 6,
    MsgSnap = 7,
    MsgHeartbeat = 8,
    MsgHeartbeatResp = 9,
    MsgUnreachable = 10,
    MsgSnapStatus = 11,
    MsgCheckQuorum = 12,
    MsgTransferLeader = 13,
    MsgTimeoutNow = 14,
    MsgReadIndex = 15,
    MsgReadIndexResp = 16,
    MsgPreVote = 17,
    MsgPreVoteResp = 18,
    MsgStorageAppend = 19,
    MsgStorageAppendResp = 20,
    MsgStorageApply = 21,
    MsgStorageApplyResp = 22,
    MsgForgetLeader = 23,
}

/// `raftpb.ConfChangeType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConfChangeType {
    ConfChangeAddNode = 0,
    ConfChangeRemoveNode = 1,
    ConfChangeUpdateNode = 2,
    ConfChangeAddLearnerNode = 3,
}

/// `raftpb.ConfChangeTransition`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConfChangeTransition {
    ConfChangeTransitionAuto = 0,
    ConfChangeTransitionJointImplicit = 1,
    ConfChangeTransitionJointExplicit = 2,
}

/// `raftpb.Entry`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Entry {
    #[prost(enumeration = "EntryType", required, tag = "1")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "2")]
    pub term: u64,
    #[prost(uint64, required, tag = "3")]
    pub index: u64,
    #[prost(bytes = "bytes", optional, tag = "4")]
    pub data: Option<Bytes>,
}

/// `raftpb.ConfState`. Repeated fields are written unpacked, as gogo does.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ConfState {
    #[prost(uint64, repeated, packed = "false", tag = "1")]
    pub voters: Vec<u64>,
    #[prost(uint64, repeated, packed = "false", tag = "2")]
    pub learners: Vec<u64>,
    #[prost(uint64, repeated, packed = "false", tag = "3")]
    pub voters_outgoing: Vec<u64>,
    #[prost(uint64, repeated, packed = "false", tag = "4")]
    pub learners_next: Vec<u64>,
    #[prost(bool, required, tag = "5")]
    pub auto_leave: bool,
}

/// `raftpb.SnapshotMetadata`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SnapshotMetadata {
    #[prost(message, required, tag = "1")]
    pub conf_state: ConfState,
    #[prost(uint64, required, tag = "2")]
    pub index: u64,
    #[prost(uint64, required, tag = "3")]
    pub term: u64,
}

/// `raftpb.Snapshot`. `data` is `None` when the field is absent (etcd's nil) and
/// `Some(empty)` when present but empty; the two encode differently.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Snapshot {
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub data: Option<Bytes>,
    #[prost(message, required, tag = "2")]
    pub metadata: SnapshotMetadata,
}

/// `raftpb.HardState`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct HardState {
    #[prost(uint64, required, tag = "1")]
    pub term: u64,
    #[prost(uint64, required, tag = "2")]
    pub vote: u64,
    #[prost(uint64, required, tag = "3")]
    pub commit: u64,
}

/// `raftpb.Message` in the 3.4/3.5 layout (snapshot always emitted; no `vote`/`responses`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Message {
    #[prost(enumeration = "MessageType", required, tag = "1")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "2")]
    pub to: u64,
    #[prost(uint64, required, tag = "3")]
    pub from: u64,
    #[prost(uint64, required, tag = "4")]
    pub term: u64,
    #[prost(uint64, required, tag = "5")]
    pub log_term: u64,
    #[prost(uint64, required, tag = "6")]
    pub index: u64,
    #[prost(message, repeated, tag = "7")]
    pub entries: Vec<Entry>,
    #[prost(uint64, required, tag = "8")]
    pub commit: u64,
    #[prost(message, required, tag = "9")]
    pub snapshot: Snapshot,
    #[prost(bool, required, tag = "10")]
    pub reject: bool,
    #[prost(uint64, required, tag = "11")]
    pub reject_hint: u64,
    #[prost(bytes = "bytes", optional, tag = "12")]
    pub context: Option<Bytes>,
}

/// `raftpb.ConfChange`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfChange {
    #[prost(uint64, required, tag = "1")]
    pub id: u64,
    #[prost(enumeration = "ConfChangeType", required, tag = "2")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "3")]
    pub node_id: u64,
    #[prost(bytes = "bytes", optional, tag = "4")]
    pub context: Option<Bytes>,
}

/// `raftpb.ConfChangeSingle`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ConfChangeSingle {
    #[prost(enumeration = "ConfChangeType", required, tag = "1")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "2")]
    pub node_id: u64,
}

/// `raftpb.ConfChangeV2`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfChangeV2 {
    #[prost(enumeration = "ConfChangeTransition", required, tag = "1")]
    pub transition: i32,
    #[prost(message, repeated, tag = "2")]
    pub changes: Vec<ConfChangeSingle>,
    #[prost(bytes = "bytes", optional, tag = "3")]
    pub context: Option<Bytes>,
}

// gogo's view of each message, for reproducing its decode errors (see `gogo::explain`).
pub(super) mod schemas {
    use crate::pb::gogo::{FieldKind::*, Schema};

    pub static ENTRY: Schema = Schema {
        name: "Entry",
        fields: &[
            (1, "Type", Varint),
            (2, "Term", Varint),
            (3, "Index", Varint),
            (4, "Data", Bytes),
        ],
    };
    pub static CONF_STATE: Schema = Schema {
        name: "ConfState",
        fields: &[
            (1, "Voters", RepeatedVarint),
            (2, "Learners", RepeatedVarint),
            (3, "VotersOutgoing", RepeatedVarint),
            (4, "LearnersNext", RepeatedVarint),
            (5, "AutoLeave", Varint),
        ],
    };
    pub static SNAPSHOT_METADATA: Schema = Schema {
        name: "SnapshotMetadata",
        fields: &[
            (1, "ConfState", Message(&CONF_STATE)),
            (2, "Index", Varint),
            (3, "Term", Varint),
        ],
    };
    pub static SNAPSHOT: Schema = Schema {
        name: "Snapshot",
        fields: &[
            (1, "Data", Bytes),
            (2, "Metadata", Message(&SNAPSHOT_METADATA)),
        ],
    };
    pub static HARD_STATE: Schema = Schema {
        name: "HardState",
        fields: &[
            (1, "Term", Varint),
            (2, "Vote", Varint),
            (3, "Commit", Varint),
        ],
    };
    pub static MESSAGE: Schema = Schema {
        name: "Message",
        fields: &[
            (1, "Type", Varint),
            (2, "To", Varint),
            (3, "From", Varint),
            (4, "Term", Varint),
            (5, "LogTerm", Varint),
            (6, "Index", Varint),
            (7, "Entries", Message(&ENTRY)),
            (8, "Commit", Varint),
            (9, "Snapshot", Message(&SNAPSHOT)),
            (10, "Reject", Varint),
            (11, "RejectHint", Varint),
            (12, "Context", Bytes),
        ],
    };
    pub static CONF_CHANGE: Schema = Schema {
        name: "ConfChange",
        fields: &[
            (1, "ID", Varint),
            (2, "Type", Varint),
            (3, "NodeID", Varint),
            (4, "Context", Bytes),
        ],
    };
    pub static CONF_CHANGE_SINGLE: Schema = Schema {
        name: "ConfChangeSingle",
        fields: &[(1, "Type", Varint), (2, "NodeID", Varint)],
    };
    pub static CONF_CHANGE_V2: Schema = Schema {
        name: "ConfChangeV2",
        fields: &[
            (1, "Transition", Varint),
            (2, "Changes", Message(&CONF_CHANGE_SINGLE)),
            (3, "Context", Bytes),
        ],
    };
}

macro_rules! gogo_message {
    ($($ty:ident => $schema:ident),* $(,)?) => {$(
        impl super::GogoMessage for $ty {
            const NAME: &'static str = schemas::$schema.name;
            fn schema() -> &'static super::gogo::Schema {
                &schemas::$schema
            }
        }
    )*};
}

gogo_message! {
    Entry => ENTRY,
    ConfState => CONF_STATE,
    SnapshotMetadata => SNAPSHOT_METADATA,
    Snapshot => SNAPSHOT,
    HardState => HARD_STATE,
    Message => MESSAGE,
    ConfChange => CONF_CHANGE,
    ConfChangeSingle => CONF_CHANGE_SINGLE,
    ConfChangeV2 => CONF_CHANGE_V2,
}
