//! The conformance suite every [`Storage`](super::Storage) backend runs.
