//! The tenant runner: order of streams, run forever on a schedule, graceful shutdown.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use sync_core::engine::gl_accounts::GlAccountPipeline;
use sync_core::engine::invoices::InvoicePipeline;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{ProgressEvent, StreamRunner};
use sync_core::model::{AccountClass, GlAccount, PurchaseOrder, Supplier, SupplierInvoice};
use sync_core::runner::{Shutdown, TenantRunner};
use sync_core::schedule::{Cadence, Schedule};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditStatus, CheckpointStore, StreamId, StreamKey};
use sync_core::testing::{
    MemoryAccountTarget, MemoryPurchaseTarget, MemorySource, MemorySupplierTarget,
};
use sync_core::time::{Clock, ManualClock};

struct Setup {
    store: MemoryStore,
    suppliers_src: MemorySource<Supplier>,
    supplier_target: MemorySupplierTarget,
    runner: TenantRunner,
    clock: ManualClock,
}

fn setup(progress: Option<sync_core::engine::ProgressFn>) -> Setup {
    let store = MemoryStore::new();
    let suppliers_src = MemorySource::new(at(100));
    let pos_src: MemorySource<PurchaseOrder> = MemorySource::new(at(100));
    let invoices_src: MemorySource<SupplierInvoice> = MemorySource::new(at(100));
    let gl_src: MemorySource<GlAccount> = MemorySource::new(at(100));
    gl_src.upsert(gl("715", "Purchases", AccountClass::Expense, true));
    let supplier_target = MemorySupplierTarget::new();
    let purchases = MemoryPurchaseTarget::new();
    let suppliers = Arc::new(SupplierPipeline::new(
        Arc::new(supplier_target.clone()),
        mappings(),
    ));
    let clock = ManualClock::new(at(100));
    let mut runner = TenantRunner::new(TENANT, Arc::new(store.clone()), clock.shared())
        .with_gl_accounts(GlAccountPipeline::new(
            Arc::new(gl_src),
            Arc::new(MemoryAccountTarget::new([])),
            mappings(),
        ))
        .with_suppliers(StreamRunner::new(
            suppliers.clone(),
            Arc::new(suppliers_src.clone()),
            config(),
        ))
        .with_purchase_orders(StreamRunner::new(
            Arc::new(PurchaseOrderPipeline::new(
                Arc::new(purchases.clone()),
                mappings(),
                suppliers.clone(),
                Arc::new(suppliers_src.clone()),
            )),
            Arc::new(pos_src),
            config(),
        ))
        .with_invoices(StreamRunner::new(
            Arc::new(InvoicePipeline::new(
                Arc::new(purchases),
                mappings(),
                suppliers,
                Arc::new(suppliers_src.clone()),
            )),
            Arc::new(invoices_src),
            config(),
        ));
    if let Some(progress) = progress {
        runner = runner.with_progress(progress);
    }
    Setup {
        store,
        suppliers_src,
        supplier_target,
        runner,
        clock,
    }
}

#[tokio::test]
async fn a_full_run_goes_gl_suppliers_purchase_orders_invoices() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let s = setup(Some(Arc::new(move |e: &ProgressEvent| {
        if let ProgressEvent::WindowStarted { stream, .. } = e {
            sink.lock().unwrap().push(stream.clone());
        }
    })));
    s.suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    let report = s.runner.run_once(None).await;
    assert!(report.is_ok(), "{report:?}");
    let order = vec![
        StreamId::gl_accounts(),
        StreamId::suppliers(),
        StreamId::purchase_orders(),
        StreamId::supplier_invoices(),
    ];
    let reported: Vec<_> = report.streams.iter().map(|r| r.stream.clone()).collect();
    assert_eq!(reported, order);
    assert_eq!(*events.lock().unwrap(), order);
    assert_eq!(s.supplier_target.suppliers().len(), 1);
}

#[tokio::test]
async fn shutdown_mid_window_finishes_the_record_and_never_half_commits() {
    let (stop, signal) = Shutdown::new();
    let stop = Arc::new(stop);
    let trigger = stop.clone();
    let s = setup(Some(Arc::new(move |e: &ProgressEvent| {
        if matches!(e, ProgressEvent::Record { stream, .. } if *stream == StreamId::suppliers()) {
            trigger.trigger();
        }
    })));
    for i in 0..5 {
        s.suppliers_src
            .upsert(supplier(&format!("V{i}"), &format!("S{i}"), at(i)));
    }
    let report = s.runner.run_once(Some(&signal)).await;
    assert!(report.interrupted);
    let suppliers = report
        .streams
        .iter()
        .find(|r| r.stream == StreamId::suppliers())
        .unwrap();
    assert!(suppliers.result.as_ref().unwrap().abandoned);
    assert_eq!(report.streams.len(), 2, "later streams did not start");
    // One record finished; its audit row is committed; the cursor did not move.
    assert_eq!(s.supplier_target.suppliers().len(), 1);
    let rows: Vec<_> = s
        .store
        .all_entries()
        .into_iter()
        .filter(|e| e.stream == StreamId::suppliers())
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, AuditStatus::Succeeded);
    let key = StreamKey::new(TENANT, StreamId::suppliers());
    assert_eq!(s.store.load_checkpoint(&key).await.unwrap().cursor, None);

    // The next run completes the window without duplicates.
    let report = s.runner.run_once(None).await;
    assert!(report.is_ok() && !report.interrupted);
    assert_eq!(s.supplier_target.suppliers().len(), 5);
    assert!(
        s.store
            .load_checkpoint(&key)
            .await
            .unwrap()
            .cursor
            .is_some()
    );
}

#[tokio::test]
async fn run_forever_follows_the_schedule_until_shutdown() {
    let (stop, signal) = Shutdown::new();
    let stop = Arc::new(stop);
    let trigger = stop.clone();
    let runs = Arc::new(Mutex::new(0));
    let counter = runs.clone();
    let s = setup(Some(Arc::new(move |e: &ProgressEvent| {
        if matches!(e, ProgressEvent::WindowFinished { stream, .. } if *stream == StreamId::supplier_invoices())
        {
            let mut n = counter.lock().unwrap();
            *n += 1;
            if *n == 3 {
                trigger.trigger();
            }
        }
    })));
    let start = s.clock.now();
    let schedule = Schedule::new(Cadence::Interval(Duration::from_secs(900)));
    let done = s.runner.run_forever(&schedule, signal).await.unwrap();
    assert_eq!(done, 3);
    assert_eq!(*runs.lock().unwrap(), 3);
    assert_eq!(s.clock.now() - start, chrono::Duration::minutes(45));
}

/// A runner syncing suppliers from `source` into `target` with `mappings`, draining pushes.
fn push_runner(
    store: &MemoryStore,
    source: &MemorySource<Supplier>,
    target: &MemorySupplierTarget,
    mappings: sync_core::mapping::Mappings,
) -> TenantRunner {
    TenantRunner::new(
        TENANT,
        Arc::new(store.clone()),
        ManualClock::new(at(100)).shared(),
    )
    .with_suppliers(StreamRunner::new(
        Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings)),
        Arc::new(source.clone()),
        config(),
    ))
    .with_pushes()
}

/// Queue a push of `target` in `stream`'s push queue, keyed `key` (`deleted`: a `Delete`);
/// whether it was new.
async fn push(
    store: &MemoryStore,
    stream: StreamId,
    target: &sync_core::model::SourceIdentity,
    key: &str,
    deleted: bool,
) -> bool {
    use sync_core::engine::queue::{Trigger, enqueue, push_queue};
    use sync_core::model::RecordKind;
    let kind = if stream == StreamId::gl_accounts() {
        RecordKind::GlAccount
    } else if stream == StreamId::purchase_orders() {
        RecordKind::PurchaseOrder
    } else {
        RecordKind::Supplier
    };
    let trigger = Trigger {
        delivery_key: key.into(),
        event: "Sync".into(),
        target: target.clone(),
        hint: None,
        deleted,
        received_at: at(101),
    };
    enqueue(store, TENANT, &push_queue(&stream), kind, "test", &trigger)
        .await
        .unwrap()
}

/// Records pushed for the forward streams are synced when the runner is woken; a queue that
/// fails (here the GL window) stays queued without holding up the others, and a scheduled run
/// settles chart pushes with its own GL window instead of reading the chart twice.
#[tokio::test]
async fn pushed_records_are_drained_per_queue_and_chart_pushes_ride_the_runs_gl_window() {
    use sync_core::engine::queue::push_queue;
    use sync_core::model::Record;
    use sync_core::store::{AuditQuery, AuditStore};

    let store = MemoryStore::new();
    let source = MemorySource::new(at(100));
    let s1 = supplier("S1", "Pushed Ltd", at(50));
    source.upsert(s1.clone());
    let gl_src: MemorySource<GlAccount> = MemorySource::new(at(100));
    gl_src.upsert(gl("715", "Purchases", AccountClass::Expense, true));
    let target = MemorySupplierTarget::new();
    let runner =
        push_runner(&store, &source, &target, mappings()).with_gl_accounts(GlAccountPipeline::new(
            Arc::new(gl_src.clone()),
            Arc::new(MemoryAccountTarget::new([])),
            mappings(),
        ));
    let chart = s1.identity().sibling("chart");
    assert!(push(&store, StreamId::gl_accounts(), &chart, "c1", false).await);
    assert!(push(&store, StreamId::suppliers(), s1.identity(), "s1", false).await);
    let open = |stream: StreamId| {
        let store = store.clone();
        async move {
            store
                .query(
                    &AuditQuery::tenant(TENANT)
                        .stream(push_queue(&stream))
                        .statuses(&[AuditStatus::Deferred]),
                )
                .await
                .unwrap()
                .len()
        }
    };

    // The chart cannot be read: its push stays queued, the supplier's is synced anyway.
    gl_src.fail_next_poll_at(Some(0));
    let report = runner.run_triggers().await.unwrap();
    assert_eq!((report.triggers, report.purchases), (1, 1), "{report:?}");
    assert_eq!(target.suppliers().len(), 1);
    assert_eq!(
        (
            open(StreamId::gl_accounts()).await,
            open(StreamId::suppliers()).await
        ),
        (1, 0)
    );

    // A scheduled run reads the chart once and settles the chart push with that window.
    let polls = gl_src.polls();
    let run = runner.run_once(None).await;
    assert!(run.is_ok(), "{run:?}");
    assert_eq!(gl_src.polls(), polls + 1, "the chart is read once");
    assert_eq!(open(StreamId::gl_accounts()).await, 0);
}

/// A vendor pushed as deleted and gone from the source: kept in the target by default,
/// deprecated with `deleted_suppliers = Deactivate` — its last written version, inactive. A
/// vendor never linked to a target supplier gets nothing.
#[tokio::test]
async fn a_pushed_delete_keeps_or_deprecates_the_target_supplier_by_policy() {
    use sync_core::mapping::DeletePolicy;
    use sync_core::model::{PartyStatus, Record};

    for (policy, expected) in [
        (DeletePolicy::Keep, PartyStatus::Active),
        (DeletePolicy::Deactivate, PartyStatus::Inactive),
    ] {
        let store = MemoryStore::new();
        let source = MemorySource::new(at(100));
        let s1 = supplier("S1", "Gone Ltd", at(50));
        source.upsert(s1.clone());
        let target = MemorySupplierTarget::new();
        let mut with_policy = mappings();
        with_policy.deleted_suppliers = policy;
        let runner = push_runner(&store, &source, &target, with_policy);
        assert!(runner.run_once(None).await.is_ok());
        assert_eq!(target.suppliers().len(), 1);

        source.remove(s1.identity());
        push(&store, StreamId::suppliers(), s1.identity(), "d1", true).await;
        let report = runner.run_triggers().await.unwrap();
        assert_eq!(report.triggers, 1, "{policy:?}: {report:?}");
        let statuses: Vec<PartyStatus> = target
            .suppliers()
            .values()
            .map(|d| d.status.clone())
            .collect();
        assert_eq!(statuses, [expected], "{policy:?}");

        let never = supplier("S9", "Never Synced", at(50));
        push(&store, StreamId::suppliers(), never.identity(), "d9", true).await;
        runner.run_triggers().await.unwrap();
        assert_eq!(target.suppliers().len(), 1, "{policy:?}: nothing created");
    }
}

/// A PO pushed as deleted and gone from the source, under `deleted_purchase_orders =
/// Deactivate`: its draft purchase is voided — once, even when the void's answer is lost (the
/// deletion stays queued and the next drain finds it voided); an authorised one is left as it
/// is and reported as a conflict. Under `Keep` nothing is written.
#[tokio::test]
async fn a_pushed_po_delete_voids_a_draft_purchase_and_leaves_an_authorised_one() {
    use sync_core::faults::{Fault, FaultPlan};
    use sync_core::mapping::DeletePolicy;
    use sync_core::model::{Record, RecordKind};
    use sync_core::store::{AuditQuery, AuditStore, CrossRefStore};
    use sync_core::target::TaskStatus;

    for policy in [DeletePolicy::Keep, DeletePolicy::Deactivate] {
        let store = MemoryStore::new();
        let suppliers_src = MemorySource::new(at(100));
        suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
        let pos_src: MemorySource<PurchaseOrder> = MemorySource::new(at(100));
        let (draft, authorised) = (po("P1", "V1", 5, at(2)), po("P2", "V1", 7, at(2)));
        pos_src.upsert(draft.clone());
        pos_src.upsert(authorised.clone());
        let purchases = MemoryPurchaseTarget::new();
        let mut with_policy = mappings();
        with_policy.deleted_purchase_orders = policy;
        let suppliers = Arc::new(SupplierPipeline::new(
            Arc::new(MemorySupplierTarget::new()),
            with_policy.clone(),
        ));
        let runner = TenantRunner::new(
            TENANT,
            Arc::new(store.clone()),
            ManualClock::new(at(100)).shared(),
        )
        .with_suppliers(StreamRunner::new(
            suppliers.clone(),
            Arc::new(suppliers_src.clone()),
            config(),
        ))
        .with_purchase_orders(StreamRunner::new(
            Arc::new(PurchaseOrderPipeline::new(
                Arc::new(purchases.clone()),
                with_policy,
                suppliers,
                Arc::new(suppliers_src),
            )),
            Arc::new(pos_src.clone()),
            config(),
        ))
        .with_pushes();
        assert!(runner.run_once(None).await.is_ok());
        let id_of = |po: &PurchaseOrder| {
            let store = store.clone();
            let identity = po.identity().clone();
            async move {
                store
                    .cross_ref(TENANT, RecordKind::PurchaseOrder, &identity)
                    .await
                    .unwrap()
                    .unwrap()
                    .target_id
            }
        };
        let (draft_id, authorised_id) = (id_of(&draft).await, id_of(&authorised).await);
        purchases.set_order_status(&draft_id, TaskStatus::Draft);
        purchases.set_order_status(&authorised_id, TaskStatus::Authorised);

        pos_src.remove(draft.identity());
        pos_src.remove(authorised.identity());
        // The void lands but its answer is lost.
        purchases.set_faults(FaultPlan::none().script("write", Fault::ResetAfterApply));
        push(
            &store,
            StreamId::purchase_orders(),
            draft.identity(),
            "d1",
            true,
        )
        .await;
        push(
            &store,
            StreamId::purchase_orders(),
            authorised.identity(),
            "d2",
            true,
        )
        .await;
        runner.run_triggers().await.unwrap();
        let again = runner.run_triggers().await.unwrap();

        let left: Vec<String> = purchases.purchases().into_keys().collect();
        let rows = store
            .query(&AuditQuery::tenant(TENANT).stream(StreamId::purchase_orders()))
            .await
            .unwrap();
        let last_of = |po: &PurchaseOrder| {
            rows.iter()
                .rfind(|e| &e.source == po.identity())
                .map(|e| e.status)
        };
        match policy {
            DeletePolicy::Keep => {
                assert_eq!(left, [draft_id, authorised_id]);
                assert_eq!(purchases.calls().voids, 0);
                assert_eq!(again.triggers, 0, "both settled by the first drain");
            }
            DeletePolicy::Deactivate => {
                assert_eq!(left, [authorised_id], "the draft is voided");
                assert_eq!(purchases.calls().voids, 1, "voided once");
                assert_eq!(again.triggers, 1, "the lost void stayed queued, once");
                assert_eq!(last_of(&draft), Some(AuditStatus::Succeeded));
                assert_eq!(last_of(&authorised), Some(AuditStatus::Conflict));
            }
        }
    }
}

/// Under a backlog the record waiting longest is synced first: the queue drains in the order
/// records were queued, not by their ids.
#[tokio::test]
async fn pushed_records_are_synced_oldest_first() {
    use sync_core::model::Record;

    let store = MemoryStore::new();
    let source = MemorySource::new(at(100));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let progress: sync_core::engine::ProgressFn = {
        let seen = seen.clone();
        Arc::new(move |event: &ProgressEvent| {
            if let ProgressEvent::Record { source, .. } = event {
                seen.lock().unwrap().push(source.id.clone());
            }
        })
    };
    let runner = push_runner(&store, &source, &MemorySupplierTarget::new(), mappings())
        .with_progress(progress);
    for vendor in ["S3", "S1", "S2"] {
        let record = supplier(vendor, vendor, at(50));
        source.upsert(record.clone());
        push(
            &store,
            StreamId::suppliers(),
            record.identity(),
            vendor,
            false,
        )
        .await;
    }
    runner.run_triggers().await.unwrap();
    assert_eq!(*seen.lock().unwrap(), ["S3", "S1", "S2"]);
}

/// A pushed delete only updates the supplier the vendor is linked to: when that one is gone
/// from the target (deleted there by hand), nothing is created and nothing is matched by name.
#[tokio::test]
async fn a_pushed_delete_never_creates_or_matches_by_name() {
    use sync_core::mapping::{DeletePolicy, NameMatch};
    use sync_core::model::{PartyStatus, Record, RecordKind};
    use sync_core::store::CrossRefStore;

    let store = MemoryStore::new();
    let source = MemorySource::new(at(100));
    let s1 = supplier("S1", "Gone Ltd", at(50));
    source.upsert(s1.clone());
    let target = MemorySupplierTarget::new();
    let mut policy = mappings();
    policy.deleted_suppliers = DeletePolicy::Deactivate;
    policy.vendor_id_field = None;
    policy.name_match = NameMatch::Create;
    let runner = push_runner(&store, &source, &target, policy);
    assert!(runner.run_once(None).await.is_ok());
    // The linked target supplier is gone (the cross-reference points at nothing now).
    let mut xref = store
        .cross_ref(TENANT, RecordKind::Supplier, s1.identity())
        .await
        .unwrap()
        .unwrap();
    xref.target_id = "deleted-in-the-target".into();
    store.put_cross_ref(TENANT, &xref).await.unwrap();

    source.remove(s1.identity());
    push(&store, StreamId::suppliers(), s1.identity(), "d1", true).await;
    runner.run_triggers().await.unwrap();
    let suppliers = target.suppliers();
    assert_eq!(suppliers.len(), 1, "nothing created");
    assert!(
        suppliers.values().all(|d| d.status == PartyStatus::Active),
        "nothing else deprecated"
    );
}
