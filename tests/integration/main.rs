//! The integration tests: one binary, one module per area.

#![allow(clippy::unwrap_used, reason = "in tests a panic is a failed test with a message")]

mod api;
mod conformance;
mod crm;
mod customer_model;
mod docs;
mod lifecycle;
mod live;
mod pg_server;
mod postgres_store;
mod rfm;
mod segment_analytics;
mod segment_eval;
mod segment_horizon;
mod segment_language;
mod sqlite_store;
mod strategy;
mod strategy_plan;
