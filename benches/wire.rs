//! Wire throughput table (in progress).
fn main() {}
