//! How a [`Cin7Simulator`](super::Cin7Simulator) behaves: credentials, clock, rate limit,
//! faults, seed data and the switches for behaviour Cin7's API docs leave open (marked
//! **UNCONFIRMED** in `docs/assumptions.md`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sdk_common::faults::FaultPlan;
use sdk_common::time::{SharedClock, SystemClock};

/// The account id a default [`SimulatorConfig`] accepts.
pub const DEFAULT_ACCOUNT_ID: &str = "5a1e0c7e-51a0-4c1d-9c0e-000000000001";
/// The application key a default [`SimulatorConfig`] accepts.
pub const DEFAULT_APPLICATION_KEY: &str = "5a1e0c7e-51a0-4c1d-9c0e-00000000000a";

/// What the per-account limit is keyed by (Cin7's API docs say per API application,
/// integrators' notes say per account: unconfirmed; the safe reading is per account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LimitScope {
    /// Every application key of the account shares one budget.
    #[default]
    PerAccount,
    /// Each application key has its own budget.
    PerApplicationKey,
}

/// The simulated server-side rate limit: `calls` per sliding `window`, measured on the
/// simulator's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRateLimit {
    /// Calls allowed per window (default 60).
    pub calls: u32,
    /// The window (default 60 s).
    pub window: Duration,
    /// The status of a throttled answer: 429 (2025 docs) or 503 (older docs). Default 429.
    pub status: u16,
    /// Whether a throttled answer carries `Retry-After` (seconds until a slot frees). Cin7
    /// is not known to send it, so the default is `false`.
    pub retry_after: bool,
    /// Whether the throttled body carries Cin7's message
    /// (`You have reached 60 calls per 60 seconds API limit.`); otherwise the body is empty.
    pub limit_message: bool,
    /// What the budget is keyed by.
    pub scope: LimitScope,
}

impl Default for SimRateLimit {
    fn default() -> Self {
        SimRateLimit {
            calls: 60,
            window: Duration::from_secs(60),
            status: 429,
            retry_after: false,
            limit_message: true,
            scope: LimitScope::PerAccount,
        }
    }
}

impl SimRateLimit {
    /// `calls` per `window`, answering 429 without `Retry-After`.
    pub fn new(calls: u32, window: Duration) -> Self {
        SimRateLimit {
            calls,
            window,
            ..SimRateLimit::default()
        }
    }

    /// No limit at all (for tests that are about something else).
    pub fn unlimited() -> Self {
        SimRateLimit::new(u32::MAX, Duration::from_secs(60))
    }

    /// Answer throttled calls with this status (429 or 503).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Send (or not) `Retry-After` on throttled answers.
    pub fn with_retry_after(mut self, send: bool) -> Self {
        self.retry_after = send;
        self
    }

    /// Put Cin7's limit message in the throttled body (or leave the body empty).
    pub fn with_limit_message(mut self, send: bool) -> Self {
        self.limit_message = send;
        self
    }

    /// Key the budget per account or per application key.
    pub fn with_scope(mut self, scope: LimitScope) -> Self {
        self.scope = scope;
        self
    }
}

/// An accounting integration that owns the chart of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountingIntegration {
    /// Xero is connected.
    Xero,
    /// QuickBooks Online is connected.
    QuickBooks,
}

impl AccountingIntegration {
    pub(crate) fn name(self) -> &'static str {
        match self {
            AccountingIntegration::Xero => "Xero",
            AccountingIntegration::QuickBooks => "QuickBooks",
        }
    }
}

/// What the simulator answers for a path it does not serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownPath {
    /// `404` with a Cin7 error body (what the status table documents).
    #[default]
    NotFound,
    /// `200` with an HTML "Page not found" page (what integrators report seeing).
    HtmlOk,
}

/// How one list endpoint of the simulator pages, beyond Cin7's documented rules (see
/// [`SimulatorConfig::with_page_cap`] and [`SimulatorConfig::with_phantom_rows`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimPaging {
    /// The most rows a page holds, whatever `Limit` asks (`None`: Cin7's 1000).
    pub page_cap: Option<u64>,
    /// Rows `Total` counts that no page holds (0: `Total` is the truth).
    pub phantom_rows: u64,
}

/// Configuration of a [`Cin7Simulator`](super::Cin7Simulator). Build it with
/// [`SimulatorConfig::new`] or [`Default`] and the `with_*` methods. `Debug` redacts the
/// credentials.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// The account id (`api-auth-accountid`) accepted.
    pub account_id: String,
    /// The application keys (`api-auth-applicationkey`) accepted for the account (Cin7 allows
    /// several API applications per account).
    pub application_keys: Vec<String>,
    /// The clock stamping `LastModifiedOn` / `LastUpdatedDate` and measuring the rate limit.
    pub clock: SharedClock,
    /// The rate limit.
    pub rate_limit: SimRateLimit,
    /// Faults to inject (shared with the test, which can script more while running).
    pub faults: Arc<FaultPlan>,
    /// Seed of the generator for reference data, pre-existing suppliers and every GUID.
    pub seed: u64,
    /// How many pre-existing suppliers to generate.
    pub suppliers: usize,
    /// The products the account holds, by SKU (`None`, the default: products are not
    /// modelled and any SKU is accepted on order and invoice lines). With a list, a line
    /// naming another SKU is refused with `Product with SKU '…' not found.` (our guess at
    /// Cin7's wording), and `GET /product?Sku=` answers from it.
    pub products: Option<Vec<String>>,
    /// An accounting integration owning the chart (`PUT /ref/account` is then refused).
    pub accounting_integration: Option<AccountingIntegration>,
    /// Whether the integration also refuses `POST` and `DELETE /ref/account` (Cin7's API docs
    /// only say `PUT` is refused, so unconfirmed; default `false`: only `PUT` is refused).
    pub integration_blocks_all_account_writes: bool,
    /// Whether the account has the Automation module (needed for `/webhooks`). Default true.
    pub automation_module: bool,
    /// Whether a line `Total` sent on order and invoice lines must equal quantity × price less
    /// discount, rounded to 4 places (the docs label it "for validation"). Default true.
    pub check_line_totals: bool,
    /// What an unknown path answers.
    pub unknown_path: UnknownPath,
    /// The company's base currency (`/me`). Default `AUD`.
    pub base_currency: String,
    /// Paging quirks per list endpoint (lower-case path, e.g. `supplier`, `ref/tax`).
    pub paging: BTreeMap<String, SimPaging>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            application_keys: vec![DEFAULT_APPLICATION_KEY.to_owned()],
            clock: SystemClock::shared(),
            rate_limit: SimRateLimit::default(),
            faults: Arc::new(FaultPlan::none()),
            seed: 1,
            suppliers: 0,
            products: None,
            accounting_integration: None,
            integration_blocks_all_account_writes: false,
            automation_module: true,
            check_line_totals: true,
            unknown_path: UnknownPath::NotFound,
            base_currency: "AUD".to_owned(),
            paging: BTreeMap::new(),
        }
    }
}

impl SimulatorConfig {
    /// A configuration accepting this account id and application key.
    pub fn new(account_id: impl Into<String>, application_key: impl Into<String>) -> Self {
        SimulatorConfig {
            account_id: account_id.into(),
            application_keys: vec![application_key.into()],
            ..SimulatorConfig::default()
        }
    }

    /// Accept one more application key for the account.
    pub fn with_application_key(mut self, key: impl Into<String>) -> Self {
        self.application_keys.push(key.into());
        self
    }

    /// Use this clock (share a `ManualClock` with the client in tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Use this rate limit.
    pub fn with_rate_limit(mut self, limit: SimRateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Inject faults from this plan.
    pub fn with_faults(mut self, plan: Arc<FaultPlan>) -> Self {
        self.faults = plan;
        self
    }

    /// Seed the generator.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Hold exactly these products (see [`SimulatorConfig::products`]).
    pub fn with_products<I: IntoIterator<Item = S>, S: Into<String>>(mut self, skus: I) -> Self {
        self.products = Some(skus.into_iter().map(Into::into).collect());
        self
    }

    /// Generate this many pre-existing suppliers.
    pub fn with_suppliers(mut self, count: usize) -> Self {
        self.suppliers = count;
        self
    }

    /// Pretend Xero or QuickBooks owns the chart of accounts.
    pub fn with_accounting_integration(mut self, integration: AccountingIntegration) -> Self {
        self.accounting_integration = Some(integration);
        self
    }

    /// Whether the integration refuses `POST`/`DELETE /ref/account` too (not only `PUT`).
    pub fn with_integration_blocking_all_account_writes(mut self, all: bool) -> Self {
        self.integration_blocks_all_account_writes = all;
        self
    }

    /// Whether the Automation module (webhooks) is enabled.
    pub fn with_automation_module(mut self, enabled: bool) -> Self {
        self.automation_module = enabled;
        self
    }

    /// Serve at most `rows` per page on `endpoint` (e.g. `supplier`), whatever `Limit` asks, as
    /// a Cin7 endpoint capping lower than 1000 would; pages are numbered in the size served.
    pub fn with_page_cap(mut self, endpoint: &str, rows: u64) -> Self {
        self.paging_of(endpoint).page_cap = Some(rows);
        self
    }

    /// Make `endpoint`'s `Total` claim `rows` more rows than exist, so a client reading to
    /// `Total` finds an empty page before it gets there (rows lost between pages).
    pub fn with_phantom_rows(mut self, endpoint: &str, rows: u64) -> Self {
        self.paging_of(endpoint).phantom_rows = rows;
        self
    }

    fn paging_of(&mut self, endpoint: &str) -> &mut SimPaging {
        let key = endpoint.trim_matches('/').to_ascii_lowercase();
        self.paging.entry(key).or_default()
    }

    /// Whether line totals are checked.
    pub fn with_line_total_check(mut self, check: bool) -> Self {
        self.check_line_totals = check;
        self
    }

    /// What unknown paths answer.
    pub fn with_unknown_path(mut self, answer: UnknownPath) -> Self {
        self.unknown_path = answer;
        self
    }
}

impl std::fmt::Debug for SimulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorConfig")
            .field("account_id", &"[REDACTED]")
            .field(
                "application_keys",
                &format!("[{} REDACTED]", self.application_keys.len()),
            )
            .field("rate_limit", &self.rate_limit)
            .field("seed", &self.seed)
            .field("suppliers", &self.suppliers)
            .field("accounting_integration", &self.accounting_integration)
            .field("unknown_path", &self.unknown_path)
            .finish_non_exhaustive()
    }
}
