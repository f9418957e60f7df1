//! The eight sync rules, one test (or more) each, against in-memory fakes.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use common::*;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::engine::{EngineConfig, StreamRunner};
use sync_core::error::{StoreError, SyncError};
use sync_core::faults::{Fault, FaultPlan};
use sync_core::model::Supplier;
use sync_core::store::memory::MemoryStore;
use sync_core::store::{
    AuditQuery, AuditStatus, AuditStore, CheckpointStore, ErrorClass, Fence, StreamId, StreamKey,
    SyncStore, WindowCommit,
};
use sync_core::testing::{MemorySource, MemorySupplierTarget, TrippingStore, Tripwire};

struct Rig {
    source: MemorySource<Supplier>,
    target: MemorySupplierTarget,
    store: MemoryStore,
    runner: StreamRunner<SupplierPipeline>,
    clock: sync_core::time::SharedClock,
}

fn rig(config: EngineConfig) -> Rig {
    let source = MemorySource::new(at(0));
    let target = MemorySupplierTarget::new();
    let pipeline =
        Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings()).with_page_limit(2));
    let runner = StreamRunner::new(pipeline, Arc::new(source.clone()), config);
    let (_, clock) = clock();
    Rig {
        source,
        target,
        store: MemoryStore::new(),
        runner,
        clock,
    }
}

impl Rig {
    async fn window(&self) -> Result<sync_core::engine::WindowReport, SyncError> {
        let run = run(Arc::new(self.store.clone()), &self.clock);
        self.runner.run_window(&run, None).await
    }

    async fn checkpoint(&self) -> sync_core::store::Checkpoint {
        self.store
            .load_checkpoint(&StreamKey::new(TENANT, StreamId::suppliers()))
            .await
            .unwrap()
    }

    fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .target
            .suppliers()
            .values()
            .map(|d| d.name.clone())
            .collect();
        names.sort();
        names
    }
}

#[tokio::test]
async fn rule_1_inclusive_window_catches_records_tied_with_the_cursor() {
    let rig = rig(config());
    rig.source.set_server_time(at(100));
    rig.source.upsert(supplier("V1", "One", at(10)));
    rig.window().await.unwrap();
    // Cursor = 100 - 5 (lag) = 95.
    assert_eq!(rig.checkpoint().await.cursor, Some(at(95)));

    // A record committed late with modified == cursor exactly, and one inside the lookback.
    rig.source.upsert(supplier("V2", "Two", at(95)));
    rig.source.upsert(supplier("V3", "Three", at(40)));
    rig.source.set_server_time(at(200));
    let report = rig.window().await.unwrap();
    assert_eq!(report.succeeded, 2, "{report:?}");
    assert_eq!(rig.target_names(), ["One", "Three", "Two"]);
    assert!(!report.full_scan);
}

#[tokio::test]
async fn rule_1_ids_at_the_cursor_are_not_reprocessed() {
    let rig = rig(config());
    rig.source.set_server_time(at(105));
    rig.source.upsert(supplier("V1", "One", at(100)));
    rig.window().await.unwrap();
    let cp = rig.checkpoint().await;
    assert_eq!(cp.cursor, Some(at(100)));
    assert!(cp.ids_at_cursor.contains("V1"));
    rig.source.set_server_time(at(105));
    let report = rig.window().await.unwrap();
    assert_eq!((report.read, report.skipped, report.succeeded), (1, 1, 0));
}

#[tokio::test]
async fn rule_2_cursor_follows_source_server_time_not_the_local_clock() {
    let rig = rig(config());
    // The local clock is a day ahead of the source server.
    let (manual, clock) = clock();
    manual.set(at(86_400));
    rig.source.set_server_time(at(1000));
    rig.source.upsert(supplier("V1", "One", at(990)));
    let run = run(Arc::new(rig.store.clone()), &clock);
    rig.runner.run_window(&run, None).await.unwrap();
    assert_eq!(rig.checkpoint().await.cursor, Some(at(995)));

    // The server clock stepping back never moves the cursor back.
    rig.source.set_server_time(at(500));
    rig.window().await.unwrap();
    assert_eq!(rig.checkpoint().await.cursor, Some(at(995)));
}

#[tokio::test]
async fn rule_3_a_window_that_fails_midway_does_not_move_the_cursor() {
    let rig = rig(config());
    rig.source.set_server_time(at(100));
    rig.source.set_page_size(1);
    for (i, v) in ["V1", "V2", "V3"].iter().enumerate() {
        rig.source.upsert(supplier(v, v, at(10 + i as i64)));
    }
    rig.source.fail_next_poll_at(Some(2));
    let err = rig.window().await.unwrap_err();
    assert!(matches!(err, SyncError::Source(_)), "{err}");
    assert_eq!(rig.checkpoint().await.cursor, None, "cursor must not move");
    // The two records written are audited (committed without the cursor).
    let rows = rig.store.all_entries();
    assert_eq!(
        rows.iter()
            .filter(|e| e.status == AuditStatus::Succeeded)
            .count(),
        2
    );

    let report = rig.window().await.unwrap();
    assert_eq!((report.succeeded, report.skipped), (1, 2));
    assert_eq!(
        rig.target.suppliers().len(),
        3,
        "no duplicates after the rerun"
    );
    assert_eq!(rig.checkpoint().await.cursor, Some(at(95)));
}

#[tokio::test]
async fn rule_4_unchanged_records_are_skipped_by_content_hash() {
    let rig = rig(EngineConfig {
        full_scan_every: Some(chrono::Duration::seconds(1)),
        ..config()
    });
    rig.source.set_server_time(at(100));
    rig.source.upsert(supplier("V1", "One", at(10)));
    rig.window().await.unwrap();
    let writes = rig.target.calls();
    let rows = rig.store.all_entries().len();
    // Every window is a full scan here; nothing changed, so nothing is written or audited.
    rig.source.set_server_time(at(200));
    let report = rig.window().await.unwrap();
    assert!(report.full_scan);
    assert_eq!(report.skipped, 1);
    assert_eq!(
        (rig.target.calls().1, rig.target.calls().2),
        (writes.1, writes.2)
    );
    assert_eq!(rig.store.all_entries().len(), rows);
}

#[tokio::test]
async fn rule_5_unknown_create_outcome_is_looked_up_not_resent() {
    let rig = rig(config());
    rig.source.set_server_time(at(100));
    rig.source.upsert(supplier("V1", "One", at(10)));
    rig.target
        .set_faults(FaultPlan::none().at("write", 0, Fault::ResetAfterApply));
    let report = rig.window().await.unwrap();
    assert_eq!(report.failed, 1);
    let failed = rig.store.all_entries().pop().unwrap();
    assert_eq!(
        failed.error.as_ref().unwrap().class,
        ErrorClass::UnknownOutcome
    );
    assert_eq!(rig.target.suppliers().len(), 1, "the create did happen");

    // Next run: the record is still in the lookback; it is matched by the stamped vendor ID
    // and updated, never created twice; the failure is resolved.
    rig.source.set_server_time(at(110));
    rig.source.upsert(supplier("V1", "One", at(96)));
    rig.window().await.unwrap();
    assert_eq!(rig.target.suppliers().len(), 1);
    let rows = rig.store.all_entries();
    assert_eq!(rows[0].status, AuditStatus::Resolved);
    assert_eq!(
        rows.last().unwrap().match_result,
        Some(sync_core::store::MatchResult::ById)
    );
}

#[tokio::test]
async fn rule_5_intent_is_durable_before_the_create_and_a_crash_does_not_duplicate() {
    let trip = Tripwire::new();
    let store = TrippingStore {
        inner: MemoryStore::new(),
        trip: trip.clone(),
    };
    let source = MemorySource::new(at(100));
    source.upsert(supplier("V1", "One", at(10)));
    let target = MemorySupplierTarget::new().with_tripwire(trip.clone());
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings()));
    let runner = StreamRunner::new(pipeline, Arc::new(source.clone()), config());
    let (_, clock) = clock();

    // Steps: load checkpoint (0), list page (1), intent (2), create (3), after create (4) ...
    trip.arm(4);
    let crashed = {
        let run = run(Arc::new(store.clone()), &clock);
        tokio::select! {
            r = runner.run_window(&run, None) => { r.unwrap(); false }
            _ = trip.tripped() => true,
        }
    };
    assert!(crashed);
    assert_eq!(target.suppliers().len(), 1, "create reached the target");
    let pending = store.inner.all_entries();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].status,
        AuditStatus::Pending,
        "intent written before the create"
    );

    let run = run(Arc::new(store.clone()), &clock);
    runner.run_window(&run, None).await.unwrap();
    assert_eq!(target.suppliers().len(), 1, "no duplicate after restart");
    let rows = store.inner.all_entries();
    assert_eq!(rows[0].status, AuditStatus::Resolved);
    assert!(rows.iter().all(|e| !e.status.is_open()));
}

#[tokio::test]
async fn rule_6_failures_do_not_pin_the_cursor_unless_strict() {
    for strict in [false, true] {
        let rig = rig(EngineConfig { strict, ..config() });
        rig.source.set_server_time(at(100));
        rig.source.upsert(supplier("V1", "One", at(10)));
        rig.source.upsert(supplier("V2", "Two", at(11)));
        rig.target
            .set_faults(FaultPlan::none().at("write", 0, Fault::ApplicationError));
        let report = rig.window().await.unwrap();
        assert_eq!((report.failed, report.succeeded), (1, 1));
        let expected = if strict { None } else { Some(at(95)) };
        assert_eq!(rig.checkpoint().await.cursor, expected, "strict = {strict}");
        let failed = rig
            .store
            .query(&AuditQuery::tenant(TENANT).statuses(&[AuditStatus::Failed]))
            .await
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].source_snapshot.get("vendor_id").is_some(),
            "snapshot kept for replay"
        );
    }
}

#[tokio::test]
async fn rule_8_full_scan_catches_edits_that_did_not_move_the_modified_date() {
    let rig = rig(EngineConfig {
        full_scan_every: Some(chrono::Duration::seconds(1000)),
        ..config()
    });
    rig.source.set_server_time(at(100));
    rig.source.upsert(supplier("V1", "One", at(10)));
    rig.window().await.unwrap();
    // Edited in place, modified date unchanged and far behind the cursor.
    rig.source.upsert(supplier("V1", "One Renamed", at(10)));
    rig.source.set_server_time(at(500));
    let report = rig.window().await.unwrap();
    assert!(!report.full_scan);
    assert_eq!(
        rig.target_names(),
        ["One"],
        "incremental window cannot see it"
    );
    rig.source.set_server_time(at(1200));
    let report = rig.window().await.unwrap();
    assert!(report.full_scan);
    assert_eq!(rig.target_names(), ["One Renamed"]);
}

#[tokio::test]
async fn a_stale_fencing_token_is_rejected_and_writes_nothing() {
    let store = MemoryStore::new();
    let key = StreamKey::new(TENANT, StreamId::suppliers());
    let old = store.acquire_fence(&key).await.unwrap();
    let new = store.acquire_fence(&key).await.unwrap();
    assert!(new > old);
    let commit = |fence: Fence| WindowCommit {
        key: key.clone(),
        checkpoint: Some(sync_core::store::Checkpoint {
            cursor: Some(at(1)),
            ..Default::default()
        }),
        entries: vec![],
        gl_mapping: None,
        fence: Some(fence),
    };
    let err = store.commit_window(commit(old)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Fenced {
                presented: 1,
                current: 2,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(store.load_checkpoint(&key).await.unwrap().cursor, None);
    store.commit_window(commit(new)).await.unwrap();
    assert_eq!(
        store.load_checkpoint(&key).await.unwrap().cursor,
        Some(at(1))
    );
}

#[tokio::test]
async fn records_changing_during_a_run_are_picked_up_next_window() {
    let rig = rig(config());
    rig.source.set_server_time(at(100));
    rig.source.set_page_size(1);
    rig.source.upsert(supplier("V1", "One", at(10)));
    rig.source.upsert(supplier("V2", "Two", at(11)));
    // While page 1 is served, V1 (already read on page 0) changes at server time 101.
    rig.source
        .queue_change(1, supplier("V1", "One v2", at(101)));
    rig.window().await.unwrap();
    assert_eq!(rig.target_names(), ["One", "Two"]);
    rig.source.set_server_time(at(200));
    rig.window().await.unwrap();
    assert_eq!(rig.target_names(), ["One v2", "Two"]);
}

#[tokio::test]
async fn a_mapping_revision_change_rewrites_unchanged_records() {
    use sync_core::error::MappingKind;
    use sync_core::mapping::Mappings;
    let source = MemorySource::new(at(100));
    source.upsert(supplier("V1", "One", at(10)));
    let target = MemorySupplierTarget::new();
    let store = MemoryStore::new();
    let (_, clock) = clock();
    let full_scans = EngineConfig {
        full_scan_every: Some(chrono::Duration::seconds(1)),
        ..config()
    };
    let with = |m: Mappings| {
        StreamRunner::new(
            Arc::new(SupplierPipeline::new(Arc::new(target.clone()), m)),
            Arc::new(source.clone()),
            full_scans.clone(),
        )
    };
    with(mappings())
        .run_window(&run(Arc::new(store.clone()), &clock), None)
        .await
        .unwrap();
    let tax = |t: &MemorySupplierTarget| t.suppliers().values().next().unwrap().tax_rule.clone();
    assert_eq!(tax(&target), "GST on Expenses");

    let remapped = || Mappings::with_values(table().with(MappingKind::TaxRule, "STD", "GST 15%"));
    // Same content, new mapping, same (empty) revision: deduplicated, not rewritten.
    source.set_server_time(at(200));
    with(remapped())
        .run_window(&run(Arc::new(store.clone()), &clock), None)
        .await
        .unwrap();
    assert_eq!(tax(&target), "GST on Expenses");
    // With a new revision the full scan rewrites it.
    source.set_server_time(at(300));
    let revised = Mappings {
        revision: "r2".into(),
        ..remapped()
    };
    with(revised)
        .run_window(&run(Arc::new(store.clone()), &clock), None)
        .await
        .unwrap();
    assert_eq!(tax(&target), "GST 15%");
}

/// A source that lets another worker take the stream over while this one is reading.
struct TakeoverSource {
    inner: MemorySource<Supplier>,
    store: MemoryStore,
}

#[async_trait::async_trait]
impl sync_core::source::Source<Supplier> for TakeoverSource {
    async fn server_time(
        &self,
    ) -> Result<chrono::DateTime<chrono::Utc>, sync_core::error::SourceError> {
        self.store
            .acquire_fence(&StreamKey::new(TENANT, StreamId::suppliers()))
            .await
            .unwrap();
        self.inner.server_time().await
    }
    fn poll(
        &self,
        window: sync_core::source::Window,
    ) -> futures::stream::BoxStream<'_, Result<Supplier, sync_core::error::SourceError>> {
        self.inner.poll(window)
    }
    async fn fetch(
        &self,
        identity: &sync_core::model::SourceIdentity,
    ) -> Result<Option<Supplier>, sync_core::error::SourceError> {
        self.inner.fetch(identity).await
    }
}

#[tokio::test]
async fn a_worker_that_lost_the_stream_cannot_commit_its_window() {
    let store = MemoryStore::new();
    let inner = MemorySource::new(at(100));
    inner.upsert(supplier("V1", "One", at(10)));
    let target = MemorySupplierTarget::new();
    let runner = StreamRunner::new(
        Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings())),
        Arc::new(TakeoverSource {
            inner,
            store: store.clone(),
        }),
        config(),
    );
    let (_, clock) = clock();
    let err = runner
        .run_window(&run(Arc::new(store.clone()), &clock), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Store(StoreError::Fenced { .. })),
        "{err}"
    );
    let key = StreamKey::new(TENANT, StreamId::suppliers());
    assert_eq!(store.load_checkpoint(&key).await.unwrap().cursor, None);
    // The write itself happened (and its intent and cross-reference are durable), so the new
    // owner will not create it again.
    assert_eq!(store.all_cross_refs().len(), 1);
    assert_eq!(store.all_entries().len(), 1);
    assert_eq!(store.all_entries()[0].status, AuditStatus::Pending);
}
