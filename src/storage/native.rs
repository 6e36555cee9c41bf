//! std::fs backend.

/// std::fs storage.
pub struct NativeStorage;
