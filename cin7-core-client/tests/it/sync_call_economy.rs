//! What the purchase-order and supplier-invoice pipelines cost in Cin7 calls, counted by the
//! Cin7 simulator (issue 11): a fresh PO is exactly `POST /advanced-purchase` +
//! `POST /purchase/order`; an invoice on that PO exactly one `POST /advanced-purchase/invoice`;
//! an invoice without a PO exactly header + order + invoice. No `GET /advanced-purchase`.
#![cfg(all(feature = "sync", feature = "simulator"))]
#![allow(clippy::unwrap_used)]

use crate::simulator_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use cin7_core_client::sync::Cin7Target;
use rust_decimal::Decimal;
use simulator_support::canonical::{self, TENANT, invoice, supplier, t0};
use simulator_support::*;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, RunContext, StreamRunner};
use sync_core::mapping::Mappings;
use sync_core::model::{PoLine, PurchaseOrder};
use sync_core::store::memory::MemoryStore;
use sync_core::target::{Approach, DocStatus};
use sync_core::testing::MemorySource;
use sync_core::time::ManualClock;

/// A PO with five lines (item n, n × 12.50).
fn po(number: &str) -> PurchaseOrder {
    PurchaseOrder {
        lines: (1..=5)
            .map(|n| PoLine {
                line_no: n,
                sku: format!("ITEM-{n:05}"),
                description: format!("Item {n}"),
                quantity: Decimal::from(n),
                unit_price: Decimal::new(1250, 2),
                tax_rule: Some("STD".into()),
            })
            .collect(),
        ..canonical::po(number)
    }
}

fn mappings() -> Mappings {
    // What the demo runs: invoice-first purchases whose orders are authorised at once, so an
    // invoice can be posted on them.
    let mut m = canonical::mappings();
    m.purchases.approach = Approach::Invoice;
    m.purchases.order_status = DocStatus::Authorised;
    m
}

/// Calls per endpoint made between two snapshots of the simulator's counters.
fn made(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

fn calls(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[tokio::test]
async fn purchase_orders_and_invoices_cost_only_their_writes() {
    let (sim, client, _clock) = start(|c| c).await;
    let target = Arc::new(Cin7Target::new(client));
    let clock = ManualClock::new(t0());
    let suppliers = Arc::new(MemorySource::new(t0()));
    suppliers.upsert(supplier());
    let orders = Arc::new(MemorySource::new(t0()));
    orders.upsert(po("4500012"));
    let invoices = Arc::new(MemorySource::new(t0()));
    invoices.upsert(invoice("VCH-1", "SUP-INV-1", Some("4500012")));
    invoices.upsert(invoice("VCH-2", "SUP-INV-2", None));

    let supplier_pipeline = Arc::new(SupplierPipeline::new(target.clone(), mappings()));
    let config = EngineConfig::default();
    let supplier_stream =
        StreamRunner::new(supplier_pipeline.clone(), suppliers.clone(), config.clone());
    let po_stream = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            target.clone(),
            mappings(),
            supplier_pipeline.clone(),
            suppliers.clone(),
        )),
        orders,
        config.clone(),
    );
    let invoice_stream = StreamRunner::new(
        Arc::new(InvoicePipeline::new(
            target,
            mappings(),
            supplier_pipeline,
            suppliers,
        )),
        invoices,
        config,
    );
    let store = MemoryStore::new();
    let run = RunContext::new(Arc::new(store), clock.shared(), TENANT);

    let report = supplier_stream.run_window(&run, None).await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");

    let before = sim.state().calls;
    let report = po_stream.run_window(&run, None).await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(
        made(&before, &sim.state().calls),
        calls(&[("POST /advanced-purchase", 1), ("POST /purchase/order", 1)]),
        "a fresh PO: header + order"
    );

    let before = sim.state().calls;
    let report = invoice_stream.run_window(&run, None).await.unwrap();
    assert_eq!(report.succeeded, 2, "{report:?}");
    assert_eq!(
        made(&before, &sim.state().calls),
        calls(&[
            // The invoice without a PO: its own invoice-first purchase, order and invoice.
            ("POST /advanced-purchase", 1),
            ("POST /purchase/order", 1),
            // Both invoices.
            ("POST /advanced-purchase/invoice", 2),
        ]),
        "the invoice on the PO: one POST, no read"
    );

    // Cin7 holds what was written: two purchases, each with its authorised order and one
    // invoice carrying the source number.
    let state = sim.state();
    assert_eq!(state.purchases.len(), 2);
    for purchase in &state.purchases {
        let order = purchase.order.as_ref().unwrap();
        assert_eq!(
            serde_json::to_value(order.status.as_ref().unwrap()).unwrap(),
            "AUTHORISED"
        );
        let numbers: Vec<_> = purchase
            .invoice
            .iter()
            .filter_map(|i| i.invoice_number.clone())
            .collect();
        assert_eq!(numbers.len(), 1, "{numbers:?}");
    }
}
