//! The configuration file as written: every key optional, so validation (`super`) can say which
//! one is missing and what to put there. Unknown keys are refused by serde, naming them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{returns, tenant};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) tenant: Option<String>,
    #[serde(default)]
    pub(super) dry_run: bool,
    pub(super) streams: Option<Vec<String>>,
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIon {
    pub(super) ionapi: Option<String>,
    pub(super) vault: Option<String>,
    pub(super) vault_key_env: Option<String>,
    pub(super) vault_key_file: Option<String>,
    pub(super) product: Option<String>,
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
    pub(super) mi: std::collections::BTreeMap<String, tenant::RawMi>,
    pub(super) distributions: Option<tenant::RawDistributions>,
    pub(super) supplier_status: Option<tenant::RawSupplierStatus>,
    pub(super) routes: Option<RawRoutes>,
    pub(super) mi_queries: Option<RawMiQueries>,
}

/// `[ion.routes]`: where each forward stream is read from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoutes {
    pub(super) gl_accounts: Option<String>,
    pub(super) suppliers: Option<String>,
    pub(super) purchase_orders: Option<String>,
    pub(super) supplier_invoices: Option<String>,
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
    pub(super) cadence: Option<String>,
    pub(super) every: Option<String>,
    pub(super) at: Option<String>,
    pub(super) day: Option<String>,
    pub(super) time_zone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMappings {
    pub(super) vendor_id_field: Option<String>,
    pub(super) name_match: Option<String>,
    /// The older spelling: `true` is `name_match = "link"`, `false` the default (`review`).
    pub(super) match_by_name: Option<bool>,
    /// Whether `link` may reactivate a supplier deprecated in Cin7 (default false).
    #[serde(default)]
    pub(super) reactivate_deprecated: bool,
    pub(super) revision: Option<String>,
    #[serde(default)]
    pub(super) purchases: RawPurchases,
    #[serde(default)]
    pub(super) tables: BTreeMap<String, RawTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPurchases {
    pub(super) approach: Option<String>,
    pub(super) order_status: Option<String>,
    pub(super) invoice_status: Option<String>,
    pub(super) default_location: Option<String>,
    pub(super) ap_account: Option<String>,
    pub(super) default_payment_term: Option<String>,
    pub(super) default_tax_rule: Option<String>,
    pub(super) planned: Option<String>,
    pub(super) closed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTable {
    pub(super) fallback: Option<String>,
    pub(super) default: Option<String>,
    #[serde(default)]
    pub(super) values: BTreeMap<String, String>,
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
}
