//! The configuration file as written: every key optional, so validation (`super`) can say which
//! one is missing and what to put there. Unknown keys are refused by serde, naming them, and so
//! is a value outside a key's fixed vocabulary (`product = "m4"`): those keys are enums here,
//! and serde's message names the key and the accepted values.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Stream, returns, tenant};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) tenant: Option<String>,
    #[serde(default)]
    pub(super) dry_run: bool,
    pub(super) streams: Option<Vec<Stream>>,
    pub(super) store: Option<String>,
    pub(super) store_schema: Option<String>,
    pub(super) ion: Option<RawIon>,
    pub(super) cin7: Option<RawCin7>,
    #[serde(default)]
    pub(super) schedule: RawSchedule,
    #[serde(default)]
    pub(super) mappings: RawMappings,
    #[serde(default)]
    pub(super) engine: RawEngine,
    pub(super) returns: Option<returns::RawReturns>,
    pub(super) webhooks: Option<returns::RawWebhooks>,
    pub(super) ion_push: Option<super::ion_push::RawIonPush>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIon {
    pub(super) ionapi: Option<String>,
    pub(super) vault: Option<String>,
    pub(super) vault_key_env: Option<String>,
    pub(super) vault_key_file: Option<String>,
    pub(super) product: Option<RawProduct>,
    pub(super) mongoose_config: Option<String>,
    pub(super) site: Option<String>,
    pub(super) company: Option<String>,
    pub(super) division: Option<String>,
    pub(super) accounting_entity: Option<String>,
    pub(super) default_currency: Option<String>,
    pub(super) page_size: Option<u32>,
    pub(super) record_date_zone: Option<String>,
    #[serde(default)]
    pub(super) idos: std::collections::BTreeMap<String, tenant::RawIdo>,
    #[serde(default)]
    pub(super) mi: std::collections::BTreeMap<tenant::RawMiNoun, tenant::RawMi>,
    pub(super) distributions: Option<tenant::RawDistributions>,
    pub(super) supplier_status: Option<tenant::RawSupplierStatus>,
    pub(super) routes: Option<RawRoutes>,
    pub(super) mi_queries: Option<RawMiQueries>,
}

/// `ion.product`: which CloudSuite API is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawProduct {
    Csi,
    M3,
    Datalake,
}

/// `[ion.routes]`: where each forward stream is read from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoutes {
    pub(super) gl_accounts: Option<RawRoute>,
    pub(super) suppliers: Option<RawRoute>,
    pub(super) purchase_orders: Option<RawRoute>,
    pub(super) supplier_invoices: Option<RawRoute>,
}

/// A value of `[ion.routes]`. Which of `mi` and `ido` a tenant may use depends on `ion.product`:
/// validation checks that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawRoute {
    /// M3 MI (`product = "m3"`).
    Mi,
    /// CloudSuite Industrial IDOs (`product = "csi"`).
    Ido,
    /// BODs published to the ION Data Lake (any product).
    Datalake,
}

impl RawRoute {
    /// The name as written.
    pub(super) fn name(self) -> &'static str {
        match self {
            RawRoute::Mi => "mi",
            RawRoute::Ido => "ido",
            RawRoute::Datalake => "datalake",
        }
    }
}

/// `[ion.mi_queries]`: the M3 search queries of the MI routes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMiQueries {
    pub(super) purchase_orders: Option<String>,
    pub(super) supplier_invoices: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCin7 {
    pub(super) account_id: Option<String>,
    pub(super) account_id_env: Option<String>,
    pub(super) application_key_env: Option<String>,
    pub(super) application_key: Option<toml::Value>,
    pub(super) base_url: Option<String>,
    pub(super) calls_per_minute: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    pub(super) cadence: Option<RawCadence>,
    pub(super) every: Option<String>,
    pub(super) at: Option<String>,
    /// chrono's own serde reading: `monday`, `mon`, `Monday`, … (any case).
    pub(super) day: Option<chrono::Weekday>,
    pub(super) time_zone: Option<String>,
}

/// `schedule.cadence`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawCadence {
    Interval,
    Daily,
    Weekly,
    #[default]
    OnDemand,
}

impl RawCadence {
    /// The name as written.
    pub(super) fn name(self) -> &'static str {
        match self {
            RawCadence::Interval => "interval",
            RawCadence::Daily => "daily",
            RawCadence::Weekly => "weekly",
            RawCadence::OnDemand => "on_demand",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMappings {
    pub(super) vendor_id_field: Option<String>,
    pub(super) name_match: Option<RawNameMatch>,
    /// The older spelling: `true` is `name_match = "link"`, `false` the default (`review`).
    pub(super) match_by_name: Option<bool>,
    /// Whether `link` may reactivate a supplier deprecated in Cin7 (default false).
    #[serde(default)]
    pub(super) reactivate_deprecated: bool,
    /// What a vendor deleted in CloudSuite does to its Cin7 supplier (default keep).
    pub(super) deleted_suppliers: Option<RawDeleted>,
    /// What a PO deleted in CloudSuite does to its Cin7 purchase (default keep).
    pub(super) deleted_purchase_orders: Option<RawDeletedPo>,
    pub(super) revision: Option<String>,
    #[serde(default)]
    pub(super) purchases: RawPurchases,
    #[serde(default)]
    pub(super) tables: BTreeMap<RawMappingKind, RawTable>,
}

/// `mappings.deleted_suppliers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawDeleted {
    Keep,
    Deprecate,
}

/// `mappings.deleted_purchase_orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawDeletedPo {
    Keep,
    Void,
}

/// `mappings.name_match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawNameMatch {
    Review,
    Link,
    Create,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPurchases {
    pub(super) approach: Option<RawApproach>,
    pub(super) order_status: Option<RawDocStatus>,
    pub(super) invoice_status: Option<RawDocStatus>,
    pub(super) default_location: Option<String>,
    pub(super) ap_account: Option<String>,
    pub(super) default_payment_term: Option<String>,
    pub(super) default_tax_rule: Option<String>,
    pub(super) planned: Option<RawPlanned>,
    pub(super) closed: Option<RawClosed>,
    pub(super) unknown_skus: Option<RawUnknownSkus>,
}

/// `mappings.purchases.approach`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawApproach {
    /// Receive first.
    Stock,
    /// Invoice first.
    Invoice,
}

/// `mappings.purchases.order_status` and `invoice_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawDocStatus {
    Draft,
    #[serde(alias = "authorized")]
    Authorised,
}

/// `mappings.purchases.planned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawPlanned {
    /// Create it once it is ordered.
    Skip,
    /// A draft purchase.
    Draft,
    /// Like an ordered PO.
    Order,
}

/// `mappings.purchases.unknown_skus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawUnknownSkus {
    Defer,
    Fail,
}

/// `mappings.purchases.closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawClosed {
    /// Never create a closed PO.
    Skip,
    /// Create it like an ordered PO.
    Create,
}

/// A table name under `[mappings.tables]`. Declared in alphabetical order, so the tables are
/// read in the same order as when they were keyed by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawMappingKind {
    Currency,
    GlAccount,
    Location,
    PaymentTerm,
    Sku,
    TaxRule,
}

impl RawMappingKind {
    /// The name as written.
    pub(super) fn name(self) -> &'static str {
        match self {
            RawMappingKind::Currency => "currency",
            RawMappingKind::GlAccount => "gl_account",
            RawMappingKind::Location => "location",
            RawMappingKind::PaymentTerm => "payment_term",
            RawMappingKind::Sku => "sku",
            RawMappingKind::TaxRule => "tax_rule",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    pub(super) fallback: Option<RawFallback>,
    pub(super) default: Option<String>,
    #[serde(default)]
    pub(super) values: BTreeMap<String, String>,
}

/// `mappings.tables.<kind>.fallback` (`default = "X"` is the third choice, a key of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawFallback {
    Identity,
    Required,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEngine {
    pub(super) lookback: Option<String>,
    pub(super) safety_lag: Option<String>,
    pub(super) full_scan_every: Option<String>,
    pub(super) strict: Option<bool>,
    pub(super) retry_after: Option<String>,
    pub(super) retry_attempts: Option<u32>,
    pub(super) gl_target_check_every: Option<String>,
    pub(super) max_writes_per_window: Option<usize>,
}
