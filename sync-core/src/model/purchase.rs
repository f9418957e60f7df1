//! Purchase orders and supplier invoices.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::SourceIdentity;

/// The source-side status of a purchase order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoStatus {
    /// Being prepared.
    Planned,
    /// Released / approved to the supplier.
    Ordered,
    /// Fully received or closed.
    Closed,
    /// Cancelled.
    Cancelled,
}

/// One purchase-order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoLine {
    /// Line number in the source.
    pub line_no: u32,
    /// Source item code (mapped to a Cin7 SKU).
    pub sku: String,
    /// Description.
    pub description: String,
    /// Quantity ordered.
    pub quantity: Decimal,
    /// Unit price in the order currency.
    pub unit_price: Decimal,
    /// Source tax code, when the line has one.
    pub tax_rule: Option<String>,
}

/// A purchase order (header and lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    /// Source identity (its `id` is normally the PO number).
    pub identity: SourceIdentity,
    /// The PO number shown to people.
    pub po_number: String,
    /// The supplier's vendor ID (its identity is `identity.sibling(vendor_id)`).
    pub vendor_id: String,
    /// Order date (a business date).
    pub order_date: NaiveDate,
    /// Required-by date.
    pub required_by: Option<NaiveDate>,
    /// ISO currency code.
    pub currency: String,
    /// Source warehouse / ship-to location code.
    pub location: Option<String>,
    /// Status.
    pub status: PoStatus,
    /// Free-text note.
    pub memo: Option<String>,
    /// Lines.
    pub lines: Vec<PoLine>,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}

impl PurchaseOrder {
    /// The identity of this order's supplier in the same source.
    pub fn supplier_identity(&self) -> SourceIdentity {
        self.identity.sibling(self.vendor_id.clone())
    }
}

/// One supplier-invoice line, allocated to a GL account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Line number in the source.
    pub line_no: u32,
    /// Source item code, when the line is for an item.
    pub sku: Option<String>,
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price.
    pub unit_price: Decimal,
    /// The CloudSuite GL account the line is distributed to.
    pub gl_account: String,
    /// Source tax code.
    pub tax_rule: Option<String>,
}

/// A supplier invoice (A/P voucher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierInvoice {
    /// Source identity (voucher key).
    pub identity: SourceIdentity,
    /// The supplier's invoice number (posted to Cin7 and used to look the invoice up).
    pub invoice_number: String,
    /// The supplier's vendor ID.
    pub vendor_id: String,
    /// The source id of the purchase order this invoice is for, if any.
    pub po_id: Option<String>,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// ISO currency code.
    pub currency: String,
    /// Lines.
    pub lines: Vec<InvoiceLine>,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}

impl SupplierInvoice {
    /// The identity of this invoice's supplier in the same source.
    pub fn supplier_identity(&self) -> SourceIdentity {
        self.identity.sibling(self.vendor_id.clone())
    }

    /// The identity of this invoice's purchase order, if it has one.
    pub fn po_identity(&self) -> Option<crate::model::SourceIdentity> {
        self.po_id
            .as_ref()
            .map(|id| self.identity.sibling(id.clone()))
    }
}
