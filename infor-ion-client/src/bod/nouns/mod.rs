//! Typed nouns. Each keeps the children it does not model in `extensions`.
//!
//! Structures follow public BOD samples and third-party mappings (the source of each is in
//! `docs/assumptions.md`). Where no source shows a structure (UNCONFIRMED: supplier invoice
//! lines, chart of accounts, most of item master, receive delivery), the model covers the
//! likely elements and relies on `extensions` for the rest; see `docs/bod.md`.

mod chart_of_accounts;
mod document;
mod item_master;
mod party_master;
mod purchase_order;
mod receive_delivery;
mod supplier_invoice;

pub use chart_of_accounts::{ChartOfAccounts, GlAccount};
pub use item_master::{ItemMaster, ItemMasterHeader};
pub use party_master::{CustomerPartyMaster, PartyMaster, SupplierPartyMaster};
pub use purchase_order::{PaymentTerm, PurchaseOrder, PurchaseOrderHeader, PurchaseOrderLine};
pub use receive_delivery::{ReceiveDelivery, ReceiveDeliveryHeader, ReceiveDeliveryItem};
pub use supplier_invoice::{
    GlAccountForm, LineGlAccount, SupplierInvoice, SupplierInvoiceHeader, SupplierInvoiceLine, Tax,
};
