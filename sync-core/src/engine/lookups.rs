//! Rule 5 lookups shared by a window: the purchases that earlier writes of unknown outcome may
//! have created, found with one target scan for all of them at the window's start
//! ([`PurchaseTarget::find_purchases_since`]) instead of one search per record.
//!
//! Each answer is used once, by the record it was fetched for (taken, not read), so a record
//! retried again later in the same window asks the target afresh.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::RunContext;
use crate::error::{SyncError, TargetError};
use crate::model::Record;
use crate::store::{AuditQuery, AuditStatus, StreamId};
use crate::target::{PurchaseTarget, TargetPurchase};

/// How far before the earliest uncertain write the shared scan starts: room for the two
/// systems' clocks to disagree.
const CLOCK_MARGIN: chrono::Duration = chrono::Duration::hours(1);

/// Uncertain writes older than this are looked up on their own when their record comes up
/// (a scan back to them would read every purchase changed since).
const OLDEST_SHARED: chrono::Duration = chrono::Duration::days(7);

/// The prefetched lookups of one window, by reference.
#[derive(Debug, Default)]
pub(crate) struct SharedLookups {
    found: Mutex<BTreeMap<String, Vec<TargetPurchase>>>,
}

impl SharedLookups {
    fn found(&self) -> MutexGuard<'_, BTreeMap<String, Vec<TargetPurchase>>> {
        self.found.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// At the start of a window (or replay): look up together the references of every record
    /// of `stream` with an open write of unknown outcome and no cross-reference yet.
    /// `reference` gives the reference a record's purchase is found by.
    ///
    /// A failed scan is not an error of the window: each record then looks itself up.
    pub(crate) async fn prefetch<R: Record + DeserializeOwned>(
        &self,
        run: &RunContext,
        stream: StreamId,
        target: &dyn PurchaseTarget,
        reference: impl Fn(&R) -> String,
    ) -> Result<(), SyncError> {
        self.found().clear();
        let open = run
            .store
            .query(
                &AuditQuery::tenant(run.tenant.clone())
                    .stream(stream)
                    .statuses(&AuditStatus::OPEN),
            )
            .await?;
        let oldest = run.clock.now() - OLDEST_SHARED;
        let mut references = BTreeSet::new();
        let mut since: Option<DateTime<Utc>> = None;
        for entry in open
            .iter()
            .filter(|e| e.outcome_unknown() && e.started_at >= oldest)
        {
            let Ok(record) = serde_json::from_value::<R>(entry.source_snapshot.clone()) else {
                continue;
            };
            if run
                .store
                .cross_ref(&run.tenant, R::KIND, &entry.source)
                .await?
                .is_some()
            {
                continue;
            }
            references.insert(reference(&record));
            since = Some(since.map_or(entry.started_at, |s| s.min(entry.started_at)));
        }
        let Some(since) = since else {
            return Ok(());
        };
        let references: Vec<String> = references.into_iter().collect();
        match target
            .find_purchases_since(&references, since - CLOCK_MARGIN)
            .await
        {
            Ok(found) => *self.found() = found,
            Err(error) => tracing::warn!(
                tenant = %run.tenant,
                %error,
                references = references.len(),
                "shared lookup of uncertain purchases failed; each record looks itself up"
            ),
        }
        Ok(())
    }

    /// The purchases carrying `reference`: the prefetched answer (once), else a lookup of its
    /// own.
    pub(crate) async fn find(
        &self,
        target: &dyn PurchaseTarget,
        reference: &str,
    ) -> Result<Vec<TargetPurchase>, TargetError> {
        let prefetched = self.found().remove(reference);
        match prefetched {
            Some(found) => Ok(found),
            None => target.find_purchases(reference).await,
        }
    }
}
