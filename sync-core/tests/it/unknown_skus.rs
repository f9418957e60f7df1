//! A PO line naming a SKU the target has no product for: the target refuses the order, the
//! engine asks which SKUs are unknown and defers the PO ("unknown SKU X"), and the following
//! windows retry it on their own until the product exists — then it is written once. Under
//! `unknown_skus = Fail` the refusal stands.

use std::sync::Arc;

use sync_core::engine::StreamRunner;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::mapping::UnknownSkuRule;
use sync_core::model::{PurchaseOrder, Record};
use sync_core::runner::TenantRunner;
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditQuery, AuditStatus, AuditStore, StreamId};
use sync_core::testing::{MemoryPurchaseTarget, MemorySource, MemorySupplierTarget};
use sync_core::time::ManualClock;

use crate::common::*;

fn rig(rule: UnknownSkuRule) -> (TenantRunner, MemoryStore, MemoryPurchaseTarget, ManualClock) {
    rig_with(rule, &["P1"])
}

fn rig_with(
    rule: UnknownSkuRule,
    numbers: &[&str],
) -> (TenantRunner, MemoryStore, MemoryPurchaseTarget, ManualClock) {
    let store = MemoryStore::new();
    let clock = ManualClock::new(at(100));
    let suppliers_src = MemorySource::new(at(100));
    suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    let pos: MemorySource<PurchaseOrder> = MemorySource::new(at(100));
    for number in numbers {
        pos.upsert(po(number, "V1", 5, at(2)));
    }
    let purchases = MemoryPurchaseTarget::new().with_products(["OTHER-1"]);
    let mut policy = mappings();
    policy.purchases.unknown_skus = rule;
    let suppliers = Arc::new(SupplierPipeline::new(
        Arc::new(MemorySupplierTarget::new()),
        policy.clone(),
    ));
    let runner = TenantRunner::new(TENANT, Arc::new(store.clone()), clock.shared())
        .with_suppliers(StreamRunner::new(
            suppliers.clone(),
            Arc::new(suppliers_src.clone()),
            config(),
        ))
        .with_purchase_orders(StreamRunner::new(
            Arc::new(PurchaseOrderPipeline::new(
                Arc::new(purchases.clone()),
                policy,
                suppliers,
                Arc::new(suppliers_src),
            )),
            Arc::new(pos),
            config(),
        ));
    (runner, store, purchases, clock)
}

async fn last_row(store: &MemoryStore) -> (AuditStatus, String) {
    let rows = store
        .query(&AuditQuery::tenant(TENANT).stream(StreamId::purchase_orders()))
        .await
        .unwrap();
    let last = rows
        .iter()
        .rfind(|r| r.source == po("P1", "V1", 5, at(2)).identity().clone())
        .unwrap();
    let why = last
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    (last.status, why)
}

#[tokio::test]
async fn an_unknown_sku_defers_the_po_until_the_product_exists() {
    let (runner, store, purchases, clock) = rig(UnknownSkuRule::Defer);
    assert!(runner.run_once(None).await.is_ok());
    let (status, why) = last_row(&store).await;
    assert_eq!(status, AuditStatus::Deferred, "{why}");
    assert!(why.contains("unknown SKU WID-1"), "{why}");
    let orders = || {
        purchases
            .purchases()
            .values()
            .filter(|p| p.order.is_some())
            .count()
    };
    assert_eq!(orders(), 0);

    // Still unknown: the next window retries it, and it waits again.
    clock.advance(std::time::Duration::from_secs(60));
    assert!(runner.run_once(None).await.is_ok());
    assert_eq!(last_row(&store).await.0, AuditStatus::Deferred);

    // Someone adds the product in the target: the next window writes the order, once.
    purchases.add_product("WID-1");
    clock.advance(std::time::Duration::from_secs(60));
    assert!(runner.run_once(None).await.is_ok());
    assert_eq!(last_row(&store).await.0, AuditStatus::Succeeded);
    assert_eq!(orders(), 1);
    assert_eq!(
        purchases.purchases().len(),
        1,
        "one purchase, however often retried"
    );
    assert_eq!(purchases.calls().creates, 1);
}

#[tokio::test]
async fn under_fail_the_refusal_stands() {
    let (runner, store, _purchases, _clock) = rig(UnknownSkuRule::Fail);
    assert!(runner.run_once(None).await.is_ok());
    let (status, why) = last_row(&store).await;
    assert_eq!(status, AuditStatus::Failed, "{why}");
    assert!(why.contains("Product with SKU 'WID-1' not found"), "{why}");
}

/// Many POs waiting for one product cost one refused order and one lookup a window, not one
/// each: the SKU found missing is remembered for the rest of the window.
#[tokio::test]
async fn pos_waiting_for_one_product_cost_one_refusal_a_window() {
    let (runner, store, purchases, _clock) = rig_with(UnknownSkuRule::Defer, &["P1", "P2", "P3"]);
    assert!(runner.run_once(None).await.is_ok());
    let rows = store
        .query(&AuditQuery::tenant(TENANT).stream(StreamId::purchase_orders()))
        .await
        .unwrap();
    let deferred = rows
        .iter()
        .filter(|r| r.status == AuditStatus::Deferred)
        .filter(|r| {
            r.error
                .as_ref()
                .is_some_and(|e| e.message.contains("unknown SKU WID-1"))
        })
        .count();
    assert_eq!(deferred, 3, "{rows:?}");
    assert_eq!(
        purchases.calls().orders,
        1,
        "one refused order write, the others waited"
    );
}
