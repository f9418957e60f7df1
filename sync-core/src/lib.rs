//! # sync-core
//!
//! The transport-agnostic heart of the CloudSuite ↔ Cin7 Core SDK. It knows no HTTP: the two
//! client crates (`infor-ion-client`, `cin7-core-client`) implement the [`source::Source`] and
//! [`target`] traits behind their `sync` features and plug their records into the engine.
//!
//! - [`time`]: an injectable [`Clock`](time::Clock), so expiry, backoff and schedules are
//!   tested with a controllable clock instead of sleeps.
//! - [`retry`]: one retry policy shared by both clients.
//! - [`model`]: the canonical records, each with a source identity, `modified_at` and a stable
//!   content hash.
//! - [`source`], [`target`], [`mapping`]: the traits the clients implement and the value
//!   mappings users override.
//! - [`store`]: audit, checkpoint, cross-reference and GL-mapping stores, with an in-memory
//!   implementation; the engine commits a window's audit rows and its new checkpoint in one
//!   call so SQL stores can do it in one transaction.
//! - [`engine`]: the window runner implementing the sync rules of `docs/sync-semantics.md`,
//!   and the pipelines (GL accounts, suppliers, purchase orders, supplier invoices).
//! - [`replay`], [`schedule`], [`runner`]: replaying failures, cadences, and a per-tenant
//!   runner with graceful shutdown.
//! - [`testing`]: in-memory sources and targets for tests and demos.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod engine;
pub mod error;
pub mod mapping;
pub mod model;
pub mod replay;
pub mod retry;
pub mod runner;
pub mod schedule;
pub mod source;
pub mod store;
pub mod target;
pub mod testing;
pub mod time;

pub use error::SyncError;
