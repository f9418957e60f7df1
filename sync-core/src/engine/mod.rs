//! The sync engine: per-record processing (dedupe, intents, uncertain outcomes, audit rows),
//! the window runner (checkpoints), and the pipelines.
//!
//! The rules it implements are written down in `docs/sync-semantics.md`; the short form:
//! read an inclusive window with lookback, cap the cursor at source server time minus a lag,
//! commit the cursor only after the whole window and together with its audit rows, skip what
//! was already written (content hash), write an intent before every target write and look up
//! before creating after an uncertain outcome, never let a failure pin the cursor (unless
//! strict), resolve dependencies first, and scan everything periodically.

mod lookups;
mod outcome;
mod window;

pub mod gl_accounts;
pub mod invoices;
pub mod purchase_orders;
pub mod queue;
pub mod returns;
pub mod suppliers;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub use outcome::Outcome;
pub use window::{StreamRunner, WindowReport};

use crate::error::SyncError;
use crate::model::{ContentHash, Record, RecordKind, SourceIdentity};
use crate::store::{
    Action, AuditEntry, AuditQuery, AuditStatus, CrossRef, EntryId, MatchResult, RunId, StreamId,
    SyncStore,
};
use crate::time::SharedClock;

/// Engine settings shared by every stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// How far before the cursor each window starts (rule 1). Default 5 minutes.
    pub lookback: chrono::Duration,
    /// How far behind source server time the cursor stays (rule 2). Default 30 seconds.
    pub safety_lag: chrono::Duration,
    /// How often a full reconciliation scan replaces the incremental window (rule 8), measured
    /// in source server time. Default 7 days; `None` disables it.
    pub full_scan_every: Option<chrono::Duration>,
    /// Strict mode: a window with a failed record does not move the cursor (rule 6 opt-in).
    pub strict: bool,
    /// How failed records are retried by the following windows on their own.
    pub retry: FailedRetry,
    /// How often the GL-accounts stream reads the target's chart when the source chart has
    /// not changed (see
    /// [`GlAccountPipeline::with_target_check_every`](gl_accounts::GlAccountPipeline::with_target_check_every)):
    /// an account changed by hand in the target shows as drift within this long. Default one
    /// hour; there is no "never".
    pub gl_target_check_every: chrono::Duration,
    /// At most this many records written per window; then the window *yields*: its audit
    /// rows are committed, its cursor is not moved, and the next window reads on (records
    /// already written are skipped by their unchanged content, so each window gets further).
    /// What keeps one tenant's backlog from holding a fleet worker. Only successful writes
    /// count: a record that fails again in every window cannot stop the others. Default
    /// `None`: no limit.
    pub max_writes_per_window: Option<usize>,
}

/// How failed records are retried by the following windows, without a person.
///
/// Each window first retries the failed records of its stream that are due: a record is due
/// `base × 2^(n−1)` after its n-th failure in a row (1, 2, 4, … minutes by default), until it
/// has failed `max_attempts` times in a row; then it *needs attention*: it stays failed and
/// reported and is retried only by `replay`, or when its source record changes (the window
/// reads it again). A record that failed for a missing mapping is retried in every window
/// (it costs no call to the target), so it goes through once the mapping is there.
///
/// ```
/// use sync_core::engine::FailedRetry;
/// let retry = FailedRetry::default();
/// assert_eq!(retry.delay_after(1), chrono::Duration::minutes(1));
/// assert_eq!(retry.delay_after(4), chrono::Duration::minutes(8));
/// assert!(!retry.gives_up_after(7) && retry.gives_up_after(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedRetry {
    /// The wait after the first failure; doubled after each further one.
    pub base: chrono::Duration,
    /// Failures in a row after which a record is left to a person (0: never retried).
    pub max_attempts: u32,
}

impl Default for FailedRetry {
    fn default() -> Self {
        FailedRetry {
            base: chrono::Duration::minutes(1),
            max_attempts: 8,
        }
    }
}

impl FailedRetry {
    /// The wait after the `failures`-th failure in a row (at least one).
    pub fn delay_after(&self, failures: u32) -> chrono::Duration {
        let doublings = failures.saturating_sub(1).min(20);
        self.base * 2_i32.pow(doublings)
    }

    /// Whether a record that failed `failures` times in a row is left to a person.
    pub fn gives_up_after(&self, failures: u32) -> bool {
        failures >= self.max_attempts
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            lookback: chrono::Duration::minutes(5),
            safety_lag: chrono::Duration::seconds(30),
            full_scan_every: Some(chrono::Duration::days(7)),
            strict: false,
            retry: FailedRetry::default(),
            gl_target_check_every: gl_accounts::DEFAULT_TARGET_CHECK_EVERY,
            max_writes_per_window: None,
        }
    }
}

/// Something that happened, for progress reporting.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// A window started.
    WindowStarted {
        /// Stream.
        stream: StreamId,
        /// Inclusive lower bound (`None`: full scan).
        from: Option<DateTime<Utc>>,
        /// Cursor ceiling.
        ceiling: DateTime<Utc>,
    },
    /// A record was handled.
    Record {
        /// Stream.
        stream: StreamId,
        /// Record.
        source: SourceIdentity,
        /// Resulting status (`None` when skipped as unchanged).
        status: Option<AuditStatus>,
    },
    /// A window committed (or was abandoned).
    WindowFinished {
        /// Stream.
        stream: StreamId,
        /// What happened.
        report: WindowReport,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;

/// What every record of one run shares: store, clock, tenant, run id, entry numbering.
#[derive(Clone)]
pub struct RunContext {
    /// The store.
    pub store: Arc<dyn SyncStore>,
    /// The local clock (audit timestamps only; the cursor uses source server time).
    pub clock: SharedClock,
    /// Tenant.
    pub tenant: String,
    /// Run id.
    pub run_id: RunId,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    seq: Arc<AtomicU64>,
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("tenant", &self.tenant)
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl RunContext {
    /// A new run with a fresh id.
    pub fn new(store: Arc<dyn SyncStore>, clock: SharedClock, tenant: impl Into<String>) -> Self {
        let run_id = RunId::generate(clock.now());
        RunContext {
            store,
            clock,
            tenant: tenant.into(),
            run_id,
            progress: None,
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Report progress through `progress`.
    pub fn with_progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }

    /// A fresh, unique entry id.
    pub fn next_entry_id(&self) -> EntryId {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        EntryId(format!("{}-{n:06}", self.run_id))
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        crate::telemetry::progress(&self.tenant, &event, self.clock.now());
        if let Some(progress) = &self.progress {
            progress(&event);
        }
    }
}

/// Per-record context handed to [`Pipeline::apply`].
pub struct RecordContext<'a> {
    run: &'a RunContext,
    stream: StreamId,
    kind: RecordKind,
    entry_id: EntryId,
    source: SourceIdentity,
    modified_at: DateTime<Utc>,
    hash: ContentHash,
    sync_key: ContentHash,
    snapshot: Value,
    started_at: DateTime<Utc>,
    uncertain: bool,
    replay_of: Option<EntryId>,
    link_only: bool,
    extra: Mutex<Vec<AuditEntry>>,
}

impl fmt::Debug for RecordContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordContext")
            .field("entry_id", &self.entry_id)
            .field("source", &self.source)
            .field("uncertain", &self.uncertain)
            .finish_non_exhaustive()
    }
}

impl<'a> RecordContext<'a> {
    /// The run.
    pub fn run(&self) -> &'a RunContext {
        self.run
    }

    /// The store.
    pub fn store(&self) -> &dyn SyncStore {
        self.run.store.as_ref()
    }

    /// Tenant.
    pub fn tenant(&self) -> &str {
        &self.run.tenant
    }

    /// The record's content hash.
    pub fn hash(&self) -> &ContentHash {
        &self.hash
    }

    /// Whether the record may only update the target record it is already linked to (by
    /// cross-reference or vendor ID): no create, no match by name. Set for a record the source
    /// deleted ([`process_linked`]).
    pub fn link_only(&self) -> bool {
        self.link_only
    }

    /// Whether an earlier attempt at this record may have written to the target without the
    /// engine knowing (an intent left pending by a crash, or an unknown-outcome failure). A
    /// pipeline must then look the record up in the target before creating it (rule 5).
    pub fn uncertain(&self) -> bool {
        self.uncertain
    }

    /// Durably record the intent to write, before sending a create or update (rule 5).
    pub async fn intent(
        &self,
        action: Action,
        match_result: Option<MatchResult>,
        target_id: Option<String>,
        mapped: Option<Value>,
    ) -> Result<(), SyncError> {
        let entry = AuditEntry {
            id: self.entry_id.clone(),
            run_id: self.run.run_id.clone(),
            tenant: self.run.tenant.clone(),
            stream: self.stream.clone(),
            kind: self.kind,
            source: self.source.clone(),
            source_modified_at: self.modified_at,
            content_hash: self.hash.clone(),
            action,
            match_result,
            target_id,
            status: AuditStatus::Pending,
            error: None,
            request_summary: None,
            response_summary: None,
            source_snapshot: self.snapshot.clone(),
            mapped_snapshot: mapped,
            started_at: self.started_at,
            finished_at: None,
            replay_of: self.replay_of.clone(),
            resolved_by: None,
        };
        self.run.store.record_intent(&entry).await?;
        Ok(())
    }

    /// Record the cross-reference after a successful (possibly partial) write, durably and at
    /// once (so a crash before the window commits does not lead to a second create).
    pub async fn remember(
        &self,
        target_id: &str,
        aux: std::collections::BTreeMap<String, String>,
        complete: bool,
    ) -> Result<(), SyncError> {
        let xref = CrossRef {
            kind: self.kind,
            source: self.source.clone(),
            target_id: target_id.to_owned(),
            aux,
            synced_hash: complete.then(|| self.sync_key.clone()),
            synced_modified_at: complete.then_some(self.modified_at),
        };
        self.run
            .store
            .put_cross_ref(&self.run.tenant, &xref)
            .await?;
        Ok(())
    }

    /// Add the audit entries of a dependency handled on this record's behalf.
    pub fn push_dependency_entries(&self, entries: Vec<AuditEntry>) {
        self.extra
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(entries);
    }
}

/// A per-stream pipeline: how one canonical record is written to the target.
#[async_trait]
pub trait Pipeline: Send + Sync {
    /// The record type.
    type Record: Record;

    /// The stream it serves.
    fn stream(&self) -> StreamId;

    /// The mapping revision (see [`crate::mapping::Mappings::revision`]): part of what the
    /// cross-reference remembers as written, so changing it rewrites unchanged records.
    fn revision(&self) -> String {
        String::new()
    }

    /// Called once at the start of every window (build indexes from full list pages).
    async fn prepare(&self, _run: &RunContext) -> Result<(), SyncError> {
        Ok(())
    }

    /// Apply one record. Return `Err` only when the window must stop (store failure, an
    /// index that cannot be built); target and mapping failures are [`Outcome`]s.
    async fn apply(
        &self,
        ctx: &RecordContext<'_>,
        record: &Self::Record,
    ) -> Result<Outcome, SyncError>;

    /// What to write when the source deleted a record whose last written version is `last`:
    /// `None` (the default) leaves the target as it is; the supplier pipeline can deprecate, the
    /// purchase-order pipeline void
    /// ([`Mappings::deleted_suppliers`](crate::mapping::Mappings::deleted_suppliers),
    /// [`Mappings::deleted_purchase_orders`](crate::mapping::Mappings::deleted_purchase_orders)).
    fn when_deleted(&self, _last: Self::Record) -> Option<Self::Record> {
        None
    }
}

/// The result of processing one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Processed {
    /// Unchanged since it was last written (or already flagged, or skipped again by the same
    /// rule: [`Outcome::skipped`]); no audit row.
    Skipped,
    /// Audit entries: dependencies first, the record's own entry last.
    Entries(Vec<AuditEntry>),
}

impl Processed {
    /// The record's own entry.
    pub fn entry(&self) -> Option<&AuditEntry> {
        match self {
            Processed::Skipped => None,
            Processed::Entries(entries) => entries.last(),
        }
    }
}

/// What a cross-reference remembers as "written" for a record: its content hash plus the
/// pipeline's mapping revision (the hash alone when the revision is empty).
pub fn sync_key(hash: &ContentHash, revision: &str) -> ContentHash {
    if revision.is_empty() {
        hash.clone()
    } else {
        crate::model::hash_value(&serde_json::json!([hash, revision]), &[])
    }
}

/// Process one record through a pipeline: dedupe (rule 4), detect an uncertain earlier attempt
/// (rule 5), apply, and build the audit entries (not yet committed).
///
/// `force` bypasses the dedupe (replay); `replay_of` links the entry to the one it replays.
pub async fn process_record<P: Pipeline + ?Sized>(
    run: &RunContext,
    pipeline: &P,
    record: &P::Record,
    force: bool,
    replay_of: Option<EntryId>,
) -> Result<Processed, SyncError> {
    process(run, pipeline, record, force, replay_of, false).await
}

/// [`process_record`] for a record that may only update the target record it is already
/// linked to ([`RecordContext::link_only`]): what a source's deletion writes (e.g. a
/// supplier deprecated), never a create or a match by name.
pub async fn process_linked<P: Pipeline + ?Sized>(
    run: &RunContext,
    pipeline: &P,
    record: &P::Record,
) -> Result<Processed, SyncError> {
    process(run, pipeline, record, false, None, true).await
}

async fn process<P: Pipeline + ?Sized>(
    run: &RunContext,
    pipeline: &P,
    record: &P::Record,
    force: bool,
    replay_of: Option<EntryId>,
    link_only: bool,
) -> Result<Processed, SyncError> {
    // One span per record: a client call's logs name the record they were made for.
    let span = tracing::debug_span!("record", source = %record.identity().id);
    tracing::Instrument::instrument(
        process_in_span(run, pipeline, record, force, replay_of, link_only),
        span,
    )
    .await
}

async fn process_in_span<P: Pipeline + ?Sized>(
    run: &RunContext,
    pipeline: &P,
    record: &P::Record,
    force: bool,
    replay_of: Option<EntryId>,
    link_only: bool,
) -> Result<Processed, SyncError> {
    let stream = pipeline.stream();
    let source = record.identity().clone();
    let hash = record.content_hash()?;
    // What the cross-reference remembers as "written": the content plus the mapping revision,
    // so bumping the revision after a mapping change rewrites records that did not change.
    let sync_key = sync_key(&hash, &pipeline.revision());
    let store = run.store.as_ref();
    let xref = store
        .cross_ref(&run.tenant, <P::Record as Record>::KIND, &source)
        .await?;
    let open = store
        .query(
            &AuditQuery::tenant(run.tenant.clone())
                .stream(stream.clone())
                .source(source.clone())
                .statuses(&AuditStatus::OPEN),
        )
        .await?;
    let snapshot = serde_json::to_value(record).map_err(|e| SyncError::Encode(e.to_string()))?;
    let started_at = run.clock.now();

    let make_entry = |outcome: Outcome, id: EntryId| AuditEntry {
        id,
        run_id: run.run_id.clone(),
        tenant: run.tenant.clone(),
        stream: stream.clone(),
        kind: <P::Record as Record>::KIND,
        source: source.clone(),
        source_modified_at: record.modified_at(),
        content_hash: hash.clone(),
        action: outcome.action,
        match_result: outcome.match_result,
        target_id: outcome.target_id,
        status: outcome.status,
        error: outcome.error,
        request_summary: outcome.request_summary,
        response_summary: outcome.response_summary,
        source_snapshot: snapshot.clone(),
        mapped_snapshot: outcome.mapped,
        started_at,
        finished_at: Some(run.clock.now()),
        replay_of: replay_of.clone(),
        resolved_by: None,
    };

    // After a write whose outcome is unknown the target may hold content the cross-reference
    // does not know about, so its hash proves nothing until a write succeeds again: unless
    // every such write was of this very content. Then the cross-reference holding this
    // content's hash (stored only after a complete write) says the target holds it, whatever
    // the unknown write did (a crash after the write and its cross-reference, before the
    // window committed). That costs no call, and is never a conflict.
    let uncertain = open.iter().any(AuditEntry::outcome_unknown);
    let only_this_content = open
        .iter()
        .filter(|e| e.outcome_unknown())
        .all(|e| e.content_hash == hash);
    let already_written = only_this_content
        && xref
            .as_ref()
            .is_some_and(|x| x.synced_hash.as_ref() == Some(&sync_key));
    if already_written {
        if open.is_empty() && !force {
            return Ok(Processed::Skipped);
        }
        // The target already holds this content (a crash after the write, or a replay of
        // something a later run fixed): record that, which resolves the open entries.
        let target_id = xref.map(|x| x.target_id);
        let mut outcome = Outcome::succeeded(Action::Skip, Some(MatchResult::CrossRef), "");
        outcome.target_id = target_id;
        outcome.response_summary = Some("already up to date in the target".into());
        return Ok(Processed::Entries(vec![make_entry(
            outcome,
            run.next_entry_id(),
        )]));
    }
    if !force
        && open
            .iter()
            .any(|e| e.status == AuditStatus::Conflict && e.content_hash == hash)
    {
        // Already flagged for review; do not add a row on every overlapping window.
        return Ok(Processed::Skipped);
    }

    let ctx = RecordContext {
        run,
        stream: stream.clone(),
        kind: <P::Record as Record>::KIND,
        entry_id: run.next_entry_id(),
        source: source.clone(),
        modified_at: record.modified_at(),
        hash: hash.clone(),
        sync_key,
        snapshot: snapshot.clone(),
        started_at,
        uncertain,
        replay_of: replay_of.clone(),
        link_only,
        extra: Mutex::new(Vec::new()),
    };
    let outcome = pipeline.apply(&ctx, record).await?;
    let mut entries = std::mem::take(&mut *ctx.extra.lock().unwrap_or_else(|p| p.into_inner()));
    if !force
        && open.is_empty()
        && entries.is_empty()
        && (outcome.status, outcome.action, &outcome.target_id)
            == (AuditStatus::Succeeded, Action::Skip, &None)
    {
        // A skip by rule ([`Outcome::skipped`]) remembers nothing as written, so overlapping
        // windows and full scans read the record again: the same decision on the same content
        // adds no row while it is the record's latest.
        let rows = store
            .query(
                &AuditQuery::tenant(run.tenant.clone())
                    .stream(stream.clone())
                    .source(source.clone()),
            )
            .await?;
        if rows.last().is_some_and(|last| {
            (last.status, last.action, &last.target_id) == (outcome.status, outcome.action, &None)
                && last.content_hash == hash
                && last.response_summary == outcome.response_summary
        }) {
            return Ok(Processed::Skipped);
        }
    }
    let entry = make_entry(outcome, ctx.entry_id.clone());
    tracing::debug!(
        tenant = %run.tenant,
        stream = %stream,
        source = %source,
        status = ?entry.status,
        action = ?entry.action,
        "record processed"
    );
    entries.push(entry);
    Ok(Processed::Entries(entries))
}
