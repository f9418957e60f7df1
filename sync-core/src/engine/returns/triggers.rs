//! Webhook-triggered syncs of single purchases, queued durably in the store.
//!
//! A webhook receiver calls [`enqueue`] and answers at once; [`run_triggers`] later resolves
//! each queued id to a purchase (a webhook's id may be a sub-task), re-reads it and runs it
//! through the return pipeline, without waiting for the next window and without moving the
//! window's cursor (the polling window stays the fallback for anything a webhook missed).
//!
//! The queue is the audit trail itself: a trigger is a `deferred` row of the
//! [`trigger_stream`], written durably at once, keyed by the delivery (so a redelivered
//! webhook adds nothing) and marked `succeeded` once handled. Several triggers for the same
//! purchase (Cin7 retries, several events) are handled by one re-read; their order does not
//! matter, since the purchase is read as it is now.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{ReturnPipeline, stream};
use crate::engine::{Processed, RunContext, process_record};
use crate::error::{SourceError, SyncError};
use crate::model::{PurchaseUpdate, RecordKind, SourceIdentity, hash_value};
use crate::source::Source;
use crate::store::{
    Action, AuditEntry, AuditQuery, AuditStatus, EntryId, ErrorClass, ErrorInfo, StreamId,
    StreamKey, SyncStore, WindowCommit,
};

/// The stream the queued triggers live in.
pub fn trigger_stream() -> StreamId {
    StreamId("purchase_triggers".into())
}

/// The stream where deliveries that could not be read are kept for inspection.
pub fn delivery_stream() -> StreamId {
    StreamId("webhook_deliveries".into())
}

/// The most of an unreadable delivery's body that is kept (a delivery is small; a larger body
/// is refused by the intake before this).
pub const MAX_KEPT_BODY: usize = 64 * 1024;

/// Keep an authenticated delivery that could not be read (not JSON, an unknown event type, a
/// field in an unexpected form) durably, so it can be inspected and counted: an audit row of
/// the [`delivery_stream`], its body as received (lossily decoded, capped at
/// [`MAX_KEPT_BODY`]), why it could not be read and how many refetches were queued from it.
/// The same body twice is kept once; returns whether it was new.
///
/// The row is `resolved`, not open: nothing is left for a person to do, since the refetches
/// (or, when no id could be found, the next polling window) carry the change.
pub async fn keep_unreadable(
    store: &dyn SyncStore,
    tenant: &str,
    body: &[u8],
    reason: &str,
    refetches: usize,
    received_at: DateTime<Utc>,
) -> Result<bool, SyncError> {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_KEPT_BODY)]).into_owned();
    let hash = hash_value(&json!(["delivery", tenant, text]), &[]);
    let id = EntryId(format!("delivery-{}", hash.0));
    if store.entry(&id).await?.is_some() {
        return Ok(false);
    }
    let entry = AuditEntry {
        id,
        run_id: crate::store::RunId(format!("webhook-{}", received_at.timestamp())),
        tenant: tenant.to_owned(),
        stream: delivery_stream(),
        kind: RecordKind::PurchaseOrder,
        source: SourceIdentity::new("webhook", tenant, "", hash.0.clone()),
        source_modified_at: received_at,
        content_hash: hash,
        action: Action::None,
        match_result: None,
        target_id: None,
        status: AuditStatus::Resolved,
        error: Some(ErrorInfo {
            class: ErrorClass::Source,
            message: format!("unreadable webhook delivery: {reason}"),
        }),
        request_summary: None,
        response_summary: Some(match refetches {
            0 => "no id found: the next polling window covers it".to_owned(),
            n => format!("{n} refetch(es) queued from the ids found in it"),
        }),
        source_snapshot: json!({
            "body": text,
            "truncated": body.len() > MAX_KEPT_BODY,
            "reason": reason,
        }),
        mapped_snapshot: None,
        started_at: received_at,
        finished_at: Some(received_at),
        replay_of: None,
        resolved_by: None,
    };
    store.record_intent(&entry).await?;
    Ok(true)
}

/// One webhook delivery's request to sync a purchase now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// What identifies the request: the same key twice is queued once. The Cin7 intake uses
    /// the event type, the id and a time bucket, so a repeated event is queued once per
    /// window however its body is spelled.
    pub delivery_key: String,
    /// The event type, e.g. `Purchase/StockReceivedAuthorised`.
    pub event: String,
    /// The id the webhook named, in the target's identity (a purchase, or a sub-task of one).
    pub target: SourceIdentity,
    /// A number that helps find the purchase when `target` is a sub-task (its order number).
    pub hint: Option<String>,
    /// When it was received (local clock).
    pub received_at: DateTime<Utc>,
}

/// Finds the purchase a webhook id belongs to.
#[async_trait]
pub trait TriggerResolver: Send + Sync {
    /// The purchase identity for `target` (itself when it is a purchase; its purchase when it
    /// is a sub-task), or `None` when there is none.
    async fn resolve(
        &self,
        target: &SourceIdentity,
        hint: Option<&str>,
    ) -> Result<Option<SourceIdentity>, SourceError>;
}

/// Queue a trigger durably. Returns `false` when the same delivery is already queued or done.
pub async fn enqueue(
    store: &dyn SyncStore,
    tenant: &str,
    trigger: &Trigger,
) -> Result<bool, SyncError> {
    let hash = hash_value(&json!(["trigger", tenant, trigger.delivery_key]), &[]);
    let id = EntryId(format!("trigger-{}", hash.0));
    if store.entry(&id).await?.is_some() {
        return Ok(false);
    }
    let entry = AuditEntry {
        id,
        run_id: crate::store::RunId(format!("webhook-{}", trigger.received_at.timestamp())),
        tenant: tenant.to_owned(),
        stream: trigger_stream(),
        kind: RecordKind::PurchaseOrder,
        source: trigger.target.clone(),
        source_modified_at: trigger.received_at,
        content_hash: hash,
        action: Action::None,
        match_result: None,
        target_id: None,
        status: AuditStatus::Deferred,
        error: Some(ErrorInfo {
            class: ErrorClass::Dependency,
            message: format!("queued by webhook {}", trigger.event),
        }),
        request_summary: None,
        response_summary: None,
        source_snapshot: json!({
            "event": trigger.event,
            "hint": trigger.hint,
            "delivery_key": trigger.delivery_key,
        }),
        mapped_snapshot: None,
        started_at: trigger.received_at,
        finished_at: None,
        replay_of: None,
        resolved_by: None,
    };
    store.record_intent(&entry).await?;
    Ok(true)
}

/// What [`run_triggers`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerReport {
    /// Queued triggers handled.
    pub triggers: usize,
    /// Distinct purchases re-read and processed.
    pub purchases: usize,
    /// Triggers whose id led to no purchase.
    pub unresolved: usize,
    /// Audit entries written for the purchases, by status.
    pub statuses: BTreeMap<String, usize>,
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
    let store = run.store.as_ref();
    let queued = store
        .query(
            &AuditQuery::tenant(run.tenant.clone())
                .stream(trigger_stream())
                .statuses(&[AuditStatus::Deferred]),
        )
        .await?;
    let mut report = TriggerReport::default();
    let mut purchases: BTreeMap<SourceIdentity, Vec<AuditEntry>> = BTreeMap::new();
    let mut done = Vec::new();
    for entry in queued {
        let hint = entry
            .source_snapshot
            .get("hint")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        match resolver.resolve(&entry.source, hint.as_deref()).await {
            Ok(Some(purchase)) => purchases.entry(purchase).or_default().push(entry),
            Ok(None) => {
                report.unresolved += 1;
                done.push((entry, None, "no purchase for this id".to_owned()));
            }
            Err(error) => {
                tracing::warn!(source = %entry.source, %error, "cannot resolve a webhook trigger yet");
            }
        }
    }
    let mut entries = Vec::new();
    for (identity, triggers) in purchases {
        let outcome = match source.fetch(&identity).await {
            Ok(Some(record)) => {
                report.purchases += 1;
                match process_record(run, pipeline, &record, false, None).await? {
                    Processed::Skipped => "unchanged since the last sync".to_owned(),
                    Processed::Entries(new) => {
                        for e in &new {
                            *report
                                .statuses
                                .entry(format!("{:?}", e.status).to_lowercase())
                                .or_default() += 1;
                        }
                        let status = new.last().map(|e| e.status);
                        entries.extend(new);
                        format!("processed: {status:?}")
                    }
                }
            }
            Ok(None) => "the purchase no longer exists".to_owned(),
            Err(error) => {
                tracing::warn!(%identity, %error, "cannot re-read a triggered purchase yet");
                continue;
            }
        };
        for trigger in triggers {
            done.push((trigger, Some(identity.clone()), outcome.clone()));
        }
    }
    if !entries.is_empty() {
        store
            .commit_window(WindowCommit {
                key: StreamKey::new(run.tenant.clone(), stream()),
                checkpoint: None,
                entries,
                gl_mapping: None,
                fence: None,
            })
            .await?;
    }
    report.triggers = done.len();
    if !done.is_empty() {
        let now = run.clock.now();
        let finished = done
            .into_iter()
            .map(|(mut entry, purchase, outcome)| {
                entry.status = AuditStatus::Succeeded;
                entry.action = Action::Skip;
                entry.error = None;
                entry.target_id = purchase.map(|p| p.id);
                entry.response_summary = Some(outcome);
                entry.finished_at = Some(now);
                entry
            })
            .collect();
        store
            .commit_window(WindowCommit {
                key: StreamKey::new(run.tenant.clone(), trigger_stream()),
                checkpoint: None,
                entries: finished,
                gl_mapping: None,
                fence: None,
            })
            .await?;
    }
    Ok(report)
}
