//! The fault soak: a whole CloudSuite → Cin7 Core sync against both simulators with a share of
//! every call failing in every way the simulators know, then replay rounds, then a comparison
//! of Cin7's state with the state the seeded CloudSuite data *should* produce.
//!
//! The expected state is computed here from the simulator's raw CloudSuite rows and the
//! mapping table ([`expected`]), without the engine, the source or the target conversions, so
//! a bug in those cannot hide itself. [`run`] returns the figures a reliability report needs:
//! records, faults injected by kind, retries, replay rounds, duplicates, losses, mismatches.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use cin7_core_client::limiter::RateLimit;
use cin7_core_client::simulator::{Cin7Simulator, SimRateLimit, SimulatorConfig as Cin7Config};
use cin7_core_client::sync::Cin7Target;
use infor_ion_client::IonClient;
use infor_ion_client::cloudsuite::CloudSuiteSource;
use infor_ion_client::simulator::{
    CloudSuiteData, IonSimulator, Seed, SimulatorConfig as IonConfig,
};
use serde_json::Value;
use sync_core::engine::{EngineConfig, ProgressEvent, ProgressFn};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::replay::{ReplayMode, ReplayResult};
use sync_core::retry::RetryPolicy;
use sync_core::store::sqlite::SqliteStore;
use sync_core::store::{AuditEntry, AuditQuery, AuditStatus, SyncStore};
use sync_core::target::DocStatus;
use sync_core::time::SharedClock;

use crate::assemble::{Parts, ReplayTarget, assemble};
use crate::demo::{DemoError, TENANT, mappings};

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// CloudSuite records to seed: half suppliers, a quarter purchase orders (3 lines each), a
    /// quarter A/P vouchers (half of them against a PO).
    pub records: usize,
    /// Share (0 to 0.5) of the calls of both simulators that fail, spread over every kind.
    pub fault_rate: f64,
    /// Seed of the data and the faults.
    pub seed: u64,
    /// The most replay rounds after the first run.
    pub max_replay_rounds: usize,
    /// Where the SQLite store goes.
    pub dir: PathBuf,
    /// The clock of everything (a `ManualClock` makes backoff and rate-limit waits virtual).
    pub clock: SharedClock,
    /// The HTTP timeout of both clients; `Fault::Delay` waits 200 ms longer (real time).
    pub http_timeout: Duration,
}

/// What the soak found.
#[derive(Debug, Clone, Default)]
pub struct SoakOutcome {
    /// Suppliers, purchase orders and vouchers seeded.
    pub seeded: (usize, usize, usize),
    /// Faults injected on the ION simulator, by kind.
    pub ion_faults: BTreeMap<String, u64>,
    /// Faults injected on the Cin7 simulator, by kind.
    pub cin7_faults: BTreeMap<String, u64>,
    /// Calls the ION simulator saw (the fault plan is asked once per call).
    pub ion_calls: u64,
    /// ION calls per endpoint.
    pub ion_calls_by_endpoint: BTreeMap<String, u64>,
    /// Calls the Cin7 simulator saw.
    pub cin7_calls: u64,
    /// Retries the clients logged (`retry_events` counter, see [`RetryCounter`]), if counted.
    pub retries: u64,
    /// Replay rounds run until nothing was open (each: an incremental run and a replay pass).
    pub replay_rounds: usize,
    /// Runs of the runner (the first, full one included).
    pub runs: usize,
    /// Stream windows that ended in an error (e.g. a source read the ION client gave up on).
    pub stream_errors: usize,
    /// Each run's windows in one line: `stream read/succeeded/failed/deferred` or `stream ERR`.
    pub run_reports: Vec<String>,
    /// The stream errors, `stream: error`.
    pub stream_error_messages: Vec<String>,
    /// Replay passes that stopped with an error, and why.
    pub replay_errors: Vec<String>,
    /// Whether the last run committed every stream.
    pub last_run_ok: bool,
    /// Replayed entries, and how many succeeded.
    pub replayed: (usize, usize),
    /// Replays skipped because CloudSuite could not be read for the record at the time.
    pub replay_source_unavailable: usize,
    /// Open (failed, pending, deferred, conflict) audit entries left at the end.
    pub open_entries: usize,
    /// Why records are still open (each record's latest open entry): `stream status class:
    /// message` → count.
    pub open_reasons: BTreeMap<String, usize>,
    /// Records with more than one Cin7 counterpart (extra copies).
    pub duplicates: usize,
    /// Expected records with no Cin7 counterpart.
    pub missing: usize,
    /// Cin7 records no CloudSuite record explains.
    pub unexpected: usize,
    /// Field differences between expected and actual, `record: field expected != actual`.
    pub mismatches: Vec<String>,
    /// Source records with no succeeded audit entry.
    pub unaudited: Vec<String>,
    /// Audit entries, all statuses.
    pub audit_entries: usize,
    /// Writes CloudSuite received (`POST /update/...` and IMS messages), faulted ones
    /// included. The soak changes nothing in Cin7, so with the return direction on each one is
    /// a write without a cause.
    pub cloudsuite_writes: u64,
}

impl SoakOutcome {
    /// Nothing lost, nothing duplicated, every field as mapped, every record audited, nothing open.
    pub fn is_exact(&self) -> bool {
        self.duplicates == 0
            && self.missing == 0
            && self.unexpected == 0
            && self.mismatches.is_empty()
            && self.unaudited.is_empty()
            && self.open_entries == 0
            && self.last_run_ok
    }
}

/// The kinds of fault the soak injects, each with an equal share of the fault rate.
pub fn fault_kinds(http_timeout: Duration) -> Vec<Fault> {
    let status = |status, retry_after: Option<u64>| Fault::Status {
        status,
        retry_after: retry_after.map(Duration::from_secs),
    };
    vec![
        status(429, Some(1)),
        status(429, None),
        status(503, Some(2)),
        status(503, None),
        status(500, None),
        status(502, None),
        status(504, None),
        Fault::Delay(http_timeout + Duration::from_millis(200)),
        Fault::ResetBeforeApply,
        Fault::ResetAfterApply,
        Fault::HtmlOk,
        Fault::MalformedBody,
    ]
}

/// A fault plan failing `rate` of all calls, spread evenly over [`fault_kinds`].
pub fn fault_plan(seed: u64, rate: f64, http_timeout: Duration) -> FaultPlan {
    let kinds = fault_kinds(http_timeout);
    // Rules are drawn in order and the first that fires wins: p per rule so that
    // 1 - (1 - p)^k = rate.
    let p = 1.0 - (1.0 - rate.clamp(0.0, 0.5)).powf(1.0 / kinds.len() as f64);
    kinds
        .into_iter()
        .fold(FaultPlan::seeded(seed), |plan, fault| {
            plan.rule(None, p, fault)
        })
}

/// Counts the clients' retry log events (`retrying Cin7 request`, `retrying the ION request`,
/// `retrying the ION token request`, `renewing the token once`). Install it as a
/// `tracing_subscriber` layer; read it with [`RetryCounter::count`].
#[derive(Debug, Clone, Default)]
pub struct RetryCounter(Arc<AtomicU64>);

impl RetryCounter {
    /// Retries seen so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

struct MessageVisitor(bool);

impl tracing::field::Visit for MessageVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let text = format!("{value:?}");
            self.0 |= text.contains("retrying") || text.contains("renewing the token");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RetryCounter {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut visitor = MessageVisitor(false);
        event.record(&mut visitor);
        if visitor.0 {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One expected Cin7 supplier, from an `SLVendors` row and the mappings.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedSupplier {
    /// `VendNum`, stamped in `AdditionalAttribute1`.
    pub vendor: String,
    /// `Name`.
    pub name: String,
    /// `CurrCode` (the currency mapping is the identity).
    pub currency: String,
    /// `TermsCode` through the payment-term mapping.
    pub payment_term: String,
    /// `TaxCode1` through the tax-rule mapping.
    pub tax_rule: String,
    /// `Active`, or `Deprecated` for `Stat = I`.
    pub status: String,
}

/// One expected Cin7 purchase: a PO (with its invoices) or a PO-less voucher.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpectedPurchase {
    /// `PoNum` (or `InvNum` for a voucher without a PO), stamped in `AdditionalAttribute1`.
    pub reference: String,
    /// The vendor whose Cin7 supplier it belongs to.
    pub vendor: String,
    /// Order lines: (SKU, quantity, price), from `SLPoItems`; empty for a PO-less voucher.
    pub order_lines: Vec<(String, String, String)>,
    /// Invoices: number → lines (account through the GL mapping, amount).
    pub invoices: BTreeMap<String, Vec<(String, String)>>,
}

fn value(row: &BTreeMap<String, Option<String>>, key: &str) -> String {
    row.get(key).cloned().flatten().unwrap_or_default()
}

/// A decimal text without trailing zeros (`"12.50"` → `"12.5"`, `"7.00"` → `"7"`).
pub fn norm_decimal(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(n) => {
            let s = format!("{n:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
        Err(_) => text.to_owned(),
    }
}

/// The Cin7 state the seeded data should produce: suppliers by vendor, purchases by reference.
/// Computed from the raw rows and [`mappings`] only.
pub fn expected(
    data: &CloudSuiteData,
) -> (
    BTreeMap<String, ExpectedSupplier>,
    BTreeMap<String, ExpectedPurchase>,
) {
    let table = mappings(true);
    let map = |kind, code: &str| {
        table
            .map(kind, code, "soak expectation")
            .unwrap_or_else(|_| format!("<unmapped {code}>"))
    };
    use sync_core::error::MappingKind;
    let mut suppliers = BTreeMap::new();
    for row in data.rows("SLVendors") {
        let r = &row.values;
        let vendor = value(r, "VendNum");
        suppliers.insert(
            vendor.clone(),
            ExpectedSupplier {
                vendor,
                name: value(r, "Name"),
                currency: value(r, "CurrCode"),
                payment_term: map(MappingKind::PaymentTerm, &value(r, "TermsCode")),
                tax_rule: map(MappingKind::TaxRule, &value(r, "TaxCode1")),
                status: if value(r, "Stat") == "I" {
                    "Deprecated".into()
                } else {
                    "Active".into()
                },
            },
        );
    }
    let mut purchases: BTreeMap<String, ExpectedPurchase> = BTreeMap::new();
    for row in data.rows("SLPos") {
        let po = value(&row.values, "PoNum");
        purchases.insert(
            po.clone(),
            ExpectedPurchase {
                reference: po,
                vendor: value(&row.values, "VendNum"),
                ..ExpectedPurchase::default()
            },
        );
    }
    for row in data.rows("SLPoItems") {
        let r = &row.values;
        if let Some(purchase) = purchases.get_mut(&value(r, "PoNum")) {
            purchase.order_lines.push((
                value(r, "Item"),
                norm_decimal(&value(r, "QtyOrdered")),
                norm_decimal(&value(r, "ItemCost")),
            ));
        }
    }
    let mut lines_by_voucher: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in data.rows("SLAptrxds") {
        let r = &row.values;
        lines_by_voucher
            .entry(value(r, "Voucher"))
            .or_default()
            .push((
                map(MappingKind::GlAccount, &value(r, "Acct")),
                norm_decimal(&value(r, "Amount")),
            ));
    }
    for row in data.rows("SLAptrxs") {
        let r = &row.values;
        let invoice = value(r, "InvNum");
        let lines = lines_by_voucher
            .remove(&value(r, "Voucher"))
            .unwrap_or_default();
        let po = value(r, "PoNum");
        let key = if po.is_empty() { invoice.clone() } else { po };
        let purchase = purchases
            .entry(key.clone())
            .or_insert_with(|| ExpectedPurchase {
                reference: key,
                vendor: value(r, "VendNum"),
                ..ExpectedPurchase::default()
            });
        purchase.invoices.insert(invoice, lines);
    }
    for purchase in purchases.values_mut() {
        purchase.order_lines.sort();
        for lines in purchase.invoices.values_mut() {
            lines.sort();
        }
    }
    (suppliers, purchases)
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn stamp(v: &Value) -> String {
    let direct = text(v, "AdditionalAttribute1");
    if !direct.is_empty() {
        return direct;
    }
    v.get("AdditionalAttributes")
        .map(|a| text(a, "AdditionalAttribute1"))
        .unwrap_or_default()
}

/// Compare Cin7's raw state with the expectation; fills duplicates, missing, unexpected and
/// mismatches of `outcome`.
pub fn compare(
    expected_suppliers: &BTreeMap<String, ExpectedSupplier>,
    expected_purchases: &BTreeMap<String, ExpectedPurchase>,
    raw_suppliers: &[Value],
    raw_purchases: &[Value],
    outcome: &mut SoakOutcome,
) {
    let mut by_vendor: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for s in raw_suppliers {
        by_vendor.entry(stamp(s)).or_default().push(s);
    }
    let mut supplier_vendor: BTreeMap<String, String> = BTreeMap::new();
    for (vendor, found) in &by_vendor {
        let Some(want) = expected_suppliers.get(vendor) else {
            outcome.unexpected += found.len();
            continue;
        };
        outcome.duplicates += found.len() - 1;
        for s in found {
            supplier_vendor.insert(text(s, "ID").to_lowercase(), vendor.clone());
            let got = ExpectedSupplier {
                vendor: vendor.clone(),
                name: text(s, "Name"),
                currency: text(s, "Currency"),
                payment_term: text(s, "PaymentTerm"),
                tax_rule: text(s, "TaxRule"),
                status: text(s, "Status"),
            };
            if &got != want {
                outcome
                    .mismatches
                    .push(format!("supplier {vendor}: expected {want:?}, got {got:?}"));
            }
        }
    }
    outcome.missing += expected_suppliers
        .keys()
        .filter(|v| !by_vendor.contains_key(*v))
        .count();

    let mut by_reference: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for p in raw_purchases {
        by_reference.entry(stamp(p)).or_default().push(p);
    }
    for (reference, found) in &by_reference {
        let Some(want) = expected_purchases.get(reference) else {
            outcome.unexpected += found.len();
            continue;
        };
        outcome.duplicates += found.len() - 1;
        for p in found {
            let vendor = supplier_vendor
                .get(&text(p, "SupplierID").to_lowercase())
                .cloned()
                .unwrap_or_else(|| format!("<supplier {}>", text(p, "SupplierID")));
            let mut order_lines: Vec<(String, String, String)> = p
                .pointer("/Order/Lines")
                .and_then(Value::as_array)
                .map(|lines| {
                    lines
                        .iter()
                        .map(|l| {
                            (
                                text(l, "SKU"),
                                norm_decimal(&text(l, "Quantity")),
                                norm_decimal(&text(l, "Price")),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            order_lines.sort();
            let mut invoices: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            let invoice_list = p
                .get("Invoice")
                .or_else(|| p.get("Invoices"))
                .and_then(Value::as_array);
            for invoice in invoice_list.into_iter().flatten() {
                let number = text(invoice, "InvoiceNumber");
                if number.is_empty() {
                    // An unused placeholder task Cin7 keeps on every purchase.
                    continue;
                }
                if invoices.contains_key(&number) {
                    outcome.duplicates += 1;
                }
                // Voucher distributions have no SKU: they travel as additional charges.
                let mut lines: Vec<(String, String)> = ["Lines", "AdditionalCharges"]
                    .iter()
                    .filter_map(|key| invoice.get(*key).and_then(Value::as_array))
                    .flatten()
                    .map(|l| {
                        let amount = text(l, "Quantity").parse::<f64>().unwrap_or(0.0)
                            * text(l, "Price").parse::<f64>().unwrap_or(0.0);
                        (text(l, "Account"), norm_decimal(&format!("{amount}")))
                    })
                    .collect();
                lines.sort();
                invoices.insert(number, lines);
            }
            for number in want.invoices.keys() {
                if !invoices.contains_key(number) {
                    outcome.missing += 1;
                }
            }
            let got = ExpectedPurchase {
                reference: reference.clone(),
                vendor,
                order_lines,
                invoices,
            };
            if &got != want {
                outcome.mismatches.push(format!(
                    "purchase {reference}: expected {want:?}, got {got:?}"
                ));
            }
        }
    }
    outcome.missing += expected_purchases
        .keys()
        .filter(|r| !by_reference.contains_key(*r))
        .count();
}

fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(8)
        .with_delays(Duration::from_millis(50), Duration::from_secs(5))
}

/// Variations of the soak's setup beyond the CI run's (which uses the demo's mappings).
#[derive(Debug, Clone, Default)]
pub struct SoakVariant {
    /// Post supplier invoices with this status instead of the demo mapping's `Authorised`
    /// (`Draft` is the engine's default).
    pub invoice_status: Option<DocStatus>,
    /// Run the return direction too (Cin7 purchases back to CloudSuite over IDO updates, in
    /// the same runner). Nobody changes Cin7 in a soak, so every CloudSuite write it makes is
    /// unintended: see [`SoakOutcome::cloudsuite_writes`].
    pub returns: bool,
    /// Converge through scheduled runs alone: between runs ten minutes pass on the clock (so
    /// failed records are due for their automatic retry) and nothing is replayed. Without it,
    /// each round is a run and a replay of every open failure.
    pub scheduled_only: bool,
}

/// Run the soak. `retries` is read at the end for [`SoakOutcome::retries`] (pass the counter
/// layer installed in the test's subscriber, or `None`).
pub async fn run(
    options: &SoakOptions,
    retries: Option<&RetryCounter>,
) -> Result<SoakOutcome, DemoError> {
    run_variant(options, retries, &SoakVariant::default()).await
}

/// [`run`] with a [`SoakVariant`].
pub async fn run_variant(
    options: &SoakOptions,
    retries: Option<&RetryCounter>,
    variant: &SoakVariant,
) -> Result<SoakOutcome, DemoError> {
    let clock = options.clock.clone();
    let suppliers = options.records / 2;
    let orders = options.records / 4;
    let invoices = options.records - suppliers - orders;
    let ion_faults = Arc::new(fault_plan(
        options.seed,
        options.fault_rate,
        options.http_timeout,
    ));
    let ion = IonSimulator::start(IonConfig {
        tenant: TENANT.to_owned(),
        seed: Seed {
            seed: options.seed,
            suppliers,
            purchase_orders: orders,
            lines_per_order: 3,
            invoices,
            payments: 0,
            customers: 0,
            items: 50,
            ..Seed::default()
        },
        clock: clock.clone(),
        faults: ion_faults.clone(),
        ..IonConfig::default()
    })
    .await
    .map_err(|e| DemoError::Simulator(e.to_string()))?;
    let cin7_faults = Arc::new(fault_plan(
        options.seed.wrapping_add(1),
        options.fault_rate,
        options.http_timeout,
    ));
    let account = format!("50a4c0de-51a0-4c1d-9c0e-{:012x}", options.seed);
    let cin7 = Cin7Simulator::start(
        Cin7Config::new(
            account,
            cin7_core_client::simulator::DEFAULT_APPLICATION_KEY,
        )
        .with_clock(clock.clone())
        .with_rate_limit(SimRateLimit::new(6000, Duration::from_secs(60)))
        .with_faults(cin7_faults.clone())
        .with_seed(options.seed),
    )
    .await
    .map_err(|e| DemoError::Simulator(e.to_string()))?;

    let ion_client =
        IonClient::builder(ion.ionapi().map_err(|e| DemoError::Client(e.to_string()))?)
            .clock(clock.clone())
            .timeout(options.http_timeout)
            .retry_policy(retry_policy())
            .build()
            .map_err(|e| DemoError::Client(e.to_string()))?;
    let limit = RateLimit::new(6000, Duration::from_secs(60))
        .map_err(|e| DemoError::Client(e.to_string()))?;
    let cin7_client = cin7
        .client_builder()
        .rate_limit(limit)
        .retry_policy(retry_policy())
        .timeout(options.http_timeout)
        .throttle_wait(Duration::from_millis(500))
        .build()
        .map_err(|e| DemoError::Client(e.to_string()))?;

    std::fs::create_dir_all(&options.dir).map_err(|e| DemoError::Client(e.to_string()))?;
    let store_path = options.dir.join("soak.sqlite");
    let _ = std::fs::remove_file(&store_path);
    let store: Arc<dyn SyncStore> = Arc::new(SqliteStore::open(&store_path, clock.clone()).await?);

    // Mid-run, after a quarter of the records: revoke every ION token and fail the token
    // endpoint for a while (the next several token requests). And so that every kind is seen
    // on both sides whatever the dice say, one scripted fault of each kind, spread over the
    // first half of the run, on the next call to either simulator.
    let handled = Arc::new(AtomicUsize::new(0));
    let trigger = (options.records / 4).max(1);
    let kinds = fault_kinds(options.http_timeout);
    let spacing = (options.records / 2 / kinds.len()).max(1);
    let progress: ProgressFn = {
        let handled = handled.clone();
        let ion_plan = ion_faults.clone();
        let cin7_plan = cin7_faults.clone();
        Arc::new(move |event: &ProgressEvent| {
            if !matches!(event, ProgressEvent::Record { .. }) {
                return;
            }
            let n = handled.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(spacing)
                && let Some(fault) = kinds.get(n / spacing - 1)
            {
                ion_plan.push_script("*", fault.clone());
                cin7_plan.push_script("*", fault.clone());
            }
            if n == trigger {
                ion_plan.push_script("*", Fault::RevokeTokens);
                for status in [503, 500, 502, 503] {
                    ion_plan.push_script(
                        "POST /token",
                        Fault::Status {
                            status,
                            retry_after: None,
                        },
                    );
                }
            }
        })
    };

    let sync = assemble(Parts {
        tenant: TENANT.to_owned(),
        source: CloudSuiteSource::csi(ion_client.csi(ion.mongoose_config()), "MAIN")
            .default_currency("USD"),
        target: std::sync::Arc::new(Cin7Target::new(cin7_client.clone())),
        streams: if variant.returns {
            crate::assemble::Stream::ALL.to_vec()
        } else {
            crate::assemble::Stream::FORWARD.to_vec()
        },
        returns: variant
            .returns
            .then(|| crate::demo::return_parts(&ion_client, &ion, &cin7_client)),
        store: store.clone(),
        clock: clock.clone(),
        mappings: {
            let mut mappings = mappings(true);
            if let Some(status) = variant.invoice_status {
                mappings.purchases.invoice_status = status;
            }
            mappings
        },
        engine: EngineConfig {
            safety_lag: chrono::Duration::seconds(1),
            ..EngineConfig::default()
        },
        progress: Some(progress),
    })?;
    let mut report = sync.runner.run_once(None).await;
    let mut outcome = SoakOutcome {
        runs: 1,
        ..SoakOutcome::default()
    };
    outcome.run_reports.push(describe(&report));
    // A round: an incremental run (it re-reads a window whose source read failed, e.g. an ION
    // 500, which the ION client does not retry) and a replay of every open failure.
    while outcome.replay_rounds < options.max_replay_rounds {
        let open = open_entries(store.as_ref()).await?;
        if open.is_empty() && report.is_ok() {
            break;
        }
        outcome.replay_rounds += 1;
        if !report.is_ok() {
            for stream in &report.streams {
                if let Err(error) = &stream.result {
                    outcome.stream_errors += 1;
                    outcome
                        .stream_error_messages
                        .push(format!("{}: {error}", stream.stream));
                }
            }
        }
        if variant.scheduled_only {
            // The next scheduled run, ten minutes on: failed records are due again.
            clock.sleep(Duration::from_secs(600)).await;
        }
        report = sync.runner.run_once(None).await;
        outcome.runs += 1;
        outcome.run_reports.push(describe(&report));
        if variant.scheduled_only {
            continue;
        }
        match sync.replay(&ReplayTarget::All, ReplayMode::Refetch).await {
            Ok(results) => {
                outcome.replayed.0 += results.len();
                outcome.replayed.1 += results
                    .iter()
                    .filter(|r| r.status() == Some(AuditStatus::Succeeded))
                    .count();
                outcome.replay_source_unavailable += results
                    .iter()
                    .filter(|r| matches!(r, ReplayResult::SourceUnavailable { .. }))
                    .count();
            }
            // A replay that could not re-read its source record stops the pass; the next round
            // tries again.
            Err(error) => outcome.replay_errors.push(error.to_string()),
        }
    }
    if !report.is_ok() {
        outcome.stream_errors += report.streams.iter().filter(|s| s.result.is_err()).count();
    }
    outcome.last_run_ok = report.is_ok();
    let open = open_entries(store.as_ref()).await?;
    outcome.open_entries = open.len();
    // Why each record is still open: its latest open entry (entries come oldest first), not
    // the first failure a later replay may have turned into another.
    let mut latest: BTreeMap<(String, String), &AuditEntry> = BTreeMap::new();
    for entry in &open {
        latest.insert((entry.stream.to_string(), entry.source.key()), entry);
    }
    for entry in latest.values() {
        let reason = match &entry.error {
            Some(error) => format!(
                "{} {:?} {:?}: {}",
                entry.stream,
                entry.status,
                error.class,
                error.message.chars().take(160).collect::<String>()
            ),
            None => format!("{} {:?}", entry.stream, entry.status),
        };
        *outcome.open_reasons.entry(reason).or_insert(0) += 1;
    }

    let (want_suppliers, want_purchases) = expected(&ion.data());
    let state = cin7.state();
    compare(
        &want_suppliers,
        &want_purchases,
        &state.raw_suppliers,
        &state.raw_purchases,
        &mut outcome,
    );
    let all = store.query(&AuditQuery::tenant(TENANT)).await?;
    outcome.audit_entries = all.len();
    outcome.unaudited = unaudited(&all, &ion.data());
    outcome.seeded = {
        let data = ion.data();
        (
            data.count("SLVendors"),
            data.count("SLPos"),
            data.count("SLAptrxs"),
        )
    };
    outcome.ion_faults = ion_faults.injected();
    outcome.cin7_faults = cin7_faults.injected();
    outcome.ion_calls = ion_faults.calls();
    outcome.ion_calls_by_endpoint = ion.calls();
    outcome.cloudsuite_writes = outcome
        .ion_calls_by_endpoint
        .iter()
        .filter(|(endpoint, _)| endpoint.starts_with("POST /update/"))
        .map(|(_, n)| n)
        .sum::<u64>()
        + ion.ims_messages().len() as u64;
    outcome.cin7_calls = cin7_faults.calls();
    outcome.retries = retries.map(RetryCounter::count).unwrap_or(0);
    Ok(outcome)
}

fn describe(report: &sync_core::runner::RunReport) -> String {
    report
        .streams
        .iter()
        .map(|s| match &s.result {
            Ok(w) => format!(
                "{} {}/{}/{}/{}",
                s.stream, w.read, w.succeeded, w.failed, w.deferred
            ),
            Err(_) => format!("{} ERR", s.stream),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every open entry: failed, pending, deferred, and conflicts (in a soak nobody edits Cin7,
/// so a conflict is a false one and counts against convergence).
async fn open_entries(store: &dyn SyncStore) -> Result<Vec<AuditEntry>, DemoError> {
    Ok(store
        .query(&AuditQuery::tenant(TENANT).statuses(&AuditStatus::OPEN))
        .await?)
}

/// Source records (suppliers, POs, vouchers) with no `succeeded` audit entry.
fn unaudited(entries: &[AuditEntry], data: &CloudSuiteData) -> Vec<String> {
    let succeeded: std::collections::BTreeSet<(String, String)> = entries
        .iter()
        .filter(|e| e.status == AuditStatus::Succeeded)
        .map(|e| (e.stream.to_string(), e.source.id.clone()))
        .collect();
    let mut missing = Vec::new();
    let streams = [
        ("suppliers", "SLVendors", ["VendNum", "VendNum"]),
        ("purchase_orders", "SLPos", ["PoNum", "PoNum"]),
        ("supplier_invoices", "SLAptrxs", ["Voucher", "InvNum"]),
    ];
    for (stream, ido, keys) in streams {
        for row in data.rows(ido) {
            let ids = keys.map(|k| value(&row.values, k));
            let id = ids[1].clone();
            let found = ids
                .iter()
                .any(|id| succeeded.contains(&(stream.to_owned(), id.clone())));
            if !found {
                missing.push(format!("{stream}/{id}"));
            }
        }
    }
    missing
}
