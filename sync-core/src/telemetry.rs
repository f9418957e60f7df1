//! What the engine counts for an installed [`metrics`] recorder (feature `metrics`; without it
//! these compile to nothing). Names and labels are listed in docs/operations.md, "Metrics".

#[cfg(feature = "metrics")]
use std::collections::HashMap;
#[cfg(feature = "metrics")]
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};

use crate::engine::ProgressEvent;
#[cfg(feature = "metrics")]
use crate::engine::WindowReport;
#[cfg(feature = "metrics")]
use crate::store::AuditStatus;
use crate::store::StreamId;

/// When each (tenant, stream) window now running started, for its duration.
#[cfg(feature = "metrics")]
type Started = Mutex<HashMap<(String, String), DateTime<Utc>>>;

#[cfg(feature = "metrics")]
fn started() -> &'static Started {
    static STARTED: OnceLock<Started> = OnceLock::new();
    STARTED.get_or_init(Mutex::default)
}

/// One progress event of `tenant`, seen at `now` (the run's clock).
pub(crate) fn progress(tenant: &str, event: &ProgressEvent, now: DateTime<Utc>) {
    #[cfg(feature = "metrics")]
    match event {
        ProgressEvent::WindowStarted { stream, .. } => {
            started()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((tenant.to_owned(), stream.0.clone()), now);
        }
        ProgressEvent::Record { stream, status, .. } => {
            let outcome = match status {
                None => "skipped",
                Some(AuditStatus::Succeeded) => "succeeded",
                Some(AuditStatus::Failed) => "failed",
                Some(AuditStatus::Deferred) => "deferred",
                Some(AuditStatus::Conflict) => "conflict",
                Some(AuditStatus::Pending | AuditStatus::Resolved) => return,
            };
            metrics::counter!(
                "sync_records_total",
                "tenant" => tenant.to_owned(),
                "stream" => stream.0.clone(),
                "outcome" => outcome,
            )
            .increment(1);
        }
        ProgressEvent::WindowFinished { stream, report } => {
            window_finished(tenant, stream, report, now);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (tenant, event, now);
}

#[cfg(feature = "metrics")]
fn window_finished(tenant: &str, stream: &StreamId, report: &WindowReport, now: DateTime<Utc>) {
    let labels = [("tenant", tenant.to_owned()), ("stream", stream.0.clone())];
    let result = if report.abandoned {
        "abandoned"
    } else if report.yielded {
        "yielded"
    } else {
        "committed"
    };
    let mut with_result = labels.to_vec();
    with_result.push(("result", result.to_owned()));
    metrics::counter!("sync_windows_total", &with_result).increment(1);
    let start = started()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(tenant.to_owned(), stream.0.clone()));
    if let Some(start) = start {
        let seconds = (now - start).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!("sync_window_duration_seconds", &labels).record(seconds);
    }
    if let Some(cursor) = report.cursor {
        let lag = (now - cursor).num_seconds().max(0) as f64;
        metrics::gauge!("sync_cursor_lag_seconds", &labels).set(lag);
    }
    metrics::gauge!("sync_needs_attention", &labels).set(report.needs_attention as f64);
}

/// A window of `tenant`'s `stream` ended in an error (nothing committed past its records).
pub(crate) fn window_failed(tenant: &str, stream: &StreamId) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "sync_windows_total",
        "tenant" => tenant.to_owned(),
        "stream" => stream.0.clone(),
        "result" => "error",
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = (tenant, stream);
}

/// A fleet job ended: `result` is `committed`, `failed`, `lost` (its claim was taken over) or
/// `not_served` (a tenant this process does not serve).
pub(crate) fn job(result: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!("fleet_jobs_total", "result" => result).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = result;
}
