//! Suppliers: `GET/POST/PUT /supplier`.
//!
//! There is no `DELETE`: retire a supplier by setting [`SupplierStatus::Deprecated`]. `POST`
//! and `PUT` answer with the list envelope (`{Total:1, Page:1, SupplierList:[saved]}`), which
//! this module unwraps.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sdk_common::retry::Idempotency;
use serde::{Deserialize, Serialize};

use crate::address::{Address, Contact};
use crate::client::Cin7Client;
use crate::codec::{self, Guid, open_enum};
use crate::error::{Error, Result};
use crate::pagination::ListBuilder;
use crate::request::Cin7Request;

open_enum! {
    /// Whether a supplier (or customer) is in use.
    pub enum SupplierStatus {
        /// In use.
        Active => "Active",
        /// Retired (hidden from lists unless `IncludeDeprecated`).
        Deprecated => "Deprecated",
    }
}

/// A Cin7 supplier.
///
/// Fields Cin7 does not document in its table (and the `AdditionalAttribute1`..`10` values)
/// are kept in [`Supplier::other_fields`], so a read-modify-write cycle sends them back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Supplier {
    /// The supplier ID (assigned by Cin7; required on update).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// Name (required, 256). Cin7's `Name` filter is a starts-with match.
    pub name: String,
    /// Currency code (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Payment term **name** (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_term: Option<String>,
    /// Accounts-payable account **code**, e.g. `800` (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_payable: Option<String>,
    /// Tax rule **name** (required on create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rule: Option<String>,
    /// Active or Deprecated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SupplierStatus>,
    /// Discount percentage, 0–100.
    #[serde(with = "codec::decimal2", skip_serializing_if = "Option::is_none")]
    pub discount: Option<Decimal>,
    /// Comments (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    /// Tax number (documented as an int; sent as text, `""` read as none).
    #[serde(with = "codec::text_opt", skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    /// Attribute set name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_set: Option<String>,
    /// Last change, set by Cin7 (never sent).
    #[serde(with = "codec::datetime_opt", skip_serializing)]
    pub last_modified_on: Option<DateTime<Utc>>,
    /// Addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Contacts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// Every other field, including `AdditionalAttribute1`..`10`.
    #[serde(flatten)]
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

impl Supplier {
    /// `AdditionalAttribute{n}` (1..=10) as text, if set.
    pub fn additional_attribute(&self, n: u8) -> Option<&str> {
        self.other_fields
            .get(&format!("AdditionalAttribute{n}"))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// Set `AdditionalAttribute{n}` (1..=10), e.g. to carry your own external ID.
    pub fn set_additional_attribute(&mut self, n: u8, value: impl Into<String>) -> Result<()> {
        if !(1..=10).contains(&n) {
            return Err(Error::InvalidInput {
                field: "AdditionalAttribute",
                reason: format!("index {n} is outside 1..=10"),
            });
        }
        self.other_fields.insert(
            format!("AdditionalAttribute{n}"),
            serde_json::Value::String(value.into()),
        );
        Ok(())
    }

    /// Whether a `PUT` of this supplier would add addresses or contacts (entries without an
    /// `ID`), which makes repeating it create duplicates.
    pub fn adds_children(&self) -> bool {
        self.addresses.iter().any(|a| a.id.is_none())
            || self.contacts.iter().any(|c| c.id.is_none())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SupplierEnvelope {
    #[serde(default)]
    supplier_list: Vec<Supplier>,
}

/// Supplier endpoints; see [`Cin7Client::suppliers`].
#[derive(Debug, Clone)]
pub struct Suppliers {
    client: Cin7Client,
}

impl Cin7Client {
    /// Supplier endpoints.
    ///
    /// ```no_run
    /// # async fn run(client: cin7_core_client::Cin7Client) -> cin7_core_client::Result<()> {
    /// use futures::TryStreamExt;
    /// let since = chrono::Utc::now() - chrono::Duration::days(1);
    /// let mut changed = client.suppliers().list().modified_since(since).limit(1000).stream();
    /// while let Some(supplier) = changed.try_next().await? {
    ///     println!("{} {:?}", supplier.name, supplier.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn suppliers(&self) -> Suppliers {
        Suppliers {
            client: self.clone(),
        }
    }
}

impl Suppliers {
    /// `GET /supplier` with filters; see the `ListBuilder<Supplier>` filter methods.
    pub fn list(&self) -> ListBuilder<Supplier> {
        ListBuilder::new(&self.client, "supplier", "SupplierList")
    }

    /// One supplier by ID (`None` when Cin7 returns no row).
    pub async fn get(&self, id: &Guid) -> Result<Option<Supplier>> {
        let page = self
            .list()
            .id(id)
            .include_deprecated(true)
            .limit(1)
            .send()
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// `POST /supplier`: create a supplier (it must not carry an `ID`). Not retried once it may
    /// have reached Cin7: on [`Error::UncertainWrite`] look it up by name before creating again.
    pub async fn create(&self, supplier: &Supplier) -> Result<Supplier> {
        if supplier.id.is_some() {
            return Err(Error::InvalidInput {
                field: "Supplier.ID",
                reason: "a new supplier must not carry an ID (Cin7 assigns it)".into(),
            });
        }
        if supplier.name.trim().is_empty() {
            return Err(Error::InvalidInput {
                field: "Supplier.Name",
                reason: "is required".into(),
            });
        }
        let request = Cin7Request::post("supplier").json(supplier);
        self.saved(request).await
    }

    /// `PUT /supplier`: update a supplier (its `ID` is required).
    ///
    /// Addresses and contacts without an `ID` are **created** by every `PUT`, so such an update
    /// is treated as non-idempotent and never resent after an uncertain failure; one whose
    /// children all carry IDs is retried like any idempotent write.
    pub async fn update(&self, supplier: &Supplier) -> Result<Supplier> {
        if supplier.id.is_none() {
            return Err(Error::InvalidInput {
                field: "Supplier.ID",
                reason: "an update needs the supplier's ID".into(),
            });
        }
        let mut request = Cin7Request::put("supplier").json(supplier);
        if supplier.adds_children() {
            request = request.with_idempotency(Idempotency::NonIdempotent);
        }
        self.saved(request).await
    }

    async fn saved(&self, request: Cin7Request) -> Result<Supplier> {
        let endpoint = request.path().to_owned();
        let envelope: SupplierEnvelope = self.client.send(request).await?;
        envelope
            .supplier_list
            .into_iter()
            .next()
            .ok_or_else(|| Error::Decode {
                endpoint,
                path: "SupplierList".into(),
                source: serde::de::Error::custom("the saved supplier is missing from the answer"),
            })
    }
}

impl ListBuilder<Supplier> {
    /// Only the supplier with this ID.
    pub fn id(self, id: &Guid) -> Self {
        self.filter("ID", id)
    }

    /// Suppliers whose name **starts with** `name` (compare exactly on your side).
    pub fn name(self, name: &str) -> Self {
        self.filter("Name", name)
    }

    /// Suppliers changed at or after `since` (UTC).
    pub fn modified_since(self, since: DateTime<Utc>) -> Self {
        self.filter("ModifiedSince", codec::format_datetime(since))
    }

    /// Also return deprecated suppliers (Cin7 default: only active ones).
    pub fn include_deprecated(self, include: bool) -> Self {
        self.filter("IncludeDeprecated", include)
    }
}
