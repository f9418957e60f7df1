//! Property test of a full tenant run (suppliers, then purchase orders and invoice-first supplier
//! invoices that depend on them)
//! through `TenantRunner`, with failures injected into both targets and crashes at random
//! steps. POs whose supplier is not in the target yet resolve it first; POs whose supplier does
//! not exist in the source stay deferred (visible), never fail permanently.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use common::*;
use proptest::prelude::*;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, StreamRunner};
use sync_core::error::MappingKind;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::mapping::Mappings;
use sync_core::model::{PurchaseOrder, Supplier, SupplierInvoice};
use sync_core::replay::{ReplayMode, ReplayScope, Replayer};
use sync_core::runner::TenantRunner;
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditStatus, StreamId};
use sync_core::testing::{
    MemoryPurchaseTarget, MemorySource, MemorySupplierTarget, TrippingStore, Tripwire,
};
use sync_core::time::ManualClock;

#[derive(Debug, Clone)]
struct Round {
    advance: i64,
    suppliers: Vec<(usize, u8)>,
    pos: Vec<(usize, u8)>,
    invoices: Vec<(usize, u8)>,
    supplier_faults: Vec<(u64, Fault)>,
    purchase_faults: Vec<(u64, Fault)>,
    crash: Option<usize>,
    shuffle: Option<u64>,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::ResetBeforeApply),
        Just(Fault::ResetAfterApply),
        Just(Fault::ApplicationError)
    ]
}

/// A plan failing each listed write (0-based write number of the target) with its fault.
fn write_faults(faults: &[(u64, Fault)]) -> FaultPlan {
    faults.iter().fold(FaultPlan::none(), |plan, (n, fault)| {
        plan.at("write", *n, fault.clone())
    })
}

fn round() -> impl Strategy<Value = Round> {
    (
        prop_oneof![Just(0i64), 1i64..=40],
        prop::collection::vec((0usize..5, any::<u8>()), 0..4),
        prop::collection::vec((0usize..8, 1u8..20), 0..5),
        prop::collection::vec((0usize..6, 1u8..20), 0..4),
        prop::collection::vec((0u64..6, fault()), 0..3),
        prop::collection::vec((0u64..8, fault()), 0..3),
        prop::option::weighted(0.3, 0usize..60),
        prop::option::of(any::<u64>()),
    )
        .prop_map(
            |(
                advance,
                suppliers,
                pos,
                invoices,
                supplier_faults,
                purchase_faults,
                crash,
                shuffle,
            )| Round {
                advance,
                suppliers,
                pos,
                invoices,
                supplier_faults,
                purchase_faults,
                crash,
                shuffle,
            },
        )
}

/// PO `i` always belongs to vendor `i % 6`; vendor 5 is never created in the source.
fn vendor_of(po: usize) -> String {
    format!("V{}", po % 6)
}

async fn scenario(rounds: Vec<Round>) -> Result<(), TestCaseError> {
    let trip = Tripwire::new();
    let memory = MemoryStore::new();
    let store = Arc::new(TrippingStore {
        inner: memory.clone(),
        trip: trip.clone(),
    });
    let suppliers_src: MemorySource<Supplier> =
        MemorySource::new(at(1000)).with_tripwire(trip.clone());
    let pos_src: MemorySource<PurchaseOrder> =
        MemorySource::new(at(1000)).with_tripwire(trip.clone());
    let invoices_src: MemorySource<SupplierInvoice> =
        MemorySource::new(at(1000)).with_tripwire(trip.clone());
    let invoice_mappings =
        Mappings::with_values(table().with(MappingKind::GlAccount, "6100", "715"));
    let supplier_target = MemorySupplierTarget::new().with_tripwire(trip.clone());
    let purchase_target = MemoryPurchaseTarget::new().with_tripwire(trip.clone());
    let config = EngineConfig {
        lookback: Duration::seconds(60),
        safety_lag: Duration::seconds(5),
        full_scan_every: None,
        strict: false,
        retry: Default::default(),
        ..EngineConfig::default()
    };
    let supplier_pipeline = Arc::new(
        SupplierPipeline::new(Arc::new(supplier_target.clone()), mappings()).with_page_limit(2),
    );
    let po_pipeline = Arc::new(PurchaseOrderPipeline::new(
        Arc::new(purchase_target.clone()),
        mappings(),
        supplier_pipeline.clone(),
        Arc::new(suppliers_src.clone()),
    ));
    let invoice_pipeline = Arc::new(InvoicePipeline::new(
        Arc::new(purchase_target.clone()),
        invoice_mappings,
        supplier_pipeline.clone(),
        Arc::new(suppliers_src.clone()),
    ));
    let clock = ManualClock::new(at(1000)).shared();
    let runner = TenantRunner::new(TENANT, store.clone(), clock.clone())
        .with_suppliers(StreamRunner::new(
            supplier_pipeline.clone(),
            Arc::new(suppliers_src.clone()),
            config.clone(),
        ))
        .with_purchase_orders(StreamRunner::new(
            po_pipeline.clone(),
            Arc::new(pos_src.clone()),
            config.clone(),
        ))
        .with_invoices(StreamRunner::new(
            invoice_pipeline.clone(),
            Arc::new(invoices_src.clone()),
            config,
        ));

    let mut now = at(1000);
    let mut stamp = 0i64;
    for round in rounds {
        now += Duration::seconds(round.advance);
        suppliers_src.set_server_time(now);
        pos_src.set_server_time(now);
        invoices_src.set_server_time(now);
        for &(v, variant) in &round.suppliers {
            stamp += 1;
            // Strictly increasing stamps per record, at or just before server time.
            suppliers_src.upsert(supplier(
                &format!("V{v}"),
                &format!("Vendor {v} v{variant}"),
                now + Duration::milliseconds(stamp),
            ));
        }
        for &(p, qty) in &round.pos {
            stamp += 1;
            pos_src.upsert(po(
                &format!("P{p}"),
                &vendor_of(p),
                i64::from(qty),
                now + Duration::milliseconds(stamp),
            ));
        }
        for &(i, qty) in &round.invoices {
            stamp += 1;
            let mut inv = invoice(
                &format!("INV{i}"),
                &vendor_of(i),
                None,
                "6100",
                now + Duration::milliseconds(stamp),
            );
            inv.lines[0].quantity = i64::from(qty).into();
            invoices_src.upsert(inv);
        }
        suppliers_src.set_shuffle(round.shuffle);
        pos_src.set_shuffle(round.shuffle.map(|s| s ^ 0x5555));
        supplier_target.set_faults(write_faults(&round.supplier_faults));
        purchase_target.set_faults(write_faults(&round.purchase_faults));
        if let Some(step) = round.crash {
            trip.arm(step);
        }
        tokio::select! {
            report = runner.run_once(None) => {
                prop_assert!(report.is_ok(), "{:?}", report);
            }
            _ = trip.tripped() => {}
        }
        trip.disarm();
    }

    // Final: no faults; the server clock passes every stamp; a run; replay both streams.
    supplier_target.set_faults(FaultPlan::default());
    purchase_target.set_faults(FaultPlan::default());
    now += Duration::seconds(10);
    suppliers_src.set_server_time(now);
    pos_src.set_server_time(now);
    invoices_src.set_server_time(now);
    let report = runner.run_once(None).await;
    prop_assert!(report.is_ok(), "{:?}", report);
    let ctx = run(store.clone(), &clock);
    Replayer::new(supplier_pipeline.clone(), Arc::new(suppliers_src.clone()))
        .replay_failed(&ctx, ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    Replayer::new(po_pipeline.clone(), Arc::new(pos_src.clone()))
        .replay_failed(&ctx, ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    Replayer::new(invoice_pipeline.clone(), Arc::new(invoices_src.clone()))
        .replay_failed(&ctx, ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;

    // Suppliers: exactly one per source supplier, no others except those created for POs.
    let mut vendor_to_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, draft) in supplier_target.suppliers() {
        vendor_to_target
            .entry(
                draft
                    .extra_fields
                    .get("AdditionalAttribute1")
                    .cloned()
                    .unwrap_or_default(),
            )
            .or_default()
            .push(id);
    }
    let source_suppliers = suppliers_src.records();
    prop_assert_eq!(vendor_to_target.len(), source_suppliers.len());
    for s in &source_suppliers {
        let ids = &vendor_to_target[&s.vendor_id];
        prop_assert_eq!(ids.len(), 1, "duplicates of {}", s.vendor_id);
        prop_assert_eq!(
            &supplier_target.suppliers()[&ids[0]],
            &supplier_pipeline.draft(s).unwrap()
        );
    }

    // Purchases: exactly one per source PO whose vendor exists, with the current lines.
    let purchases = purchase_target.purchases();
    let mut by_reference: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for p in purchases.values() {
        by_reference
            .entry(p.header.reference.clone())
            .or_default()
            .push(p.clone());
    }
    let open: Vec<_> = memory
        .all_entries()
        .into_iter()
        .filter(|e| e.status.is_open())
        .collect();
    for order in pos_src.records() {
        let vendor_exists = source_suppliers
            .iter()
            .any(|s| s.vendor_id == order.vendor_id);
        let found = by_reference.get(&order.po_number);
        if vendor_exists {
            prop_assert!(found.is_some(), "missing purchase for {}", order.po_number);
            let found = found.unwrap();
            prop_assert_eq!(
                found.len(),
                1,
                "duplicate purchases for {}",
                order.po_number
            );
            let p = &found[0];
            prop_assert_eq!(
                &p.header.supplier_id,
                &vendor_to_target[&order.vendor_id][0]
            );
            prop_assert_eq!(
                p.order.as_ref(),
                Some(&po_pipeline.order_draft(&order).unwrap())
            );
        } else {
            prop_assert!(found.is_none());
            // Visible as deferred, never failed for that reason.
            prop_assert!(
                open.iter()
                    .any(|e| e.source.id == order.po_number && e.status == AuditStatus::Deferred)
            );
        }
    }
    // Invoices: one invoice-first purchase per invoice whose vendor exists, holding exactly one
    // invoice with the current lines.
    for inv in invoices_src.records() {
        let vendor_exists = source_suppliers
            .iter()
            .any(|s| s.vendor_id == inv.vendor_id);
        let found = by_reference.get(&inv.invoice_number);
        if vendor_exists {
            prop_assert!(
                found.is_some(),
                "missing purchase for {}",
                inv.invoice_number
            );
            let found = found.unwrap();
            prop_assert_eq!(
                found.len(),
                1,
                "duplicate purchases for {}",
                inv.invoice_number
            );
            let invoices: Vec<_> = found[0].invoices.values().collect();
            prop_assert_eq!(
                invoices.len(),
                1,
                "invoice {} posted {} times",
                inv.invoice_number,
                invoices.len()
            );
            prop_assert_eq!(
                &invoices[0].0,
                &invoice_pipeline.invoice_draft(&inv).unwrap()
            );
        } else {
            prop_assert!(found.is_none());
            prop_assert!(
                open.iter()
                    .any(|e| e.source == inv.identity && e.status == AuditStatus::Deferred),
                "{:?}",
                memory
                    .all_entries()
                    .iter()
                    .filter(|e| e.source == inv.identity)
                    .map(|e| (e.status, &e.error))
                    .collect::<Vec<_>>()
            );
        }
    }
    // Nothing else is open.
    let unexpected: Vec<_> = open
        .iter()
        .filter(|e| !(e.stream != StreamId::suppliers() && e.status == AuditStatus::Deferred))
        .map(|e| (&e.stream, &e.source.id, e.status, &e.error))
        .collect();
    prop_assert!(unexpected.is_empty(), "open: {:?}", unexpected);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn full_runs_converge_with_dependencies_failures_and_crashes(rounds in prop::collection::vec(round(), 1..6)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(scenario(rounds))?;
    }
}
