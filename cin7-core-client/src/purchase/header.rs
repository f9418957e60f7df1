//! The advanced-purchase header (`/advanced-purchase`): what a `GET` returns and what a
//! `POST` / `PUT` sends.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::invoice::PurchaseInvoice;
use super::order::PurchaseOrder;
use super::status::*;
use super::stock::StockReceived;
use crate::codec::{self, Guid};

/// A purchase billing or shipping address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchaseAddress {
    /// Line 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Line 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Shipping only: deliver to another company.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub ship_to_other: Option<bool>,
    /// Shipping only: company (128).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Read-only display line 1.
    #[serde(skip_serializing)]
    pub display_address_line1: Option<String>,
    /// Read-only display line 2.
    #[serde(skip_serializing)]
    pub display_address_line2: Option<String>,
}

/// The purchase header fields Cin7 accepts on `POST` and `PUT /advanced-purchase`.
///
/// ```
/// use cin7_core_client::purchase::{Approach, PurchaseHeader, PurchaseType};
/// let header = PurchaseHeader {
///     supplier: Some("Acme Ltd".into()),
///     approach: Some(Approach::Invoice),
///     location: Some("Main Warehouse".into()),
///     purchase_type: Some(PurchaseType::Advanced),
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&header).unwrap();
/// assert_eq!(json["Approach"], "INVOICE");
/// assert_eq!(json["PurchaseType"], "Advanced");
/// assert!(json.get("ID").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchaseHeader {
    /// Purchase ID (required on `PUT`, absent on `POST`).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// Supplier ID (this or `Supplier` is required).
    #[serde(
        rename = "SupplierID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub supplier_id: Option<Guid>,
    /// Supplier name (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Contact (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Phone (50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// True when there is no order (blind receipt).
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub blind_receipt: Option<bool>,
    /// Invoice first or stock first (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approach: Option<Approach>,
    /// Billing address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<PurchaseAddress>,
    /// Shipping address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<PurchaseAddress>,
    /// Default tax rule **name**.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rule: Option<String>,
    /// Inclusive or Exclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_calculation: Option<TaxCalculation>,
    /// Payment term **name**.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms: Option<String>,
    /// The purchase's order date (a calendar date, sent as `yyyy-MM-ddT00:00:00.000`).
    ///
    /// Cin7's write table does not list `OrderDate` (it lists it among the fields a response
    /// carries); without it Cin7 dates the purchase the day it is created. It is sent so a
    /// purchase copied from another system keeps that system's date; whether a live account
    /// honours it is unconfirmed, so read `OrderDate` back from the answer to know.
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub order_date: Option<NaiveDate>,
    /// Required-by date.
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub required_by: Option<NaiveDate>,
    /// Receiving location **name** (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Simple or Advanced (`POST` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_type: Option<PurchaseType>,
    /// Note (1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Service-only purchase.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub is_service_only: Option<bool>,
    /// Base-currency units per supplier-currency unit.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub currency_rate: Option<Decimal>,
    /// `{AdditionalAttribute1..10}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An advanced purchase as `GET /advanced-purchase` returns it: the header, the read-only
/// fields and the child documents (arrays in the advanced shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AdvancedPurchase {
    /// Purchase ID.
    #[serde(rename = "ID", with = "codec::guid_opt")]
    pub id: Option<Guid>,
    /// Supplier ID.
    #[serde(rename = "SupplierID", with = "codec::guid_opt")]
    pub supplier_id: Option<Guid>,
    /// Supplier name.
    pub supplier: Option<String>,
    /// Contact.
    pub contact: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Default inventory account code for invoice lines.
    pub inventory_account: Option<String>,
    /// Blind receipt.
    #[serde(with = "codec::bool_opt")]
    pub blind_receipt: Option<bool>,
    /// Simple, Advanced or Service purchase.
    #[serde(rename = "Type")]
    pub kind: Option<PurchaseKind>,
    /// Invoice first or stock first.
    pub approach: Option<Approach>,
    /// Billing address.
    pub billing_address: Option<PurchaseAddress>,
    /// Shipping address.
    pub shipping_address: Option<PurchaseAddress>,
    /// Default tax rule name.
    pub tax_rule: Option<String>,
    /// Inclusive or Exclusive.
    pub tax_calculation: Option<TaxCalculation>,
    /// Payment term name.
    pub terms: Option<String>,
    /// Required-by date.
    #[serde(with = "codec::date_opt")]
    pub required_by: Option<NaiveDate>,
    /// Receiving location name.
    pub location: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Auto-generated order number, e.g. `PO-00102`.
    pub order_number: Option<String>,
    /// Order date (a business date).
    #[serde(with = "codec::date_opt")]
    pub order_date: Option<NaiveDate>,
    /// Overall status.
    pub status: Option<PurchaseStatus>,
    /// Combined receiving status.
    pub combined_receiving_status: Option<CombinedReceivingStatus>,
    /// Combined invoice status.
    pub combined_invoice_status: Option<CombinedInvoiceStatus>,
    /// Combined payment status.
    pub combined_payment_status: Option<CombinedPaymentStatus>,
    /// Base currency.
    pub base_currency: Option<String>,
    /// Supplier currency.
    pub supplier_currency: Option<String>,
    /// Currency rate.
    #[serde(with = "codec::decimal4")]
    pub currency_rate: Option<Decimal>,
    /// Service-only purchase.
    #[serde(with = "codec::bool_opt")]
    pub is_service_only: Option<bool>,
    /// Last change.
    #[serde(with = "codec::datetime_opt")]
    pub last_updated_date: Option<DateTime<Utc>>,
    /// The order step.
    pub order: Option<PurchaseOrder>,
    /// Stock-received tasks.
    #[serde(alias = "StockReceivedList")]
    pub stock_received: Vec<StockReceived>,
    /// Invoices (each with its own `TaskID`).
    #[serde(alias = "Invoices")]
    pub invoice: Vec<PurchaseInvoice>,
    /// Additional attributes.
    pub additional_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Everything else (put-away, credit notes, journals, attachments, movements).
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}
