//! Products: `GET /product` (list with the `Include*` flags, get by ID).
//!
//! Products page at **100** rows by default (Cin7 has failed larger product pages, notably
//! with every `Include*` flag on); raise it with `.limit()` at your own risk. Category, Brand
//! and UOM must already exist in Cin7: the API does not create them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::client::Cin7Client;
use crate::codec::{self, Guid, open_enum};
use crate::error::Result;
use crate::pagination::ListBuilder;

open_enum! {
    /// Product status.
    pub enum ProductStatus {
        /// In use.
        Active => "Active",
        /// Retired.
        Deprecated => "Deprecated",
    }
}

/// A product (the common fields; everything else, including the blocks the `Include*` flags
/// add, is kept in [`Product::other_fields`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Product {
    /// Product ID.
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// SKU.
    #[serde(rename = "SKU")]
    pub sku: String,
    /// Name.
    pub name: String,
    /// Category name.
    pub category: Option<String>,
    /// Brand name.
    pub brand: Option<String>,
    /// Stock, Service, …
    #[serde(rename = "Type")]
    pub product_type: Option<String>,
    /// Costing method (FIFO, …).
    pub costing_method: Option<String>,
    /// Unit of measure.
    #[serde(rename = "UOM")]
    pub uom: Option<String>,
    /// Active or Deprecated.
    pub status: Option<ProductStatus>,
    /// Barcode.
    pub barcode: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Default location.
    pub default_location: Option<String>,
    /// Average cost.
    #[serde(with = "codec::decimal4")]
    pub average_cost: Option<Decimal>,
    /// Price tier 1.
    #[serde(with = "codec::decimal4")]
    pub price_tier1: Option<Decimal>,
    /// Purchase tax rule name.
    pub purchase_tax_rule: Option<String>,
    /// Sale tax rule name.
    pub sale_tax_rule: Option<String>,
    /// Inventory account code.
    pub inventory_account: Option<String>,
    /// COGS account code.
    #[serde(rename = "COGSAccount")]
    pub cogs_account: Option<String>,
    /// Last change.
    #[serde(with = "codec::datetime_opt")]
    pub last_modified_on: Option<DateTime<Utc>>,
    /// Suppliers (with `IncludeSuppliers`).
    pub suppliers: Vec<serde_json::Value>,
    /// Everything else (BOM, movements, attachments, reorder levels, custom prices…).
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

/// Product endpoints; see [`Cin7Client::products`].
#[derive(Debug, Clone)]
pub struct Products {
    client: Cin7Client,
}

impl Cin7Client {
    /// Product endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut products = client.products().list().include_suppliers(true).stream();
    /// while let Some(p) = products.try_next().await? {
    ///     println!("{} {}", p.sku, p.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn products(&self) -> Products {
        Products {
            client: self.clone(),
        }
    }
}

impl Products {
    /// `GET /product` with filters (100 rows per page by default).
    pub fn list(&self) -> ListBuilder<Product> {
        ListBuilder::new(&self.client, "product", "Products")
    }

    /// One product by ID.
    pub async fn get(&self, id: &Guid) -> Result<Option<Product>> {
        let page = self
            .list()
            .id(id)
            .include_deprecated(true)
            .limit(1)
            .send()
            .await?;
        Ok(page.items.into_iter().next())
    }
}

impl ListBuilder<Product> {
    /// By ID.
    pub fn id(self, id: &Guid) -> Self {
        self.filter("ID", id)
    }
    /// Name starts with.
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }
    /// By SKU.
    pub fn sku(self, sku: &str) -> Self {
        self.filter("Sku", sku)
    }
    /// Changed at or after `since`.
    pub fn modified_since(self, since: DateTime<Utc>) -> Self {
        self.filter("ModifiedSince", codec::format_datetime(since))
    }
    /// Include deprecated products.
    pub fn include_deprecated(self, include: bool) -> Self {
        self.filter("IncludeDeprecated", include)
    }
    /// Include bills of materials.
    pub fn include_bom(self, include: bool) -> Self {
        self.filter("IncludeBOM", include)
    }
    /// Include suppliers.
    pub fn include_suppliers(self, include: bool) -> Self {
        self.filter("IncludeSuppliers", include)
    }
    /// Include movements.
    pub fn include_movements(self, include: bool) -> Self {
        self.filter("IncludeMovements", include)
    }
    /// Include attachments.
    pub fn include_attachments(self, include: bool) -> Self {
        self.filter("IncludeAttachments", include)
    }
    /// Include reorder levels.
    pub fn include_reorder_levels(self, include: bool) -> Self {
        self.filter("IncludeReorderLevels", include)
    }
    /// Include custom prices.
    pub fn include_custom_prices(self, include: bool) -> Self {
        self.filter("IncludeCustomPrices", include)
    }
}
