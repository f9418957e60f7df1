//! Receiving stock: `POST /advanced-purchase/stock`.
//!
//! A post with no `TaskID` (or the zero GUID) creates a new receiving task; a post only adds
//! lines; a post with empty `Lines` authorises the task. None of this is safe to repeat, so
//! stock posts are never resent after an uncertain failure. Not available for service
//! purchases; on a simple purchase it converts it to advanced.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::status::TaskStatus;
use crate::codec::{self, Guid};

/// One received line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StockLine {
    /// Receiving date (required).
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Quantity.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Product ID (this and/or `SKU`).
    #[serde(
        rename = "ProductID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_id: Option<Guid>,
    /// SKU.
    #[serde(rename = "SKU", skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Name (read-only).
    #[serde(skip_serializing)]
    pub name: Option<String>,
    /// Location name (this or `LocationID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Location ID.
    #[serde(
        rename = "LocationID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub location_id: Option<Guid>,
    /// Batch or serial number (50).
    #[serde(rename = "BatchSN", skip_serializing_if = "Option::is_none")]
    pub batch_sn: Option<String>,
    /// Supplier SKU.
    #[serde(rename = "SupplierSKU", skip_serializing_if = "Option::is_none")]
    pub supplier_sku: Option<String>,
    /// Expiry date.
    #[serde(with = "codec::date_opt", skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<NaiveDate>,
    /// The stock batch (read-only).
    #[serde(rename = "CardID", with = "codec::guid_opt", skip_serializing)]
    pub card_id: Option<Guid>,
}

/// A stock-received task of a purchase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StockReceived {
    /// The purchase (on `POST`).
    #[serde(
        rename = "PurchaseID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub purchase_id: Option<Guid>,
    /// The receiving task (absent or zero creates a new one).
    #[serde(
        rename = "TaskID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_id: Option<Guid>,
    /// DRAFT or AUTHORISED when sending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
    /// Lines; empty authorises the task.
    pub lines: Vec<StockLine>,
}
