//! The target side: what the engine writes (Cin7 Core through `cin7-core-client`).
//!
//! The traits speak in *drafts*: canonical records with every value already mapped (Cin7 tax
//! rule names, account codes, SKUs), so a target implementation only converts field names and
//! transports them. Every method returns [`TargetError`], which says whether a failed request
//! may have taken effect ([`TargetError::outcome_unknown`]); the engine relies on that to
//! never resend a create blindly.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::TargetError;

pub mod dry_run;

use crate::model::{AccountClass, Address, Contact, PartyStatus};
pub use dry_run::{DryRunLog, DryRunTarget};

/// One page of a list call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPage<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The total number of items across all pages.
    pub total: u64,
}

/// A supplier ready to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDraft {
    /// Name.
    pub name: String,
    /// Target currency code.
    pub currency: String,
    /// Target payment term name.
    pub payment_term: String,
    /// Target tax rule name.
    pub tax_rule: String,
    /// Accounts-payable account code.
    pub account_payable: String,
    /// Tax registration number.
    pub tax_number: Option<String>,
    /// Active or deprecated.
    pub status: PartyStatus,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Contacts.
    pub contacts: Vec<Contact>,
    /// Target fields to set besides the above, e.g. `AdditionalAttribute1` = the CloudSuite
    /// vendor ID (see [`crate::mapping::Mappings::vendor_id_field`]).
    pub extra_fields: BTreeMap<String, String>,
}

/// A supplier as the target holds it (enough to match and to build the index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetSupplier {
    /// Target id (a Cin7 GUID).
    pub id: String,
    /// Name.
    pub name: String,
    /// Extra fields as read back (at least the one carrying the vendor ID).
    pub extra_fields: BTreeMap<String, String>,
    /// Active or deprecated, when the target says.
    #[serde(default)]
    pub status: Option<PartyStatus>,
}

/// Writes suppliers.
#[async_trait]
pub trait SupplierTarget: Send + Sync {
    /// One page (from 1) of all suppliers, deprecated ones included. The engine builds its
    /// index from full pages: ceil(N / limit) calls, never one lookup per record.
    async fn list_suppliers(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<TargetPage<TargetSupplier>, TargetError>;
    /// Create a supplier.
    async fn create_supplier(&self, draft: &SupplierDraft) -> Result<TargetSupplier, TargetError>;
    /// Update a supplier (implementations keep existing address/contact ids so nothing is
    /// duplicated).
    async fn update_supplier(
        &self,
        id: &str,
        draft: &SupplierDraft,
    ) -> Result<TargetSupplier, TargetError>;
}

/// Which flow a Cin7 purchase follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Approach {
    /// Stock first (receive, then invoice).
    Stock,
    /// Invoice first.
    Invoice,
}

/// The status the engine asks for when it writes a sub-document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocStatus {
    /// Draft: still editable.
    Draft,
    /// Authorised: final.
    Authorised,
}

/// The status of a target sub-document as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started (`NOT AVAILABLE`).
    NotAvailable,
    /// Draft.
    Draft,
    /// Authorised.
    Authorised,
    /// Paid (invoices).
    Paid,
    /// Voided.
    Voided,
    /// Any other value, kept as sent.
    Other(String),
}

impl TaskStatus {
    /// Whether the engine may still overwrite it.
    pub fn is_editable(&self) -> bool {
        matches!(self, TaskStatus::NotAvailable | TaskStatus::Draft)
    }

    /// A stable text form (`not_available`, `draft`, `authorised`, `paid`, `voided`, or the
    /// value as sent), for storing a status in a cross-reference's `aux` map.
    ///
    /// ```
    /// use sync_core::target::TaskStatus;
    ///
    /// assert_eq!(TaskStatus::Authorised.as_key(), "authorised");
    /// assert_eq!(TaskStatus::from_key("authorised"), TaskStatus::Authorised);
    /// assert_eq!(TaskStatus::from_key("ON HOLD"), TaskStatus::Other("ON HOLD".into()));
    /// ```
    pub fn as_key(&self) -> &str {
        match self {
            TaskStatus::NotAvailable => "not_available",
            TaskStatus::Draft => "draft",
            TaskStatus::Authorised => "authorised",
            TaskStatus::Paid => "paid",
            TaskStatus::Voided => "voided",
            TaskStatus::Other(other) => other,
        }
    }

    /// The status [`TaskStatus::as_key`] wrote.
    pub fn from_key(key: &str) -> TaskStatus {
        match key {
            "not_available" => TaskStatus::NotAvailable,
            "draft" => TaskStatus::Draft,
            "authorised" => TaskStatus::Authorised,
            "paid" => TaskStatus::Paid,
            "voided" => TaskStatus::Voided,
            other => TaskStatus::Other(other.to_owned()),
        }
    }
}

/// A purchase header ready to be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseDraft {
    /// Target supplier id.
    pub supplier_id: String,
    /// Approach.
    pub approach: Approach,
    /// Target location name.
    pub location: Option<String>,
    /// The external reference the purchase can be found by later (PO or invoice number).
    pub reference: String,
    /// Currency code.
    pub currency: String,
    /// Order date.
    pub order_date: NaiveDate,
    /// Required-by date.
    pub required_by: Option<NaiveDate>,
    /// Note.
    pub memo: Option<String>,
}

/// An order line ready to be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineDraft {
    /// Target SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price.
    pub price: Decimal,
    /// Target tax rule name.
    pub tax_rule: Option<String>,
}

/// The order step: all lines (they replace the existing ones) and the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDraft {
    /// Lines.
    pub lines: Vec<OrderLineDraft>,
    /// Status to set.
    pub status: DocStatus,
}

/// An invoice line ready to be written, allocated to a target account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLineDraft {
    /// Target SKU, if an item line.
    pub sku: Option<String>,
    /// Name.
    pub name: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price.
    pub price: Decimal,
    /// Target account code (from the GL mapping).
    pub account: String,
    /// Target tax rule name.
    pub tax_rule: Option<String>,
}

/// A supplier invoice ready to be posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    /// The source invoice number (the key it is looked up by).
    pub invoice_number: String,
    /// Invoice date.
    pub invoice_date: NaiveDate,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Lines.
    pub lines: Vec<InvoiceLineDraft>,
    /// Status to set.
    pub status: DocStatus,
}

/// An invoice on a target purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInvoice {
    /// The invoice task id.
    pub task_id: String,
    /// Invoice number.
    pub invoice_number: String,
    /// Status.
    pub status: TaskStatus,
}

/// A purchase as the target holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetPurchase {
    /// Target id.
    pub id: String,
    /// The external reference written at creation.
    pub reference: String,
    /// Supplier id.
    pub supplier_id: String,
    /// Approach.
    pub approach: Approach,
    /// Order step status.
    pub order_status: TaskStatus,
    /// Invoices.
    pub invoices: Vec<TargetInvoice>,
}

/// Writes purchases (advanced purchases in Cin7) and their order and invoice steps.
#[async_trait]
pub trait PurchaseTarget: Send + Sync {
    /// Purchases whose reference, order number or invoice number matches `reference` exactly
    /// (Cin7: `purchaseList?Search=` then an exact client-side comparison).
    async fn find_purchases(&self, reference: &str) -> Result<Vec<TargetPurchase>, TargetError>;
    /// [`find_purchases`](Self::find_purchases) for several references at once, each with
    /// what it found (an empty list when nothing). `since` bounds the search: no purchase
    /// carrying one of these references was created or changed before it (the caller passes
    /// the time of the earliest write that may have created one, less a margin for clocks).
    ///
    /// The engine calls it at the start of a window for every record whose earlier write may
    /// have landed, so recovering many records shares one scan. The default looks each
    /// reference up on its own; a target with a cheaper shared scan overrides it (Cin7: one
    /// `purchaseList?UpdatedSince=` walk and one read per candidate, instead of a search, a
    /// scan and the reads per reference).
    async fn find_purchases_since(
        &self,
        references: &[String],
        since: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Vec<TargetPurchase>>, TargetError> {
        let _ = since;
        let mut found = BTreeMap::new();
        for reference in references {
            found.insert(reference.clone(), self.find_purchases(reference).await?);
        }
        Ok(found)
    }
    /// One purchase by id (`None` when it does not exist or was voided).
    async fn get_purchase(&self, id: &str) -> Result<Option<TargetPurchase>, TargetError>;
    /// Create a purchase header (status DRAFT, order NOT AVAILABLE). Not idempotent.
    async fn create_purchase(&self, draft: &PurchaseDraft) -> Result<TargetPurchase, TargetError>;
    /// Write the order step of `purchase`: replaces all lines; only allowed while the order is
    /// editable. Idempotent while the order is DRAFT. Returns the purchase with the order
    /// status the target answered.
    ///
    /// `purchase` is the view the caller already holds, as returned by this target while
    /// handling the same record ([`create_purchase`](Self::create_purchase),
    /// [`get_purchase`](Self::get_purchase) or [`find_purchases`](Self::find_purchases),
    /// or an earlier `set_order`); the write costs no read of its own:
    ///
    /// - when the view says the order is editable, the order is written at once (one call). The
    ///   target itself refuses a write to an order that stopped being editable in between, so
    ///   the view is a way to save a read, not the safety check.
    /// - when the view says it is not editable, or the write fails, the implementation reads
    ///   the purchase back: if the order there already is exactly `order` (an earlier attempt
    ///   whose answer was lost), that is success; otherwise the write is refused
    ///   ([`TargetError::rejected`]) or its error returned.
    async fn set_order(
        &self,
        purchase: &TargetPurchase,
        order: &OrderDraft,
    ) -> Result<TargetPurchase, TargetError>;
    /// Which of `skus` the target has no product for (in the order given). Asked only after the
    /// target refused an order, to tell an unknown SKU from another refusal: it costs nothing
    /// while orders go through.
    async fn missing_skus(&self, skus: &[String]) -> Result<Vec<String>, TargetError>;
    /// Void `purchase`: what a source PO's deletion writes under
    /// [`DeletePolicy::Deactivate`](crate::mapping::DeletePolicy::Deactivate). The engine asks
    /// only while the view says its order is still editable and nothing is invoiced. Voiding a
    /// purchase that is already voided or gone succeeds (an earlier attempt whose answer was
    /// lost).
    async fn void_purchase(&self, purchase: &TargetPurchase) -> Result<(), TargetError>;
    /// Post an invoice on a purchase. With `task_id` it overwrites that (draft) invoice;
    /// without, it creates a new invoice (not idempotent). An overwrite of an invoice that is
    /// no longer editable succeeds only when the invoice there already is exactly `invoice`
    /// (an earlier attempt whose answer was lost); otherwise it is refused.
    async fn post_invoice(
        &self,
        purchase_id: &str,
        task_id: Option<&str>,
        invoice: &InvoiceDraft,
    ) -> Result<TargetInvoice, TargetError>;
}

/// An account of the target's chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetAccount {
    /// Account code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Class, when the target reports one the engine understands.
    pub class: Option<AccountClass>,
    /// Finer type, as the target names it.
    pub account_type: Option<String>,
    /// Whether the account is active.
    pub active: bool,
}

/// Reads (and, only in mirror mode, writes) the target's chart of accounts.
#[async_trait]
pub trait AccountTarget: Send + Sync {
    /// The whole chart (all pages).
    async fn list_accounts(&self) -> Result<Vec<TargetAccount>, TargetError>;
    /// Create an account. Called only when mirror mode is explicitly enabled.
    async fn create_account(&self, account: &TargetAccount) -> Result<TargetAccount, TargetError>;
}
