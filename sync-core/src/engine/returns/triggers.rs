//! Webhook-triggered syncs of single purchases, queued durably in the store.
//!
//! A webhook receiver calls [`enqueue`] and answers at once; [`run_triggers`] later resolves
//! each queued id to a purchase (a webhook's id may be a sub-task), re-reads it and runs it
//! through the return pipeline, without waiting for the next window and without moving the
//! window's cursor. The queue is the engine's [`queue`] in the
//! [`trigger_stream`]; deliveries that cannot be read are kept in the [`delivery_stream`].

use chrono::{DateTime, Utc};

use super::ReturnPipeline;
use crate::engine::RunContext;
use crate::engine::queue::{self, Unreadable};
use crate::error::SyncError;
use crate::model::{PurchaseUpdate, RecordKind};
use crate::source::Source;
use crate::store::{StreamId, SyncStore};

pub use crate::engine::queue::{MAX_KEPT_BODY, Trigger, TriggerReport, TriggerResolver};

/// The stream the queued triggers live in.
pub fn trigger_stream() -> StreamId {
    StreamId("purchase_triggers".into())
}

/// The stream where deliveries that could not be read are kept for inspection.
pub fn delivery_stream() -> StreamId {
    StreamId("webhook_deliveries".into())
}

/// Keep an authenticated webhook delivery that could not be read (not JSON, an unknown event
/// type, a field in an unexpected form) durably in the [`delivery_stream`]: see
/// [`queue::keep_unreadable`]. Returns whether it was new.
pub async fn keep_unreadable(
    store: &dyn SyncStore,
    tenant: &str,
    body: &[u8],
    reason: &str,
    refetches: usize,
    received_at: DateTime<Utc>,
) -> Result<bool, SyncError> {
    queue::keep_unreadable(
        store,
        tenant,
        &delivery_stream(),
        "webhook",
        Unreadable {
            body,
            reason,
            refetches,
            kind: RecordKind::PurchaseOrder,
            received_at,
        },
    )
    .await
}

/// Queue a webhook's trigger durably in the [`trigger_stream`]. Returns `false` when the same
/// delivery is already queued or done.
pub async fn enqueue(
    store: &dyn SyncStore,
    tenant: &str,
    trigger: &Trigger,
) -> Result<bool, SyncError> {
    queue::enqueue(
        store,
        tenant,
        &trigger_stream(),
        RecordKind::PurchaseOrder,
        "webhook",
        trigger,
    )
    .await
}

/// Handle every queued trigger of the run's tenant: resolve, re-read each purchase once, run
/// it through `pipeline`, commit its audit rows (the return stream's cursor is not moved) and
/// mark the triggers done. A trigger whose resolution fails stays queued for the next call.
pub async fn run_triggers(
    run: &RunContext,
    pipeline: &ReturnPipeline,
    source: &dyn Source<PurchaseUpdate>,
    resolver: &dyn TriggerResolver,
) -> Result<TriggerReport, SyncError> {
    queue::drain(run, &trigger_stream(), pipeline, source, resolver).await
}
