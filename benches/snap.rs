//! Side-by-side throughput table for the snap operations (`make bench`). Work in progress.
fn main() {}
