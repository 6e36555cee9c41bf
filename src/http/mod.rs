//! rafthttp snapshot transfer over real HTTP (native, feature `http`): a receiver that serves
//! `POST /raft/snapshot` as etcd's peer handler does, and a sender that streams a
//! [`Message`](crate::Message) to an etcd peer as etcd's snapshot sender does. Both are thin:
//! the protocol lives in [`crate::transport`]; this module only moves bytes through hyper.
//!
//! The receiver holds a bounded amount whatever its peers do: a head deadline, a cap on
//! connections served at once, accept errors retried with a back-off instead of ending
//! [`serve`], and an envelope budget shared by all uploads (see [`SnapshotReceiver`] and the
//! receiver bounds in docs/transport.md; issue 9).
//!
//! Plain `http://` peer URLs only (no TLS). Runs on tokio; the receiver's connections are
//! `spawn_local`ed, so [`serve`] must run inside a [`tokio::task::LocalSet`] (storage futures
//! need not be `Send`).

mod body;
mod sender;
mod server;

pub use sender::{SendOptions, Sent, send_snapshot};
pub use server::{
    AcceptErrorHook, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    Observer, Process, SnapshotReceiver, serve,
};
