//! The integration tests of `sync-core` in one binary: each file is a module (what it
//! tests is in its own docs). One binary links the dependencies once instead of once per file.

mod automatic_retry;
mod common;
mod engine_proptest;
mod engine_rules;
mod fleet;
mod gl_idle;
mod idle_window_calls;
mod pipelines;
mod po_status_rules;
mod purchase_call_economy;
mod replay;
mod replay_source_unavailable;
mod return_marks;
mod runner;
mod runner_proptest;
mod schedule;
mod store_conformance;
mod store_postgres;
mod store_sqlite;
mod store_support;
mod supplier_index;
mod unknown_skus;
