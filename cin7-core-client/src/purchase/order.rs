//! The order step: `GET/POST /purchase/order` (for simple and advanced purchases).
//!
//! A `POST` **replaces** the order's lines and charges; it is only accepted while the order is
//! `DRAFT` or `NOT AVAILABLE`. Repeating it with the same `TaskID` has the same effect, so it is
//! sent as an idempotent write.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lines::{AdditionalCharge, OrderLine};
use super::status::TaskStatus;
use crate::codec::{self, Guid};

/// A purchase order (the order step of a purchase).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PurchaseOrder {
    /// The purchase ID (the order's task ID).
    #[serde(
        rename = "TaskID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_id: Option<Guid>,
    /// Whether additional charges are combined.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub combine_additional_charges: Option<bool>,
    /// Memo (1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// DRAFT or AUTHORISED when sending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
    /// Order lines.
    pub lines: Vec<OrderLine>,
    /// Additional charges.
    pub additional_charges: Vec<AdditionalCharge>,
    /// Total before tax (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub total_before_tax: Option<Decimal>,
    /// Tax (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub tax: Option<Decimal>,
    /// Total (read-only).
    #[serde(with = "codec::decimal4", skip_serializing)]
    pub total: Option<Decimal>,
}
