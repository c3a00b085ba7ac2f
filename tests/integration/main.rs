//! Integration tests: one binary, one module per area.

mod customer_model;
mod lifecycle;
