//! Integration tests.

mod conformance;
mod crm;
