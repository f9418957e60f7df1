//! Supplier invoices: `POST /advanced-purchase/invoice`.
//!
//! Preconditions (checked by Cin7): order `AUTHORISED`; invoice `DRAFT` or `NOT AVAILABLE`;
//! for stock-first purchases the stock received must already be `AUTHORISED`. Every line and
//! charge carries an `Account` code. A post without a `TaskID` (or with the zero GUID) creates a
//! new invoice task each time, so it is never resent after an uncertain failure.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lines::{AdditionalCharge, InvoiceLine};
use super::payment::PurchasePayment;
use super::status::TaskStatus;
use crate::codec::{self, Guid};

/// A supplier invoice of a purchase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchaseInvoice {
    /// The purchase (on `POST`).
    #[serde(
        rename = "PurchaseID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub purchase_id: Option<Guid>,
    /// The invoice task (absent or zero to create a new invoice).
    #[serde(
        rename = "TaskID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_id: Option<Guid>,
    /// Whether additional charges are combined.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub combine_additional_charges: Option<bool>,
    /// Supplier's invoice number (settable; searchable through `purchaseList?Search=`).
    #[serde(alias = "InvocieNumber", skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// Invoice date.
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<NaiveDate>,
    /// Due date (default from the terms).
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub invoice_due_date: Option<NaiveDate>,
    /// DRAFT or AUTHORISED when sending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
    /// Memo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Lines (each with an `Account`).
    pub lines: Vec<InvoiceLine>,
    /// Additional charges (each with an `Account`).
    pub additional_charges: Vec<AdditionalCharge>,
    /// Payments made against this invoice (read-only).
    #[serde(skip_serializing)]
    pub payments: Vec<PurchasePayment>,
    /// Amount paid (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub paid: Option<Decimal>,
    /// Total before tax (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub total_before_tax: Option<Decimal>,
    /// Tax (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub tax: Option<Decimal>,
    /// Total (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub total: Option<Decimal>,
    /// Last change (read-only, when sent).
    #[serde(with = "codec::datetime_opt", skip_serializing)]
    pub last_updated_date: Option<DateTime<Utc>>,
}

impl PurchaseInvoice {
    /// Whether posting this invoice again would overwrite the same task (it names a task)
    /// rather than create another invoice.
    pub fn targets_existing_task(&self) -> bool {
        self.task_id.as_ref().is_some_and(|id| !id.is_nil())
    }
}

/// The answer to an invoice `POST`: the purchase and all its invoices.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchaseInvoices {
    /// The purchase.
    #[serde(rename = "PurchaseID", with = "codec::guid_opt")]
    pub purchase_id: Option<Guid>,
    /// Every invoice of the purchase.
    #[serde(alias = "Invoice")]
    pub invoices: Vec<PurchaseInvoice>,
}
