//! In-memory sources and targets with fault injection, for tests and demos.
//!
//! - [`MemorySource`]: records in memory; pages lazily (a page shows each record as it is when
//!   the page is served, so records can change during a run), optional out-of-order pages,
//!   queued changes applied after a given page, server time set by the test.
//! - [`MemorySupplierTarget`], [`MemoryPurchaseTarget`], [`MemoryAccountTarget`]: Cin7-like
//!   targets; [`Fault`]s can be scheduled for the n-th write call.
//! - [`Tripwire`]: counts steps across fakes and, at a chosen step, never returns (so a test can
//!   drop the engine future there, like a crash). [`TrippingStore`] adds store calls as steps.

mod source;
mod targets;
mod tripwire;

pub use source::MemorySource;
pub use targets::{
    Fault, FaultPlan, MemoryAccountTarget, MemoryPurchaseTarget, MemorySupplierTarget,
    PurchaseCalls, StoredPurchase,
};
pub use tripwire::{TrippingStore, Tripwire};
