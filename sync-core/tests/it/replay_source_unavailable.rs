//! Regression (found by the fault soak, docs/reliability.md): a refetch replay pass whose
//! source cannot serve one record (an ION 500, an HTML page, a timeout) used to stop with an
//! error, so the other open entries were never replayed and a faulty source kept hundreds of
//! records open. Now that record is reported as `SourceUnavailable` and stays open, and the
//! rest of the pass goes on.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::*;
use futures::stream::BoxStream;
use sync_core::engine::StreamRunner;
use sync_core::engine::suppliers::SupplierPipeline;
use sync_core::error::SourceError;
use sync_core::faults::{Fault, FaultPlan};
use sync_core::model::{SourceIdentity, Supplier};
use sync_core::replay::{ReplayMode, ReplayResult, ReplayScope, Replayer};
use sync_core::source::{Source, Window};
use sync_core::store::AuditStatus;
use sync_core::store::memory::MemoryStore;
use sync_core::testing::{MemorySource, MemorySupplierTarget};

/// A source whose `fetch` of one vendor fails (the first `failures` times).
struct Flaky {
    inner: MemorySource<Supplier>,
    vendor: String,
    failures: AtomicUsize,
}

#[async_trait]
impl Source<Supplier> for Flaky {
    async fn server_time(&self) -> Result<DateTime<Utc>, SourceError> {
        self.inner.server_time().await
    }

    fn poll(&self, window: Window) -> BoxStream<'_, Result<Supplier, SourceError>> {
        self.inner.poll(window)
    }

    async fn fetch(&self, identity: &SourceIdentity) -> Result<Option<Supplier>, SourceError> {
        if identity.id == self.vendor
            && self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Err(SourceError::permanent(
                "ION answered HTTP 500 to GET .../SLVendors: simulated failure",
            ));
        }
        self.inner.fetch(identity).await
    }
}

#[tokio::test]
async fn one_record_the_source_cannot_serve_does_not_stop_the_replay_of_the_others() {
    let source = MemorySource::new(at(100));
    for (vendor, name) in [("V1", "One"), ("V2", "Two"), ("V3", "Three")] {
        source.upsert(supplier(vendor, name, at(10)));
    }
    let target = MemorySupplierTarget::new();
    let pipeline = Arc::new(SupplierPipeline::new(Arc::new(target.clone()), mappings()));
    let runner = StreamRunner::new(pipeline.clone(), Arc::new(source.clone()), config());
    let store = MemoryStore::new();
    let clock = clock().1;
    let ctx = || run(Arc::new(store.clone()), &clock);

    // Every write of the first run fails for good: three open failures.
    target.set_faults(
        FaultPlan::none()
            .at("write", 0, Fault::ApplicationError)
            .at("write", 1, Fault::ApplicationError)
            .at("write", 2, Fault::ApplicationError),
    );
    runner.run_window(&ctx(), None).await.unwrap();
    let failed = store
        .all_entries()
        .iter()
        .filter(|e| e.status == AuditStatus::Failed)
        .count();
    assert_eq!(failed, 3);

    // The source cannot serve V1 (the first in the pass) once.
    let flaky = Flaky {
        inner: source.clone(),
        vendor: "V1".into(),
        failures: AtomicUsize::new(1),
    };
    let replayer = Replayer::new(pipeline, Arc::new(flaky));
    let results = replayer
        .replay_failed(&ctx(), ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .unwrap();
    assert_eq!(results.len(), 3, "{results:?}");
    let unavailable: Vec<_> = results
        .iter()
        .filter(
            |r| matches!(r, ReplayResult::SourceUnavailable { error, .. } if error.contains("500")),
        )
        .collect();
    assert_eq!(unavailable.len(), 1, "{results:?}");
    let replayed_ok = results
        .iter()
        .filter(|r| r.status() == Some(AuditStatus::Succeeded))
        .count();
    assert_eq!(replayed_ok, 2, "the others were replayed: {results:?}");
    assert_eq!(target.suppliers().len(), 2);

    // V1 is still open, and the next pass (source back) replays it.
    let again = replayer
        .replay_failed(&ctx(), ReplayScope::Stream, ReplayMode::Refetch)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].status(), Some(AuditStatus::Succeeded));
    assert_eq!(target.suppliers().len(), 3);
}
