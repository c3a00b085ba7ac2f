//! Relationship strategy: which customers to relate to, and how.

pub mod rfm;
