//! The raftpb / snappb codec: etcd's bytes, gogo's recorded verdicts, round trips.
mod gogo_golden;
mod golden;
mod roundtrip;
