//! The Snapshotter: etcd's own tests ported, real etcd folders, bad input.
mod bad_input;
mod fixtures;
mod ported;
mod v3_only;
