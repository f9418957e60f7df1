//! Cin7 Core as a sync-core target (feature `sync`).
//!
//! [`Cin7Target`] wraps a [`Cin7Client`] and implements sync-core's
//! [`SupplierTarget`](sync_core::target::SupplierTarget),
//! [`PurchaseTarget`](sync_core::target::PurchaseTarget) and
//! [`AccountTarget`](sync_core::target::AccountTarget). It only renames fields and transports
//! them: every value in a draft is already mapped to Cin7's vocabulary by the pipelines.
//!
//! - [`supplier`]: `GET/POST/PUT /supplier`; extra fields such as `AdditionalAttribute1` (the
//!   CloudSuite vendor ID) are stamped on write and read back; updates keep address and contact
//!   IDs so nothing is duplicated.
//! - [`purchase`]: advanced purchases (`PurchaseType: Advanced`), the order step
//!   (`/purchase/order`, lines replaced) and supplier invoices (`/advanced-purchase/invoice`,
//!   every line with an `Account`); `find_purchases` searches `purchaseList` and compares
//!   exactly on this side.
//! - [`account`]: the chart of accounts (`/ref/account`).
//! - [`returns`]: the return direction's source: changed purchases (`purchaseList` with
//!   `UpdatedSince`, each re-read in full) as sync-core `PurchaseUpdate`s.
//! - [`triggers`]: purchase webhooks as triggers for an immediate targeted sync (sub-task
//!   `TaskID`s resolved to their purchase).
//! - [`error`]: client errors → [`TargetError`], keeping whether
//!   a failed write may have happened.
//!
//! Cin7 has no writable, searchable external reference on a purchase, so the draft's
//! `reference` (the CloudSuite PO or invoice number) is stamped in a purchase additional
//! attribute ([`Cin7TargetConfig::purchase_reference_attribute`]) and found again by
//! [`PurchaseTarget::find_purchases`](sync_core::target::PurchaseTarget::find_purchases) in two
//! ways: `purchaseList?Search=` (order and invoice numbers), and a scan of recently updated
//! DRAFT purchases whose attribute is read one by one
//! ([`Cin7TargetConfig::reference_scan_window`]). See `docs/cin7-client.md`, "Using the client
//! as a sync target".
//!
//! ```no_run
//! use std::sync::Arc;
//! use cin7_core_client::Cin7Client;
//! use cin7_core_client::sync::{Cin7Target, Cin7TargetConfig};
//! use sync_core::target::SupplierTarget;
//!
//! # async fn run(client: Cin7Client) -> Result<(), sync_core::error::TargetError> {
//! let target = Arc::new(Cin7Target::new(client).with_config(Cin7TargetConfig::default()));
//! let first = target.list_suppliers(1, 1000).await?;
//! println!("{} suppliers in Cin7", first.total);
//! # Ok(()) }
//! ```

pub mod account;
pub mod error;
pub mod purchase;
mod recent;
pub mod returns;
pub mod supplier;
pub mod triggers;
#[cfg(feature = "webhook-server")]
pub mod webhook_server;

pub use error::{CallKind, target_error};

use crate::client::Cin7Client;
use crate::codec::Guid;
use sync_core::error::TargetError;

/// How [`Cin7Target`] writes and finds purchases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cin7TargetConfig {
    /// The purchase additional attribute (`AdditionalAttribute1`..`10`) that carries the
    /// draft's `reference` (default `AdditionalAttribute1`). `None`: the reference is not
    /// stamped, and a purchase is found only by its Cin7 order number or an invoice number.
    pub purchase_reference_attribute: Option<String>,
    /// How far back (from the client clock's now) `find_purchases` scans DRAFT purchases for
    /// the reference attribute, since `purchaseList?Search=` does not search attributes.
    /// Default 3 days. `None` disables the scan: a purchase whose header was created by a POST
    /// with an unknown outcome is then found only once it has an invoice number.
    pub reference_scan_window: Option<chrono::Duration>,
}

impl Default for Cin7TargetConfig {
    fn default() -> Self {
        Cin7TargetConfig {
            purchase_reference_attribute: Some("AdditionalAttribute1".to_owned()),
            reference_scan_window: Some(chrono::Duration::days(3)),
        }
    }
}

/// Cin7 Core as a sync target: suppliers, advanced purchases and the chart of accounts.
///
/// Cheap to clone; clones share the client (and so the account's rate limiter).
#[derive(Debug, Clone)]
pub struct Cin7Target {
    client: Cin7Client,
    config: Cin7TargetConfig,
    recent: std::sync::Arc<recent::RecentReads>,
}

impl Cin7Target {
    /// A target writing through `client`, with the default [`Cin7TargetConfig`].
    pub fn new(client: Cin7Client) -> Self {
        Cin7Target {
            client,
            config: Cin7TargetConfig::default(),
            recent: std::sync::Arc::default(),
        }
    }

    /// Replace the configuration.
    pub fn with_config(mut self, config: Cin7TargetConfig) -> Self {
        self.config = config;
        self
    }

    /// The client.
    pub fn client(&self) -> &Cin7Client {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &Cin7TargetConfig {
        &self.config
    }
}

/// Parse a target id handed back by the engine; a malformed one never reaches Cin7.
pub(crate) fn parse_id(what: &str, id: &str) -> Result<Guid, TargetError> {
    id.parse::<Guid>()
        .map_err(|_| error::invalid(format!("{what} id {id:?} is not a Cin7 GUID")))
}
