//! Planned, closed and cancelled purchase orders: `PurchasePolicy::planned` and
//! `PurchasePolicy::closed` decide which are written; a skipped PO is created once it is
//! ordered, and a PO closed after it was synced is no conflict.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use common::*;
use sync_core::engine::purchase_orders::{ORDER_CONTENT, ORDER_STATUS, PurchaseOrderPipeline};
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{StreamRunner, WindowReport};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::mapping::{ClosedPoRule, Mappings, PlannedPoRule};
use sync_core::model::{PoStatus, PurchaseOrder, Record, Supplier};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{Action, AuditEntry, AuditStatus, CrossRefStore, MatchResult, StreamId};
use sync_core::target::{DocStatus, TaskStatus};
use sync_core::testing::{
    MemoryPurchaseTarget, MemorySource, MemorySupplierTarget, StoredPurchase,
};
use sync_core::time::SharedClock;

struct Rig {
    store: MemoryStore,
    clock: SharedClock,
    suppliers_src: MemorySource<Supplier>,
    pos_src: MemorySource<PurchaseOrder>,
    supplier_target: MemorySupplierTarget,
    purchase_target: MemoryPurchaseTarget,
    pos: StreamRunner<PurchaseOrderPipeline>,
}

fn rig_with(mappings: Mappings) -> Rig {
    let suppliers_src = MemorySource::new(at(100));
    let pos_src = MemorySource::new(at(100));
    let supplier_target = MemorySupplierTarget::new();
    let purchase_target = MemoryPurchaseTarget::new();
    let suppliers = Arc::new(SupplierPipeline::new(
        Arc::new(supplier_target.clone()),
        mappings.clone(),
    ));
    let pos = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            Arc::new(purchase_target.clone()),
            mappings,
            suppliers,
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(pos_src.clone()),
        config(),
    );
    let (_, clock) = clock();
    suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    Rig {
        store: MemoryStore::new(),
        clock,
        suppliers_src,
        pos_src,
        supplier_target,
        purchase_target,
        pos,
    }
}

/// The default policy: orders written as drafts, planned and closed POs skipped.
fn rig() -> Rig {
    rig_with(mappings())
}

/// Orders written authorised, with these rules.
fn authorising(planned: PlannedPoRule, closed: ClosedPoRule) -> Rig {
    let mut m = mappings();
    m.purchases.order_status = DocStatus::Authorised;
    m.purchases.planned = planned;
    m.purchases.closed = closed;
    rig_with(m)
}

impl Rig {
    /// Puts PO `number` (supplier V1, one line of `qty`) in the source, modified at `modified`
    /// seconds.
    fn put(&self, number: &str, qty: i64, modified: i64, status: PoStatus) -> PurchaseOrder {
        let mut po = po(number, "V1", qty, at(modified));
        po.status = status;
        self.pos_src.upsert(po.clone());
        po
    }

    /// Runs one PO window with the source clock at `server_time` seconds.
    async fn window(&self, server_time: i64) -> WindowReport {
        self.suppliers_src.set_server_time(at(server_time));
        self.pos_src.set_server_time(at(server_time));
        self.pos
            .run_window(&run(Arc::new(self.store.clone()), &self.clock), None)
            .await
            .unwrap()
    }

    fn rows(&self, po: &str) -> Vec<AuditEntry> {
        self.store
            .all_entries()
            .into_iter()
            .filter(|e| e.stream == StreamId::purchase_orders() && e.source.id == po)
            .collect()
    }

    /// The latest row of `po`, checked to be `status` with `action`.
    fn last(&self, po: &str, status: AuditStatus, action: Action) -> AuditEntry {
        let e = self.rows(po).pop().unwrap();
        assert_eq!((e.status, e.action), (status, action), "{e:?}");
        e
    }

    /// Checks that `po`'s latest row is a skip by rule whose reason names `words`.
    fn skipped_by_rule(&self, po: &str, words: &[&str]) {
        let e = self.last(po, AuditStatus::Succeeded, Action::Skip);
        assert_eq!(e.target_id, None);
        let why = e.response_summary.unwrap();
        for word in words {
            assert!(why.contains(word), "`{word}` missing from: {why}");
        }
    }

    async fn xref(&self, po: &PurchaseOrder) -> Option<sync_core::store::CrossRef> {
        self.store
            .cross_ref(TENANT, PurchaseOrder::KIND, po.identity())
            .await
            .unwrap()
    }

    fn only_purchase(&self) -> (String, StoredPurchase) {
        let purchases = self.purchase_target.purchases();
        assert_eq!(purchases.len(), 1, "{purchases:?}");
        purchases.into_iter().next().unwrap()
    }
}

#[tokio::test]
async fn planned_po_is_skipped_without_a_call_then_created_once_ordered() {
    let rig = rig();
    let planned = rig.put("PO-1", 4, 90, PoStatus::Planned);

    let report = rig.window(100).await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    rig.skipped_by_rule(
        "PO-1",
        &["PO-1", "planned", "mappings.purchases.planned = \"skip\""],
    );
    assert_eq!(rig.purchase_target.calls().total(), 0, "no target call");
    assert!(
        rig.supplier_target.suppliers().is_empty(),
        "its supplier is not created for a PO that is not written"
    );
    assert!(
        rig.xref(&planned).await.is_none(),
        "nothing is remembered as written"
    );

    // The next window reads it again (lookback): the same decision adds no row.
    let report = rig.window(110).await;
    assert_eq!((report.read, report.skipped), (1, 1), "{report:?}");
    assert_eq!(rig.rows("PO-1").len(), 1);

    // It is released in CloudSuite (RecordDate moves): created now.
    rig.put("PO-1", 4, 150, PoStatus::Ordered);
    rig.window(200).await;
    let e = rig.last("PO-1", AuditStatus::Succeeded, Action::Create);
    assert_eq!(e.match_result, Some(MatchResult::Created));
    let (_, purchase) = rig.only_purchase();
    assert_eq!(purchase.header.reference, "PO-1");
    assert_eq!(purchase.order_status, TaskStatus::Draft);
    assert_eq!(rig.supplier_target.suppliers().len(), 1);
}

#[tokio::test]
async fn planned_po_as_draft_is_created_draft_then_written_with_order_status_once_ordered() {
    let rig = authorising(PlannedPoRule::Draft, ClosedPoRule::Skip);
    rig.put("PO-2", 4, 90, PoStatus::Planned);
    rig.window(100).await;
    rig.last("PO-2", AuditStatus::Succeeded, Action::Create);
    let (id, purchase) = rig.only_purchase();
    assert_eq!(
        purchase.order_status,
        TaskStatus::Draft,
        "a planned PO is not authorised, whatever order_status says"
    );
    assert_eq!(purchase.order.unwrap().status, DocStatus::Draft);

    rig.put("PO-2", 4, 150, PoStatus::Ordered);
    rig.window(200).await;
    rig.last("PO-2", AuditStatus::Succeeded, Action::Update);
    let (same, purchase) = rig.only_purchase();
    assert_eq!(same, id, "updated, not created again");
    assert_eq!(purchase.order_status, TaskStatus::Authorised);
}

#[tokio::test]
async fn planned_po_as_order_is_written_like_an_ordered_one() {
    let rig = authorising(PlannedPoRule::Order, ClosedPoRule::Skip);
    rig.put("PO-3", 4, 90, PoStatus::Planned);
    rig.window(100).await;
    rig.last("PO-3", AuditStatus::Succeeded, Action::Create);
    assert_eq!(rig.only_purchase().1.order_status, TaskStatus::Authorised);
}

#[tokio::test]
async fn closed_or_cancelled_po_new_to_the_target_is_not_created_by_default() {
    let rig = rig();
    let closed = rig.put("PO-4", 4, 90, PoStatus::Closed);
    // Its location maps to nothing: a PO that is not written needs no mapping.
    let mut cancelled = rig.put("PO-5", 4, 91, PoStatus::Cancelled);
    cancelled.location = Some("NOWHERE".into());
    rig.pos_src.upsert(cancelled);

    let report = rig.window(100).await;
    assert_eq!((report.succeeded, report.failed), (2, 0), "{report:?}");
    rig.skipped_by_rule(
        "PO-4",
        &[
            "PO-4",
            "closed",
            "not created",
            "mappings.purchases.closed = \"skip\"",
        ],
    );
    rig.skipped_by_rule("PO-5", &["PO-5", "cancelled"]);
    assert!(rig.purchase_target.purchases().is_empty());
    assert_eq!(rig.purchase_target.calls().total(), 0);
    assert!(rig.xref(&closed).await.is_none());
}

#[tokio::test]
async fn closed_po_is_created_when_the_rule_says_create() {
    let rig = authorising(PlannedPoRule::Skip, ClosedPoRule::Create);
    rig.put("PO-6", 4, 90, PoStatus::Closed);
    rig.window(100).await;
    rig.last("PO-6", AuditStatus::Succeeded, Action::Create);
    assert_eq!(rig.only_purchase().1.order_status, TaskStatus::Authorised);
}

#[tokio::test]
async fn skip_resolves_the_earlier_failure_of_a_po_and_is_not_repeated() {
    let rig = rig();
    let mut ordered = rig.put("PO-11", 4, 90, PoStatus::Ordered);
    ordered.location = Some("NOWHERE".into());
    rig.pos_src.upsert(ordered);
    assert_eq!(rig.window(100).await.failed, 1);

    // Closed in CloudSuite before anyone fixed the mapping: nothing is left to fix.
    rig.put("PO-11", 4, 150, PoStatus::Closed);
    let report = rig.window(200).await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    rig.skipped_by_rule("PO-11", &["closed"]);
    let rows = rig.rows("PO-11");
    assert!(rows.iter().all(|e| !e.status.is_open()), "{rows:?}");

    let report = rig.window(210).await;
    assert_eq!(report.skipped, 1, "{report:?}");
    assert_eq!(rig.rows("PO-11").len(), rows.len());
}

#[tokio::test]
async fn po_closed_after_its_order_was_authorised_is_no_conflict() {
    let rig = rig();
    let ordered = rig.put("PO-7", 4, 90, PoStatus::Ordered);
    rig.window(100).await;
    let (id, _) = rig.only_purchase();
    assert!(
        rig.xref(&ordered)
            .await
            .unwrap()
            .aux
            .contains_key(ORDER_CONTENT)
    );
    // Someone authorises the order in Cin7, then the PO is closed in CloudSuite.
    assert!(rig.purchase_target.authorise_order(&id));
    let before = rig.purchase_target.calls();
    rig.put("PO-7", 4, 150, PoStatus::Closed);

    let report = rig.window(200).await;
    assert_eq!((report.succeeded, report.conflicts), (1, 0), "{report:?}");
    let e = rig.last("PO-7", AuditStatus::Succeeded, Action::Skip);
    assert_eq!(e.target_id.as_deref(), Some(id.as_str()));
    let calls = rig.purchase_target.calls();
    assert_eq!(
        (calls.gets - before.gets, calls.orders - before.orders),
        (1, 0),
        "read once, not written"
    );
    assert_eq!(
        rig.only_purchase().1.order_status,
        TaskStatus::Authorised,
        "not re-opened"
    );
    let xref = rig.xref(&ordered).await.unwrap();
    assert_eq!(
        xref.aux.get(ORDER_STATUS).map(String::as_str),
        Some("authorised")
    );
    // Remembered as written: the next overlapping window neither reads nor adds a row.
    let rows = rig.rows("PO-7").len();
    let report = rig.window(210).await;
    assert_eq!(report.skipped, 1, "{report:?}");
    assert_eq!(rig.rows("PO-7").len(), rows);
    assert_eq!(rig.purchase_target.calls().gets, calls.gets);
}

#[tokio::test]
async fn po_closed_while_its_order_is_a_draft_is_updated() {
    let rig = rig();
    rig.put("PO-8", 4, 90, PoStatus::Ordered);
    rig.window(100).await;
    rig.put("PO-8", 3, 150, PoStatus::Closed);
    let report = rig.window(200).await;
    assert_eq!((report.succeeded, report.conflicts), (1, 0), "{report:?}");
    rig.last("PO-8", AuditStatus::Succeeded, Action::Update);
    let purchase = rig.only_purchase().1;
    assert_eq!(purchase.order_status, TaskStatus::Draft);
    assert_eq!(purchase.order.unwrap().lines[0].quantity, 3.into());
}

#[tokio::test]
async fn po_closed_with_changed_lines_after_authorisation_is_still_a_conflict() {
    let rig = rig();
    rig.put("PO-9", 4, 90, PoStatus::Ordered);
    rig.window(100).await;
    let (id, _) = rig.only_purchase();
    assert!(rig.purchase_target.authorise_order(&id));
    rig.put("PO-9", 3, 150, PoStatus::Closed);
    let report = rig.window(200).await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let e = rig.last("PO-9", AuditStatus::Conflict, Action::None);
    assert!(
        e.error
            .unwrap()
            .message
            .contains("after its order was authorised")
    );
    assert_eq!(
        rig.only_purchase().1.order.unwrap().lines[0].quantity,
        4.into()
    );
}

#[tokio::test]
async fn closed_po_whose_create_may_have_reached_the_target_is_adopted_not_skipped() {
    let rig = rig();
    rig.put("PO-10", 4, 90, PoStatus::Ordered);
    // The header create reaches the target, but its answer is lost.
    rig.purchase_target
        .set_faults(FaultPlan::none().at("write", 0, Fault::ResetAfterApply));
    let report = rig.window(100).await;
    assert_eq!(report.failed, 1, "{report:?}");
    let (id, _) = rig.only_purchase();

    rig.put("PO-10", 4, 150, PoStatus::Closed);
    let report = rig.window(200).await;
    assert_eq!(report.succeeded, 1, "{report:?}");
    let e = rig.last("PO-10", AuditStatus::Succeeded, Action::Update);
    assert_eq!(
        (e.match_result, e.target_id.as_deref()),
        (Some(MatchResult::ByLookup), Some(id.as_str()))
    );
    let (same, purchase) = rig.only_purchase();
    assert_eq!(same, id, "adopted, not skipped and not created again");
    assert!(purchase.order.is_some());
    assert!(rig.rows("PO-10").iter().all(|e| !e.status.is_open()));
}

#[tokio::test]
async fn invoices_of_a_closed_po_skipped_by_rule_are_skipped_not_deferred_forever() {
    use sync_core::engine::invoices::InvoicePipeline;
    use sync_core::model::SupplierInvoice;

    let rig = rig();
    rig.put("P9", 3, 10, PoStatus::Closed);
    rig.put("P8", 3, 10, PoStatus::Planned);
    rig.window(200).await;
    rig.skipped_by_rule("P9", &["closed"]);
    rig.skipped_by_rule("P8", &["planned"]);

    let mut mapped = mappings();
    mapped.values = Arc::new(table().with(sync_core::error::MappingKind::GlAccount, "5000", "310"));
    let invoices_src = MemorySource::<SupplierInvoice>::new(at(200));
    invoices_src.upsert(invoice("I9", "V1", Some("P9"), "5000", at(20)));
    invoices_src.upsert(invoice("I8", "V1", Some("P8"), "5000", at(20)));
    let invoices = StreamRunner::new(
        Arc::new(InvoicePipeline::new(
            Arc::new(rig.purchase_target.clone()),
            mapped.clone(),
            Arc::new(SupplierPipeline::new(
                Arc::new(rig.supplier_target.clone()),
                mapped,
            )),
            Arc::new(rig.suppliers_src.clone()),
        )),
        Arc::new(invoices_src.clone()),
        config(),
    );
    let invoice_rows = |id: &str| -> Vec<AuditEntry> {
        rig.store
            .all_entries()
            .into_iter()
            .filter(|e| e.stream == StreamId::supplier_invoices() && e.source.id == id)
            .collect()
    };
    for server_time in [300, 400] {
        invoices_src.set_server_time(at(server_time));
        invoices
            .run_window(&run(Arc::new(rig.store.clone()), &rig.clock), None)
            .await
            .unwrap();
    }
    // The closed PO's invoice: one skip by rule, naming the PO and why, not repeated.
    let closed = invoice_rows("VCH-I9");
    assert_eq!(closed.len(), 1, "{closed:#?}");
    assert_eq!(
        (closed[0].status, closed[0].action, &closed[0].target_id),
        (AuditStatus::Succeeded, Action::Skip, &None),
        "{closed:#?}"
    );
    let why = closed[0].response_summary.clone().unwrap();
    assert!(why.contains("P9") && why.contains("closed"), "{why}");
    // The planned PO's invoice waits for the PO to be ordered and written.
    let planned = invoice_rows("VCH-I8");
    assert_eq!(
        planned.last().unwrap().status,
        AuditStatus::Deferred,
        "{planned:#?}"
    );
    assert!(rig.purchase_target.purchases().is_empty());
}

/// Killed after the order was written and its cross-reference stored, before the window
/// committed: the pending intent stays open, but the cross-reference holds this very content.
/// The next window resolves it without a call and without a conflict.
#[tokio::test]
async fn a_crash_after_the_write_and_its_cross_reference_costs_no_call_and_no_conflict() {
    let rig = authorising(PlannedPoRule::Skip, ClosedPoRule::Skip);
    rig.suppliers_src.set_server_time(at(20));
    let po = rig.put("PO1", 5, 10, PoStatus::Ordered);
    let run = run(Arc::new(rig.store.clone()), &rig.clock);
    // The record handled, its entries never committed (the process died).
    let processed =
        sync_core::engine::process_record(&run, rig.pos.pipeline().as_ref(), &po, false, None)
            .await
            .unwrap();
    assert!(matches!(
        processed,
        sync_core::engine::Processed::Entries(_)
    ));
    let pending = rig.store.all_entries();
    assert!(
        pending.iter().any(|e| e.status == AuditStatus::Pending),
        "{pending:?}"
    );
    let calls = rig.purchase_target.calls();

    rig.window(30).await;
    let row = rig.last("PO1", AuditStatus::Succeeded, Action::Skip);
    assert_eq!(
        row.response_summary.as_deref(),
        Some("already up to date in the target")
    );
    assert_eq!(rig.purchase_target.calls(), calls, "no call to confirm");
    assert!(
        rig.rows("PO1")
            .iter()
            .all(|e| e.status != AuditStatus::Conflict)
    );
    assert!(
        rig.rows("PO1")
            .iter()
            .all(|e| !AuditStatus::OPEN.contains(&e.status)),
        "the intent is resolved: {:?}",
        rig.rows("PO1")
    );
    rig.only_purchase();
}

/// The answer to an authorised order write was lost: the purchase's order is authorised, the
/// cross-reference does not know what was written. The target's order is compared with the
/// one the PO asks for; the same is success (one read), never a conflict.
#[tokio::test]
async fn an_authorised_order_whose_answer_was_lost_is_success_not_conflict() {
    let rig = authorising(PlannedPoRule::Skip, ClosedPoRule::Skip);
    // Write 0 creates the purchase, write 1 writes the order: applied, answer lost.
    rig.purchase_target
        .set_faults(FaultPlan::none().at("write", 1, Fault::ResetAfterApply));
    rig.put("PO1", 5, 10, PoStatus::Ordered);
    rig.window(20).await;
    assert_eq!(rig.rows("PO1").pop().unwrap().status, AuditStatus::Failed);
    let (_, stored) = rig.only_purchase();
    assert_eq!(
        stored.order_status,
        TaskStatus::Authorised,
        "the order landed"
    );

    let calls = rig.purchase_target.calls();
    rig.window(30).await;
    let row = rig.last("PO1", AuditStatus::Succeeded, Action::Skip);
    assert!(
        row.response_summary
            .as_deref()
            .is_some_and(|s| s.contains("already holds these lines")),
        "{row:?}"
    );
    let after = rig.purchase_target.calls();
    assert_eq!(
        (after.creates, after.orders),
        (calls.creates, calls.orders),
        "nothing rewritten"
    );
    assert_eq!(after.gets - calls.gets, 2, "read, then compared");
    rig.only_purchase();

    // A real difference still is a conflict: the source changes after authorisation.
    rig.put("PO1", 9, 40, PoStatus::Ordered);
    rig.window(50).await;
    rig.last("PO1", AuditStatus::Conflict, Action::None);
}
