//! Value mappings from the source's vocabulary to the target's, with defaults the user can
//! override, and the conversion traits the client crates implement.
//!
//! Two layers:
//!
//! - [`ValueMapper`]: one source value (a tax code, a warehouse, a GL account) to one target
//!   value. [`MappingTable`] is the default implementation: explicit entries first, then a
//!   per-table [`Fallback`] (identity, a fixed default, or "required": no entry is an error).
//!   Users either fill a table or implement the trait themselves.
//! - [`Mappings`]: the table plus the policies that are not per-value (which Cin7 field carries
//!   the vendor ID, supplier defaults, purchase approach and status).
//!
//! A missing mapping is a [`MappingError`] naming the table, the value and where it was needed;
//! the record fails with error class `mapping`, keeps its snapshot and can be replayed after the
//! mapping is added.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::error::{MappingError, MappingKind};
use crate::model::Record;
use crate::target::{Approach, DocStatus};

/// Maps one source value to a target value.
pub trait ValueMapper: Send + Sync + fmt::Debug {
    /// The target value for `value` in table `kind`; `context` says where it is needed (for the
    /// error message).
    fn map(&self, kind: MappingKind, value: &str, context: &str) -> Result<String, MappingError>;
}

/// What a [`MappingTable`] does with a value it has no entry for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    /// Use the source value unchanged.
    Identity,
    /// Use this target value.
    Default(String),
    /// Fail with a [`MappingError`].
    Required,
}

/// Explicit entries per table plus a fallback per table.
///
/// Defaults: currency and SKU map to themselves; GL account, tax rule, payment term and
/// location are required (an unmapped value is an error, never a guess).
///
/// ```
/// use sync_core::error::MappingKind;
/// use sync_core::mapping::{Fallback, MappingTable, ValueMapper};
///
/// let table = MappingTable::default()
///     .with(MappingKind::TaxRule, "STD", "GST on Expenses")
///     .with_fallback(MappingKind::Location, Fallback::Default("Main Warehouse".into()));
/// assert_eq!(table.map(MappingKind::TaxRule, "STD", "").unwrap(), "GST on Expenses");
/// assert_eq!(table.map(MappingKind::Location, "W9", "").unwrap(), "Main Warehouse");
/// assert_eq!(table.map(MappingKind::Currency, "NZD", "").unwrap(), "NZD");
/// assert!(table.map(MappingKind::TaxRule, "EXEMPT", "PO 7").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct MappingTable {
    entries: HashMap<MappingKind, BTreeMap<String, String>>,
    fallbacks: HashMap<MappingKind, Fallback>,
}

impl Default for MappingTable {
    fn default() -> Self {
        let mut fallbacks = HashMap::new();
        fallbacks.insert(MappingKind::Currency, Fallback::Identity);
        fallbacks.insert(MappingKind::Sku, Fallback::Identity);
        MappingTable {
            entries: HashMap::new(),
            fallbacks,
        }
    }
}

impl MappingTable {
    /// Add one entry.
    pub fn with(
        mut self,
        kind: MappingKind,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        self.insert(kind, from, to);
        self
    }

    /// Add one entry in place.
    pub fn insert(&mut self, kind: MappingKind, from: impl Into<String>, to: impl Into<String>) {
        self.entries
            .entry(kind)
            .or_default()
            .insert(from.into(), to.into());
    }

    /// Set the fallback of one table.
    pub fn with_fallback(mut self, kind: MappingKind, fallback: Fallback) -> Self {
        self.fallbacks.insert(kind, fallback);
        self
    }

    /// The explicit entries of one table.
    pub fn entries(&self, kind: MappingKind) -> Option<&BTreeMap<String, String>> {
        self.entries.get(&kind)
    }
}

impl ValueMapper for MappingTable {
    fn map(&self, kind: MappingKind, value: &str, context: &str) -> Result<String, MappingError> {
        if let Some(to) = self.entries.get(&kind).and_then(|t| t.get(value)) {
            return Ok(to.clone());
        }
        match self.fallbacks.get(&kind).unwrap_or(&Fallback::Required) {
            Fallback::Identity => Ok(value.to_owned()),
            Fallback::Default(to) => Ok(to.clone()),
            Fallback::Required => Err(MappingError {
                kind,
                value: value.to_owned(),
                context: context.to_owned(),
            }),
        }
    }
}

/// Defaults for the fields Cin7 requires on a supplier that CloudSuite may leave empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierDefaults {
    /// Payment term name used when the supplier has none.
    pub payment_term: Option<String>,
    /// Tax rule name used when the supplier has none.
    pub tax_rule: Option<String>,
    /// Accounts-payable account code (Cin7 requires one).
    pub account_payable: String,
}

impl Default for SupplierDefaults {
    fn default() -> Self {
        SupplierDefaults {
            payment_term: None,
            tax_rule: None,
            account_payable: "800".to_owned(),
        }
    }
}

/// How purchases are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchasePolicy {
    /// Approach for purchases created from purchase orders (invoice-only purchases always use
    /// [`Approach::Invoice`]).
    pub approach: Approach,
    /// Status the order step is written with. `Draft` lets later CloudSuite changes flow in
    /// until someone authorises the order in Cin7; `Authorised` freezes it at once.
    pub order_status: DocStatus,
    /// Status invoices are posted with.
    pub invoice_status: DocStatus,
    /// Location used when a PO has none (or its location maps to nothing and this is set).
    pub default_location: Option<String>,
}

impl Default for PurchasePolicy {
    fn default() -> Self {
        PurchasePolicy {
            approach: Approach::Stock,
            order_status: DocStatus::Draft,
            invoice_status: DocStatus::Draft,
            default_location: None,
        }
    }
}

/// Everything the pipelines need to turn canonical records into target drafts.
#[derive(Debug, Clone)]
pub struct Mappings {
    /// Per-value mappings (tax rule, payment term, location, currency, SKU, GL overrides).
    pub values: Arc<dyn ValueMapper>,
    /// The target field that carries the CloudSuite vendor ID (default `AdditionalAttribute1`);
    /// `None` disables stamping and matching by it (matching then relies on the
    /// cross-reference and, if enabled, the exact name).
    pub vendor_id_field: Option<String>,
    /// Whether a supplier with no cross-reference and no stamped vendor ID may be matched by
    /// exact name. Off by default: names are not unique in Cin7.
    pub match_by_name: bool,
    /// Supplier defaults.
    pub supplier_defaults: SupplierDefaults,
    /// Purchase policy.
    pub purchases: PurchasePolicy,
    /// A label for this mapping configuration. Records are deduplicated on their content *and*
    /// this revision, so after changing a mapping, change the revision (e.g. `"2026-03-02"`) and
    /// the next full scan rewrites every record with the new mapping. Empty by default.
    pub revision: String,
}

impl Default for Mappings {
    fn default() -> Self {
        Mappings {
            values: Arc::new(MappingTable::default()),
            vendor_id_field: Some("AdditionalAttribute1".to_owned()),
            match_by_name: false,
            supplier_defaults: SupplierDefaults::default(),
            purchases: PurchasePolicy::default(),
            revision: String::new(),
        }
    }
}

impl Mappings {
    /// Default mappings with this value table.
    pub fn with_values(values: impl ValueMapper + 'static) -> Self {
        Mappings {
            values: Arc::new(values),
            ..Mappings::default()
        }
    }

    /// Map a value through [`Mappings::values`].
    pub fn map(
        &self,
        kind: MappingKind,
        value: &str,
        context: &str,
    ) -> Result<String, MappingError> {
        self.values.map(kind, value, context)
    }
}

/// Implemented by a client crate for its own source records: convert to the canonical model.
pub trait IntoCanonical {
    /// The canonical record.
    type Canonical: Record;
    /// Convert; `tenant` and `accounting_entity` complete the source identity.
    fn into_canonical(
        self,
        tenant: &str,
        accounting_entity: &str,
    ) -> Result<Self::Canonical, crate::error::SyncError>;
}
