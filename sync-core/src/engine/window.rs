//! The window runner: one incremental (or full) pass over one stream, committed atomically.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::{EngineConfig, Pipeline, Processed, ProgressEvent, RunContext, process_record};
use crate::error::SyncError;
use crate::model::Record;
use crate::runner::ShutdownSignal;
use crate::source::{Source, Window};
use crate::store::{AuditQuery, AuditStatus, Checkpoint, StreamKey, WindowCommit};

/// What one window did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowReport {
    /// Whether this was a full reconciliation scan.
    pub full_scan: bool,
    /// Records read from the source (including deferred ones retried).
    pub read: usize,
    /// Records skipped as unchanged.
    pub skipped: usize,
    /// Entries by status.
    pub succeeded: usize,
    /// Failed entries.
    pub failed: usize,
    /// Deferred entries.
    pub deferred: usize,
    /// Conflict entries.
    pub conflicts: usize,
    /// Failed records retried on their own at the start of the window (due after their
    /// backoff, see [`FailedRetry`](super::FailedRetry)).
    pub retried: usize,
    /// Failed records left to a person: they failed too often in a row to be retried on
    /// their own (still failed, retried by `replay` or when their source record changes).
    pub needs_attention: usize,
    /// The committed cursor (unchanged when abandoned).
    pub cursor: Option<DateTime<Utc>>,
    /// Whether the window was abandoned (shutdown): audit rows were committed, the cursor was
    /// not moved.
    pub abandoned: bool,
    /// Whether the window yielded after
    /// [`max_writes_per_window`](super::EngineConfig::max_writes_per_window) records: audit
    /// rows were committed, the cursor was not moved; the next window goes on.
    pub yielded: bool,
}

/// Audit rows a window holds before committing them (without the checkpoint) in one batch.
const AUDIT_FLUSH_ROWS: usize = 500;

/// Runs windows of one stream: a pipeline plus its source.
pub struct StreamRunner<P: Pipeline> {
    pipeline: Arc<P>,
    source: Arc<dyn Source<P::Record>>,
    config: EngineConfig,
}

impl<P: Pipeline> std::fmt::Debug for StreamRunner<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamRunner")
            .field("stream", &self.pipeline.stream())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<P: Pipeline> StreamRunner<P> {
    /// A runner.
    pub fn new(pipeline: Arc<P>, source: Arc<dyn Source<P::Record>>, config: EngineConfig) -> Self {
        StreamRunner {
            pipeline,
            source,
            config,
        }
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Arc<P> {
        &self.pipeline
    }

    /// The source.
    pub fn source(&self) -> &Arc<dyn Source<P::Record>> {
        &self.source
    }

    /// Run one window.
    ///
    /// The cursor moves only when the whole window was read, and in the same
    /// [`crate::store::SyncStore::commit_window`] as the window's audit rows. If the future is
    /// dropped (crash) nothing of the window is committed except intents and cross-references,
    /// which the next run uses to avoid duplicates. On shutdown or a source error the audit
    /// rows so far are committed without moving the cursor.
    pub async fn run_window(
        &self,
        run: &RunContext,
        shutdown: Option<&ShutdownSignal>,
    ) -> Result<WindowReport, SyncError> {
        let stream = self.pipeline.stream();
        let key = StreamKey::new(run.tenant.clone(), stream.clone());
        let store = run.store.as_ref();
        let fence = store.acquire_fence(&key).await?;
        let checkpoint = store.load_checkpoint(&key).await?;
        let server_now = self.source.server_time().await?;
        let ceiling = server_now - self.config.safety_lag;
        let full_scan = checkpoint.cursor.is_none()
            || self.config.full_scan_every.is_some_and(|every| {
                checkpoint
                    .last_full_scan
                    .is_none_or(|last| server_now - last >= every)
            });
        let from = if full_scan {
            None
        } else {
            checkpoint.cursor.map(|c| c - self.config.lookback)
        };
        run.emit(ProgressEvent::WindowStarted {
            stream: stream.clone(),
            from,
            ceiling,
        });
        tracing::info!(tenant = %run.tenant, %stream, ?from, %ceiling, full_scan, "window started");
        self.pipeline.prepare(run).await?;

        let mut report = WindowReport {
            full_scan,
            ..WindowReport::default()
        };
        let mut entries = Vec::new();
        let mut handled_at: BTreeMap<DateTime<Utc>, BTreeSet<String>> = BTreeMap::new();

        // Rule 7: deferred records (waiting for a dependency) are retried first, and failed
        // ones that are due (see `FailedRetry`), refetched so the latest version is written.
        let due = self.due_for_retry(run, &stream, &mut report).await?;
        let mut retried = BTreeSet::new();
        for source in due {
            if !retried.insert(source.clone()) {
                continue;
            }
            match self.source.fetch(&source).await {
                Ok(Some(record)) => {
                    report.read += 1;
                    let processed =
                        process_record(run, self.pipeline.as_ref(), &record, false, None).await?;
                    self.tally(
                        run,
                        &mut report,
                        &mut entries,
                        &record,
                        processed,
                        &mut handled_at,
                    );
                }
                Ok(None) => {
                    tracing::warn!(%source, "record to retry no longer in the source")
                }
                Err(error) => {
                    tracing::warn!(%source, %error, "cannot refetch a record to retry")
                }
            }
        }

        let mut records = self.source.poll(Window { from, ceiling });
        let mut source_error = None;
        while let Some(item) = records.next().await {
            if shutdown.is_some_and(ShutdownSignal::is_triggered) {
                report.abandoned = true;
                break;
            }
            let record = match item {
                Ok(record) => record,
                Err(error) => {
                    source_error = Some(error);
                    break;
                }
            };
            report.read += 1;
            if retried.contains(record.identity()) {
                // Retried at the start of this window, refetched as it is now.
                report.skipped += 1;
                continue;
            }
            if !full_scan
                && checkpoint.cursor == Some(record.modified_at())
                && checkpoint.ids_at_cursor.contains(&record.identity().id)
            {
                // Handled at exactly the cursor by the previous window (rule 1's tie rule).
                report.skipped += 1;
                continue;
            }
            let processed =
                process_record(run, self.pipeline.as_ref(), &record, false, None).await?;
            self.tally(
                run,
                &mut report,
                &mut entries,
                &record,
                processed,
                &mut handled_at,
            );
            if self
                .config
                .max_writes_per_window
                .is_some_and(|max| report.succeeded >= max)
            {
                report.yielded = true;
                break;
            }
            if entries.len() >= AUDIT_FLUSH_ROWS {
                // Memory stays flat however large the window: finished audit rows are committed
                // in batches (fenced, cursor untouched, as an abandoned window would), and the
                // last batch commits with the checkpoint.
                store
                    .commit_window(WindowCommit {
                        key: key.clone(),
                        checkpoint: None,
                        entries: std::mem::take(&mut entries),
                        gl_mapping: None,
                        fence: Some(fence),
                    })
                    .await?;
                // Only the ids at the cursor this window can commit are kept (tie rule).
                let next_cursor = checkpoint.cursor.map_or(ceiling, |c| c.max(ceiling));
                handled_at.retain(|at, _| *at == next_cursor || Some(*at) == checkpoint.cursor);
            }
        }
        drop(records);

        if report.abandoned || report.yielded || source_error.is_some() {
            // Keep the audit rows (failures stay visible); do not move the cursor.
            store
                .commit_window(WindowCommit {
                    key,
                    checkpoint: None,
                    entries,
                    gl_mapping: None,
                    fence: Some(fence),
                })
                .await?;
            report.cursor = checkpoint.cursor;
            run.emit(ProgressEvent::WindowFinished {
                stream,
                report: report.clone(),
            });
            return match source_error {
                Some(error) => Err(error.into()),
                None => Ok(report),
            };
        }

        let hold = self.config.strict && report.failed > 0;
        let cursor = if hold {
            checkpoint.cursor
        } else {
            Some(checkpoint.cursor.map_or(ceiling, |c| c.max(ceiling)))
        };
        let mut ids_at_cursor = cursor
            .and_then(|c| handled_at.remove(&c))
            .unwrap_or_default();
        if cursor == checkpoint.cursor {
            ids_at_cursor.extend(checkpoint.ids_at_cursor.iter().cloned());
        }
        let new_checkpoint = Checkpoint {
            cursor,
            ids_at_cursor,
            last_run: Some(run.clock.now()),
            last_full_scan: if full_scan {
                Some(server_now)
            } else {
                checkpoint.last_full_scan
            },
        };
        store
            .commit_window(WindowCommit {
                key,
                checkpoint: Some(new_checkpoint),
                entries,
                gl_mapping: None,
                fence: Some(fence),
            })
            .await?;
        report.cursor = cursor;
        tracing::info!(tenant = %run.tenant, %stream, ?report, "window committed");
        run.emit(ProgressEvent::WindowFinished {
            stream,
            report: report.clone(),
        });
        Ok(report)
    }

    /// The records to retry before the window: every deferred one, then the failed ones
    /// whose backoff has passed (a mapping failure at once), counting in `report` those
    /// retried and those left to a person.
    async fn due_for_retry(
        &self,
        run: &RunContext,
        stream: &crate::store::StreamId,
        report: &mut WindowReport,
    ) -> Result<Vec<crate::model::SourceIdentity>, SyncError> {
        let open = run
            .store
            .query(
                &AuditQuery::tenant(run.tenant.clone())
                    .stream(stream.clone())
                    .statuses(&[AuditStatus::Deferred, AuditStatus::Failed]),
            )
            .await?;
        let mut due = Vec::new();
        // Per failed record: failures in a row (open failed rows: a success resolves them),
        // when the last one ended, and its class.
        let mut failed: BTreeMap<String, (crate::model::SourceIdentity, u32, DateTime<Utc>, bool)> =
            BTreeMap::new();
        for entry in &open {
            match entry.status {
                AuditStatus::Deferred => due.push(entry.source.clone()),
                _ => {
                    let ended = entry.finished_at.unwrap_or(entry.started_at);
                    let mapping = entry
                        .error
                        .as_ref()
                        .is_some_and(|e| e.class == crate::store::ErrorClass::Mapping);
                    let slot = failed.entry(entry.source.key()).or_insert((
                        entry.source.clone(),
                        0,
                        ended,
                        mapping,
                    ));
                    slot.1 += 1;
                    if ended >= slot.2 {
                        slot.2 = ended;
                        slot.3 = mapping;
                    }
                }
            }
        }
        let now = run.clock.now();
        let policy = self.config.retry;
        for (source, failures, last, mapping) in failed.into_values() {
            if policy.gives_up_after(failures) {
                report.needs_attention += 1;
            } else if mapping || now >= last + policy.delay_after(failures) {
                report.retried += 1;
                due.push(source);
            }
        }
        Ok(due)
    }

    fn tally(
        &self,
        run: &RunContext,
        report: &mut WindowReport,
        entries: &mut Vec<crate::store::AuditEntry>,
        record: &P::Record,
        processed: Processed,
        handled_at: &mut BTreeMap<DateTime<Utc>, BTreeSet<String>>,
    ) {
        let status = processed.entry().map(|e| e.status);
        run.emit(ProgressEvent::Record {
            stream: self.pipeline.stream(),
            source: record.identity().clone(),
            status,
        });
        match status {
            None => report.skipped += 1,
            Some(AuditStatus::Succeeded) => report.succeeded += 1,
            Some(AuditStatus::Failed) => report.failed += 1,
            Some(AuditStatus::Deferred) => report.deferred += 1,
            Some(AuditStatus::Conflict) => report.conflicts += 1,
            Some(AuditStatus::Pending | AuditStatus::Resolved) => {}
        }
        if matches!(status, None | Some(AuditStatus::Succeeded)) {
            handled_at
                .entry(record.modified_at())
                .or_default()
                .insert(record.identity().id.clone());
        }
        if let Processed::Entries(new) = processed {
            entries.extend(new);
        }
    }
}
