//! Shared helpers for the simulator tests: a simulator and a real client on one virtual clock.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cin7_core_client::simulator::{Cin7Simulator, SimRateLimit, SimulatorConfig};
use cin7_core_client::supplier::Supplier;
use cin7_core_client::{Cin7Client, Cin7ClientBuilder, RateLimit};
use secrecy::SecretString;
use sync_core::retry::RetryPolicy;
use sync_core::time::ManualClock;

pub const KEY: &str = "9c1d2e3f-0000-4000-8000-00000000beef";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh account id, so each test has its own limiter in the client's process-wide registry.
pub fn unique_account() -> String {
    format!(
        "51a0c7e0-0000-4000-8000-{:06}{:06}",
        std::process::id() % 1_000_000,
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A config for a fresh account on `clock`, without a server-side limit.
pub fn config(clock: &ManualClock) -> SimulatorConfig {
    SimulatorConfig::new(unique_account(), KEY)
        .with_clock(clock.shared())
        .with_rate_limit(SimRateLimit::unlimited())
}

/// A client builder for `sim` on `clock`: a generous client-side budget (so the simulator's
/// limit is what is tested), no jitter, 3 retries.
pub fn builder(sim: &Cin7Simulator, clock: &ManualClock) -> Cin7ClientBuilder {
    Cin7Client::builder()
        .account_id(SecretString::from(sim.account_id().to_owned()))
        .application_key(SecretString::from(KEY))
        .base_url(sim.base_url())
        .clock(clock.shared())
        .rate_limit(RateLimit::new(100_000, Duration::from_secs(60)).unwrap())
        .retry_policy(
            RetryPolicy::default()
                .with_jitter(false)
                .with_max_retries(3)
                .with_delays(Duration::from_secs(1), Duration::from_secs(8)),
        )
}

/// A simulator (no limit) and a client on a fresh manual clock.
pub async fn start(
    config_fn: impl FnOnce(SimulatorConfig) -> SimulatorConfig,
) -> (Cin7Simulator, Cin7Client, ManualClock) {
    let clock = ManualClock::default();
    let sim = Cin7Simulator::start(config_fn(config(&clock)))
        .await
        .unwrap();
    let client = builder(&sim, &clock).build().unwrap();
    (sim, client, clock)
}

/// A supplier the simulator accepts (references from its seeded data).
pub fn new_supplier(name: &str) -> Supplier {
    serde_json::from_value(serde_json::json!({
        "Name": name, "Currency": "AUD", "PaymentTerm": "30 days", "AccountPayable": "800",
        "TaxRule": "GST on Expenses", "Status": "Active",
    }))
    .unwrap()
}

/// Canonical records for the tests that run sync-core pipelines against the simulator.
pub mod canonical {
    use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
    use rust_decimal::Decimal;
    use sync_core::error::MappingKind;
    use sync_core::mapping::{MappingTable, Mappings};
    use sync_core::model::{
        InvoiceLine, PartyStatus, PoLine, PoStatus, PurchaseOrder, SourceIdentity, Supplier,
        SupplierInvoice,
    };

    /// The CloudSuite tenant of those records.
    pub const TENANT: &str = "ACME_PRD";

    /// The time the records are read at.
    pub fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
    }

    /// A CloudSuite identity in site 10.
    pub fn ident(id: &str) -> SourceIdentity {
        SourceIdentity::new("cloudsuite", TENANT, "10", id)
    }

    /// Vendor V1001, changed an hour before [`t0`].
    pub fn supplier() -> Supplier {
        Supplier {
            identity: ident("V1001"),
            vendor_id: "V1001".into(),
            name: "Acme Fasteners Ltd".into(),
            currency: "AUD".into(),
            payment_term: Some("N30".into()),
            tax_rule: Some("STD".into()),
            tax_number: None,
            status: PartyStatus::Active,
            addresses: vec![],
            contacts: vec![],
            modified_at: t0() - Duration::hours(1),
        }
    }

    /// The canonical codes mapped to the simulator's seeded reference data (term `N30`, tax
    /// rule `STD`, location `MAIN`, GL account `6100`), purchases at Main Warehouse; the
    /// purchase approach and statuses are the defaults.
    pub fn mappings() -> Mappings {
        let mut m = Mappings::with_values(
            MappingTable::default()
                .with(MappingKind::PaymentTerm, "N30", "30 days")
                .with(MappingKind::TaxRule, "STD", "GST on Expenses")
                .with(MappingKind::Location, "MAIN", "Main Warehouse")
                .with(MappingKind::GlAccount, "6100", "412"),
        );
        m.purchases.default_location = Some("Main Warehouse".into());
        m
    }

    /// PO `number` of V1001 at `MAIN`, ordered 2026-03-01, one line (item 1, 1 × 12.50),
    /// changed half an hour before [`t0`].
    pub fn po(number: &str) -> PurchaseOrder {
        PurchaseOrder {
            identity: ident(number),
            po_number: number.into(),
            vendor_id: "V1001".into(),
            order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            required_by: None,
            currency: "AUD".into(),
            location: Some("MAIN".into()),
            status: PoStatus::Ordered,
            memo: None,
            lines: vec![PoLine {
                line_no: 1,
                sku: "ITEM-00001".into(),
                description: "Item 1".into(),
                quantity: Decimal::ONE,
                unit_price: Decimal::new(1250, 2),
                tax_rule: Some("STD".into()),
            }],
            modified_at: t0() - Duration::minutes(30),
        }
    }

    /// A voucher of V1001 with one line (item 1, account 6100), on PO `po` if any.
    pub fn invoice(voucher: &str, number: &str, po: Option<&str>) -> SupplierInvoice {
        SupplierInvoice {
            identity: ident(voucher),
            invoice_number: number.into(),
            vendor_id: "V1001".into(),
            po_id: po.map(str::to_owned),
            invoice_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            due_date: None,
            currency: "AUD".into(),
            lines: vec![InvoiceLine {
                line_no: 1,
                sku: Some("ITEM-00001".into()),
                description: "Item 1".into(),
                quantity: Decimal::ONE,
                unit_price: Decimal::new(1250, 2),
                gl_account: "6100".into(),
                tax_rule: Some("STD".into()),
            }],
            modified_at: t0() - Duration::minutes(20),
        }
    }
}
