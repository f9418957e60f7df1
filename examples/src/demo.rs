//! The demo: a whole CloudSuite → Cin7 Core sync against the bundled simulators, into an
//! embedded SQLite store, in one call.
//!
//! 1. Start the ION/CloudSuite simulator (seeded suppliers, purchase orders with lines, A/P
//!    vouchers with GL distributions, the chart of accounts) and the Cin7 Core simulator (its
//!    reference data and chart, a raised rate limit, and injected faults).
//! 2. Run GL accounts, suppliers, purchase orders and invoices once. One voucher line is
//!    distributed to an account with no mapping, so its invoice fails on purpose and stays in
//!    the audit store.
//! 3. Add the missing mapping and replay the failures.
//! 4. Change both sides and run again: in CloudSuite rename a supplier and raise a new PO; in
//!    Cin7 receive stock on a purchase that came from CloudSuite. The incremental run carries
//!    each change across once: the rename and the new PO to Cin7, the receipt back to the
//!    CloudSuite PO's received quantity (the return direction, in the same runner and audit
//!    trail), and neither direction echoes the other's write.
//!
//! [`run`] returns what happened, measured from the store and the simulators' state, so the
//! test can check the outcome (every record once in Cin7, nothing lost, failures replayed).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cin7_core_client::Cin7Client;
use cin7_core_client::limiter::RateLimit;
use cin7_core_client::purchase::StockReceived;
use cin7_core_client::simulator::{Cin7Simulator, SimRateLimit, SimulatorConfig as Cin7Config};
use cin7_core_client::sync::Cin7Target;
use cin7_core_client::sync::returns::Cin7PurchaseSource;
use infor_ion_client::IonClient;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::cloudsuite::returns::{CloudSuitePoWriter, PoWriteMode};
use infor_ion_client::simulator::{IonSimulator, Seed, SimulatorConfig as IonConfig, ido_datetime};
use sync_core::engine::returns::ReturnConfig;
use sync_core::engine::{EngineConfig, ProgressFn};
use sync_core::error::MappingKind;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::mapping::{MappingTable, Mappings};
use sync_core::model::SourceIdentity;
use sync_core::replay::ReplayMode;
use sync_core::retry::RetryPolicy;
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditQuery, AuditStatus, SyncStore};
use sync_core::target::{Approach, DocStatus};
use sync_core::time::{SharedClock, SystemClock};

use crate::assemble::{Parts, ReplayTarget, ReturnParts, assemble};
use crate::summary::{StreamSummary, summarize};

/// The tenant id of the simulated CloudSuite.
pub const TENANT: &str = "SIM_TST";

/// The most replay rounds the demo runs before reporting what is still open.
pub const MAX_REPLAY_ROUNDS: usize = 5;

/// The CloudSuite account the demo leaves unmapped at first.
pub const UNMAPPED_ACCOUNT: &str = "62000";

/// What to run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Suppliers to seed; purchase orders and invoices are half as many each.
    pub records: usize,
    /// Fraction (0 to 1) of Cin7 calls that fail (throttling, gateway errors, resets).
    pub fault_rate: f64,
    /// Where the SQLite store goes.
    pub dir: PathBuf,
    /// The Cin7 rate limit (calls per minute) of both the simulator and the client. Real Cin7
    /// allows 60; the demo raises it so it finishes in seconds.
    pub calls_per_minute: u32,
    /// Seed of the data and the faults.
    pub seed: u64,
    /// The clock of both simulators, both clients and the engine (a `ManualClock` makes every
    /// rate-limit and backoff wait virtual, for tests).
    pub clock: SharedClock,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            records: 40,
            fault_rate: 0.05,
            dir: PathBuf::from(".demo"),
            calls_per_minute: 3000,
            seed: 7,
            clock: SystemClock::shared(),
        }
    }
}

/// What the demo did.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    /// The first (full) run.
    pub first: Vec<StreamSummary>,
    /// Replayed entries and how many of them succeeded, over every round.
    pub replayed: (usize, usize),
    /// Replay rounds needed until nothing was open (a replay can meet an injected fault too).
    pub replay_rounds: usize,
    /// The incremental run after the changes on both sides.
    pub second: Vec<StreamSummary>,
    /// The receipt made in Cin7 and what CloudSuite holds after the incremental run.
    pub receipt: Option<ReceiptShown>,
    /// Open failures left in the audit store after everything.
    pub open_failures: usize,
    /// Suppliers in Cin7 per CloudSuite vendor ID stamped on them.
    pub cin7_suppliers_by_vendor: BTreeMap<String, usize>,
    /// Purchases in Cin7 per CloudSuite reference stamped on them.
    pub cin7_purchases_by_reference: BTreeMap<String, usize>,
    /// Suppliers, purchase orders and vouchers seeded in CloudSuite (after the changes).
    pub cloudsuite_counts: (usize, usize, usize),
    /// Calls Cin7 served.
    pub cin7_calls: u64,
    /// Throttled responses (429/503) the client absorbed: the simulator's rate limit plus the
    /// injected ones.
    pub cin7_throttled: u64,
    /// Cin7 supplier names per stamped vendor ID.
    pub cin7_supplier_names: BTreeMap<String, String>,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// GL accounts of CloudSuite with no Cin7 counterpart in the mapping (drift).
    pub gl_drift: usize,
    /// The store file.
    pub store_path: PathBuf,
}

/// A receipt made in Cin7, as CloudSuite holds it after the return direction ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptShown {
    /// The CloudSuite PO.
    pub po_number: String,
    /// Its line.
    pub line: String,
    /// The item received.
    pub item: String,
    /// The quantity received in Cin7.
    pub received_in_cin7: String,
    /// `SLPoItems.QtyReceived` of that line before the run.
    pub cloudsuite_before: String,
    /// `SLPoItems.QtyReceived` of that line after the run.
    pub cloudsuite_after: String,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A simulator did not start.
    #[error("a simulator did not start: {0}")]
    Simulator(String),
    /// A client could not be built.
    #[error("cannot build a client: {0}")]
    Client(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] sync_core::error::StoreError),
    /// The engine failed.
    #[error("sync: {0}")]
    Sync(#[from] sync_core::error::SyncError),
}

/// What a `sync` configuration pointed at the bundled simulators needs, as the runner's
/// `[mappings]` TOML: the demo's [`mappings`] with every account mapped.
pub const RUNNER_MAPPINGS: &str = r#"
[mappings.purchases]
approach = "invoice"
order_status = "authorised"
invoice_status = "authorised"
default_location = "Main Warehouse"

[mappings.tables.gl_account]
values = { "10000" = "090", "13000" = "630", "20000" = "800", "40000" = "200", "50000" = "310", "51000" = "425", "61000" = "429", "62000" = "473" }

[mappings.tables.payment_term]
values = { "N30" = "30 days", "N45" = "Net 60", "N60" = "Net 60" }

[mappings.tables.tax_rule]
values = { "TX" = "GST on Expenses" }

[mappings.tables.location]
values = { "MAIN" = "Main Warehouse" }
"#;

/// The mappings from the simulated CloudSuite's codes to the simulated Cin7's names.
pub fn mappings(with_missing_account: bool) -> Mappings {
    let mut table = MappingTable::default()
        .with(MappingKind::GlAccount, "10000", "090")
        .with(MappingKind::GlAccount, "13000", "630")
        .with(MappingKind::GlAccount, "20000", "800")
        .with(MappingKind::GlAccount, "40000", "200")
        .with(MappingKind::GlAccount, "50000", "310")
        .with(MappingKind::GlAccount, "51000", "425")
        .with(MappingKind::GlAccount, "61000", "429")
        .with(MappingKind::PaymentTerm, "N30", "30 days")
        .with(MappingKind::PaymentTerm, "N45", "Net 60")
        .with(MappingKind::PaymentTerm, "N60", "Net 60")
        .with(MappingKind::TaxRule, "TX", "GST on Expenses")
        .with(MappingKind::Location, "MAIN", "Main Warehouse");
    if with_missing_account {
        table = table.with(MappingKind::GlAccount, UNMAPPED_ACCOUNT, "473");
    }
    let mut mappings = Mappings::with_values(table);
    mappings.purchases.default_location = Some("Main Warehouse".to_owned());
    // CloudSuite is the A/P system, so its invoices may arrive before goods are received:
    // purchases are "invoice first", and orders are authorised as they are written so invoices
    // against them post in the same run. (The defaults, stock first and DRAFT orders, leave
    // authorisation and receiving to people in Cin7 and defer those invoices until then.)
    mappings.purchases.approach = Approach::Invoice;
    mappings.purchases.order_status = DocStatus::Authorised;
    // Vouchers are approved in CloudSuite before they reach Cin7; an authorised invoice also
    // lets the warehouse receive an invoice-first purchase in Cin7 (step 4).
    mappings.purchases.invoice_status = DocStatus::Authorised;
    mappings
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(6)
        .with_delays(Duration::from_millis(20), Duration::from_millis(400))
}

/// Run the demo. `progress` sees every engine event (the binary draws progress bars with it).
pub async fn run(
    options: &DemoOptions,
    progress: Option<ProgressFn>,
) -> Result<DemoOutcome, DemoError> {
    let clock = options.clock.clone();
    let ion = IonSimulator::start(IonConfig {
        tenant: TENANT.to_owned(),
        seed: Seed {
            seed: options.seed,
            suppliers: options.records,
            purchase_orders: options.records / 2,
            lines_per_order: 3,
            invoices: options.records / 2,
            payments: 0,
            customers: 0,
            items: 25,
            ..Seed::default()
        },
        clock: clock.clone(),
        ..IonConfig::default()
    })
    .await
    .map_err(|e| DemoError::Simulator(e.to_string()))?;
    // One voucher line goes to an account the mapping does not know yet.
    {
        let mut data = ion.data();
        if let Some(first) = data.rows("SLAptrxds").first() {
            let voucher = first
                .values
                .get("Voucher")
                .cloned()
                .flatten()
                .unwrap_or_default();
            data.update(
                "SLAptrxds",
                &[voucher.as_str(), "2"],
                &[("Acct", Some(UNMAPPED_ACCOUNT))],
                clock.now() - chrono::Duration::days(1),
            );
        }
    }

    let rate = options.fault_rate.clamp(0.0, 0.5);
    let faults = Arc::new(
        FaultPlan::seeded(options.seed)
            .rule(
                None,
                rate * 0.4,
                Fault::Status {
                    status: 429,
                    retry_after: None,
                },
            )
            .rule(
                None,
                rate * 0.3,
                Fault::Status {
                    status: 503,
                    retry_after: None,
                },
            )
            .rule(Some("POST /supplier"), rate * 0.3, Fault::ResetAfterApply),
    );
    // A per-run account id keeps this run's rate limiter apart from any other in the process.
    let account = format!("5a1e0c7e-51a0-4c1d-9c0e-{:012x}", options.seed);
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(
            account,
            cin7_core_client::simulator::DEFAULT_APPLICATION_KEY,
        )
        .with_clock(clock.clone())
        .with_rate_limit(SimRateLimit::new(
            options.calls_per_minute,
            Duration::from_secs(60),
        ))
        .with_faults(faults.clone())
        .with_seed(options.seed),
    )
    .await
    .map_err(|e| DemoError::Simulator(e.to_string()))?;

    let ion_client =
        IonClient::builder(ion.ionapi().map_err(|e| DemoError::Client(e.to_string()))?)
            .clock(clock.clone())
            .build()
            .map_err(|e| DemoError::Client(e.to_string()))?;
    let limit = RateLimit::new(options.calls_per_minute, Duration::from_secs(60))
        .map_err(|e| DemoError::Client(e.to_string()))?;
    let cin7_client = cin7
        .client_builder()
        .rate_limit(limit)
        .retry_policy(fast_retries())
        .throttle_wait(Duration::from_millis(200))
        .build()
        .map_err(|e| DemoError::Client(e.to_string()))?;

    std::fs::create_dir_all(&options.dir).map_err(|e| DemoError::Client(e.to_string()))?;
    let store_path = options.dir.join("sync.sqlite");
    let _ = std::fs::remove_file(&store_path);
    let store: Arc<dyn SyncStore> = Arc::new(SqliteStore::open(&store_path, clock.clone()).await?);

    let parts = |mappings: Mappings| Parts {
        tenant: TENANT.to_owned(),
        source: CloudSuiteSource::csi(ion_client.csi(ion.mongoose_config()), "MAIN")
            .default_currency("USD"),
        target: std::sync::Arc::new(Cin7Target::new(cin7_client.clone())),
        streams: crate::assemble::Stream::ALL.to_vec(),
        returns: Some(return_parts(&ion_client, &ion, &cin7_client)),
        store: store.clone(),
        clock: clock.clone(),
        mappings,
        engine: EngineConfig {
            // Simulated CloudSuite records are stamped up to "now"; a short lag keeps the demo's
            // second run from waiting.
            safety_lag: chrono::Duration::seconds(1),
            ..EngineConfig::default()
        },
        progress: progress.clone(),
    };

    // 1. The first, full run.
    let sync = assemble(parts(mappings(false)))?;
    let report = sync.runner.run_once(None).await;
    let first = summarize(store.as_ref(), TENANT, &report).await?;

    // 2. Add the missing mapping and replay the open failures, in rounds until none is left
    //    (a replay can meet an injected fault too).
    let fixed = assemble(parts(mappings(true)))?;
    let mut replayed = (0, 0);
    let mut replay_rounds = 0;
    while replay_rounds < MAX_REPLAY_ROUNDS {
        let results = fixed
            .replay(&ReplayTarget::All, ReplayMode::Refetch)
            .await?;
        if results.is_empty() {
            break;
        }
        replay_rounds += 1;
        replayed.0 += results.len();
        replayed.1 += results
            .iter()
            .filter(|r| r.status() == Some(AuditStatus::Succeeded))
            .count();
    }

    // 3. Change both sides, then an incremental run. The CloudSuite changes are stamped "now",
    //    after the first run's cursor (its server time less the safety lag), so the next window
    //    sees them; the Cin7 receipt is made through the Cin7 API as a warehouse would.
    let receipt = receive_in_cin7(&cin7, &cin7_client, &ion, clock.now().date_naive()).await;
    {
        let now = clock.now();
        let mut data = ion.data();
        data.update(
            "SLVendors",
            &["V000001"],
            &[("Name", Some("Acme Renamed Supply"))],
            now,
        );
        if let Some(template) = data.rows("SLPos").first().map(|r| r.values.clone()) {
            let mut po = template;
            po.insert("PoNum".into(), Some("PO9000001".into()));
            po.insert("RecordDate".into(), Some(ido_datetime(now)));
            data.upsert("SLPos", po);
            if let Some(line) = data.rows("SLPoItems").first().map(|r| r.values.clone()) {
                let mut line = line;
                line.insert("PoNum".into(), Some("PO9000001".into()));
                data.upsert("SLPoItems", line);
            }
        }
    }
    let report = fixed.runner.run_once(None).await;
    let second = summarize(store.as_ref(), TENANT, &report).await?;
    let receipt = receipt.map(|mut shown| {
        shown.cloudsuite_after = qty_received(&ion, &shown.po_number, &shown.line);
        shown
    });

    let open_failures = store
        .query(&AuditQuery::tenant(TENANT).statuses(&[AuditStatus::Failed, AuditStatus::Pending]))
        .await?
        .len();
    let gl_drift = store
        .gl_mapping(TENANT)
        .await?
        .map(|m| m.drift.len())
        .unwrap_or(0);

    let state = cin7.state();
    let mut cin7_suppliers_by_vendor = BTreeMap::new();
    let mut cin7_supplier_names = BTreeMap::new();
    for supplier in &state.suppliers {
        let vendor = supplier
            .additional_attribute(1)
            .unwrap_or_default()
            .to_owned();
        *cin7_suppliers_by_vendor.entry(vendor.clone()).or_insert(0) += 1;
        cin7_supplier_names.insert(vendor, supplier.name.clone());
    }
    let mut cin7_purchases_by_reference = BTreeMap::new();
    for purchase in &state.purchases {
        let reference = purchase
            .additional_attributes
            .as_ref()
            .and_then(|a| a.get("AdditionalAttribute1"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        *cin7_purchases_by_reference.entry(reference).or_insert(0) += 1;
    }
    let injected = faults.injected();
    let data = ion.data();
    let cloudsuite_counts = (
        data.count("SLVendors"),
        data.count("SLPos"),
        data.count("SLAptrxs"),
    );
    drop(data);
    Ok(DemoOutcome {
        first,
        replayed,
        replay_rounds,
        second,
        receipt,
        open_failures,
        cin7_suppliers_by_vendor,
        cin7_purchases_by_reference,
        cloudsuite_counts,
        cin7_calls: state.calls.values().sum(),
        cin7_throttled: state.throttled
            + injected.get("status_429").copied().unwrap_or(0)
            + injected.get("status_503").copied().unwrap_or(0),
        cin7_supplier_names,
        faults: injected,
        gl_drift,
        store_path,
    })
}

/// The return direction of the demo: Cin7 purchases back to the simulated CloudSuite Industrial
/// site, through IDO updates.
/// The return direction against the simulators, as the demo wires it: IDO writes to the ION
/// simulator's CloudSuite (site `MAIN`), purchases read from `cin7`, invoices written back, the
/// Cin7 location "Main Warehouse" mapped onto warehouse `MAIN`.
pub fn return_parts(ion_client: &IonClient, ion: &IonSimulator, cin7: &Cin7Client) -> ReturnParts {
    let scope = SourceIdentity::new(infor_ion_client::cloudsuite::SYSTEM, TENANT, "MAIN", "");
    let mut config = ReturnConfig::new(scope);
    config
        .locations
        .insert("Main Warehouse".into(), "MAIN".into());
    ReturnParts {
        writer: Arc::new(CloudSuitePoWriter::new(
            ion_client.csi(ion.mongoose_config()),
            PoWriteMode::Ido,
        )),
        cin7: Cin7PurchaseSource::new(cin7.clone(), "cin7-sim"),
        config,
        invoices: true,
    }
}

fn qty_received(ion: &IonSimulator, po_number: &str, line: &str) -> String {
    ion.data()
        .find("SLPoItems", &[po_number, line, "0"])
        .and_then(|row| row.values.get("QtyReceived").cloned().flatten())
        .unwrap_or_else(|| "0".into())
}

/// A receipt a warehouse could make in Cin7: the first order line, in full, of the first
/// purchase that came from a CloudSuite PO and whose invoice is authorised (the demo's
/// purchases are invoice first, so stock can be received only then).
#[derive(Debug, Clone)]
pub struct FullReceipt {
    /// The CloudSuite PO the purchase came from.
    pub po_number: String,
    /// The line's SKU.
    pub sku: String,
    /// Its ordered quantity, all received (as text, e.g. `5`).
    pub quantity: String,
    /// The authorised stock-received task to send.
    pub stock: StockReceived,
}

/// The [`FullReceipt`] for `purchases` dated `today`, if one qualifies.
pub fn full_receipt(
    purchases: &[cin7_core_client::purchase::AdvancedPurchase],
    today: chrono::NaiveDate,
) -> Option<FullReceipt> {
    purchases.iter().find_map(|p| {
        let po_number = p
            .additional_attributes
            .as_ref()?
            .get("AdditionalAttribute1")?
            .as_str()?
            .to_owned();
        let invoiced = p
            .invoice
            .iter()
            .any(|i| i.status == Some(cin7_core_client::purchase::TaskStatus::Authorised));
        if !(po_number.starts_with("PO") && invoiced) {
            return None;
        }
        let line = p.order.as_ref()?.lines.first()?;
        let (sku, quantity) = (line.sku.clone()?, line.quantity?);
        let stock = serde_json::from_value(serde_json::json!({
            "PurchaseID": p.id.as_ref()?.to_string(),
            "Status": "AUTHORISED",
            "Lines": [{ "Date": today.to_string(), "SKU": sku, "Quantity": quantity }],
        }))
        .ok()?;
        Some(FullReceipt {
            po_number,
            sku,
            quantity: quantity.normalize().to_string(),
            stock,
        })
    })
}

/// As a warehouse would in Cin7: make the [`FullReceipt`]. `None` when no purchase qualifies or
/// Cin7 refused the receipt (the demo then has no receipt to show).
async fn receive_in_cin7(
    sim: &Cin7Simulator,
    client: &Cin7Client,
    ion: &IonSimulator,
    today: chrono::NaiveDate,
) -> Option<ReceiptShown> {
    let FullReceipt {
        po_number,
        sku,
        quantity,
        stock,
    } = full_receipt(&sim.state().purchases, today)?;
    // As a person would when Cin7 answers with an error (the demo injects faults): look at
    // the purchase, and send the receipt again only if it is not there.
    let purchase_id = stock.purchase_id.clone()?;
    let received = || {
        sim.state().purchase(&purchase_id).is_some_and(|p| {
            p.stock_received
                .iter()
                .any(|s| s.status == Some(cin7_core_client::purchase::TaskStatus::Authorised))
        })
    };
    let mut tries = 0;
    while let Err(error) = client.purchases().receive_stock(&stock).await {
        tries += 1;
        if received() {
            break;
        }
        if tries == 5 {
            tracing::warn!(%error, "the demo's receipt in Cin7 was refused");
            return None;
        }
    }
    let cs_line = ion
        .data()
        .rows("SLPoItems")
        .iter()
        .find(|r| {
            r.values.get("PoNum").cloned().flatten().as_deref() == Some(po_number.as_str())
                && r.values.get("Item").cloned().flatten().as_deref() == Some(sku.as_str())
        })
        .and_then(|r| r.values.get("PoLine").cloned().flatten())?;
    Some(ReceiptShown {
        cloudsuite_before: qty_received(ion, &po_number, &cs_line),
        cloudsuite_after: String::new(),
        po_number,
        line: cs_line,
        item: sku,
        received_in_cin7: quantity,
    })
}
