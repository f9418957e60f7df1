//! # sync-core
//!
//! The transport-agnostic heart of the CloudSuite ↔ Cin7 Core SDK. It knows no HTTP: the two
//! client crates (`infor-ion-client`, `cin7-core-client`) build on the pieces here and plug
//! their records into the engine through their `sync` features.
//!
//! What lives here today:
//!
//! - [`time`]: an injectable [`Clock`](time::Clock) (wall time plus a way to wait), so token
//!   expiry, backoff, rate limits and schedules are tested with a controllable clock instead of
//!   sleeps.
//! - [`retry`]: one retry policy shared by both clients: capped exponential backoff with jitter,
//!   `Retry-After` parsing, and the rule that a request which may have reached the server is only
//!   retried when it is idempotent.
//!
//! What this crate will hold (see `docs/architecture.md`): the canonical model (supplier,
//! purchase order, supplier invoice, GL account, payment, customer, item), the `Source` /
//! `Target` / mapping traits, the `AuditStore` and `CheckpointStore` traits with in-memory,
//! SQLite and PostgreSQL implementations, the sync engine with its checkpoint and replay
//! semantics, and schedules.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod retry;
pub mod time;
