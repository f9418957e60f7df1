//! Suppliers, customers, items and their parts.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::SourceIdentity;

/// Whether a party can be traded with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    /// Active.
    Active,
    /// Inactive, on hold or deprecated.
    Inactive,
}

/// The use of an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// Billing / remit-to.
    Billing,
    /// Main business address.
    Business,
    /// Shipping / ship-from.
    Shipping,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The use of the address.
    pub kind: AddressKind,
    /// First line.
    pub line1: String,
    /// Second line.
    pub line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Country (name or ISO code as the source gives it; mapped on the way out).
    pub country: String,
}

/// A contact person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Whether this is the default contact.
    pub default: bool,
}

/// A supplier (CloudSuite vendor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplier {
    /// Source identity (its `id` is normally the vendor number).
    pub identity: SourceIdentity,
    /// The CloudSuite vendor ID, stamped on the target so it can be matched later.
    pub vendor_id: String,
    /// Name.
    pub name: String,
    /// ISO currency code as the source gives it.
    pub currency: String,
    /// Source payment-term code.
    pub payment_term: Option<String>,
    /// Source tax rule / tax code.
    pub tax_rule: Option<String>,
    /// Tax registration number.
    pub tax_number: Option<String>,
    /// Status.
    pub status: PartyStatus,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Contacts.
    pub contacts: Vec<Contact>,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Source identity.
    pub identity: SourceIdentity,
    /// Name.
    pub name: String,
    /// ISO currency code.
    pub currency: String,
    /// Source payment-term code.
    pub payment_term: Option<String>,
    /// Source tax rule.
    pub tax_rule: Option<String>,
    /// Status.
    pub status: PartyStatus,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Contacts.
    pub contacts: Vec<Contact>,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}

/// A stocked or service item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Source identity.
    pub identity: SourceIdentity,
    /// Source item code / SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Unit of measure.
    pub uom: Option<String>,
    /// Standard unit cost.
    pub unit_cost: Option<Decimal>,
    /// Whether the item is active.
    pub active: bool,
    /// Last modification (source server time).
    pub modified_at: DateTime<Utc>,
}
