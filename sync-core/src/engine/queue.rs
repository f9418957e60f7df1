//! Durable queues of single records to sync now, kept in the store's audit trail.
//!
//! A listener (Cin7's webhooks, ION's pushed BODs) calls [`enqueue`] and answers at once;
//! [`drain`] later resolves each queued id to a record of the stream, reads it again from
//! the source and runs it through the stream's pipeline — the same dedupe, intents, audit and
//! replay as polling — without waiting for the next window and without moving the window's
//! cursor (polling stays the fallback for anything a listener missed).
//!
//! A queued item is a `deferred` row of the queue's stream, written durably at once, keyed by
//! its delivery (so a redelivery adds nothing) and marked `succeeded` once handled. Several
//! items for the same record are handled by one read; their order does not matter, since the
//! record is read as it is now — which is also why a stale delivery arriving late changes
//! nothing.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::engine::{
    Pipeline, Processed, ProgressEvent, RunContext, process_linked, process_record,
};
use crate::error::{SourceError, SyncError};
use crate::model::{Record, RecordKind, SourceIdentity, hash_value};
use crate::source::Source;
use crate::store::{
    Action, AuditEntry, AuditQuery, AuditStatus, EntryId, ErrorClass, ErrorInfo, StreamId,
    StreamKey, SyncStore, WindowCommit,
};

/// One delivery's request to sync a record now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// What identifies the request: the same key twice is queued once. The Cin7 intake uses
    /// the event type, the id and a time bucket, so a repeated event is queued once per
    /// window however its body is spelled; the ION push intake uses the document and its
    /// variation.
    pub delivery_key: String,
    /// The event type, e.g. `Purchase/StockReceivedAuthorised` or `SyncPurchaseOrder`.
    pub event: String,
    /// The id the delivery named, in the source's identity (the record itself, or for Cin7 a
    /// sub-task of a purchase).
    pub target: SourceIdentity,
    /// A number that helps find the record when `target` is not the record itself (a Cin7
    /// sub-task's order number).
    pub hint: Option<String>,
    /// The delivery said the record was deleted (a `Delete` BOD): when the source no longer
    /// has it, the stream's delete policy applies ([`Pipeline::when_deleted`]).
    pub deleted: bool,
    /// When it was received (local clock).
    pub received_at: DateTime<Utc>,
}

/// Finds the record a queued id belongs to.
#[async_trait]
pub trait TriggerResolver: Send + Sync {
    /// The record identity for `target` (itself when it is one; for example a purchase when it
    /// is a sub-task of one), or `None` when there is none.
    async fn resolve(
        &self,
        target: &SourceIdentity,
        hint: Option<&str>,
    ) -> Result<Option<SourceIdentity>, SourceError>;
}

/// The resolver of queues whose ids are the records themselves (ION pushes).
#[derive(Debug, Clone, Copy, Default)]
pub struct SameRecord;

#[async_trait]
impl TriggerResolver for SameRecord {
    async fn resolve(
        &self,
        target: &SourceIdentity,
        _hint: Option<&str>,
    ) -> Result<Option<SourceIdentity>, SourceError> {
        Ok(Some(target.clone()))
    }
}

/// The most of an unreadable delivery's body that is kept (a delivery is small; a larger body
/// is refused by the intake before this).
pub const MAX_KEPT_BODY: usize = 64 * 1024;

/// The queue of records pushed for `stream` (e.g. `suppliers_pushes`): what a push listener
/// (ION's IMS deliveries) queues for the forward stream to read now.
pub fn push_queue(stream: &StreamId) -> StreamId {
    StreamId(format!("{}_pushes", stream.0))
}

/// An authenticated delivery that could not be read, as [`keep_unreadable`] keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Unreadable<'a> {
    /// The body as received.
    pub body: &'a [u8],
    /// Why it could not be read.
    pub reason: &'a str,
    /// How many refetches were queued from the ids found in it.
    pub refetches: usize,
    /// The kind of record it was about, as far as can be told.
    pub kind: RecordKind,
    /// When it was received (local clock).
    pub received_at: DateTime<Utc>,
}

/// Keep an authenticated delivery that could not be read (not JSON, an unknown event type, a
/// BOD that does not parse) durably in `kept`, so it can be inspected and counted: an audit
/// row with its body as received (lossily decoded, capped at [`MAX_KEPT_BODY`]), why it could
/// not be read and how many refetches were queued from it. The same body twice is kept once;
/// returns whether it was new. `origin` names the listener (`webhook`, `ion-push`).
///
/// The row is `resolved`, not open: nothing is left for a person to do, since the refetches
/// (or, when no id could be found, the next polling window) carry the change.
pub async fn keep_unreadable(
    store: &dyn SyncStore,
    tenant: &str,
    kept: &StreamId,
    origin: &str,
    delivery: Unreadable<'_>,
) -> Result<bool, SyncError> {
    let Unreadable {
        body,
        reason,
        refetches,
        kind,
        received_at,
    } = delivery;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_KEPT_BODY)]).into_owned();
    let hash = hash_value(&json!(["delivery", kept.0, tenant, text]), &[]);
    let id = EntryId(format!("delivery-{}", hash.0));
    if store.entry(&id).await?.is_some() {
        return Ok(false);
    }
    let entry = AuditEntry {
        id,
        run_id: crate::store::RunId(format!("{origin}-{}", received_at.timestamp())),
        tenant: tenant.to_owned(),
        stream: kept.clone(),
        kind,
        source: SourceIdentity::new(origin, tenant, "", hash.0.clone()),
        source_modified_at: received_at,
        content_hash: hash,
        action: Action::None,
        match_result: None,
        target_id: None,
        status: AuditStatus::Resolved,
        error: Some(ErrorInfo {
            class: ErrorClass::Source,
            message: format!("unreadable {origin} delivery: {reason}"),
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

/// Queue `trigger` durably in `queue` (records of `kind`; `origin` names the listener in the
/// audit row, e.g. `webhook`). Returns `false` when the same delivery is already queued or
/// done.
pub async fn enqueue(
    store: &dyn SyncStore,
    tenant: &str,
    queue: &StreamId,
    kind: RecordKind,
    origin: &str,
    trigger: &Trigger,
) -> Result<bool, SyncError> {
    let hash = hash_value(&json!([queue.0, tenant, trigger.delivery_key]), &[]);
    let id = EntryId(format!("{}-{}", queue.0, hash.0));
    if store.entry(&id).await?.is_some() {
        return Ok(false);
    }
    let entry = AuditEntry {
        id,
        run_id: crate::store::RunId(format!("{origin}-{}", trigger.received_at.timestamp())),
        tenant: tenant.to_owned(),
        stream: queue.clone(),
        kind,
        source: trigger.target.clone(),
        source_modified_at: trigger.received_at,
        content_hash: hash,
        action: Action::None,
        match_result: None,
        target_id: None,
        status: AuditStatus::Deferred,
        error: Some(ErrorInfo {
            class: ErrorClass::Dependency,
            message: format!("queued by {origin} {}", trigger.event),
        }),
        request_summary: None,
        response_summary: None,
        source_snapshot: json!({
            "event": trigger.event,
            "hint": trigger.hint,
            "deleted": trigger.deleted,
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

/// What [`drain`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerReport {
    /// Queued items handled.
    pub triggers: usize,
    /// Distinct records read again and processed.
    pub purchases: usize,
    /// Items whose id led to no record.
    pub unresolved: usize,
    /// Audit entries written for the records, by status.
    pub statuses: BTreeMap<String, usize>,
}

impl TriggerReport {
    /// Add another queue's report to this one.
    pub fn add(&mut self, other: TriggerReport) {
        self.triggers += other.triggers;
        self.purchases += other.purchases;
        self.unresolved += other.unresolved;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
    }
}

/// Handle every item of `queue` for the run's tenant: resolve, read each record once, run it
/// through `pipeline`, commit its audit rows in the pipeline's stream (its cursor is not
/// moved) and mark the items done. An item whose resolution or read fails stays queued for
/// the next call.
pub async fn drain<P: Pipeline + ?Sized>(
    run: &RunContext,
    queue: &StreamId,
    pipeline: &P,
    source: &dyn Source<P::Record>,
    resolver: &dyn TriggerResolver,
) -> Result<TriggerReport, SyncError> {
    let store = run.store.as_ref();
    let queued = queued(store, &run.tenant, queue).await?;
    let mut report = TriggerReport::default();
    // Oldest first (the store answers in queue order): under a backlog, the record waiting
    // longest is synced first.
    let mut records: Vec<(SourceIdentity, Vec<AuditEntry>)> = Vec::new();
    let mut position: HashMap<SourceIdentity, usize> = HashMap::new();
    let mut done = Vec::new();
    for entry in queued {
        let hint = hint_of(&entry).map(str::to_owned);
        match resolver.resolve(&entry.source, hint.as_deref()).await {
            Ok(Some(record)) => match position.get(&record) {
                Some(&at) => records[at].1.push(entry),
                None => {
                    position.insert(record.clone(), records.len());
                    records.push((record, vec![entry]));
                }
            },
            Ok(None) => {
                report.unresolved += 1;
                done.push((entry, None, "no record for this id".to_owned()));
            }
            Err(error) => {
                tracing::warn!(source = %entry.source, %error, queue = %queue, "cannot resolve a queued id yet");
            }
        }
    }
    // A deletion of a record never written to the target has nothing to apply: settled without
    // reading the source (a first full scan of the Data Lake queues every historical Delete).
    let mut unlinked = Vec::new();
    for (at, (identity, items)) in records.iter().enumerate() {
        if items.iter().all(was_deleted)
            && store
                .cross_ref(&run.tenant, <P::Record as Record>::KIND, identity)
                .await?
                .is_none_or(|x| x.target_id.is_empty())
        {
            unlinked.push(at);
        }
    }
    for at in unlinked.into_iter().rev() {
        let (identity, items) = records.remove(at);
        for item in items {
            done.push((
                item,
                Some(identity.clone()),
                "deleted in the source and never written to the target: nothing to apply"
                    .to_owned(),
            ));
        }
    }
    let mut entries = Vec::new();
    // Read in chunks: a source that reads in bulk (the Data Lake) reads once per chunk, and a
    // backlog is written as it is read, not after every record of it was read.
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let chunk: Vec<(SourceIdentity, Vec<AuditEntry>)> =
            records.by_ref().take(READ_CHUNK).collect();
        let identities: Vec<SourceIdentity> = chunk.iter().map(|(id, _)| id.clone()).collect();
        let mut fetched = source.fetch_many(&identities).await;
        if fetched.len() != chunk.len() {
            tracing::error!(
                asked = chunk.len(),
                answered = fetched.len(),
                queue = %queue,
                "the source answered another number of records than asked; they stay queued"
            );
            fetched.clear();
        }
        for ((identity, items), read) in chunk.into_iter().zip(fetched) {
            let mut link_only = false;
            let read = match read {
                Ok(None) if items.iter().any(was_deleted) => {
                    link_only = true;
                    deleted(run, pipeline, &identity).await.map(Ok)?
                }
                other => other,
            };
            let outcome = match read {
                Ok(Some(record)) => {
                    report.purchases += 1;
                    let processed = if link_only {
                        process_linked(run, pipeline, &record).await?
                    } else {
                        process_record(run, pipeline, &record, false, None).await?
                    };
                    // A deletion that failed for a reason that may pass (throttled, no
                    // answer) stays queued: the window's own retry cannot read a deleted
                    // record again, the next drain can. A refusal stays failed and open.
                    let may_pass = processed.entry().is_some_and(|e| {
                        e.status == AuditStatus::Failed
                            && e.error.as_ref().is_some_and(|x| {
                                matches!(
                                    x.class,
                                    ErrorClass::Transient | ErrorClass::UnknownOutcome
                                )
                            })
                    });
                    let retry_deletion = link_only && may_pass;
                    // Reported like a window's records, so progress and metrics count pushes.
                    run.emit(ProgressEvent::Record {
                        stream: pipeline.stream(),
                        source: identity.clone(),
                        status: processed.entry().map(|e| e.status),
                    });
                    let summary = match processed {
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
                    };
                    if retry_deletion {
                        tracing::warn!(%identity, queue = %queue, "a deletion failed; it stays queued");
                        continue;
                    }
                    summary
                }
                Ok(None) => "the record no longer exists".to_owned(),
                Err(error) => {
                    tracing::warn!(%identity, %error, queue = %queue, "cannot read a queued record yet");
                    continue;
                }
            };
            for item in items {
                done.push((item, Some(identity.clone()), outcome.clone()));
            }
        }
    }
    if !entries.is_empty() {
        store
            .commit_window(WindowCommit {
                key: StreamKey::new(run.tenant.clone(), pipeline.stream()),
                checkpoint: None,
                entries,
                gl_mapping: None,
                fence: None,
            })
            .await?;
    }
    report.triggers = done.len();
    settle(run, queue, done).await?;
    Ok(report)
}

/// Whether a queued item's delivery said its record was deleted.
fn was_deleted(entry: &AuditEntry) -> bool {
    entry.source_snapshot.get("deleted") == Some(&serde_json::Value::Bool(true))
}

/// A queued item's hint.
fn hint_of(entry: &AuditEntry) -> Option<&str> {
    entry
        .source_snapshot
        .get("hint")
        .and_then(serde_json::Value::as_str)
}

/// Records read from the source at a time while draining.
const READ_CHUNK: usize = 50;

/// What to write for a record pushed as deleted that the source no longer has: the
/// pipeline's answer for its last written version (from the audit trail), for a record
/// already linked to a target record. It is processed link-only
/// ([`process_linked`]): never a create, never a match by name.
async fn deleted<P: Pipeline + ?Sized>(
    run: &RunContext,
    pipeline: &P,
    identity: &SourceIdentity,
) -> Result<Option<P::Record>, SyncError> {
    let store = run.store.as_ref();
    let linked = store
        .cross_ref(&run.tenant, <P::Record as Record>::KIND, identity)
        .await?
        .is_some_and(|x| !x.target_id.is_empty());
    if !linked {
        return Ok(None);
    }
    let written = store
        .query(
            &AuditQuery::tenant(run.tenant.clone())
                .stream(pipeline.stream())
                .source(identity.clone())
                .statuses(&[AuditStatus::Succeeded]),
        )
        .await?;
    let Some(last) = written.last() else {
        return Ok(None);
    };
    match serde_json::from_value(last.source_snapshot.clone()) {
        Ok(record) => Ok(pipeline.when_deleted(record)),
        Err(error) => {
            tracing::warn!(%identity, %error, "the last written version cannot be read back; the delete is not applied");
            Ok(None)
        }
    }
}

/// The items of `queue` still waiting, for `tenant`.
pub async fn queued(
    store: &dyn SyncStore,
    tenant: &str,
    queue: &StreamId,
) -> Result<Vec<AuditEntry>, SyncError> {
    Ok(store
        .query(
            &AuditQuery::tenant(tenant.to_owned())
                .stream(queue.clone())
                .statuses(&[AuditStatus::Deferred]),
        )
        .await?)
}

/// Mark queued items handled: each with the record it led to (if any) and what was done.
pub async fn settle(
    run: &RunContext,
    queue: &StreamId,
    done: Vec<(AuditEntry, Option<SourceIdentity>, String)>,
) -> Result<(), SyncError> {
    if done.is_empty() {
        return Ok(());
    }
    let now = run.clock.now();
    let finished = done
        .into_iter()
        .map(|(mut entry, record, outcome)| {
            entry.status = AuditStatus::Succeeded;
            entry.action = Action::Skip;
            entry.error = None;
            entry.target_id = record.map(|p| p.id);
            entry.response_summary = Some(outcome);
            entry.finished_at = Some(now);
            entry
        })
        .collect();
    run.store
        .commit_window(WindowCommit {
            key: StreamKey::new(run.tenant.clone(), queue.clone()),
            checkpoint: None,
            entries: finished,
            gl_mapping: None,
            fence: None,
        })
        .await?;
    Ok(())
}
