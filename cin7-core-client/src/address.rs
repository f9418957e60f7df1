//! Addresses and contacts shared by suppliers and customers.
//!
//! On a `PUT`, an entry **with** an `ID` updates that entry and one **without** an `ID` is
//! created, on every call. Always send back the IDs Cin7 returned, or the entry is duplicated.

use serde::{Deserialize, Serialize};

use crate::codec::{self, Guid, open_enum};

open_enum! {
    /// What an address is for.
    pub enum AddressType {
        /// Billing address.
        Billing => "Billing",
        /// Business address.
        Business => "Business",
        /// Shipping address.
        Shipping => "Shipping",
    }
}

/// A supplier or customer address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    /// The address ID; keep it on updates (without it a new address is created).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// The owning supplier (set by Cin7 in responses).
    #[serde(rename = "SupplierID", with = "codec::guid_opt", skip_serializing)]
    pub supplier_id: Option<Guid>,
    /// The owning customer (set by Cin7 in responses).
    #[serde(rename = "CustomerID", with = "codec::guid_opt", skip_serializing)]
    pub customer_id: Option<Guid>,
    /// First line (required, 256).
    pub line1: String,
    /// Second line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postcode (20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Country name (required).
    pub country: String,
    /// Billing, Business or Shipping (required).
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub address_type: Option<AddressType>,
    /// Whether this is the default address of its type.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub default_for_type: Option<bool>,
}

/// A supplier or customer contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Contact {
    /// The contact ID; keep it on updates (without it a new contact is created).
    #[serde(
        rename = "ID",
        with = "codec::guid_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Guid>,
    /// The owning supplier (set by Cin7 in responses).
    #[serde(rename = "SupplierID", with = "codec::guid_opt", skip_serializing)]
    pub supplier_id: Option<Guid>,
    /// The owning customer (set by Cin7 in responses).
    #[serde(rename = "CustomerID", with = "codec::guid_opt", skip_serializing)]
    pub customer_id: Option<Guid>,
    /// Name (required, 256).
    pub name: String,
    /// Job title (customers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Phone (50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Mobile phone (50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    /// Fax (50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    /// Email (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Website (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Comment (256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether this is the default contact.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
    /// Whether to copy this contact on emails.
    #[serde(with = "codec::bool_opt", skip_serializing_if = "Option::is_none")]
    pub include_in_email: Option<bool>,
}
