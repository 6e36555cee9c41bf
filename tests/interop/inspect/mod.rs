//! `inspect` against a live etcd and `etcdctl snapshot status`.
mod damaged;
mod live;
mod write;
