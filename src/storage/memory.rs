//! In-memory backend.

/// In-memory storage.
pub struct MemoryStorage;
