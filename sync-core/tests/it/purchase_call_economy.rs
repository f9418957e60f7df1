//! What the purchase-order and invoice pipelines cost in target calls (issue 11): a fresh PO is
//! exactly header + order, an invoice on a synced PO exactly one invoice post, an invoice
//! without a PO exactly header + order + invoice; no reads. And what the saved reads must not
//! cost in safety: an invoice whose PO order was undone or whose purchase was removed in the
//! target since the PO stream wrote it ends deferred or in conflict, as it did with the read.
//! And an authorised invoice whose answer was lost is recognised as written on the next try,
//! not reported as a conflict; purchases whose create answers were lost are found again with
//! one shared scan (issue 18), not one lookup each.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use common::*;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::{ORDER_STATUS, PurchaseOrderPipeline};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{RunContext, StreamRunner, WindowReport};
use sync_core::error::MappingKind;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::mapping::Mappings;
use sync_core::model::{PurchaseOrder, RecordKind, Supplier, SupplierInvoice};
use sync_core::replay::{ReplayMode, ReplayResult, ReplayScope, Replayer};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditStatus, CrossRefStore, ErrorClass, MatchResult, StreamId};
use sync_core::target::{DocStatus, TaskStatus};
use sync_core::testing::{MemoryPurchaseTarget, MemorySource, MemorySupplierTarget, PurchaseCalls};
use sync_core::time::SharedClock;

struct Rig {
    store: MemoryStore,
    clock: SharedClock,
    suppliers_src: MemorySource<Supplier>,
    pos_src: MemorySource<PurchaseOrder>,
    invoices_src: MemorySource<SupplierInvoice>,
    target: MemoryPurchaseTarget,
    suppliers: StreamRunner<SupplierPipeline>,
    pos: StreamRunner<PurchaseOrderPipeline>,
    invoices: StreamRunner<InvoicePipeline>,
}

/// Orders written with `order_status`; invoice lines on GL 6100 go to account 715.
fn rig(order_status: DocStatus) -> Rig {
    rig_with(order_status, DocStatus::Draft)
}

fn rig_with(order_status: DocStatus, invoice_status: DocStatus) -> Rig {
    let mut mappings = Mappings::with_values(table().with(MappingKind::GlAccount, "6100", "715"));
    mappings.purchases.order_status = order_status;
    mappings.purchases.invoice_status = invoice_status;
    let suppliers_src = MemorySource::new(at(100));
    let pos_src = MemorySource::new(at(100));
    let invoices_src = MemorySource::new(at(100));
    let target = MemoryPurchaseTarget::new();
    let supplier_pipeline = Arc::new(SupplierPipeline::new(
        Arc::new(MemorySupplierTarget::new()),
        mappings.clone(),
    ));
    let pos = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            Arc::new(target.clone()),
            mappings.clone(),
            supplier_pipeline.clone(),
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(pos_src.clone()),
        config(),
    );
    let invoices = StreamRunner::new(
        Arc::new(InvoicePipeline::new(
            Arc::new(target.clone()),
            mappings,
            supplier_pipeline.clone(),
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(invoices_src.clone()),
        config(),
    );
    let suppliers = StreamRunner::new(supplier_pipeline, Arc::new(suppliers_src.clone()), config());
    let (_, clock) = clock();
    Rig {
        store: MemoryStore::new(),
        clock,
        suppliers_src,
        pos_src,
        invoices_src,
        target,
        suppliers,
        pos,
        invoices,
    }
}

impl Rig {
    fn ctx(&self) -> RunContext {
        run(Arc::new(self.store.clone()), &self.clock)
    }

    /// Supplier V1 in the target, then `calls` measured from here.
    async fn with_supplier(self) -> Self {
        self.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
        let report = self.suppliers.run_window(&self.ctx(), None).await.unwrap();
        assert_eq!(report.succeeded, 1, "{report:?}");
        self
    }

    async fn pos(&self) -> WindowReport {
        self.pos.run_window(&self.ctx(), None).await.unwrap()
    }

    async fn invoices(&self) -> WindowReport {
        self.invoices.run_window(&self.ctx(), None).await.unwrap()
    }

    /// The calls made since `before`.
    fn since(&self, before: PurchaseCalls) -> PurchaseCalls {
        let now = self.target.calls();
        PurchaseCalls {
            finds: now.finds - before.finds,
            scans: now.scans - before.scans,
            gets: now.gets - before.gets,
            creates: now.creates - before.creates,
            orders: now.orders - before.orders,
            invoices: now.invoices - before.invoices,
            voids: now.voids - before.voids,
        }
    }

    fn purchase_id(&self) -> String {
        let purchases = self.target.purchases();
        assert_eq!(purchases.len(), 1);
        purchases.into_keys().next().unwrap()
    }

    fn last_invoice_entry(&self) -> sync_core::store::AuditEntry {
        self.store
            .all_entries()
            .into_iter()
            .rfind(|e| e.stream == StreamId::supplier_invoices())
            .unwrap()
    }
}

fn calls(creates: usize, orders: usize, invoices: usize, gets: usize) -> PurchaseCalls {
    PurchaseCalls {
        gets,
        creates,
        orders,
        invoices,
        ..PurchaseCalls::default()
    }
}

#[tokio::test]
async fn a_fresh_po_is_header_plus_order_and_its_invoice_one_post() {
    let rig = rig(DocStatus::Authorised).with_supplier().await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    let before = rig.target.calls();
    let report = rig.pos().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(
        rig.since(before),
        calls(1, 1, 0, 0),
        "header + order, no read"
    );
    let id = rig.purchase_id();
    assert_eq!(
        rig.target.purchases()[&id].order_status,
        TaskStatus::Authorised
    );
    // The PO's cross-reference records what the order write answered.
    let xref = rig
        .store
        .cross_ref(TENANT, RecordKind::PurchaseOrder, &ident("PO-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        xref.aux.get(ORDER_STATUS).map(String::as_str),
        Some("authorised")
    );

    rig.invoices_src
        .upsert(invoice("INV-1", "V1", Some("PO-1"), "6100", at(3)));
    let before = rig.target.calls();
    let report = rig.invoices().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(rig.since(before), calls(0, 0, 1, 0), "one post, no read");
    let purchase = &rig.target.purchases()[&id];
    assert_eq!(purchase.invoices.len(), 1);
    let e = rig.last_invoice_entry();
    assert_eq!(e.match_result, Some(MatchResult::CrossRef));
    assert_eq!(e.target_id.as_deref(), Some(id.as_str()));

    // Nothing changed: nothing is called.
    let before = rig.target.calls();
    rig.pos().await;
    rig.invoices().await;
    assert_eq!(rig.since(before).total(), 0);
}

#[tokio::test]
async fn an_invoice_without_a_po_is_header_order_and_invoice() {
    let rig = rig(DocStatus::Draft).with_supplier().await;
    rig.invoices_src
        .upsert(invoice("INV-9", "V1", None, "6100", at(3)));
    let before = rig.target.calls();
    let report = rig.invoices().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(rig.since(before), calls(1, 1, 1, 0));
    let id = rig.purchase_id();
    let purchase = &rig.target.purchases()[&id];
    assert_eq!(purchase.order_status, TaskStatus::Authorised);
    assert_eq!(purchase.invoices.len(), 1);
}

#[tokio::test]
async fn a_po_with_a_cross_reference_is_read_once_then_written() {
    let rig = rig(DocStatus::Draft).with_supplier().await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    rig.pos_src.upsert(po("PO-1", "V1", 9, at(150)));
    rig.pos_src.set_server_time(at(200));
    let before = rig.target.calls();
    let report = rig.pos().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(
        rig.since(before),
        calls(0, 1, 0, 1),
        "its state now, then the order"
    );
}

#[tokio::test]
async fn an_invoice_on_a_draft_po_reads_the_purchase_and_waits() {
    let rig = rig(DocStatus::Draft).with_supplier().await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    rig.invoices_src
        .upsert(invoice("INV-1", "V1", Some("PO-1"), "6100", at(3)));
    let before = rig.target.calls();
    let report = rig.invoices().await;
    assert_eq!(report.deferred, 1, "{report:?}");
    assert_eq!(
        rig.since(before),
        calls(0, 0, 0, 1),
        "recorded draft: read, no post"
    );

    // Someone authorises it in the target; the deferred invoice is retried and posted.
    let id = rig.purchase_id();
    rig.target.authorise_order(&id);
    let before = rig.target.calls();
    let report = rig.invoices().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(rig.since(before), calls(0, 0, 1, 1));
    assert_eq!(rig.target.purchases()[&id].invoices.len(), 1);
}

#[tokio::test]
async fn an_order_undone_since_the_po_stream_wrote_it_defers_the_invoice() {
    let rig = rig(DocStatus::Authorised).with_supplier().await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    let id = rig.purchase_id();
    // The record says authorised; in the target it is a draft again.
    assert!(rig.target.set_order_status(&id, TaskStatus::Draft));
    rig.invoices_src
        .upsert(invoice("INV-1", "V1", Some("PO-1"), "6100", at(3)));
    let before = rig.target.calls();
    let report = rig.invoices().await;
    assert_eq!(report.deferred, 1, "{report:?}");
    assert_eq!(
        rig.since(before),
        calls(0, 0, 1, 1),
        "the refused post, then a read to say why"
    );
    let e = rig.last_invoice_entry();
    assert_eq!(e.status, AuditStatus::Deferred);
    assert!(
        e.error.as_ref().unwrap().message.contains("not authorised"),
        "{e:?}"
    );
    assert!(rig.target.purchases()[&id].invoices.is_empty());

    // Authorised again: the deferred invoice goes through.
    rig.target.authorise_order(&id);
    let report = rig.invoices().await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(rig.target.purchases()[&id].invoices.len(), 1);
}

#[tokio::test]
async fn a_purchase_removed_since_the_po_stream_wrote_it_is_a_conflict() {
    let rig = rig(DocStatus::Authorised).with_supplier().await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    let id = rig.purchase_id();
    assert!(rig.target.remove_purchase(&id));
    rig.invoices_src
        .upsert(invoice("INV-1", "V1", Some("PO-1"), "6100", at(3)));
    let report = rig.invoices().await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let e = rig.last_invoice_entry();
    assert_eq!(e.status, AuditStatus::Conflict);
    assert_eq!(e.error.as_ref().unwrap().class, ErrorClass::Conflict);
    assert!(
        e.error
            .as_ref()
            .unwrap()
            .message
            .contains("no longer exists"),
        "{e:?}"
    );
}

/// PO-1 written, then INV-1 on it posted authorised: the target applies the post but the
/// answer is lost (the first write of the new fault plan).
async fn lost_invoice_answer() -> (Rig, String) {
    let rig = rig_with(DocStatus::Authorised, DocStatus::Authorised)
        .with_supplier()
        .await;
    rig.pos_src.upsert(po("PO-1", "V1", 4, at(2)));
    rig.pos().await;
    let id = rig.purchase_id();
    rig.target
        .set_faults(FaultPlan::none().at("write", 0, Fault::ResetAfterApply));
    rig.invoices_src
        .upsert(invoice("INV-1", "V1", Some("PO-1"), "6100", at(3)));
    let report = rig.invoices().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(
        rig.last_invoice_entry().error.unwrap().class,
        ErrorClass::UnknownOutcome
    );
    let (_, status) = rig.target.purchases()[&id]
        .invoices
        .values()
        .next()
        .cloned()
        .unwrap();
    assert_eq!(status, TaskStatus::Authorised, "it landed");
    (rig, id)
}

#[tokio::test]
async fn an_authorised_invoice_whose_answer_was_lost_is_written_not_a_conflict() {
    let (rig, id) = lost_invoice_answer().await;
    let replayer = Replayer::new(
        rig.invoices.pipeline().clone(),
        rig.invoices.source().clone(),
    );
    let results = replayer
        .replay_failed(&rig.ctx(), ReplayScope::Stream, ReplayMode::Snapshot)
        .await
        .unwrap();
    let ReplayResult::Replayed(entry) = &results[0] else {
        panic!("{results:?}")
    };
    assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
    assert_eq!(entry.match_result, Some(MatchResult::ByLookup));
    assert_eq!(
        rig.target.purchases()[&id].invoices.len(),
        1,
        "not posted twice"
    );
}

#[tokio::test]
async fn an_authorised_invoice_that_differs_from_the_lost_attempt_is_a_conflict() {
    let (rig, id) = lost_invoice_answer().await;
    // The voucher changes in the source before the next window sees the record again.
    let mut changed = invoice("INV-1", "V1", Some("PO-1"), "6100", at(150));
    changed.lines[0].quantity = 7.into();
    rig.invoices_src.upsert(changed);
    rig.invoices_src.set_server_time(at(200));
    let report = rig.invoices().await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let e = rig.last_invoice_entry();
    assert!(
        e.error
            .as_ref()
            .unwrap()
            .message
            .contains("after it was authorised"),
        "{e:?}"
    );
    let purchase = &rig.target.purchases()[&id];
    assert_eq!(purchase.invoices.len(), 1);
    let (stored, _) = purchase.invoices.values().next().unwrap();
    assert_eq!(stored.lines[0].quantity, 4.into(), "not forced");
}

/// Three PO headers land but their answers are lost: the replay finds all three with one shared
/// scan (no lookup per record), writes only their orders, and creates nothing twice.
#[tokio::test]
async fn lost_create_answers_are_found_again_with_one_shared_scan() {
    let rig = rig(DocStatus::Authorised).with_supplier().await;
    for n in 1..=3 {
        rig.pos_src.upsert(po(&format!("PO-{n}"), "V1", 2, at(2)));
    }
    rig.target.set_faults(
        FaultPlan::none()
            .at("write", 0, Fault::ResetAfterApply)
            .at("write", 1, Fault::ResetAfterApply)
            .at("write", 2, Fault::ResetAfterApply),
    );
    let report = rig.pos().await;
    assert_eq!(report.failed, 3, "{report:?}");
    assert_eq!(rig.target.purchases().len(), 3, "the headers landed");

    let before = rig.target.calls();
    let replayer = Replayer::new(rig.pos.pipeline().clone(), rig.pos.source().clone());
    let results = replayer
        .replay_failed(&rig.ctx(), ReplayScope::Stream, ReplayMode::Snapshot)
        .await
        .unwrap();
    for result in &results {
        let ReplayResult::Replayed(entry) = result else {
            panic!("{results:?}")
        };
        assert_eq!(entry.status, AuditStatus::Succeeded, "{entry:?}");
        assert_eq!(entry.match_result, Some(MatchResult::ByLookup));
    }
    assert_eq!(results.len(), 3);
    assert_eq!(
        rig.since(before),
        PurchaseCalls {
            scans: 1,
            orders: 3,
            ..PurchaseCalls::default()
        }
    );
    assert_eq!(rig.target.purchases().len(), 3, "nothing created twice");
    assert!(
        rig.target
            .purchases()
            .values()
            .all(|p| p.order_status == TaskStatus::Authorised)
    );
}
