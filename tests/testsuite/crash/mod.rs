//! Crash and failure safety, with the memory backend's fault injection (feature `testing`).
mod memory_model;
mod snapshotter;
