//! In-memory sources and targets with fault injection, for tests and demos.
//!
//! - [`MemorySource`]: records in memory; pages lazily (a page shows each record as it is when
//!   the page is served, so records can change during a run), optional out-of-order pages,
//!   queued changes applied after a given page, server time set by the test.
//! - [`MemorySupplierTarget`], [`MemoryPurchaseTarget`], [`MemoryAccountTarget`]: Cin7-like
//!   targets; the first two fail write calls as a [`FaultPlan`] says (see [Faults](#faults)).
//! - [`Tripwire`]: counts steps across fakes and, at a chosen step, never returns (so a test can
//!   drop the engine future there, like a crash). [`TrippingStore`] adds store calls as steps.
//!
//! # Faults
//!
//! The in-memory targets use the same [`Fault`] and [`FaultPlan`] as the HTTP simulators
//! ([`crate::faults`], from `sdk-common`). A target asks its plan for the endpoint `"write"`
//! before every write call: `create_supplier` and `update_supplier` on
//! [`MemorySupplierTarget`]; `create_purchase`, `set_order` (when it writes) and
//! `post_invoice` on [`MemoryPurchaseTarget`]. Reads never ask. So
//! [`FaultPlan::at`]`("write", n, fault)` fails the target's write number `n` (0-based,
//! counted from `set_faults`); scripts (`script("write", ..)`) and seeded rules work too. Give
//! each target its own plan: targets sharing one plan share its numbering.
//!
//! | Fault | Applied? | The write returns |
//! |---|---|---|
//! | `ResetBeforeApply` | no | [`TargetError::not_sent`] |
//! | `ResetAfterApply`, `HangAfterApply(_)` (no wait: a held answer shows as the caller's timeout), `MalformedBody` | yes | [`TargetError::unknown_outcome`] |
//! | `HtmlOk` (a proxy's page: the caller cannot read the answer) | no | [`TargetError::unknown_outcome`] |
//! | `ApplicationError` (the target's validation) | no | [`TargetError::rejected`] with 400 |
//! | `Status` 4xx other than 429 | no | [`TargetError::rejected`] with that status |
//! | `Status` 429, or 503 with a `retry_after` (a throttling refusal) | no | transient, [`Delivery::NotProcessed`], that status |
//! | `Status` other (a bare 5xx: the caller cannot tell) | no | transient, [`Delivery::Unknown`], that status |
//! | `Delay(d)` | yes, after sleeping `d` (Tokio time) | success |
//! | `RevokeTokens` (the targets hold no tokens) | yes | success |
//!
//! These are the errors the Cin7 target adapter reports for the same answers, except that a
//! reset before the write is known here to have changed nothing. Each target's
//! `faults_fired` (on [`MemorySupplierTarget`]) counts what its current plan injected.
//!
//! ```
//! use sync_core::faults::{Fault, FaultPlan};
//! use sync_core::model::PartyStatus;
//! use sync_core::target::{SupplierDraft, SupplierTarget};
//! use sync_core::testing::MemorySupplierTarget;
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let draft = SupplierDraft {
//!     name: "Acme Tools".into(),
//!     currency: "NZD".into(),
//!     payment_term: "30 days".into(),
//!     tax_rule: "GST on Expenses".into(),
//!     account_payable: "800".into(),
//!     tax_number: None,
//!     status: PartyStatus::Active,
//!     addresses: vec![],
//!     contacts: vec![],
//!     extra_fields: Default::default(),
//! };
//! let target = MemorySupplierTarget::new();
//! target.set_faults(
//!     FaultPlan::none()
//!         .at("write", 0, Fault::ResetAfterApply)
//!         .at("write", 1, Fault::ResetBeforeApply),
//! );
//! // Write 0 lands, but its answer is lost.
//! let lost = target.create_supplier(&draft).await.unwrap_err();
//! assert!(lost.outcome_unknown());
//! assert_eq!(target.suppliers().len(), 1);
//! // Write 1 never reaches the target.
//! let refused = target.create_supplier(&draft).await.unwrap_err();
//! assert!(refused.transient && !refused.outcome_unknown());
//! assert_eq!(target.suppliers().len(), 1);
//! // Write 2 goes through.
//! target.create_supplier(&draft).await.unwrap();
//! assert_eq!(target.suppliers().len(), 2);
//! assert_eq!(target.faults_fired(), 2);
//! # });
//! ```
//!
//! [`Fault`]: crate::faults::Fault
//! [`FaultPlan`]: crate::faults::FaultPlan
//! [`FaultPlan::at`]: crate::faults::FaultPlan::at
//! [`TargetError::not_sent`]: crate::error::TargetError::not_sent
//! [`TargetError::unknown_outcome`]: crate::error::TargetError::unknown_outcome
//! [`TargetError::rejected`]: crate::error::TargetError::rejected
//! [`Delivery::NotProcessed`]: crate::retry::Delivery::NotProcessed
//! [`Delivery::Unknown`]: crate::retry::Delivery::Unknown

mod source;
mod targets;
mod tripwire;

pub use source::MemorySource;
pub use targets::{
    MemoryAccountTarget, MemoryPurchaseTarget, MemorySupplierTarget, PurchaseCalls, StoredPurchase,
};
pub use tripwire::{TrippingStore, Tripwire};
