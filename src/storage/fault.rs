//! A fault-injecting storage wrapper (tests only in spirit: it is a mock for crash testing).
