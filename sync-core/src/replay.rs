//! Replay: run failed (or deferred, conflicting, pending) entries again, from the stored
//! snapshot or by refetching the record from the source.
//!
//! Replay is idempotent: an entry that is no longer open is left alone, and a replay whose
//! record is already in the target with the same content only records that fact. A successful
//! replay resolves every earlier open entry of the same record (the store does that in the same
//! commit). A snapshot older than what was already written is never written over newer data.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::{Pipeline, Processed, RunContext, process_record};
use crate::error::SyncError;
use crate::model::{Record, SourceIdentity};
use crate::source::Source;
use crate::store::{
    Action, AuditEntry, AuditQuery, AuditStatus, EntryId, MatchResult, RunId, StreamKey,
    WindowCommit,
};

/// Where the replayed record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayMode {
    /// The source snapshot stored in the entry (works when the source is unreachable or the
    /// record has changed since; never overwrites newer data).
    Snapshot,
    /// The record as the source has it now.
    Refetch,
}

/// Which entries to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayScope {
    /// Every open failed entry of the pipeline's stream.
    Stream,
    /// Every open failed entry of one run (in the pipeline's stream).
    Run(RunId),
}

/// What happened to one replayed entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayResult {
    /// The entry was no longer open: nothing done.
    AlreadyResolved(EntryId),
    /// The record no longer exists in the source (refetch): nothing done.
    GoneFromSource(EntryId),
    /// Replayed; the new entry.
    Replayed(Box<AuditEntry>),
    /// The source could not be read for this record (refetch): nothing done, the entry stays
    /// open, and the other entries of the pass are still replayed.
    SourceUnavailable {
        /// The entry.
        entry: EntryId,
        /// Why the source read failed.
        error: String,
    },
}

impl ReplayResult {
    /// The new entry's status, if it was replayed.
    pub fn status(&self) -> Option<AuditStatus> {
        match self {
            ReplayResult::Replayed(entry) => Some(entry.status),
            _ => None,
        }
    }
}

/// Replays entries of one pipeline's stream.
pub struct Replayer<P: Pipeline> {
    pipeline: Arc<P>,
    source: Arc<dyn Source<P::Record>>,
}

impl<P: Pipeline> std::fmt::Debug for Replayer<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("stream", &self.pipeline.stream())
            .finish_non_exhaustive()
    }
}

impl<P: Pipeline> Replayer<P> {
    /// A replayer for `pipeline`, refetching from `source`.
    pub fn new(pipeline: Arc<P>, source: Arc<dyn Source<P::Record>>) -> Self {
        Replayer { pipeline, source }
    }

    /// Replay one entry.
    pub async fn replay_entry(
        &self,
        run: &RunContext,
        id: &EntryId,
        mode: ReplayMode,
    ) -> Result<ReplayResult, SyncError> {
        let entry = run
            .store
            .entry(id)
            .await?
            .ok_or_else(|| SyncError::EntryNotFound(id.to_string()))?;
        if entry.stream != self.pipeline.stream() || entry.tenant != run.tenant {
            return Err(SyncError::Config(format!(
                "entry {id} belongs to {}/{}, not {}/{}",
                entry.tenant,
                entry.stream,
                run.tenant,
                self.pipeline.stream()
            )));
        }
        if !entry.status.is_open() {
            return Ok(ReplayResult::AlreadyResolved(id.clone()));
        }
        self.pipeline.prepare(run).await?;
        self.replay_open(run, &entry, mode).await
    }

    /// Replay every open failed entry in `scope` (only the latest per record: a success
    /// resolves the older ones).
    pub async fn replay_failed(
        &self,
        run: &RunContext,
        scope: ReplayScope,
        mode: ReplayMode,
    ) -> Result<Vec<ReplayResult>, SyncError> {
        let mut query = AuditQuery::tenant(run.tenant.clone())
            .stream(self.pipeline.stream())
            .statuses(&[
                AuditStatus::Failed,
                AuditStatus::Pending,
                AuditStatus::Deferred,
            ]);
        if let ReplayScope::Run(run_id) = scope {
            query = query.run(run_id);
        }
        let open = run.store.query(&query).await?;
        let mut latest: BTreeMap<SourceIdentity, AuditEntry> = BTreeMap::new();
        for entry in open {
            latest.insert(entry.source.clone(), entry);
        }
        if latest.is_empty() {
            return Ok(Vec::new());
        }
        self.pipeline.prepare(run).await?;
        let mut results = Vec::with_capacity(latest.len());
        for entry in latest.into_values() {
            // An earlier replay in this loop may have resolved it.
            let current = run.store.entry(&entry.id).await?;
            if current.as_ref().is_none_or(|e| !e.status.is_open()) {
                results.push(ReplayResult::AlreadyResolved(entry.id));
                continue;
            }
            results.push(self.replay_open(run, &entry, mode).await?);
        }
        Ok(results)
    }

    async fn replay_open(
        &self,
        run: &RunContext,
        entry: &AuditEntry,
        mode: ReplayMode,
    ) -> Result<ReplayResult, SyncError> {
        let record: P::Record = match mode {
            ReplayMode::Snapshot => decode(&entry.source_snapshot)?,
            // One record the source cannot serve right now (a 500, a timeout) must not stop the
            // replay of the others: it stays open for the next pass.
            ReplayMode::Refetch => match self.source.fetch(&entry.source).await {
                Ok(Some(record)) => record,
                Ok(None) => return Ok(ReplayResult::GoneFromSource(entry.id.clone())),
                Err(error) => {
                    return Ok(ReplayResult::SourceUnavailable {
                        entry: entry.id.clone(),
                        error: error.to_string(),
                    });
                }
            },
        };
        let key = StreamKey::new(run.tenant.clone(), self.pipeline.stream());
        let xref = run
            .store
            .cross_ref(&run.tenant, <P::Record as Record>::KIND, &entry.source)
            .await?;
        let newer_written = xref
            .as_ref()
            .and_then(|x| x.synced_modified_at)
            .is_some_and(|written| written > record.modified_at());
        let entries = if newer_written {
            // Superseded: a newer version is already in the target.
            let mut superseded = entry.clone();
            superseded.id = run.next_entry_id();
            superseded.run_id = run.run_id.clone();
            superseded.status = AuditStatus::Succeeded;
            superseded.action = Action::Skip;
            superseded.match_result = Some(MatchResult::CrossRef);
            superseded.target_id = xref.map(|x| x.target_id);
            superseded.error = None;
            superseded.response_summary =
                Some("superseded: a newer version is already in the target".into());
            superseded.started_at = run.clock.now();
            superseded.finished_at = Some(run.clock.now());
            superseded.replay_of = Some(entry.id.clone());
            superseded.resolved_by = None;
            vec![superseded]
        } else {
            match process_record(
                run,
                self.pipeline.as_ref(),
                &record,
                true,
                Some(entry.id.clone()),
            )
            .await?
            {
                Processed::Entries(entries) => entries,
                Processed::Skipped => return Ok(ReplayResult::AlreadyResolved(entry.id.clone())),
            }
        };
        let own = entries.last().cloned();
        run.store
            .commit_window(WindowCommit {
                key,
                checkpoint: None,
                entries,
                gl_mapping: None,
                fence: None,
            })
            .await?;
        match own {
            Some(own) => Ok(ReplayResult::Replayed(Box::new(own))),
            None => Ok(ReplayResult::AlreadyResolved(entry.id.clone())),
        }
    }
}

fn decode<R: Record>(snapshot: &serde_json::Value) -> Result<R, SyncError> {
    serde_path_to_error::deserialize(snapshot).map_err(|e| SyncError::Decode {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}
