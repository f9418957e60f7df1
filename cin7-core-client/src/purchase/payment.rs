//! Purchase payments: `GET/POST /advanced-purchase/payment`.
//!
//! The shape of the `GET` answer is not documented precisely; this module reads the payments
//! under `Payments` (or `PaymentLines`) next to an optional `PurchaseID`, and keeps any other
//! field in `other_fields`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codec::{self, Guid, open_enum};

open_enum! {
    /// Payment type (`POST` only).
    pub enum PaymentType {
        /// A payment to the supplier.
        Payment => "Payment",
        /// A refund from the supplier.
        Refund => "Refund",
        /// A prepayment.
        Prepayment => "Prepayment",
    }
}

/// A payment against a supplier invoice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchasePayment {
    /// Payment ID (read-only; required on `PUT`).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// The purchase (read-only).
    #[serde(rename = "PurchaseID", with = "codec::guid_opt", skip_serializing)]
    pub purchase_id: Option<Guid>,
    /// The **invoice** task paid.
    #[serde(
        rename = "TaskID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_id: Option<Guid>,
    /// Payment, Refund or Prepayment (`POST` only).
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<PaymentType>,
    /// Reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Amount (2 dp).
    #[serde(with = "codec::decimal2", skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// Payment date.
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub date_paid: Option<NaiveDate>,
    /// Bank or payment account **code**.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Currency rate.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub currency_rate: Option<Decimal>,
    /// Supplier deposit to use (`POST` only).
    #[serde(
        rename = "DepositID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub deposit_id: Option<Guid>,
    /// When Cin7 recorded it (read-only).
    #[serde(with = "codec::datetime_opt", skip_serializing)]
    pub date_created: Option<DateTime<Utc>>,
}

/// Payments read with `GET /advanced-purchase/payment`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchasePayments {
    /// The purchase, when the answer names it.
    #[serde(rename = "PurchaseID", with = "codec::guid_opt")]
    pub purchase_id: Option<Guid>,
    /// The payments.
    #[serde(alias = "PaymentLines")]
    pub payments: Vec<PurchasePayment>,
    /// Every other field of the answer.
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}
