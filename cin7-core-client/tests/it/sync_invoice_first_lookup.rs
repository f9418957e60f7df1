//! Regression (found by the fault soak with draft invoices, docs/reliability.md): an
//! invoice-first purchase whose header was created with a lost answer is found by the lookup
//! (a recent DRAFT), its order is authorised, and the invoice `POST` is lost too. The next
//! attempt must use the purchase it found — by then no longer a DRAFT, so the lookup could not
//! find it again — not create a second purchase.
#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use std::sync::Arc;

use cin7_core_client::sync::Cin7Target;
use simulator_support::canonical::{self, TENANT, invoice, supplier, t0};
use simulator_support::*;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::mapping::Mappings;
use sync_core::replay::{ReplayMode, ReplayScope, Replayer};
use sync_core::store::AuditStatus;
use sync_core::store::memory::MemoryStore;
use sync_core::target::{Approach, DocStatus};
use sync_core::testing::MemorySource;

fn mappings() -> Mappings {
    let mut m = canonical::mappings();
    m.purchases.approach = Approach::Invoice;
    m.purchases.order_status = DocStatus::Authorised;
    // Draft invoices: the sequence the soak met.
    m.purchases.invoice_status = DocStatus::Draft;
    m
}

#[tokio::test]
async fn a_purchase_found_after_a_lost_create_is_kept_when_its_invoice_is_lost_too() {
    let plan = Arc::new(FaultPlan::none());
    let shared = plan.clone();
    let (sim, client, clock) = start(move |c| c.with_faults(shared)).await;
    let target = Arc::new(Cin7Target::new(client));
    let suppliers = Arc::new(MemorySource::new(t0()));
    suppliers.upsert(supplier());
    let invoices = Arc::new(MemorySource::new(t0()));
    invoices.upsert(invoice("VCH-175", "INV-000175", None));
    let supplier_pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings()));
    let invoice_pipeline = Arc::new(InvoicePipeline::new(
        target,
        mappings(),
        supplier_pipeline.clone(),
        suppliers.clone(),
    ));
    let run = RunContext::new(Arc::new(MemoryStore::new()), clock.shared(), TENANT);
    StreamRunner::new(supplier_pipeline, suppliers, EngineConfig::default())
        .run_window(&run, None)
        .await
        .unwrap();

    // 1. The header lands, its answer is lost: the invoice fails with an unknown outcome.
    plan.push_script("POST /advanced-purchase", Fault::ResetAfterApply);
    let report = StreamRunner::new(
        invoice_pipeline.clone(),
        invoices.clone(),
        EngineConfig::default(),
    )
    .run_window(&run, None)
    .await
    .unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(sim.state().purchases.len(), 1);

    // 2. A replay finds the draft purchase, authorises its order; the invoice POST is lost.
    plan.push_script("POST /advanced-purchase/invoice", Fault::ResetBeforeApply);
    let replayer = Replayer::new(invoice_pipeline, invoices);
    let results = replayer
        .replay_failed(&run, ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    assert_ne!(results[0].status(), Some(AuditStatus::Succeeded));
    assert_eq!(plan.injected().get("reset_before_apply"), Some(&1));

    // 3. The next replay posts the invoice on that same purchase: no second purchase.
    let results = replayer
        .replay_failed(&run, ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .unwrap();
    assert_eq!(
        results[0].status(),
        Some(AuditStatus::Succeeded),
        "{results:?}"
    );
    let state = sim.state();
    assert_eq!(state.purchases.len(), 1, "one purchase, never two");
    let numbers: Vec<_> = state.purchases[0]
        .invoice
        .iter()
        .filter_map(|i| i.invoice_number.clone())
        .collect();
    assert_eq!(numbers, ["INV-000175"]);
}
