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
//!   the vendor ID, supplier defaults, purchase approach and status, and which planned and
//!   closed POs are written at all).
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

/// What the purchase-order stream does with a planned PO (CloudSuite `Stat = P`,
/// [`PoStatus::Planned`]): a proposal that nobody has committed to a supplier yet.
///
/// The rule decides how a planned PO reaches the target; one the target already holds (it was
/// ordered and synced, then set back to planned) is updated like any other while its order is
/// editable, and never authorised by the sync while it is planned (unless [`Order`]).
///
/// [`PoStatus::Planned`]: crate::model::PoStatus::Planned
/// [`Order`]: PlannedPoRule::Order
///
/// ```
/// use sync_core::mapping::PlannedPoRule;
///
/// assert_eq!(PlannedPoRule::default(), PlannedPoRule::Skip);
/// assert_eq!(PlannedPoRule::from_key("draft"), Some(PlannedPoRule::Draft));
/// assert_eq!(PlannedPoRule::Order.as_key(), "order");
/// assert_eq!(PlannedPoRule::from_key("maybe"), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PlannedPoRule {
    /// Not written (the default). The PO is audited as skipped with the reason, and created
    /// when it becomes ordered (its change brings it into a later window).
    #[default]
    Skip,
    /// Created as a draft purchase whatever [`PurchasePolicy::order_status`] says; the order is
    /// written with `order_status` once the PO is ordered (while the purchase is still a
    /// draft in the target).
    Draft,
    /// Written like an ordered PO, with [`PurchasePolicy::order_status`] (the behaviour before
    /// this rule existed).
    Order,
}

impl PlannedPoRule {
    /// Every rule, in the order the keys are listed to people.
    pub const ALL: [PlannedPoRule; 3] = [
        PlannedPoRule::Skip,
        PlannedPoRule::Draft,
        PlannedPoRule::Order,
    ];

    /// The configuration key: `skip`, `draft` or `order`.
    pub fn as_key(self) -> &'static str {
        match self {
            PlannedPoRule::Skip => "skip",
            PlannedPoRule::Draft => "draft",
            PlannedPoRule::Order => "order",
        }
    }

    /// The rule a configuration key names (exactly as [`as_key`](Self::as_key) spells it).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.as_key() == key)
    }
}

/// What the purchase-order stream does with a closed PO (CloudSuite `Stat = F` or `C`,
/// [`PoStatus::Closed`]) or a cancelled one ([`PoStatus::Cancelled`]) that the target does not
/// hold yet.
///
/// A closed PO the target already holds is not governed by this rule: closing it in CloudSuite
/// re-opens nothing in the target and is no conflict by itself. Its order is rewritten while it
/// is still editable; once it is authorised, only a change the target would carry (a line, the
/// header) is a conflict for review.
///
/// [`PoStatus::Closed`]: crate::model::PoStatus::Closed
/// [`PoStatus::Cancelled`]: crate::model::PoStatus::Cancelled
///
/// ```
/// use sync_core::mapping::ClosedPoRule;
///
/// assert_eq!(ClosedPoRule::default(), ClosedPoRule::Skip);
/// assert_eq!(ClosedPoRule::from_key("create"), Some(ClosedPoRule::Create));
/// assert_eq!(ClosedPoRule::Skip.as_key(), "skip");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ClosedPoRule {
    /// Never created as a new purchase (the default): the PO is audited as skipped with the
    /// reason. A closed PO is history; creating it would add an open order to the target.
    #[default]
    Skip,
    /// Created like an ordered PO, with [`PurchasePolicy::order_status`] (the behaviour before
    /// this rule existed; use it to load a history of closed POs on purpose).
    Create,
}

impl ClosedPoRule {
    /// Every rule, in the order the keys are listed to people.
    pub const ALL: [ClosedPoRule; 2] = [ClosedPoRule::Skip, ClosedPoRule::Create];

    /// The configuration key: `skip` or `create`.
    pub fn as_key(self) -> &'static str {
        match self {
            ClosedPoRule::Skip => "skip",
            ClosedPoRule::Create => "create",
        }
    }

    /// The rule a configuration key names (exactly as [`as_key`](Self::as_key) spells it).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.as_key() == key)
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
    /// What happens to a planned PO (default [`PlannedPoRule::Skip`]).
    pub planned: PlannedPoRule,
    /// What happens to a closed or cancelled PO the target does not hold yet (default
    /// [`ClosedPoRule::Skip`]).
    pub closed: ClosedPoRule,
    /// What a PO whose lines name SKUs the target has no product for does.
    pub unknown_skus: UnknownSkuRule,
}

impl Default for PurchasePolicy {
    fn default() -> Self {
        PurchasePolicy {
            approach: Approach::Stock,
            order_status: DocStatus::Draft,
            invoice_status: DocStatus::Draft,
            default_location: None,
            planned: PlannedPoRule::default(),
            closed: ClosedPoRule::default(),
            unknown_skus: UnknownSkuRule::default(),
        }
    }
}

/// What a PO does when the target refuses its order and some of its SKUs are not products
/// there (see [`PurchasePolicy::unknown_skus`]).
///
/// ```
/// use sync_core::mapping::UnknownSkuRule;
/// assert_eq!(UnknownSkuRule::from_key("defer"), Some(UnknownSkuRule::Defer));
/// assert_eq!(UnknownSkuRule::Fail.as_key(), "fail");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum UnknownSkuRule {
    /// Deferred (the default) with "unknown SKU X", and retried by the following windows on
    /// their own until the products exist in the target: no person needed, nothing lost.
    #[default]
    Defer,
    /// Failed with the target's refusal (retried on the failure backoff, then left to a
    /// person).
    Fail,
}

impl UnknownSkuRule {
    /// Every rule, in the order the keys are listed to people.
    pub const ALL: [UnknownSkuRule; 2] = [UnknownSkuRule::Defer, UnknownSkuRule::Fail];

    /// The configuration key: `defer` or `fail`.
    pub fn as_key(self) -> &'static str {
        match self {
            UnknownSkuRule::Defer => "defer",
            UnknownSkuRule::Fail => "fail",
        }
    }

    /// The rule a configuration key names (exactly as [`as_key`](Self::as_key) spells it).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.as_key() == key)
    }
}

/// What a name match means for a supplier with no link (see [`Mappings::name_match`]).
///
/// ```
/// use sync_core::mapping::NameMatch;
/// assert_eq!(NameMatch::default(), NameMatch::Review);
/// assert_eq!(NameMatch::from_key("link"), Some(NameMatch::Link));
/// assert_eq!(NameMatch::Create.as_key(), "create");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameMatch {
    /// Neither create a second supplier nor link silently: the record waits as a conflict
    /// (`ambiguous`) naming every candidate, until the configuration says `link` or `create`
    /// (then a replay, or the next change of the vendor, settles it).
    #[default]
    Review,
    /// Link to the target supplier with that exact name (one; several are a conflict), and
    /// update it, stamping the vendor ID. A deprecated target supplier is updated too.
    Link,
    /// Create a new target supplier whatever names the target holds.
    Create,
}

impl NameMatch {
    /// Every rule, in the order the keys are listed to people.
    pub const ALL: [NameMatch; 3] = [NameMatch::Review, NameMatch::Link, NameMatch::Create];

    /// The configuration key: `review`, `link` or `create`.
    pub fn as_key(self) -> &'static str {
        match self {
            NameMatch::Review => "review",
            NameMatch::Link => "link",
            NameMatch::Create => "create",
        }
    }

    /// The rule a configuration key names.
    pub fn from_key(key: &str) -> Option<NameMatch> {
        NameMatch::ALL.into_iter().find(|rule| rule.as_key() == key)
    }
}

/// What a pipeline does with a record the source deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeletePolicy {
    /// Leave the target record as it is (the default): deleting is rare in CloudSuite, and a
    /// target record may carry what only the target knows.
    #[default]
    Keep,
    /// Mark the target record inactive: a Cin7 supplier becomes `Deprecated`; a Cin7 purchase
    /// is voided while its order is still a draft and nothing is invoiced (one past that is
    /// left as it is and reported as a conflict).
    Deactivate,
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
    /// What happens to a supplier with no cross-reference and no target supplier stamped with
    /// its vendor ID when a target supplier with no vendor ID has exactly its name (onboarding
    /// onto an account that already holds suppliers). Default [`NameMatch::Review`].
    pub name_match: NameMatch,
    /// Whether a vendor linked by name ([`NameMatch::Link`]) to a target supplier that is
    /// deprecated there may reactivate it. Default `false`: the vendor waits as a conflict
    /// naming the supplier, nothing is written; set it (or pick [`NameMatch::Create`]) and
    /// replay. Suppliers linked by cross-reference or vendor ID follow the source's status.
    pub reactivate_deprecated: bool,
    /// What happens to the target supplier of a vendor the source deleted (a pushed `Delete`
    /// BOD, the vendor gone from the source). Default [`DeletePolicy::Keep`].
    pub deleted_suppliers: DeletePolicy,
    /// What happens to the target purchase of a PO the source deleted. Default
    /// [`DeletePolicy::Keep`].
    pub deleted_purchase_orders: DeletePolicy,
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
            name_match: NameMatch::Review,
            reactivate_deprecated: false,
            deleted_suppliers: DeletePolicy::Keep,
            deleted_purchase_orders: DeletePolicy::Keep,
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
