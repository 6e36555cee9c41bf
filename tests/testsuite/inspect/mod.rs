//! `inspect` (bbolt / mvcc / v2 store) on real etcd dbs and hostile ones.
mod fixtures;
mod hostile;
mod schema36;
mod verdicts;
mod write;
