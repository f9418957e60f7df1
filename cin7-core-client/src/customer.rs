//! Customers: `GET/POST/PUT /customer`.
//!
//! Like suppliers: writes answer with the `CustomerList` envelope; addresses and contacts
//! without an `ID` are created by every `PUT` (such an update is never resent after an
//! uncertain failure); retire a customer with `Status: Deprecated`. Customer names are
//! documented as unique.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sdk_common::retry::Idempotency;
use serde::{Deserialize, Serialize};

use crate::address::{Address, Contact};
use crate::client::Cin7Client;
use crate::codec::{self, Guid};
use crate::error::{Error, Result};
use crate::pagination::ListBuilder;
use crate::request::Cin7Request;
pub use crate::supplier::SupplierStatus as CustomerStatus;

/// A Cin7 customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Customer {
    /// Customer ID (assigned by Cin7; required on update).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// Name (required, unique).
    pub name: String,
    /// Active or Deprecated (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CustomerStatus>,
    /// Currency code (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Payment term **name** (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_term: Option<String>,
    /// Accounts-receivable account code (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_receivable: Option<String>,
    /// Revenue account code (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue_account: Option<String>,
    /// Tax rule **name** (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rule: Option<String>,
    /// Discount percentage.
    #[serde(with = "codec::decimal2", skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// Price tier name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_tier: Option<String>,
    /// Default location name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Default carrier name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Sales representative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_representative: Option<String>,
    /// Credit limit.
    #[serde(with = "codec::decimal4", skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<Decimal>,
    /// On credit hold.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub is_on_credit_hold: Option<bool>,
    /// Tax number (text; `""` read as none).
    #[serde(with = "codec::text_opt", skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    /// Comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Display name (2025).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Parent customer (2025).
    #[serde(
        rename = "CustomerParentID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_parent_id: Option<Guid>,
    /// Last change, set by Cin7 (never sent).
    #[serde(with = "codec::datetime_opt", skip_serializing)]
    pub last_modified_on: Option<DateTime<Utc>>,
    /// Addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Contacts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// Every other field (additional attributes, tags, 2025 additions…).
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

impl Customer {
    /// Whether a `PUT` would add addresses or contacts (entries without an `ID`).
    pub fn adds_children(&self) -> bool {
        self.addresses.iter().any(|a| a.id.is_none())
            || self.contacts.iter().any(|c| c.id.is_none())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CustomerEnvelope {
    #[serde(default)]
    customer_list: Vec<Customer>,
}

/// Customer endpoints; see [`Cin7Client::customers`].
#[derive(Debug, Clone)]
pub struct Customers {
    client: Cin7Client,
}

impl Cin7Client {
    /// Customer endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// let page = client.customers().list().name("Harbour").limit(100).send().await?;
    /// println!("{} of {:?}", page.items.len(), page.total);
    /// # Ok(()) }
    /// ```
    pub fn customers(&self) -> Customers {
        Customers {
            client: self.clone(),
        }
    }
}

impl Customers {
    /// `GET /customer` with filters.
    pub fn list(&self) -> ListBuilder<Customer> {
        ListBuilder::new(&self.client, "customer", "CustomerList")
    }

    /// One customer by ID.
    pub async fn get(&self, id: &Guid) -> Result<Option<Customer>> {
        let page = self
            .list()
            .id(id)
            .include_deprecated(true)
            .limit(1)
            .send()
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// `POST /customer` (no `ID`; never resent after an uncertain failure).
    pub async fn create(&self, customer: &Customer) -> Result<Customer> {
        if customer.id.is_some() {
            return Err(Error::InvalidInput {
                field: "Customer.ID",
                reason: "a new customer must not carry an ID".into(),
            });
        }
        if customer.name.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "Customer.Name",
                reason: "is required".into(),
            });
        }
        self.saved(Cin7Request::post("customer").json(customer))
            .await
    }

    /// `PUT /customer` (`ID` required; not idempotent when it adds addresses or contacts).
    pub async fn update(&self, customer: &Customer) -> Result<Customer> {
        if customer.id.is_none() {
            return Err(Error::InvalidInput {
                field: "Customer.ID",
                reason: "an update needs the customer's ID".into(),
            });
        }
        let mut request = Cin7Request::put("customer").json(customer);
        if customer.adds_children() {
            request = request.with_idempotency(Idempotency::NonIdempotent);
        }
        self.saved(request).await
    }

    async fn saved(&self, request: Cin7Request) -> Result<Customer> {
        let endpoint = request.path().to_owned();
        let envelope: CustomerEnvelope = self.client.send(request).await?;
        envelope
            .customer_list
            .into_iter()
            .next()
            .ok_or_else(|| Error::Decode {
                endpoint,
                path: "CustomerList".into(),
                source: serde::de::Error::custom("the saved customer is missing from the answer"),
            })
    }
}

impl ListBuilder<Customer> {
    /// By ID.
    pub fn id(self, id: &Guid) -> Self {
        self.filter("ID", id)
    }
    /// Name starts with.
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }
    /// Changed at or after `since`.
    pub fn modified_since(self, since: DateTime<Utc>) -> Self {
        self.filter("ModifiedSince", codec::format_datetime(since))
    }
    /// Include deprecated customers.
    pub fn include_deprecated(self, include: bool) -> Self {
        self.filter("IncludeDeprecated", include)
    }
    /// Include product prices.
    pub fn include_product_prices(self, include: bool) -> Self {
        self.filter("IncludeProductPrices", include)
    }
    /// Filter by contact (name, email…).
    pub fn contact_filter(self, text: &str) -> Self {
        self.filter("ContactFilter", text)
    }
}
