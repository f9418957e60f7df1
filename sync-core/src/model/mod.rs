//! The canonical model: one shape per business record, independent of CloudSuite and Cin7.
//!
//! Each client crate converts its own typed records to these (source side) and from them
//! (target side), so adding a third system means one new mapping, not one per pair. Every
//! record carries a [`SourceIdentity`], a `modified_at` taken from the source server, and a
//! stable [`ContentHash`] (see [`Record::content_hash`]).

mod hash;
mod identity;
mod ledger;
mod party;
mod purchase;
mod purchase_update;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use hash::{ContentHash, hash_serialize, hash_value};
pub use identity::SourceIdentity;
pub use ledger::{AccountClass, GlAccount, Payment};
pub use party::{Address, AddressKind, Contact, Customer, Item, PartyStatus, Supplier};
pub use purchase::{InvoiceLine, PoLine, PoStatus, PurchaseOrder, SupplierInvoice};
pub use purchase_update::{
    InvoiceUpdate, InvoiceUpdateLine, PurchaseProgress, PurchaseSummary, PurchaseUpdate,
    PurchaseUpdateLine,
};

use crate::error::SyncError;

/// What kind of record something is; part of every cross-reference key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// [`Supplier`].
    Supplier,
    /// [`PurchaseOrder`].
    PurchaseOrder,
    /// [`SupplierInvoice`].
    SupplierInvoice,
    /// [`GlAccount`].
    GlAccount,
    /// [`Payment`].
    Payment,
    /// [`Customer`].
    Customer,
    /// [`Item`].
    Item,
}

impl RecordKind {
    /// The snake-case name used in stores and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            RecordKind::Supplier => "supplier",
            RecordKind::PurchaseOrder => "purchase_order",
            RecordKind::SupplierInvoice => "supplier_invoice",
            RecordKind::GlAccount => "gl_account",
            RecordKind::Payment => "payment",
            RecordKind::Customer => "customer",
            RecordKind::Item => "item",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A canonical record.
///
/// The content hash is computed over the serialised record minus [`Record::VOLATILE`], so a
/// record whose `modified_at` moved without any content change hashes the same, and an edit
/// that did not move `modified_at` hashes differently (the full reconciliation scan relies on
/// that).
pub trait Record:
    Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The kind of record.
    const KIND: RecordKind;

    /// Top-level fields left out of the content hash.
    const VOLATILE: &'static [&'static str] = &["modified_at"];

    /// Where the record came from.
    fn identity(&self) -> &SourceIdentity;

    /// When the source last changed it (source server time).
    fn modified_at(&self) -> DateTime<Utc>;

    /// A short human label for logs and the audit trail (e.g. a supplier name).
    fn label(&self) -> String {
        self.identity().id.clone()
    }

    /// The stable content hash.
    fn content_hash(&self) -> Result<ContentHash, SyncError> {
        hash_serialize(self, Self::VOLATILE)
    }
}

macro_rules! impl_record {
    ($ty:ty, $kind:expr, |$s:ident| $label:expr) => {
        impl Record for $ty {
            const KIND: RecordKind = $kind;
            fn identity(&self) -> &SourceIdentity {
                &self.identity
            }
            fn modified_at(&self) -> DateTime<Utc> {
                self.modified_at
            }
            fn label(&self) -> String {
                let $s = self;
                $label
            }
        }
    };
}

impl_record!(Supplier, RecordKind::Supplier, |s| format!(
    "{} {}",
    s.vendor_id, s.name
));
impl_record!(PurchaseOrder, RecordKind::PurchaseOrder, |s| s
    .po_number
    .clone());
// Read back from the target: same kind as the source PO, told apart by its identity's system.
impl_record!(PurchaseUpdate, RecordKind::PurchaseOrder, |s| s
    .order_number
    .clone());
impl_record!(SupplierInvoice, RecordKind::SupplierInvoice, |s| s
    .invoice_number
    .clone());
impl_record!(GlAccount, RecordKind::GlAccount, |s| format!(
    "{} {}",
    s.code, s.name
));
impl_record!(Payment, RecordKind::Payment, |s| s.reference.clone());
impl_record!(Customer, RecordKind::Customer, |s| s.name.clone());
impl_record!(Item, RecordKind::Item, |s| s.sku.clone());
