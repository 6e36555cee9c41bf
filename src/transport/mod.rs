//! rafthttp snapshot transfer (`POST /raft/snapshot`), platform-free: the wire framing
//! ([`frame`]), the peer header rules and etcd's status mapping ([`peer`]), and the whole
//! receiving handler over any [`Storage`](crate::Storage) ([`receive`]). No sockets here: the
//! native HTTP server and client (`crate::http`, feature `http`) and the wasm bindings only move
//! bytes in and out of these functions, so both speak exactly the same protocol.
//!
//! Wire body, as etcd's `createSnapBody` writes it (etcdserver/api/rafthttp/snapshot_sender.go:193):
//!
//! ```text
//! [8 bytes]  u64 big-endian = size of the marshalled raftpb.Message below
//! [n bytes]  raftpb.Message (MsgSnap), gogo layout
//! [rest]     the raw bbolt db, until the end of the HTTP body (its size is not sent)
//! ```

pub mod budget;
pub mod frame;
pub mod peer;
pub mod receive;
pub mod route;
pub mod summary;

pub use budget::{DEFAULT_ENVELOPE_BUDGET, EnvelopeBudget, Limits, Reservation};
pub use frame::{
    DEFAULT_ENVELOPE_LIMIT, DecodedMessage, Encoder, PREFIX_LEN, decode_envelope,
    decode_envelope_raw, encode_envelope, encoder,
};
pub use peer::{LocalPeer, SNAPSHOT_PATH, SenderHeaders, check_post_response, format_id};
pub use receive::{Received, Reply, receive};
pub use route::{is_snapshot_path, not_found, target_path};
pub use summary::{MessageSummary, ReplyLine, Unframed, unframe};
