//! `GET /purchaseList`: every purchase (simple and advanced), with filters.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::status::*;
use crate::codec::{self, Guid};
use crate::pagination::ListBuilder;

/// One row of `purchaseList`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchaseListRow {
    /// Purchase ID.
    #[serde(rename = "ID", with = "codec::guid_opt")]
    pub id: Option<Guid>,
    /// Blind receipt.
    #[serde(with = "codec::bool_opt")]
    pub blind_receipt: Option<bool>,
    /// Order number.
    pub order_number: Option<String>,
    /// Overall status.
    pub status: Option<PurchaseStatus>,
    /// Order date.
    #[serde(with = "codec::date_opt")]
    pub order_date: Option<NaiveDate>,
    /// Invoice date.
    #[serde(with = "codec::date_opt")]
    pub invoice_date: Option<NaiveDate>,
    /// Supplier name.
    pub supplier: Option<String>,
    /// Supplier ID.
    #[serde(rename = "SupplierID", with = "codec::guid_opt")]
    pub supplier_id: Option<Guid>,
    /// Invoice number.
    #[serde(alias = "InvocieNumber")]
    pub invoice_number: Option<String>,
    /// Invoice amount.
    #[serde(with = "codec::decimal4")]
    pub invoice_amount: Option<Decimal>,
    /// Paid amount.
    #[serde(with = "codec::decimal4")]
    pub paid_amount: Option<Decimal>,
    /// Invoice due date.
    #[serde(with = "codec::date_opt")]
    pub invoice_due_date: Option<NaiveDate>,
    /// Required-by date.
    #[serde(with = "codec::date_opt")]
    pub required_by: Option<NaiveDate>,
    /// Base currency.
    pub base_currency: Option<String>,
    /// Supplier currency.
    pub supplier_currency: Option<String>,
    /// Credit note number.
    pub credit_note_number: Option<String>,
    /// Order status.
    pub order_status: Option<TaskStatus>,
    /// Stock received status.
    pub stock_received_status: Option<TaskStatus>,
    /// Unstock status.
    pub unstock_status: Option<TaskStatus>,
    /// Invoice status.
    pub invoice_status: Option<TaskStatus>,
    /// Credit note status.
    pub credit_note_status: Option<TaskStatus>,
    /// Last change.
    #[serde(with = "codec::datetime_opt")]
    pub last_updated_date: Option<DateTime<Utc>>,
    /// Simple, Advanced or Service purchase.
    #[serde(rename = "Type")]
    pub kind: Option<PurchaseKind>,
    /// Combined invoice status.
    pub combined_invoice_status: Option<CombinedInvoiceStatus>,
    /// Combined payment status.
    pub combined_payment_status: Option<CombinedPaymentStatus>,
    /// Combined receiving status.
    pub combined_receiving_status: Option<CombinedReceivingStatus>,
    /// Service-only purchase.
    #[serde(with = "codec::bool_opt")]
    pub is_service_only: Option<bool>,
    /// Related drop-ship sale task.
    #[serde(rename = "DropShipTaskID", with = "codec::guid_opt")]
    pub drop_ship_task_id: Option<Guid>,
}

impl ListBuilder<PurchaseListRow> {
    /// Matches order number, status, supplier, invoice number or credit note number.
    pub fn search(self, text: &str) -> Self {
        self.filter("Search", text)
    }

    /// Purchases required on or before `date`.
    pub fn required_by(self, date: NaiveDate) -> Self {
        self.filter("RequiredBy", codec::format_date(date))
    }

    /// Purchases updated at or after `since`.
    pub fn updated_since(self, since: DateTime<Utc>) -> Self {
        self.filter("UpdatedSince", codec::format_datetime(since))
    }

    /// Purchases updated at or before `until`.
    pub fn updated_until(self, until: DateTime<Utc>) -> Self {
        self.filter("UpdatedUntil", codec::format_datetime(until))
    }

    /// Overall status (sent as `Status=`).
    pub fn status(self, status: &PurchaseStatus) -> Self {
        self.filter("Status", status)
    }

    /// Order status.
    pub fn order_status(self, status: &TaskStatus) -> Self {
        self.filter("OrderStatus", status)
    }

    /// Stock-received status.
    pub fn restock_received_status(self, status: &TaskStatus) -> Self {
        self.filter("RestockReceivedStatus", status)
    }

    /// Invoice status.
    pub fn invoice_status(self, status: &TaskStatus) -> Self {
        self.filter("InvoiceStatus", status)
    }

    /// Credit note status.
    pub fn credit_note_status(self, status: &TaskStatus) -> Self {
        self.filter("CreditNoteStatus", status)
    }

    /// Unstock status.
    pub fn unstock_status(self, status: &TaskStatus) -> Self {
        self.filter("UnstockStatus", status)
    }

    /// Purchases linked to a drop-ship sale task.
    pub fn drop_ship_task_id(self, id: &Guid) -> Self {
        self.filter("DropShipTaskID", id)
    }
}
