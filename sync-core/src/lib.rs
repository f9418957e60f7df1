//! # sync-core
//!
//! The transport-agnostic heart of the CloudSuite ↔ Cin7 Core SDK. It knows no HTTP: the two
//! client crates (`infor-ion-client`, `cin7-core-client`) implement the [`source::Source`] and
//! [`target`] traits behind their `sync` features and plug their records into the engine.
//!
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
//! - `testing` (feature `testing`): in-memory sources and targets for tests and demos, and
//!   the simulators' fault plans (`faults`).
//!
//! [`time`], [`retry`] and [`json`] live in `sdk-common`, shared with the clients, and are
//! re-exported here.
//!
//! ## Example: one supplier window with in-memory fakes
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{TimeZone, Utc};
//! use sync_core::engine::{suppliers::SupplierPipeline, EngineConfig, RunContext, StreamRunner};
//! use sync_core::error::MappingKind;
//! use sync_core::mapping::{MappingTable, Mappings};
//! use sync_core::model::{PartyStatus, SourceIdentity, Supplier};
//! use sync_core::store::memory::MemoryStore;
//! use sync_core::testing::{MemorySource, MemorySupplierTarget};
//! use sync_core::time::ManualClock;
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let now = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
//! let source = MemorySource::new(now);
//! source.upsert(Supplier {
//!     identity: SourceIdentity::new("cloudsuite", "ACME_PRD", "10", "V1001"),
//!     vendor_id: "V1001".into(),
//!     name: "Acme Tools".into(),
//!     currency: "NZD".into(),
//!     payment_term: Some("N30".into()),
//!     tax_rule: Some("STD".into()),
//!     tax_number: None,
//!     status: PartyStatus::Active,
//!     addresses: vec![],
//!     contacts: vec![],
//!     modified_at: now - chrono::Duration::hours(1),
//! });
//! let target = MemorySupplierTarget::new();
//! let mappings = Mappings::with_values(
//!     MappingTable::default()
//!         .with(MappingKind::PaymentTerm, "N30", "30 days")
//!         .with(MappingKind::TaxRule, "STD", "GST on Expenses"),
//! );
//! let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings));
//! let runner = StreamRunner::new(pipeline, Arc::new(source), EngineConfig::default());
//!
//! let store = MemoryStore::new();
//! let run = RunContext::new(Arc::new(store.clone()), ManualClock::new(now).shared(), "ACME_PRD");
//! let report = runner.run_window(&run, None).await.unwrap();
//! assert_eq!(report.succeeded, 1);
//! let created = target.suppliers().into_values().next().unwrap();
//! assert_eq!(created.extra_fields["AdditionalAttribute1"], "V1001"); // stamped for matching
//! assert_eq!(store.all_entries().len(), 1); // one audit row
//! # });
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(unused_crate_dependencies))]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod engine;
pub mod error;
pub mod fleet;
pub mod mapping;
pub mod model;
pub mod replay;
pub mod runner;
pub mod schedule;
pub mod source;
pub mod store;
pub mod target;
mod telemetry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

// Shared with the clients (they live in `sdk-common`); kept at their old paths.
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use sdk_common::faults;
pub use sdk_common::{json, retry, time};

pub use error::SyncError;

/// The crate README's code samples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
