//! Replay: one entry, all failures of a run, snapshot vs refetch, never overwriting newer data.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;

use common::*;
use sync_core::engine::StreamRunner;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::error::SyncError;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::model::Supplier;
use sync_core::replay::{ReplayMode, ReplayResult, ReplayScope, Replayer};
use sync_core::store::memory::MemoryStore;
use sync_core::store::{Action, AuditStatus, EntryId};
use sync_core::testing::{MemorySource, MemorySupplierTarget};

struct Rig {
    source: MemorySource<Supplier>,
    target: MemorySupplierTarget,
    store: MemoryStore,
    runner: StreamRunner<SupplierPipeline>,
    replayer: Replayer<SupplierPipeline>,
    clock: sync_core::time::SharedClock,
}

fn rig() -> Rig {
    let source = MemorySource::new(at(100));
    let target = MemorySupplierTarget::new();
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings()));
    let runner = StreamRunner::new(pipeline.clone(), Arc::new(source.clone()), config());
    let replayer = Replayer::new(pipeline, Arc::new(source.clone()));
    Rig {
        source,
        target,
        store: MemoryStore::new(),
        runner,
        replayer,
        clock: clock().1,
    }
}

impl Rig {
    fn ctx(&self) -> sync_core::engine::RunContext {
        run(Arc::new(self.store.clone()), &self.clock)
    }
}

#[tokio::test]
async fn replay_of_an_old_snapshot_never_overwrites_a_newer_version() {
    let rig = rig();
    rig.source.upsert(supplier("V1", "Old", at(10)));
    rig.target
        .set_faults(FaultPlan::none().at("write", 0, Fault::ApplicationError));
    rig.runner.run_window(&rig.ctx(), None).await.unwrap();
    let failed = rig.store.all_entries().pop().unwrap();
    assert_eq!(failed.status, AuditStatus::Failed);

    // A newer version syncs fine.
    rig.source.upsert(supplier("V1", "New", at(150)));
    rig.source.set_server_time(at(200));
    rig.runner.run_window(&rig.ctx(), None).await.unwrap();
    // That success resolved the old failure, so replaying it does nothing.
    assert_eq!(
        rig.store
            .all_entries()
            .iter()
            .find(|e| e.id == failed.id)
            .unwrap()
            .status,
        AuditStatus::Resolved
    );
    let result = rig
        .replayer
        .replay_entry(&rig.ctx(), &failed.id, ReplayMode::Snapshot)
        .await
        .unwrap();
    assert_eq!(result, ReplayResult::AlreadyResolved(failed.id.clone()));
    assert_eq!(rig.target.suppliers().values().next().unwrap().name, "New");
}

#[tokio::test]
async fn superseded_snapshot_is_recorded_not_written() {
    let rig = rig();
    rig.source.upsert(supplier("V1", "Old", at(10)));
    rig.target
        .set_faults(FaultPlan::none().at("write", 0, Fault::ApplicationError));
    rig.runner.run_window(&rig.ctx(), None).await.unwrap();
    let failed = rig.store.all_entries().pop().unwrap();
    // A newer version is written through another path (e.g. a crash lost the audit row of its
    // success, but the cross-reference is durable).
    rig.source.upsert(supplier("V1", "New", at(150)));
    let pipeline = rig.runner.pipeline().clone();
    let xref_run = rig.ctx();
    // Write the new version without committing the window: run process_record directly.
    let processed = sync_core::engine::process_record(
        &xref_run,
        pipeline.as_ref(),
        &supplier("V1", "New", at(150)),
        false,
        None,
    )
    .await
    .unwrap();
    assert!(processed.entry().is_some());
    let writes = rig.target.calls();

    let result = rig
        .replayer
        .replay_entry(&rig.ctx(), &failed.id, ReplayMode::Snapshot)
        .await
        .unwrap();
    let ReplayResult::Replayed(entry) = result else {
        panic!("{result:?}")
    };
    assert_eq!(
        (entry.status, entry.action),
        (AuditStatus::Succeeded, Action::Skip)
    );
    assert!(entry.response_summary.unwrap().contains("superseded"));
    let after = rig.target.calls();
    assert_eq!((after.1, after.2), (writes.1, writes.2), "nothing written");
    assert_eq!(rig.target.suppliers().values().next().unwrap().name, "New");
}

#[tokio::test]
async fn replay_all_failures_of_a_run_by_refetching() {
    let rig = rig();
    for i in 0..4 {
        rig.source
            .upsert(supplier(&format!("V{i}"), &format!("S{i}"), at(i)));
    }
    rig.target.set_faults(
        FaultPlan::none()
            .at("write", 0, Fault::ResetBeforeApply)
            .at("write", 2, Fault::ApplicationError),
    );
    let ctx = rig.ctx();
    let report = rig.runner.run_window(&ctx, None).await.unwrap();
    assert_eq!(report.failed, 2);
    // The source moved on meanwhile: refetch writes the current version.
    rig.source.upsert(supplier("V0", "S0 renamed", at(50)));
    let results = rig
        .replayer
        .replay_failed(
            &rig.ctx(),
            ReplayScope::Run(ctx.run_id.clone()),
            ReplayMode::Refetch,
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    assert!(
        results
            .iter()
            .all(|r| r.status() == Some(AuditStatus::Succeeded))
    );
    let mut names: Vec<_> = rig
        .target
        .suppliers()
        .values()
        .map(|d| d.name.clone())
        .collect();
    names.sort();
    assert!(names.contains(&"S0 renamed".to_owned()), "{names:?}");
    assert_eq!(names.len(), 4);
    assert!(rig.store.all_entries().iter().all(|e| !e.status.is_open()));
    // Replaying again is a no-op.
    let again = rig
        .replayer
        .replay_failed(
            &rig.ctx(),
            ReplayScope::Run(ctx.run_id),
            ReplayMode::Refetch,
        )
        .await
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(rig.target.suppliers().len(), 4);
}

#[tokio::test]
async fn replay_errors_name_what_is_wrong() {
    let rig = rig();
    let err = rig
        .replayer
        .replay_entry(&rig.ctx(), &EntryId("nope".into()), ReplayMode::Snapshot)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::EntryNotFound(id) if id == "nope"),
        "{err}"
    );
}
