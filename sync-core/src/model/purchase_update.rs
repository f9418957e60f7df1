//! The return direction: a purchase as the target (Cin7) holds it, read back to update the
//! source (CloudSuite).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::SourceIdentity;

/// One line of a purchase read back from the target, with what has been received on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseUpdateLine {
    /// Target SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Quantity ordered.
    pub quantity: Decimal,
    /// Unit price.
    pub price: Decimal,
    /// Quantity received so far (authorised stock receipts only).
    pub received: Decimal,
}

/// How far a purchase has progressed in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseProgress {
    /// Header or order still draft.
    Draft,
    /// Order authorised.
    Ordered,
    /// Some stock received (authorised).
    PartlyReceived,
    /// Every line fully received.
    Received,
    /// Voided.
    Voided,
}

/// One line of an invoice authorised in the target (an item line or an additional charge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceUpdateLine {
    /// Target SKU (`None` for an additional charge).
    pub sku: Option<String>,
    /// Name or charge description.
    pub name: String,
    /// Quantity invoiced.
    pub quantity: Decimal,
    /// Unit price.
    pub price: Decimal,
    /// Line total before tax, as the target computed it.
    pub total: Decimal,
}

/// An invoice authorised in the target, to be written back to the source unless the source
/// already holds it (see `engine::returns`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceUpdate {
    /// The target's id of the invoice (Cin7's invoice `TaskID`).
    pub task_id: String,
    /// The supplier's invoice number.
    pub invoice_number: String,
    /// Invoice date.
    pub invoice_date: Option<NaiveDate>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Total before tax.
    pub total_before_tax: Decimal,
    /// Tax.
    pub tax: Decimal,
    /// Total including tax.
    pub total: Decimal,
    /// Lines (item lines first, then additional charges).
    pub lines: Vec<InvoiceUpdateLine>,
}

/// A purchase as the target holds it: the record of the return direction (target → source).
///
/// Its identity is the target's (`system` = `cin7`, `id` = the purchase GUID); the source
/// record it belongs to is found through the cross-references (see `engine::returns`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseUpdate {
    /// Target identity.
    pub identity: SourceIdentity,
    /// The target's own order number (e.g. `PO-00012`).
    pub order_number: String,
    /// The external reference stamped on the purchase (the source PO number when the sync
    /// created it).
    pub reference: Option<String>,
    /// Target supplier id.
    pub supplier_id: String,
    /// The source vendor ID stamped on the target supplier, when there is one.
    pub supplier_vendor_id: Option<String>,
    /// Order date.
    pub order_date: Option<NaiveDate>,
    /// Required-by date.
    pub required_by: Option<NaiveDate>,
    /// Currency code.
    pub currency: Option<String>,
    /// Target location name.
    pub location: Option<String>,
    /// Progress.
    pub progress: PurchaseProgress,
    /// Whether an invoice has been authorised.
    pub invoice_authorised: bool,
    /// The invoices authorised (or paid) in the target, in the target's order. Draft and
    /// voided invoices are not listed.
    #[serde(default)]
    pub invoices: Vec<InvoiceUpdate>,
    /// Lines (order lines, with receipts summed per SKU in order).
    pub lines: Vec<PurchaseUpdateLine>,
    /// `Some` when this is a summary read from a list row rather than the whole purchase: then
    /// `lines` and `invoices` are not loaded (see [`PurchaseSummary`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<PurchaseSummary>,
    /// Last change in the target (target server time).
    pub modified_at: DateTime<Utc>,
}

/// A purchase read from a list row only. The return pipeline reads the whole purchase only when
/// it needs to: not for a purchase the forward direction wrote from an invoice, not for a
/// draft raised in the target, and not for a [`quiet`](Self::quiet) purchase whose order is
/// where it was left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseSummary {
    /// The row's last-change time (part of the content hash, unlike `modified_at`, so a new
    /// change to the purchase is never taken for the summary already handled).
    pub last_updated: DateTime<Utc>,
    /// The row shows nothing the return direction could write: nothing received, invoiced or
    /// unstocked, not voided (and every status on it is one the reader knows).
    pub quiet: bool,
}
