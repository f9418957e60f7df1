//! A run's summary, computed from the audit store (the source of truth) and the runner's
//! report, printed as a table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sync_core::runner::RunReport;
use sync_core::store::{Action, AuditEntry, AuditQuery, AuditStatus, MatchResult, SyncStore};

/// Counts for one stream of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// The stream.
    pub stream: String,
    /// Records read from CloudSuite.
    pub read: usize,
    /// Created in Cin7.
    pub created: usize,
    /// Updated in Cin7.
    pub updated: usize,
    /// Found already in Cin7 (by cross-reference, stamped vendor ID, name or lookup).
    pub matched: usize,
    /// Unchanged since they were last written.
    pub skipped: usize,
    /// Failed (kept in the audit store, replayable).
    pub failed: usize,
    /// Waiting for a dependency.
    pub deferred: usize,
    /// Changed on both sides; kept for review.
    pub conflicts: usize,
    /// The error that stopped the stream's window, if any.
    pub error: Option<String>,
}

/// Summarise `report` with the run's audit entries from `store`.
pub async fn summarize(
    store: &dyn SyncStore,
    tenant: &str,
    report: &RunReport,
) -> Result<Vec<StreamSummary>, sync_core::error::StoreError> {
    let entries = store
        .query(&AuditQuery::tenant(tenant).run(report.run_id.clone()))
        .await?;
    let mut by_stream: BTreeMap<String, Vec<&AuditEntry>> = BTreeMap::new();
    for entry in &entries {
        by_stream
            .entry(entry.stream.to_string())
            .or_default()
            .push(entry);
    }
    Ok(report
        .streams
        .iter()
        .map(|stream| {
            let name = stream.stream.to_string();
            let mut summary = StreamSummary {
                stream: name.clone(),
                ..StreamSummary::default()
            };
            match &stream.result {
                Ok(window) => {
                    summary.read = window.read;
                    summary.skipped = window.skipped;
                }
                Err(error) => summary.error = Some(error.to_string()),
            }
            for entry in by_stream.get(&name).map(Vec::as_slice).unwrap_or_default() {
                match entry.status {
                    AuditStatus::Succeeded | AuditStatus::Resolved => match entry.action {
                        Action::Create => summary.created += 1,
                        Action::Update => summary.updated += 1,
                        _ if matches!(
                            entry.match_result,
                            Some(
                                MatchResult::CrossRef
                                    | MatchResult::ById
                                    | MatchResult::ByName
                                    | MatchResult::ByLookup
                            )
                        ) =>
                        {
                            summary.matched += 1
                        }
                        _ => {}
                    },
                    AuditStatus::Failed => summary.failed += 1,
                    AuditStatus::Deferred => summary.deferred += 1,
                    AuditStatus::Conflict => summary.conflicts += 1,
                    AuditStatus::Pending => {}
                }
            }
            summary
        })
        .collect())
}

/// The summary as a fixed-width table.
pub fn table(rows: &[StreamSummary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>9}",
        "stream",
        "read",
        "created",
        "updated",
        "matched",
        "skipped",
        "failed",
        "deferred",
        "conflict"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>9} {:>9}",
            r.stream,
            r.read,
            r.created,
            r.updated,
            r.matched,
            r.skipped,
            r.failed,
            r.deferred,
            r.conflicts
        );
        if let Some(error) = &r.error {
            let _ = writeln!(out, "  {} stopped: {error}", r.stream);
        }
    }
    out
}

/// The records of a tenant left open: failed or in conflict (their latest open entry), from
/// any run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenRecords {
    /// Records open.
    pub total: usize,
    /// Of those, the ones whose latest open entry comes from an earlier run than `run_id`.
    pub earlier: usize,
    /// Failed records the runner no longer retries on its own (they failed
    /// [`FailedRetry::max_attempts`](sync_core::engine::FailedRetry) times in a row).
    pub needs_attention: usize,
}

/// Count the records of `tenant` left open after run `run_id` (see [`OpenRecords`]).
pub async fn open_records(
    store: &dyn SyncStore,
    tenant: &str,
    run_id: &sync_core::store::RunId,
    retry: sync_core::engine::FailedRetry,
) -> Result<OpenRecords, sync_core::error::StoreError> {
    let open = store
        .query(
            &AuditQuery::tenant(tenant.to_owned())
                .statuses(&[AuditStatus::Failed, AuditStatus::Conflict]),
        )
        .await?;
    // Per record: its latest open entry and how many failed entries are open.
    let mut records: BTreeMap<(String, String), (&AuditEntry, u32)> = BTreeMap::new();
    for entry in &open {
        let slot = records
            .entry((entry.stream.to_string(), entry.source.key()))
            .or_insert((entry, 0));
        slot.0 = entry;
        if entry.status == AuditStatus::Failed {
            slot.1 += 1;
        }
    }
    Ok(OpenRecords {
        total: records.len(),
        earlier: records
            .values()
            .filter(|(latest, _)| &latest.run_id != run_id)
            .count(),
        needs_attention: records
            .values()
            .filter(|(latest, failures)| {
                latest.status == AuditStatus::Failed && retry.gives_up_after(*failures)
            })
            .count(),
    })
}
