//! Failed records are retried by the following windows on their own, after a backoff that
//! doubles with each failure in a row, until they need a person; a replay is not needed.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use sync_core::engine::purchase_orders::PurchaseOrderPipeline;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{FailedRetry, StreamRunner, WindowReport};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::model::{PurchaseOrder, Supplier};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{AuditStatus, StreamId};
use sync_core::testing::{MemoryPurchaseTarget, MemorySource, MemorySupplierTarget};
use sync_core::time::ManualClock;

struct Rig {
    store: MemoryStore,
    clock: ManualClock,
    suppliers_src: MemorySource<Supplier>,
    pos_src: MemorySource<PurchaseOrder>,
    purchases: MemoryPurchaseTarget,
    pos: StreamRunner<PurchaseOrderPipeline>,
}

fn rig(retry: FailedRetry) -> Rig {
    let suppliers_src = MemorySource::new(at(100));
    let pos_src = MemorySource::new(at(100));
    let purchases = MemoryPurchaseTarget::new();
    let suppliers = Arc::new(SupplierPipeline::new(
        Arc::new(MemorySupplierTarget::new()),
        mappings(),
    ));
    let pos = StreamRunner::new(
        Arc::new(PurchaseOrderPipeline::new(
            Arc::new(purchases.clone()),
            mappings(),
            suppliers,
            Arc::new(suppliers_src.clone()),
        )),
        Arc::new(pos_src.clone()),
        sync_core::engine::EngineConfig { retry, ..config() },
    );
    let (clock, _) = clock();
    suppliers_src.upsert(supplier("V1", "Alpha", at(1)));
    Rig {
        store: MemoryStore::new(),
        clock,
        suppliers_src,
        pos_src,
        purchases,
        pos,
    }
}

impl Rig {
    /// One window at source time `server_time` seconds, `minutes` after the previous one on
    /// the run's clock.
    async fn window(&self, server_time: i64, minutes: u64) -> WindowReport {
        self.clock.advance(Duration::from_secs(minutes * 60));
        self.suppliers_src.set_server_time(at(server_time));
        self.pos_src.set_server_time(at(server_time));
        self.pos
            .run_window(
                &run(Arc::new(self.store.clone()), &self.clock.shared()),
                None,
            )
            .await
            .unwrap()
    }

    fn statuses(&self, po: &str) -> Vec<AuditStatus> {
        self.store
            .all_entries()
            .into_iter()
            .filter(|e| e.stream == StreamId::purchase_orders() && e.source.id == po)
            .map(|e| e.status)
            .collect()
    }
}

#[tokio::test]
async fn a_failed_record_is_retried_once_due_and_a_later_window_writes_it_without_replay() {
    let rig = rig(FailedRetry::default());
    // The first two creates are refused before anything is sent (Cin7 down).
    rig.purchases.set_faults(
        FaultPlan::none()
            .at("write", 0, Fault::ResetBeforeApply)
            .at("write", 1, Fault::ResetBeforeApply),
    );
    rig.pos_src.upsert(po("PO1", "V1", 5, at(10)));
    assert_eq!(rig.window(100, 0).await.failed, 1);
    // Later windows no longer read PO1 (their windows start after it).
    let report = rig.window(300, 0).await;
    assert_eq!(
        (report.retried, report.read),
        (0, 0),
        "not due yet: {report:?}"
    );
    // One minute after the first failure: retried, fails again.
    let report = rig.window(400, 1).await;
    assert_eq!((report.retried, report.failed), (1, 1), "{report:?}");
    // The second failure waits two minutes.
    assert_eq!(rig.window(500, 1).await.retried, 0);
    let report = rig.window(600, 1).await;
    assert_eq!((report.retried, report.succeeded), (1, 1), "{report:?}");
    assert_eq!(rig.purchases.purchases().len(), 1);
    let statuses = rig.statuses("PO1");
    assert!(statuses.iter().all(|s| !s.is_open()), "{statuses:?}");
    // Nothing left to retry.
    assert_eq!(rig.window(700, 60).await.retried, 0);
}

#[tokio::test]
async fn a_record_that_fails_too_often_in_a_row_needs_attention_and_is_left_alone() {
    let rig = rig(FailedRetry {
        base: chrono::Duration::minutes(1),
        max_attempts: 3,
    });
    rig.purchases
        .set_faults((0..10).fold(FaultPlan::none(), |plan, n| {
            plan.at("write", n, Fault::ApplicationError)
        }));
    rig.pos_src.upsert(po("PO1", "V1", 5, at(10)));
    assert_eq!(rig.window(100, 0).await.failed, 1);
    assert_eq!(rig.window(300, 1).await.retried, 1);
    assert_eq!(rig.window(400, 2).await.retried, 1);
    // Three failures in a row: left to a person, reported, not retried however long it waits.
    let report = rig.window(500, 600).await;
    assert_eq!(
        (report.retried, report.needs_attention),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(
        rig.statuses("PO1")
            .iter()
            .filter(|s| **s == AuditStatus::Failed)
            .count(),
        3
    );
    // A change of the record in the source brings it back in the window, as always.
    rig.pos_src.upsert(po("PO1", "V1", 6, at(550)));
    assert_eq!(rig.window(600, 1).await.read, 1);
}
