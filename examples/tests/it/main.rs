//! The integration tests of the `examples` package in one binary: each file is a module (what it
//! tests is in its own docs). One binary links reqwest, axum and sqlx once instead of once per
//! file. Run one file's tests with `cargo test -p examples --all-features --test it sync_cli::`.
//!
//! Two stay binaries of their own, because each installs the process-wide tracing subscriber
//! (which can be set once per process, and would see every other test's events):
//! `secret_sweep.rs` captures everything logged at TRACE and searches it for secrets, and
//! `soak.rs` counts the retries logged at DEBUG (and is run alone by name: `--test soak`).

mod audit_cli;
mod common;
mod crash_resume;
mod datalake_deletes;
mod demo;
mod fleet_cli;
mod ion_push_cli;
mod m3_purchases;
mod m3_tenant;
mod observability_cli;
mod ping_cli;
mod replay_cli;
mod return_crash;
mod return_path;
mod sync_cli;
mod tenant_fit;
mod unknown_skus_cli;
mod vault_cli;
mod webhooks_cli;
