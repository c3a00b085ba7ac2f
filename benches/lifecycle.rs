//! Criterion benchmarks of the lifecycle.
fn main() {}
