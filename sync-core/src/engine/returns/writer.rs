//! The source side as something the return direction writes to (CloudSuite through
//! `infor-ion-client`: IDO updates or `Process` BODs).

use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::TargetError;
use crate::model::PoStatus;

/// One line of a source purchase order as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePoLine {
    /// Line number.
    pub line_no: u32,
    /// Source item code.
    pub item: String,
    /// Quantity ordered.
    pub ordered: Decimal,
    /// Quantity received.
    pub received: Decimal,
}

/// A source purchase order as it is now: what the return direction compares with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePoState {
    /// PO number.
    pub po_number: String,
    /// Status.
    pub status: PoStatus,
    /// The PO's vendor ID, when the writer reads it (invoices written back need it).
    #[serde(default)]
    pub vendor_id: Option<String>,
    /// Lines, by line number.
    pub lines: Vec<SourcePoLine>,
}

/// A line of a purchase order to create in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePoLineDraft {
    /// Line number.
    pub line_no: u32,
    /// Source item code.
    pub item: String,
    /// Description.
    pub description: String,
    /// Quantity ordered.
    pub quantity: Decimal,
    /// Unit cost.
    pub unit_price: Decimal,
    /// Quantity already received.
    pub received: Decimal,
}

/// A purchase order to create in the source (one raised in the target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePoDraft {
    /// The PO number to create it under.
    pub po_number: String,
    /// Vendor ID.
    pub vendor_id: String,
    /// Order date.
    pub order_date: NaiveDate,
    /// Due date.
    pub required_by: Option<NaiveDate>,
    /// Currency code.
    pub currency: String,
    /// Source warehouse.
    pub location: Option<String>,
    /// Status.
    pub status: PoStatus,
    /// The target's id for it, stamped so it can be looked up after an uncertain create.
    pub external_ref: String,
    /// The target's order number, for people.
    pub external_number: String,
    /// Lines.
    pub lines: Vec<SourcePoLineDraft>,
}

/// A received quantity to write on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedQuantity {
    /// Line number.
    pub line_no: u32,
    /// Item.
    pub item: String,
    /// The new total received.
    pub total: Decimal,
    /// The change from what the source holds (a receipt when positive).
    pub delta: Decimal,
}

/// What to change on an existing source purchase order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePoChange {
    /// A new status.
    pub status: Option<PoStatus>,
    /// New received quantities.
    pub received: Vec<ReceivedQuantity>,
}

impl SourcePoChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.received.is_empty()
    }
}

/// One line of an invoice to create in the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInvoiceLineDraft {
    /// Invoice line number (1-based, in the target's order).
    pub line_no: u32,
    /// The PO line it invoices, when it matched one (by item, in order).
    pub po_line: Option<u32>,
    /// Source item code (`None` for a charge).
    pub item: Option<String>,
    /// Description.
    pub description: String,
    /// Quantity invoiced.
    pub quantity: Decimal,
    /// Unit price.
    pub unit_price: Decimal,
    /// Line amount before tax.
    pub amount: Decimal,
}

/// A supplier invoice to create in the source (one authorised in the target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInvoiceDraft {
    /// The supplier's invoice number.
    pub invoice_number: String,
    /// Vendor ID.
    pub vendor_id: String,
    /// The source PO it is for.
    pub po_number: String,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Currency code.
    pub currency: String,
    /// Total before tax.
    pub amount_before_tax: Decimal,
    /// Tax.
    pub tax: Decimal,
    /// Total including tax.
    pub amount: Decimal,
    /// The target's id of the invoice (Cin7's `TaskID`), stamped where the source has room.
    pub external_ref: String,
    /// Lines.
    pub lines: Vec<SourceInvoiceLineDraft>,
}

fn invoices_unsupported() -> TargetError {
    TargetError::rejected(501, "this writer does not write supplier invoices")
}

/// Writes purchase orders back to the source.
///
/// Creates are not idempotent: an implementation stamps
/// [`SourcePoDraft::external_ref`] so [`find_by_external_ref`](Self::find_by_external_ref) can
/// find a create whose outcome was unknown, and returns errors whose
/// [`TargetError::delivery`] says whether the write may have happened.
#[async_trait]
pub trait SourcePurchaseWriter: Send + Sync {
    /// The purchase order as it is now (`None` when it does not exist).
    async fn get_po(&self, po_number: &str) -> Result<Option<SourcePoState>, TargetError>;
    /// PO numbers of the orders stamped with this external reference.
    async fn find_by_external_ref(&self, external_ref: &str) -> Result<Vec<String>, TargetError>;
    /// Create a purchase order; returns its PO number.
    async fn create_po(&self, draft: &SourcePoDraft) -> Result<String, TargetError>;
    /// Finish a create that stopped part-way (a crash, or a failure after the header was
    /// written): `po_number` exists in the source and carries `draft.external_ref`. Insert the
    /// lines of `draft` it lacks (matched by line number), each exactly once, and leave the
    /// header and the lines it has as they are.
    ///
    /// The pipeline calls it when an earlier create of the same target purchase is known to
    /// have started (its intent, or a source PO found by the external reference) before it
    /// links the two sides, so the forward direction never sees a half-written PO as new.
    /// The default refuses (not transient): a writer that cannot complete a PO leaves the
    /// record failed and reported, never "already in the source".
    async fn complete_po(&self, po_number: &str, draft: &SourcePoDraft) -> Result<(), TargetError> {
        let _ = draft;
        Err(TargetError::rejected(
            501,
            format!("this writer cannot complete the partly written purchase order {po_number}"),
        ))
    }
    /// Change status and received quantities.
    async fn update_po(&self, po_number: &str, change: &SourcePoChange) -> Result<(), TargetError>;

    /// Whether this writer writes supplier invoices ([`find_invoices`](Self::find_invoices) and
    /// [`create_invoice`](Self::create_invoice)). The default is `false`: the pipeline then
    /// leaves invoices authorised in the target alone.
    fn writes_invoices(&self) -> bool {
        false
    }

    /// The source's keys (voucher, invoice batch or document id) of the invoices of this
    /// vendor carrying this supplier invoice number. Used before every invoice create (lookup
    /// before create) and to recognise an invoice that came from the source (echo).
    async fn find_invoices(
        &self,
        vendor_id: &str,
        invoice_number: &str,
    ) -> Result<Vec<String>, TargetError> {
        let _ = (vendor_id, invoice_number);
        Err(invoices_unsupported())
    }

    /// Create a supplier invoice; returns its key in the source (the same kind of key
    /// [`find_invoices`](Self::find_invoices) returns). Not idempotent: never resent after an
    /// unknown outcome without a lookup.
    async fn create_invoice(&self, draft: &SourceInvoiceDraft) -> Result<String, TargetError> {
        let _ = draft;
        Err(invoices_unsupported())
    }
}
