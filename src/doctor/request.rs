//! The few fields of etcd's `InternalRaftRequest` the replay needs to count mvcc revisions
//! (etcd etcdserver/etcdserverpb/raft_internal.proto, rpc.proto; field numbers from there).
//!
//! TODO(issue 10): replace with the full payload decoder of `src/walpayload/` (branch
//! `i10-walpayload`) once merged; these structs stay private until then.

use bytes::Bytes;
use prost::Message;

/// `etcdserverpb.InternalRaftRequest`, only the mvcc-writing and lease requests.
#[derive(Clone, PartialEq, Message)]
pub(super) struct InternalRaftRequest {
    /// The legacy v2 request (`v2`, tag 2): applied to the v2 store only.
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub v2: Option<Bytes>,
    #[prost(message, optional, tag = "4")]
    pub put: Option<PutRequest>,
    #[prost(message, optional, tag = "5")]
    pub delete_range: Option<DeleteRangeRequest>,
    #[prost(message, optional, tag = "6")]
    pub txn: Option<TxnRequest>,
    #[prost(message, optional, tag = "8")]
    pub lease_grant: Option<LeaseGrantRequest>,
    #[prost(message, optional, tag = "9")]
    pub lease_revoke: Option<LeaseRevokeRequest>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct PutRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "3")]
    pub lease: i64,
    #[prost(bool, tag = "5")]
    pub ignore_value: bool,
    #[prost(bool, tag = "6")]
    pub ignore_lease: bool,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct DeleteRangeRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub range_end: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct RangeRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct TxnRequest {
    #[prost(message, repeated, tag = "1")]
    pub compare: Vec<Compare>,
    #[prost(message, repeated, tag = "2")]
    pub success: Vec<RequestOp>,
    #[prost(message, repeated, tag = "3")]
    pub failure: Vec<RequestOp>,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct RequestOp {
    #[prost(oneof = "Op", tags = "1, 2, 3, 4")]
    pub request: Option<Op>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum Op {
    #[prost(message, tag = "1")]
    Range(RangeRequest),
    #[prost(message, tag = "2")]
    Put(PutRequest),
    #[prost(message, tag = "3")]
    DeleteRange(DeleteRangeRequest),
    #[prost(message, tag = "4")]
    Txn(TxnRequest),
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct Compare {
    /// EQUAL 0, GREATER 1, LESS 2, NOT_EQUAL 3.
    #[prost(int32, tag = "1")]
    pub result: i32,
    /// VERSION 0, CREATE 1, MOD 2, VALUE 3, LEASE 4.
    #[prost(int32, tag = "2")]
    pub target: i32,
    #[prost(bytes = "vec", tag = "3")]
    pub key: Vec<u8>,
    #[prost(oneof = "TargetUnion", tags = "4, 5, 6, 7, 8")]
    pub target_union: Option<TargetUnion>,
    #[prost(bytes = "vec", tag = "64")]
    pub range_end: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub(super) enum TargetUnion {
    #[prost(int64, tag = "4")]
    Version(i64),
    #[prost(int64, tag = "5")]
    CreateRevision(i64),
    #[prost(int64, tag = "6")]
    ModRevision(i64),
    #[prost(bytes = "vec", tag = "7")]
    Value(Vec<u8>),
    #[prost(int64, tag = "8")]
    Lease(i64),
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct LeaseGrantRequest {
    #[prost(int64, tag = "2")]
    pub id: i64,
}

#[derive(Clone, PartialEq, Message)]
pub(super) struct LeaseRevokeRequest {
    #[prost(int64, tag = "1")]
    pub id: i64,
}

/// `etcdserverpb.Metadata`, the WAL's metadata record (etcd etcdserver/etcdserverpb/etcdserver.proto).
#[derive(Clone, PartialEq, Message)]
pub(super) struct Metadata {
    #[prost(uint64, tag = "1")]
    pub node_id: u64,
    #[prost(uint64, tag = "2")]
    pub cluster_id: u64,
}

/// What a normal entry's data is to mvcc, as etcd's `applyEntryNormal` decides (etcd
/// etcdserver/server.go:2158, 3.4.23): empty data (the leader's no-op) is skipped; data that
/// `pbutil.MaybeUnmarshal` cannot read as an `InternalRaftRequest` is a legacy v2 `Request`
/// (a v2 `Request` always carries its `Method`, field 2, which is `InternalRaftRequest.V2`), and
/// `raftReq.V2` is applied to the v2 store only. `None`: no mvcc request.
pub(super) fn decode_normal(data: &[u8]) -> Option<InternalRaftRequest> {
    if data.is_empty() {
        return None;
    }
    InternalRaftRequest::decode(data)
        .ok()
        .filter(|r| r.v2.is_none())
}
