//! Line and additional-charge models shared by purchase orders, invoices and credit notes.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::codec::{self, Guid};

/// Compute a line total the way Cin7 validates it (as far as documented): quantity × price,
/// less the percentage discount, rounded to 4 decimal places. Tax is not included.
///
/// ```
/// use rust_decimal::Decimal;
/// use cin7_core_client::purchase::line_total;
/// let total = line_total(Decimal::new(3, 0), Decimal::new(19999, 4), Some(Decimal::new(10, 0)));
/// assert_eq!(total, Decimal::new(53997, 4)); // 3 × 1.9999 × 0.9 = 5.39973 → 5.3997
/// ```
pub fn line_total(quantity: Decimal, price: Decimal, discount_percent: Option<Decimal>) -> Decimal {
    let discount = discount_percent.unwrap_or_default().round_dp(2);
    let gross = quantity.round_dp(4) * price.round_dp(4);
    (gross * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED).round_dp(4)
}

/// A purchase order line (`POST /purchase/order`). There is no `Account` on order lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct OrderLine {
    /// Product ID (this and/or `SKU`).
    #[serde(
        rename = "ProductID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_id: Option<Guid>,
    /// Product SKU (50).
    #[serde(rename = "SKU", skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product name (1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Quantity (4 dp).
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Unit price (4 dp).
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// Discount percentage (0–100, 2 dp).
    #[serde(with = "codec::decimal2", skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// Tax amount (4 dp).
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
    /// Tax rule **name** (50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rule: Option<String>,
    /// The supplier's SKU (50).
    #[serde(rename = "SupplierSKU", skip_serializing_if = "Option::is_none")]
    pub supplier_sku: Option<String>,
    /// Comment (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Line total (4 dp), checked by Cin7; see [`line_total`].
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub total: Option<Decimal>,
}

impl OrderLine {
    /// Set `Total` from quantity, price and discount with [`line_total`].
    pub fn with_computed_total(mut self) -> Self {
        if let (Some(q), Some(p)) = (self.quantity, self.price) {
            self.total = Some(line_total(q, p, self.discount));
        }
        self
    }
}

/// A supplier invoice (or credit note) line: order-line fields plus the required `Account`
/// (the debit account code: inventory or expense).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InvoiceLine {
    /// Product ID (this and/or `SKU`).
    #[serde(
        rename = "ProductID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_id: Option<Guid>,
    /// Product SKU (50).
    #[serde(rename = "SKU", skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Quantity (4 dp).
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Unit price (4 dp).
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// Discount percentage (2 dp).
    #[serde(with = "codec::decimal2", skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// Tax amount (4 dp).
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
    /// Tax rule **name**.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rule: Option<String>,
    /// Account **code** to debit (required, 50), e.g. `715`.
    pub account: String,
    /// Comment (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Line total (4 dp); see [`line_total`].
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub total: Option<Decimal>,
}

/// An additional charge (freight, rounding…) on an order, invoice or credit note.
/// `Account` is required on invoices and credit notes and absent on orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AdditionalCharge {
    /// The name of a service product (256).
    pub description: String,
    /// Reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Quantity.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Unit price.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// Discount percentage.
    #[serde(with = "codec::decimal2", skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// Tax amount.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
    /// Tax rule **name**.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rule: Option<String>,
    /// Account **code** (invoices and credit notes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Total.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub total: Option<Decimal>,
}
