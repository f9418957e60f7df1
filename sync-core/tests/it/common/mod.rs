//! Shared builders for sync-core's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use sync_core::engine::{EngineConfig, RunContext};
use sync_core::error::MappingKind;
use sync_core::mapping::{Fallback, MappingTable, Mappings, SupplierDefaults};
use sync_core::model::{
    AccountClass, GlAccount, InvoiceLine, PartyStatus, PoLine, PoStatus, PurchaseOrder,
    SourceIdentity, Supplier, SupplierInvoice,
};
use sync_core::store::SyncStore;
use sync_core::time::{ManualClock, SharedClock};

pub const TENANT: &str = "ACME_TST";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

pub fn ident(id: &str) -> SourceIdentity {
    SourceIdentity::new("cloudsuite", TENANT, "10", id)
}

pub fn supplier(vendor: &str, name: &str, modified: DateTime<Utc>) -> Supplier {
    Supplier {
        identity: ident(vendor),
        vendor_id: vendor.to_owned(),
        name: name.to_owned(),
        currency: "NZD".into(),
        payment_term: Some("N30".into()),
        tax_rule: Some("STD".into()),
        tax_number: None,
        status: PartyStatus::Active,
        addresses: vec![],
        contacts: vec![],
        modified_at: modified,
    }
}

pub fn po(number: &str, vendor: &str, qty: i64, modified: DateTime<Utc>) -> PurchaseOrder {
    PurchaseOrder {
        identity: ident(number),
        po_number: number.to_owned(),
        vendor_id: vendor.to_owned(),
        order_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        required_by: None,
        currency: "NZD".into(),
        location: Some("MAIN".into()),
        status: PoStatus::Ordered,
        memo: None,
        lines: vec![PoLine {
            line_no: 1,
            sku: "WID-1".into(),
            description: "Widget".into(),
            quantity: Decimal::from(qty),
            unit_price: Decimal::new(1250, 2),
            tax_rule: Some("STD".into()),
        }],
        modified_at: modified,
    }
}

pub fn invoice(
    number: &str,
    vendor: &str,
    po_id: Option<&str>,
    gl: &str,
    modified: DateTime<Utc>,
) -> SupplierInvoice {
    SupplierInvoice {
        identity: ident(&format!("VCH-{number}")),
        invoice_number: number.to_owned(),
        vendor_id: vendor.to_owned(),
        po_id: po_id.map(str::to_owned),
        invoice_date: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
        due_date: None,
        currency: "NZD".into(),
        lines: vec![InvoiceLine {
            line_no: 1,
            sku: Some("WID-1".into()),
            description: "Widget".into(),
            quantity: Decimal::from(4),
            unit_price: Decimal::new(1250, 2),
            gl_account: gl.to_owned(),
            tax_rule: Some("STD".into()),
        }],
        modified_at: modified,
    }
}

pub fn gl(code: &str, name: &str, class: AccountClass, active: bool) -> GlAccount {
    GlAccount {
        identity: ident(code),
        code: code.to_owned(),
        name: name.to_owned(),
        class,
        account_type: None,
        active,
        modified_at: t0(),
    }
}

pub fn table() -> MappingTable {
    MappingTable::default()
        .with(MappingKind::PaymentTerm, "N30", "30 days")
        .with(MappingKind::TaxRule, "STD", "GST on Expenses")
        .with(MappingKind::Location, "MAIN", "Main Warehouse")
        .with_fallback(MappingKind::Currency, Fallback::Identity)
}

pub fn mappings() -> Mappings {
    Mappings {
        supplier_defaults: SupplierDefaults::default(),
        ..Mappings::with_values(table())
    }
}

pub fn config() -> EngineConfig {
    EngineConfig {
        lookback: Duration::seconds(60),
        safety_lag: Duration::seconds(5),
        full_scan_every: None,
        strict: false,
        retry: Default::default(),
        ..EngineConfig::default()
    }
}

pub fn clock() -> (ManualClock, SharedClock) {
    let clock = ManualClock::new(t0());
    let shared = clock.shared();
    (clock, shared)
}

pub fn run(store: Arc<dyn SyncStore>, clock: &SharedClock) -> RunContext {
    RunContext::new(store, clock.clone(), TENANT)
}
