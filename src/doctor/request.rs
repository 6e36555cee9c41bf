//! A normal entry's request, as the replay needs it: decoded by `src/walpayload/` (etcd
//! v3.5.16's `.proto` files, gogo's verdict).

use crate::walpayload::{self, pb::etcdserverpb};

pub(super) use etcdserverpb::compare::TargetUnion;
pub(super) use etcdserverpb::request_op::Request as Op;
pub(super) use etcdserverpb::{
    Compare, DeleteRangeRequest, InternalRaftRequest, PutRequest, RequestOp, TxnRequest,
};

/// What a normal entry's data is to mvcc.
pub(super) enum Decoded {
    /// No mvcc request: empty data (the leader's no-op), a v2 request, `raftReq.V2`.
    NoMvcc,
    /// A v3 request.
    V3(Box<InternalRaftRequest>),
    /// Neither an `InternalRaftRequest` nor a v2 `Request` decodes (etcd's `MustUnmarshal`
    /// would panic; or a string gogo takes and prost refuses): what it writes is unknown.
    Unknown(String),
}

/// etcd's `applyEntryNormal` (etcd etcdserver/server.go:2203): empty data is skipped; data
/// that `pbutil.MaybeUnmarshal` cannot read as an `InternalRaftRequest` is a legacy v2
/// `Request`; `raftReq.V2` is applied to the v2 store only.
pub(super) fn decode_normal(data: &[u8]) -> Decoded {
    if data.is_empty() {
        return Decoded::NoMvcc;
    }
    match walpayload::decode_internal_raft_request(data) {
        Ok(r) if r.v2.is_some() => Decoded::NoMvcc,
        Ok(r) => Decoded::V3(Box::new(r)),
        Err(e) => match walpayload::decode_v2_request(data) {
            Ok(_) => Decoded::NoMvcc,
            Err(_) => Decoded::Unknown(e.to_string()),
        },
    }
}
