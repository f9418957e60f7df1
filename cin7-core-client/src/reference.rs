//! Reference data: tax rules (`ref/tax`), payment terms (`ref/paymentterm`), locations
//! (`ref/location`) and the company settings (`me`).
//!
//! Documents reference these **by name** (TaxRule, PaymentTerm / Terms, Location), so resolve
//! and validate names against these lists before writing. No webhook covers them: poll.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::client::Cin7Client;
use crate::codec::{self, Guid};
use crate::error::Result;
use crate::pagination::ListBuilder;
use crate::request::Cin7Request;

/// One component of a tax rule. Cin7 sends `Percent` as `"10.0000000000"` and `Compound` as
/// `"0"`/`"1"`; both are read leniently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaxComponent {
    /// Component name.
    pub name: Option<String>,
    /// Percentage.
    #[serde(with = "codec::decimal4")]
    pub percent: Option<Decimal>,
    /// Account code.
    pub account_code: Option<String>,
    /// Whether it compounds on earlier components.
    #[serde(with = "codec::bool_opt")]
    pub compound: Option<bool>,
    /// Component order.
    #[serde(with = "codec::text_opt")]
    pub component_order: Option<String>,
}

/// A tax rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TaxRule {
    /// ID.
    #[serde(rename = "ID", with = "codec::guid_opt")]
    pub id: Option<Guid>,
    /// Name (50) — what documents reference.
    pub name: String,
    /// Liability account code.
    pub account: Option<String>,
    /// Whether prices include tax.
    #[serde(with = "codec::bool_opt")]
    pub tax_inclusive: Option<bool>,
    /// Total percentage (read-only).
    #[serde(with = "codec::decimal4")]
    pub tax_percent: Option<Decimal>,
    /// Active.
    #[serde(with = "codec::bool_opt")]
    pub is_active: Option<bool>,
    /// Usable on sales.
    #[serde(with = "codec::bool_opt")]
    pub is_tax_for_sale: Option<bool>,
    /// Usable on purchases.
    #[serde(with = "codec::bool_opt")]
    pub is_tax_for_purchase: Option<bool>,
    /// Components.
    pub components: Vec<TaxComponent>,
}

/// A payment term.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PaymentTerm {
    /// ID.
    #[serde(rename = "ID", with = "codec::guid_opt")]
    pub id: Option<Guid>,
    /// Name (256) — what documents reference.
    pub name: String,
    /// Days.
    #[serde(with = "codec::decimal4")]
    pub duration: Option<Decimal>,
    /// e.g. `number of days`, `day of next month`.
    pub method: Option<String>,
    /// Active.
    #[serde(with = "codec::bool_opt")]
    pub is_active: Option<bool>,
    /// Default term.
    #[serde(with = "codec::bool_opt")]
    pub is_default: Option<bool>,
}

/// A stock location.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Location {
    /// ID.
    #[serde(rename = "ID", with = "codec::guid_opt")]
    pub id: Option<Guid>,
    /// Name — what documents reference.
    pub name: String,
    /// Default location.
    #[serde(with = "codec::bool_opt")]
    pub is_default: Option<bool>,
    /// Deprecated location.
    #[serde(with = "codec::bool_opt")]
    pub deprecated: Option<bool>,
    /// Parent location.
    #[serde(rename = "ParentID", with = "codec::guid_opt")]
    pub parent_id: Option<Guid>,
    /// Address line 1.
    pub address_line1: Option<String>,
    /// City.
    pub address_city_suburb: Option<String>,
    /// Country.
    pub address_country: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

/// Company settings from `GET /me`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Me {
    /// Company name.
    pub company: Option<String>,
    /// Base currency.
    pub currency: Option<String>,
    /// IANA time zone, e.g. `Europe/Moscow` (business dates are in this calendar).
    pub time_zone: Option<String>,
    /// Lock date.
    #[serde(with = "codec::date_opt")]
    pub lock_date: Option<NaiveDate>,
    /// Tax calculation method.
    pub tax_calculation_method: Option<String>,
    /// Quantity precision, e.g. `N2`.
    pub maximum_decimal_places_in_quantity: Option<String>,
    /// Every other setting.
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

impl Me {
    /// The number of decimal places allowed in quantities (`N2` → 2), when known.
    pub fn quantity_decimal_places(&self) -> Option<u32> {
        let text = self.maximum_decimal_places_in_quantity.as_deref()?.trim();
        text.trim_start_matches(['N', 'n']).parse().ok()
    }
}

/// Reference-data endpoints; see [`Cin7Client::reference`].
#[derive(Debug, Clone)]
pub struct Reference {
    client: Cin7Client,
}

/// `GET /me`; see [`Cin7Client::me`].
#[derive(Debug, Clone)]
pub struct MeHandler {
    client: Cin7Client,
}

impl MeHandler {
    /// Fetch the company settings (also a good connectivity check).
    pub async fn get(&self) -> Result<Me> {
        self.client.send(Cin7Request::get("me")).await
    }
}

impl Cin7Client {
    /// Reference data: tax rules, payment terms, locations.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// let purchase_taxes = client.reference().tax_rules().is_tax_for_purchase(true).all().await?;
    /// let names: Vec<_> = purchase_taxes.iter().map(|t| t.name.as_str()).collect();
    /// println!("{names:?}");
    /// # Ok(()) }
    /// ```
    pub fn reference(&self) -> Reference {
        Reference {
            client: self.clone(),
        }
    }

    /// Company settings (`GET /me`).
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// let me = client.me().get().await?;
    /// println!("{:?} in {:?}", me.currency, me.time_zone);
    /// # Ok(()) }
    /// ```
    pub fn me(&self) -> MeHandler {
        MeHandler {
            client: self.clone(),
        }
    }
}

impl Reference {
    /// `GET /ref/tax`.
    pub fn tax_rules(&self) -> ListBuilder<TaxRule> {
        ListBuilder::new(&self.client, "ref/tax", "TaxRuleList")
    }

    /// `GET /ref/paymentterm`.
    pub fn payment_terms(&self) -> ListBuilder<PaymentTerm> {
        ListBuilder::new(&self.client, "ref/paymentterm", "PaymentTermList")
    }

    /// `GET /ref/location`.
    pub fn locations(&self) -> ListBuilder<Location> {
        ListBuilder::new(&self.client, "ref/location", "LocationList")
    }
}

impl ListBuilder<TaxRule> {
    /// By ID.
    pub fn id(self, id: &Guid) -> Self {
        self.filter("ID", id)
    }
    /// Name starts with.
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }
    /// Only active (or inactive) rules.
    pub fn is_active(self, active: bool) -> Self {
        self.filter("IsActive", active)
    }
    /// Rules usable on sales.
    pub fn is_tax_for_sale(self, yes: bool) -> Self {
        self.filter("IsTaxForSale", yes)
    }
    /// Rules usable on purchases.
    pub fn is_tax_for_purchase(self, yes: bool) -> Self {
        self.filter("IsTaxForPurchase", yes)
    }
    /// Rules posting to this account code.
    pub fn account(self, code: &str) -> Self {
        self.filter("Account", code)
    }
}

impl ListBuilder<PaymentTerm> {
    /// By ID.
    pub fn id(self, id: &Guid) -> Self {
        self.filter("ID", id)
    }
    /// Name starts with.
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }
    /// By method.
    pub fn method(self, method: &str) -> Self {
        self.filter("Method", method)
    }
    /// Only active (or inactive) terms.
    pub fn is_active(self, active: bool) -> Self {
        self.filter("IsActive", active)
    }
    /// Only the default term.
    pub fn is_default(self, default: bool) -> Self {
        self.filter("IsDefault", default)
    }
}

impl ListBuilder<Location> {
    /// By ID.
    pub fn id(self, id: &Guid) -> Self {
        self.filter("ID", id)
    }
    /// Name starts with.
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }
    /// Include deprecated locations.
    pub fn deprecated(self, deprecated: bool) -> Self {
        self.filter("Deprecated", deprecated)
    }
}
