//! `inspect` against a live etcd and `etcdctl snapshot status`.
mod damaged;
mod defrag;
mod live;
mod write;
