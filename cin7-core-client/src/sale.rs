//! Sales: `GET /saleList` with filters and `GET /sale`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::client::Cin7Client;
use crate::codec::{self, Guid, open_enum};
use crate::error::Result;
use crate::pagination::ListBuilder;
use crate::request::Cin7Request;

open_enum! {
    /// A sale's overall status (open set).
    pub enum SaleStatus {
        /// Draft.
        Draft => "DRAFT",
        /// Quote in progress.
        Estimating => "ESTIMATING",
        /// Quote authorised.
        Estimated => "ESTIMATED",
        /// Order in draft.
        Ordering => "ORDERING",
        /// Order authorised.
        Ordered => "ORDERED",
        /// Backordered.
        Backordered => "BACKORDERED",
        /// Picking.
        Picking => "PICKING",
        /// Picked.
        Picked => "PICKED",
        /// Packing.
        Packing => "PACKING",
        /// Packed.
        Packed => "PACKED",
        /// Shipping.
        Shipping => "SHIPPING",
        /// Shipped.
        Shipped => "SHIPPED",
        /// Invoiced.
        Invoiced => "INVOICED",
        /// Credited.
        Credited => "CREDITED",
        /// Voided.
        Voided => "VOIDED",
        /// Completed.
        Completed => "COMPLETED",
    }
}

/// One row of `saleList`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SaleListRow {
    /// Sale ID.
    #[serde(rename = "SaleID", alias = "ID", with = "codec::guid_opt")]
    pub sale_id: Option<Guid>,
    /// Order number.
    pub order_number: Option<String>,
    /// Status.
    pub status: Option<SaleStatus>,
    /// Order date.
    #[serde(with = "codec::date_opt")]
    pub order_date: Option<NaiveDate>,
    /// Invoice date.
    #[serde(with = "codec::date_opt")]
    pub invoice_date: Option<NaiveDate>,
    /// Customer name.
    pub customer: Option<String>,
    /// Customer ID.
    #[serde(rename = "CustomerID", with = "codec::guid_opt")]
    pub customer_id: Option<Guid>,
    /// Customer reference.
    pub customer_reference: Option<String>,
    /// Invoice number.
    pub invoice_number: Option<String>,
    /// Invoice amount.
    #[serde(with = "codec::decimal4")]
    pub invoice_amount: Option<Decimal>,
    /// Paid amount.
    #[serde(with = "codec::decimal4")]
    pub paid_amount: Option<Decimal>,
    /// Base currency.
    pub base_currency: Option<String>,
    /// Customer currency.
    pub customer_currency: Option<String>,
    /// Your external ID.
    #[serde(rename = "ExternalID")]
    pub external_id: Option<String>,
    /// Last change.
    #[serde(with = "codec::datetime_opt")]
    pub updated: Option<DateTime<Utc>>,
    /// Order status.
    pub order_status: Option<String>,
    /// Combined invoice status.
    pub combined_invoice_status: Option<String>,
    /// Combined payment status.
    pub combined_payment_status: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

/// A sale as `GET /sale` returns it (header fields typed; order, fulfilments, invoices and
/// the rest kept as JSON in [`Sale::other_fields`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Sale {
    /// Sale ID.
    #[serde(rename = "ID", with = "codec::guid_opt")]
    pub id: Option<Guid>,
    /// Customer name.
    pub customer: Option<String>,
    /// Customer ID.
    #[serde(rename = "CustomerID", with = "codec::guid_opt")]
    pub customer_id: Option<Guid>,
    /// Status.
    pub status: Option<SaleStatus>,
    /// Sale type.
    #[serde(rename = "Type")]
    pub sale_type: Option<String>,
    /// Location name.
    pub location: Option<String>,
    /// Your external ID.
    #[serde(rename = "ExternalID")]
    pub external_id: Option<String>,
    /// Customer reference.
    pub customer_reference: Option<String>,
    /// Sale order date.
    #[serde(with = "codec::date_opt")]
    pub sale_order_date: Option<NaiveDate>,
    /// Last change.
    #[serde(with = "codec::datetime_opt")]
    pub last_modified_on: Option<DateTime<Utc>>,
    /// Everything else.
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

/// Sale endpoints; see [`Cin7Client::sales`].
#[derive(Debug, Clone)]
pub struct Sales {
    client: Cin7Client,
}

/// `GET /sale`; see [`Sales::get`].
#[derive(Debug)]
#[must_use = "call .send()"]
pub struct GetSale {
    client: Cin7Client,
    request: Cin7Request,
}

impl GetSale {
    /// Combine additional charges into the lines.
    pub fn combine_additional_charges(mut self, yes: bool) -> Self {
        self.request = self.request.query("CombineAdditionalCharges", yes);
        self
    }
    /// Leave out inventory movements.
    pub fn hide_inventory_movements(mut self, yes: bool) -> Self {
        self.request = self.request.query("HideInventoryMovements", yes);
        self
    }
    /// Include transactions.
    pub fn include_transactions(mut self, yes: bool) -> Self {
        self.request = self.request.query("IncludeTransactions", yes);
        self
    }
    /// Fetch the sale.
    pub async fn send(self) -> Result<Sale> {
        self.client.send(self.request).await
    }
}

impl Cin7Client {
    /// Sale endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// let rows = client.sales().list().external_id("SHOP-1001").all().await?;
    /// if let Some(id) = rows.first().and_then(|r| r.sale_id.clone()) {
    ///     let sale = client.sales().get(&id).send().await?;
    ///     println!("{:?}", sale.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sales(&self) -> Sales {
        Sales {
            client: self.clone(),
        }
    }
}

impl Sales {
    /// `GET /saleList` with filters.
    pub fn list(&self) -> ListBuilder<SaleListRow> {
        ListBuilder::new(&self.client, "saleList", "SaleList")
    }

    /// `GET /sale?ID=`.
    pub fn get(&self, id: &Guid) -> GetSale {
        GetSale {
            client: self.client.clone(),
            request: Cin7Request::get("sale").query("ID", id),
        }
    }
}

impl ListBuilder<SaleListRow> {
    /// Free-text search.
    pub fn search(self, text: &str) -> Self {
        self.filter("Search", text)
    }
    /// Created at or after.
    pub fn created_since(self, since: DateTime<Utc>) -> Self {
        self.filter("CreatedSince", codec::format_datetime(since))
    }
    /// Updated at or after.
    pub fn updated_since(self, since: DateTime<Utc>) -> Self {
        self.filter("UpdatedSince", codec::format_datetime(since))
    }
    /// Ship by on or before.
    pub fn ship_by(self, date: NaiveDate) -> Self {
        self.filter("ShipBy", codec::format_date(date))
    }
    /// Overall status.
    pub fn status(self, status: &SaleStatus) -> Self {
        self.filter("Status", status)
    }
    /// Quote status.
    pub fn quote_status(self, status: &str) -> Self {
        self.filter("QuoteStatus", status)
    }
    /// Order status.
    pub fn order_status(self, status: &str) -> Self {
        self.filter("OrderStatus", status)
    }
    /// Combined pick status.
    pub fn combined_pick_status(self, status: &str) -> Self {
        self.filter("CombinedPickStatus", status)
    }
    /// Combined pack status.
    pub fn combined_pack_status(self, status: &str) -> Self {
        self.filter("CombinedPackStatus", status)
    }
    /// Combined shipping status.
    pub fn combined_shipping_status(self, status: &str) -> Self {
        self.filter("CombinedShippingStatus", status)
    }
    /// Combined invoice status.
    pub fn combined_invoice_status(self, status: &str) -> Self {
        self.filter("CombinedInvoiceStatus", status)
    }
    /// Credit note status.
    pub fn credit_note_status(self, status: &str) -> Self {
        self.filter("CreditNoteStatus", status)
    }
    /// Your external ID.
    pub fn external_id(self, id: &str) -> Self {
        self.filter("ExternalID", id)
    }
    /// Ready for shipping.
    pub fn ready_for_shipping(self, yes: bool) -> Self {
        self.filter("ReadyForShipping", yes)
    }
    /// Order location.
    pub fn order_location_id(self, id: &Guid) -> Self {
        self.filter("OrderLocationID", id)
    }
}
